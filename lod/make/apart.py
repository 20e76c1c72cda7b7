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
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import HelperFailed

FRAME = struct.Struct(">Q")  # the length of the pickle that follows
ROOT = str(Path(__file__).resolve().parents[2])  # where a helper imports lod from
# not `python -m lod.make.apart`: this module is imported with lod.make before it would run
HELPER = "import sys; from lod.make.apart import serve; serve(sys.argv[1])"


def apart_map(function: Callable[[Any], Any], items: Iterable, workers: int | None = None) -> list:
    """[function(item) for item in items], in order, on `workers` helper processes (one per
    core by default), each item taken from `items` only when a helper is free for it (so
    items made as they are read are not all held at once). Done in this process when no
    helper can be started (a process limit reached). What function raises is raised here;
    a helper that ends without answering is a HelperFailed."""
    helpers = _start(function, workers or os.cpu_count() or 1)
    if not helpers:
        return [function(item) for item in items]
    results: dict[int, Any] = {}
    failures: list[BaseException] = []
    feed, taking = iter(enumerate(items)), threading.Lock()

    def serve(helper: subprocess.Popen) -> None:
        try:
            while not failures:
                with taking:
                    taken = next(feed, None)
                if taken is None:
                    return
                results[taken[0]] = _ask(helper, taken[1])
        except BaseException as failure:  # raised again by the caller's thread
            failures.append(failure)

    threads = [threading.Thread(target=serve, args=(helper,), daemon=True) for helper in helpers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for helper in helpers:
            _stop(helper)
    if failures:
        raise failures[0]
    return [results[index] for index in range(len(results))]


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


def _ask(helper: subprocess.Popen, item: Any) -> Any:
    try:
        _send(helper.stdin, (item,))
        answered, value = _receive(helper.stdout)
    except (OSError, EOFError):
        helper.wait()
        raise HelperFailed(helper.args[-1], helper.returncode) from None
    if not answered:
        raise value
    return value


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
