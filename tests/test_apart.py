"""Helper processes started afresh (lod.make.apart): the dumps' compression runs on them."""

import contextlib
import os
import pickle
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


class Particular(Exception):
    """An exception whose arguments are not its constructor's: it is not read back as is."""

    def __init__(self, number: int, why: str):
        super().__init__(f"{number}: {why}")


def particular(number: int) -> int:
    raise Particular(number, "particular")


def unpicklable(number: int):
    return lambda: number


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
    """A generator of items is not read ahead: item i is taken once all but `workers - 1`
    of the items before it are answered (a part's lines are made as they are taken)."""
    behind = []

    def items():
        for number in range(30):
            behind.append(number - len(list(tmp_path.glob("done-*"))))
            yield str(tmp_path), number

    assert list(apart_map(marked, items(), workers=2)) == list(range(30))
    assert max(behind) == 1


def test_what_the_function_raises_is_raised_here_with_the_helpers_traceback():
    with pytest.raises(ValueError, match="no 3") as raised:
        list(apart_map(refuses, range(10), workers=2))
    (note,) = raised.value.__notes__
    assert note.startswith("in a helper process:") and 'raise ValueError(f"no {number}")' in note


def test_what_cannot_cross_the_pipe_comes_as_an_error_that_names_it():
    with pytest.raises(RuntimeError, match="Particular: 1: particular") as raised:
        list(apart_map(particular, [1], workers=1))
    assert "in a helper process:" in raised.value.__notes__[0]
    with pytest.raises((AttributeError, pickle.PicklingError), match="Can't pickle"):
        list(apart_map(unpicklable, [1], workers=1))  # the answer: what pickle raised


def test_an_answer_this_process_cannot_read_is_a_helper_failure(tmp_path, monkeypatch):
    """An answer of a class only the helper can import (its module on the helper's path)."""
    (tmp_path / "shown").mkdir()
    (tmp_path / "hidden").mkdir()
    (tmp_path / "shown" / "answering.py").write_text(
        "def answer(number):\n    import hidden_thing\n    return hidden_thing.Thing()\n"
    )
    (tmp_path / "hidden" / "hidden_thing.py").write_text("class Thing:\n    pass\n")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(str(tmp_path / d) for d in ("shown", "hidden"))
    )
    monkeypatch.syspath_prepend(str(tmp_path / "shown"))
    from answering import answer

    with pytest.raises(HelperFailed, match="answering:answer failed: its answer could not be read"):
        list(apart_map(answer, [1, 2], workers=1))


def test_only_a_function_found_by_name_can_be_given():
    with pytest.raises(ValueError, match="cannot be found by name"):
        list(apart_map(lambda number: number, [1], workers=1))


def test_a_module_that_prints_as_it_is_imported_does_not_break_the_answers(tmp_path, monkeypatch):
    (tmp_path / "printing.py").write_text(
        "import sys\n"
        "print('imported', flush=True)\n"
        "sys.stdout.buffer.write(bytes(range(256)))\n"
        "sys.stdout.flush()\n"
        "def double(number):\n"
        "    return 2 * number\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path))
    from printing import double

    assert list(apart_map(double, range(5), workers=2)) == [0, 2, 4, 6, 8]


def test_a_helper_killed_is_an_error_that_names_its_work():
    with pytest.raises(HelperFailed, match=r"tests\.test_apart:dies failed: .*signal 9"):
        list(apart_map(dies, range(10), workers=2))


def test_without_a_process_to_start_the_work_is_done_here(monkeypatch):
    def no_process(*args, **kwargs):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(apart.subprocess, "Popen", no_process)
    assert list(apart_map(pid_of_helper, range(4), workers=2)) == [os.getpid()] * 4


# Ctrl-C as a terminal delivers it: a process started in the background of a shell (as a
# CI runner may start the tests) inherits SIGINT ignored, and Python then leaves it so.
def test_a_frozen_program_does_the_work_here(monkeypatch):
    """A program frozen into one file has no Python to start helpers with."""
    monkeypatch.setattr(apart.sys, "frozen", True, raising=False)
    assert list(apart_map(pid_of_helper, range(3), workers=2)) == [os.getpid()] * 3


def test_without_standard_error_the_helpers_still_answer():
    """A daemon may run with standard error closed: a helper leads its standard output
    there, and its answers still come."""
    script = (
        "import os; os.close(2)\n"
        "from tests.test_apart import square\n"
        "from lod.make.apart import apart_map\n"
        "print(list(apart_map(square, range(5), workers=2)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout == "[0, 1, 4, 9, 16]\n"


MAPPING = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
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
    try:
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
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(caller.pid, signal.SIGKILL)
