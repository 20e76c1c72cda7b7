"""CPU-bound work spread over every core by helper processes started afresh (a Python that
imports the function by name and serves it: HELPER), each sent its items through a pipe.

Not by forked workers: a fork shares the build's pages of its moment, and a worker that
allocates writes into the free slots of those pages, which copies them (700 MB more at
100k articles, 4.4 GB at a million, where it ended a build out of memory); and the workers
of a multiprocessing pool share its locks, one of which a worker killed by a signal can
leave held, its parent then waiting for ever. A helper started afresh shares nothing with
the build: it costs its start (importing the function's module, about a second of CPU)
and its items' copies through the pipe. It ignores Ctrl-C, which is the build's to handle:
the build then stops its helpers, as it does whenever it leaves apart_map.
"""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import struct
import subprocess
import sys
from collections import deque
from collections.abc import Callable, Iterable
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from ..errors import HelperFailed

FRAME = struct.Struct(">Q")  # the length of the pickle that follows
ROOT = str(Path(__file__).resolve().parents[2])  # where a helper imports lod from
# not `python -m lod.make.apart`: this module is imported with lod.make before it would run
HELPER = "import sys; from lod.make.apart import serve; serve(sys.argv[1])"


def apart_map(function: Callable[[Any], Any], items: Iterable, workers: int | None = None):
    """function(item) for each item, in order, as an iterator, on `workers` helper
    processes (one per core by default). Each helper has one item at a time: the next is
    taken from `items` when a helper's answer is, and given to it before that answer is
    yielded, so the helpers work while the caller uses it, and neither the items nor the
    answers are all held at once. Done in this process when no helper can be started (a
    process limit reached). What function raises is raised here; a helper that ends
    without answering is a HelperFailed. The helpers are stopped when the iterator ends or
    is closed (use it in a `with contextlib.closing(...)` when it may not be read to its
    end)."""
    helpers = _start(function, workers or os.cpu_count() or 1)
    if not helpers:
        yield from map(function, items)
        return
    try:
        feed, busy = iter(items), deque()  # the helpers with an item, in the items' order
        for helper in helpers:
            busy.extend(_give(helper, item) for item in islice(feed, 1))
        while busy:
            helper = busy.popleft()
            answer = _take(helper)
            busy.extend(_give(helper, item) for item in islice(feed, 1))
            yield answer
    finally:
        for helper in helpers:
            _stop(helper)


def _start(function: Callable, workers: int) -> list[subprocess.Popen]:
    """The helpers, each importing function by name; none when a process cannot be made."""
    name = f"{function.__module__}:{function.__qualname__}"
    path = os.pathsep.join(filter(None, (ROOT, os.environ.get("PYTHONPATH"))))
    helpers: list[subprocess.Popen] = []
    try:
        for _ in range(workers):
            helpers.append(
                subprocess.Popen(
                    [sys.executable, "-c", HELPER, name],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env=os.environ | {"PYTHONPATH": path},
                )
            )
    except OSError:
        for helper in helpers:
            _stop(helper)
        return []
    return helpers


def _give(helper: subprocess.Popen, item: Any) -> subprocess.Popen:
    try:
        _send(helper.stdin, (item,))
    except OSError:
        _failed(helper)
    return helper


def _take(helper: subprocess.Popen) -> Any:
    try:
        answered, value = _receive(helper.stdout)
    except (OSError, EOFError):
        _failed(helper)
    if not answered:
        raise value
    return value


def _failed(helper: subprocess.Popen) -> NoReturn:
    helper.wait()
    raise HelperFailed(helper.args[-1], helper.returncode) from None


def _stop(helper: subprocess.Popen) -> None:
    """End a helper, done or not, and reap it."""
    if helper.poll() is None:
        helper.kill()
    helper.wait()
    for pipe in (helper.stdin, helper.stdout):
        try:
            pipe.close()
        except OSError:  # what was left to write to a helper gone
            pass


def _send(pipe: BinaryIO, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(FRAME.pack(len(data)))
    pipe.write(data)
    pipe.flush()


def _receive(pipe: BinaryIO) -> Any:
    head = pipe.read(FRAME.size)
    if len(head) < FRAME.size:
        raise EOFError
    (length,) = FRAME.unpack(head)
    data = pipe.read(length)
    if len(data) < length:
        raise EOFError
    return pickle.loads(data)


def serve(name: str) -> None:
    """A helper's life: answer (True, function(item)) or (False, what it raised) to each
    item until the pipe closes. Its answers go to a copy of standard output, which is
    itself led to standard error: a print in function cannot break the frames."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    module, _, qualname = name.partition(":")
    function = getattr(importlib.import_module(module), qualname)
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    while True:
        try:
            (item,) = _receive(sys.stdin.buffer)
        except EOFError:
            return
        try:
            answer = (True, function(item))
        except Exception as raised:
            answer = (False, raised)
        _send(answers, answer)
