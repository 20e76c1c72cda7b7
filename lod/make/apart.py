"""CPU-bound work spread over the cores by helper processes started afresh (a Python that
imports the function by name and serves it: HELPER), each sent its items through a pipe.

Not by forked workers: a fork shares the build's pages of its moment, and a worker that
allocates writes into the free slots of those pages, which copies them (700 MB more at
100k articles, 4.4 GB at a million, where it ended a build out of memory); and the workers
of a multiprocessing pool share its locks, one of which a worker killed by a signal can
leave held, its parent then waiting for ever. A helper started afresh shares nothing with
the build: it costs its start (importing lod.make, about half a second of CPU) and its
items' copies through the pipe. It ignores Ctrl-C, which is the build's to handle: the
build then stops its helpers, as it does whenever it leaves apart_map.
"""

from __future__ import annotations

import importlib
import os
import pickle
import struct
import subprocess
import sys
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from ..errors import HelperFailed

FRAME = struct.Struct(">Q")  # the length of the pickle that follows
ENDING = 10  # seconds a helper that failed is given to end by itself
ROOT = str(Path(__file__).resolve().parents[2])  # where a helper imports lod from
# Run as `python -c HELPER ROOT module:function`. First of all, before any import: Ctrl-C
# left to the build, and standard output (the answers' pipe) kept aside and led to standard
# error, so that nothing printed can break the answers. Then lod imported from ROOT, where
# the build's own comes from (not from the current folder, which -c puts first).
HELPER = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "answers = os.dup(1); os.dup2(2, 1); sys.path[0] = sys.argv[1]; "
    "from lod.make.apart import serve; serve(answers, sys.argv[2])"
)


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def apart_map(
    function: Callable[[Any], Any], items: Iterable, workers: int | None = None
) -> Iterator:
    """function(item) for each item, in order, as an iterator, on `workers` helper
    processes (one per core by default; function must be a module's own, found by its
    name). Each helper has one item at a time: the next is taken from `items` when a
    helper's answer is, and given to it before that answer is yielded, so the helpers work
    while the caller uses it, and neither the items nor the answers are all held at once.
    Done in this process when no helper can be started (a process limit reached, no
    Python to start). What function raises is raised here, with the helper's traceback as
    a note (an exception that cannot cross a pipe comes as a RuntimeError that names it);
    a helper that ends or answers what cannot be read is a HelperFailed. The helpers are
    stopped when the iterator ends or is closed (use it in a `with contextlib.closing(...)`
    when it may not be read to its end)."""
    if "<" in function.__qualname__ or function.__module__ == "__main__":
        raise ValueError(f"{function.__qualname__} cannot be found by name by a helper")
    helpers: list[subprocess.Popen] = []
    try:
        if not _start(function, workers or cores(), helpers):
            yield from map(function, items)
            return
        feed, busy = iter(items), deque()  # the helpers with an item, in the items' order
        for helper in helpers:
            busy.extend(_give(helper, item) for item in islice(feed, 1))
        while busy:
            helper = busy.popleft()
            answer = _take(helper)
            busy.extend(_give(helper, item) for item in islice(feed, 1))
            yield answer
    finally:
        _stop(helpers)


def _start(function: Callable, workers: int, helpers: list[subprocess.Popen]) -> bool:
    """Start the helpers into `helpers`; whether they could all be started."""
    if getattr(sys, "frozen", False) or not sys.executable:
        return False
    name = f"{function.__module__}:{function.__qualname__}"
    try:
        for _ in range(workers):
            helpers.append(
                subprocess.Popen(
                    [sys.executable, "-c", HELPER, ROOT, name],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
            )
    except OSError:
        return False
    return True


def _give(helper: subprocess.Popen, item: Any) -> subprocess.Popen:
    try:
        _send(helper.stdin, pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        _failed(helper, "it ended")
    return helper


def _take(helper: subprocess.Popen) -> Any:
    try:
        answered, value = pickle.loads(_receive(helper.stdout))
    except (OSError, EOFError):
        _failed(helper, "it ended")
    except Exception as unreadable:  # one this process cannot unpickle: the helper stopped
        _stop([helper])
        why = f"its answer could not be read: {unreadable!r}"
        raise HelperFailed(helper.args[-1], why) from unreadable
    if not answered:
        raise value
    return value


def _failed(helper: subprocess.Popen, why: str) -> NoReturn:
    try:
        helper.wait(timeout=ENDING)  # a helper whose pipe closed is ending
    except subprocess.TimeoutExpired:
        helper.kill()
        helper.wait()
        raise HelperFailed(helper.args[-1], why) from None
    if helper.returncode < 0:
        why += f", killed by signal {-helper.returncode}"
    else:
        why += f", exit status {helper.returncode}"
    raise HelperFailed(helper.args[-1], why) from None


def _stop(helpers: list[subprocess.Popen]) -> None:
    """End the helpers, done or not (every one killed before any is waited for), and reap
    them."""
    for helper in helpers:
        if helper.poll() is None:
            helper.kill()
    for helper in helpers:
        helper.wait()
        for pipe in (helper.stdin, helper.stdout):
            try:
                pipe.close()
            except OSError:  # what was left to write to a helper gone
                pass


def _send(pipe: BinaryIO, data: bytes) -> None:
    pipe.write(FRAME.pack(len(data)))
    pipe.write(data)
    pipe.flush()


def _receive(pipe: BinaryIO) -> bytes:
    head = pipe.read(FRAME.size)
    if len(head) < FRAME.size:
        raise EOFError
    (length,) = FRAME.unpack(head)
    data = pipe.read(length)
    if len(data) < length:
        raise EOFError
    return data


def serve(answers: int, name: str) -> None:
    """A helper's life (see HELPER): answer (True, function(item)) or (False, what it
    raised) to each item, on the file descriptor `answers`, until its input closes."""
    module, _, qualname = name.partition(":")
    function = getattr(importlib.import_module(module), qualname)
    with os.fdopen(answers, "wb") as out:
        while True:
            try:
                item = pickle.loads(_receive(sys.stdin.buffer))
            except EOFError:
                return
            try:
                answer = pickle.dumps((True, function(item)), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as raised:
                answer = _raised(raised)
            _send(out, answer)


def _raised(raised: Exception) -> bytes:
    """What a helper answers for an exception: the exception, with its traceback as a note,
    or a RuntimeError that names it when it would not be read back as it is (one whose
    arguments are not its constructor's, or that cannot be pickled)."""
    raised.add_note(f"in a helper process:\n{traceback.format_exc()}")
    try:
        answer = pickle.dumps((False, raised), protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(answer)
    except Exception:
        described = RuntimeError(f"{type(raised).__qualname__}: {raised}")
        described.add_note(raised.__notes__[-1])
        answer = pickle.dumps((False, described), protocol=pickle.HIGHEST_PROTOCOL)
    return answer
