"""Helper processes started afresh (lod.make.apart): the dumps' compression runs on them."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lod.errors import HelperFailed
from lod.make import apart
from lod.make.apart import apart_map


def square(number: int) -> int:
    return number * number


def noisy_square(number: int) -> int:
    print("a print to standard output", number)
    return number * number


def pid_of_helper(_) -> int:
    return os.getpid()


def marked(item: tuple[str, int]) -> int:
    """Leaves a mark for the item in a folder before answering."""
    folder, number = item
    (Path(folder) / f"done-{number}").touch()
    return number


def refuses(number: int) -> int:
    if number == 3:
        raise ValueError(f"no {number}")
    return number


def dies(number: int) -> int:
    if number == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return number


def sleeps(item: tuple[str, int]) -> None:
    """Says it started (its pid, in a folder), then takes its time."""
    folder, number = item
    (Path(folder) / f"helper-{os.getpid()}").touch()
    time.sleep(60)


def test_answers_come_in_order_from_other_processes():
    assert list(apart_map(square, range(50), workers=2)) == [n * n for n in range(50)]
    assert set(apart_map(pid_of_helper, range(8), workers=2)).isdisjoint({os.getpid()})
    assert list(apart_map(square, [], workers=2)) == []


def test_an_iterator_closed_before_its_end_stops_its_helpers():
    answers = apart_map(pid_of_helper, range(100), workers=2)
    helpers = {next(answers), next(answers)}
    assert len(helpers) == 2
    answers.close()
    for pid in helpers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_what_a_helper_prints_does_not_break_its_answers():
    assert list(apart_map(noisy_square, range(20), workers=2)) == [n * n for n in range(20)]


def test_items_are_taken_only_as_helpers_are_free(tmp_path):
    """A generator of items is not read ahead: item i is taken once all but `workers` of
    the items before it are answered (a part's lines are made as they are taken)."""
    behind = []

    def items():
        for number in range(30):
            behind.append(number - len(list(tmp_path.glob("done-*"))))
            yield str(tmp_path), number

    assert list(apart_map(marked, items(), workers=2)) == list(range(30))
    assert max(behind) <= 2


def test_what_the_function_raises_is_raised_here():
    with pytest.raises(ValueError, match="no 3"):
        list(apart_map(refuses, range(10), workers=2))


def test_a_helper_killed_is_an_error_that_names_its_work():
    with pytest.raises(HelperFailed, match=r"tests\.test_apart:dies .*killed by signal 9"):
        list(apart_map(dies, range(10), workers=2))


def test_without_a_process_to_start_the_work_is_done_here(monkeypatch):
    def no_process(*args, **kwargs):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(apart.subprocess, "Popen", no_process)
    assert list(apart_map(pid_of_helper, range(4), workers=2)) == [os.getpid()] * 4


MAPPING = """
import sys
from tests.test_apart import sleeps
from lod.make.apart import apart_map
list(apart_map(sleeps, [(sys.argv[1], n) for n in range(4)], workers=2))
"""


@pytest.mark.slow
def test_ctrl_c_stops_the_work_and_its_helpers(tmp_path):
    """Ctrl-C reaches the whole foreground group: the helpers leave it to the caller, which
    stops them and stops (no lock held by a helper to wait for)."""
    caller = subprocess.Popen(
        [sys.executable, "-c", MAPPING, str(tmp_path)],
        cwd=Path(__file__).parents[1],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("helper-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    helpers = [int(mark.name.split("-")[1]) for mark in tmp_path.glob("helper-*")]
    assert len(helpers) == 2
    os.killpg(caller.pid, signal.SIGINT)
    _, errors = caller.communicate(timeout=30)
    assert caller.returncode != 0 and "KeyboardInterrupt" in errors
    for pid in helpers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
