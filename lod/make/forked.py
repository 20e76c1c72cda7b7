"""Work done by forked processes that read the parent's data in place.

A build's graph is gigabytes at 100k articles: pickling it to each worker would copy it
once per worker. Forked workers see the parent's memory as it was at the fork (copy on
write), so `forked_map` hands them the shared data through a module global set just
before the fork, and only the small per-task items travel through the pool's pipes;
`detached` leaves work on that data to a process that outlives the parent. (Work that
needs none of the parent's data is given to helpers started afresh: lod.make.apart.)
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

_SHARED: Any = None  # what the forked workers read; set only while a pool runs


def forked_map(
    function: Callable[[Any, Any], Any],
    shared: Any,
    items: Iterable,
    workers: int | None = None,
    chunksize: int | None = None,
) -> list:
    """[function(shared, item) for item in items], on a pool of `workers` forked processes
    (every core by default). The collector is frozen meanwhile, so that the workers'
    collections do not write to, and so copy, the parent's pages."""
    global _SHARED
    _SHARED = shared
    frozen = gc.get_freeze_count() > 0  # a Builder keeps its objects frozen already
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return pool.map(partial(_call, function), items, chunksize=chunksize)
    finally:
        if not frozen:
            gc.unfreeze()
        _SHARED = None


def _call(function: Callable[[Any, Any], Any], item: Any) -> Any:
    return function(_SHARED, item)


def detached(work: Callable[[], object]) -> bool:
    """Run work in a process of its own that outlives this one, as `git gc --auto` does:
    the caller goes on at once; False if no process could be made. The process is in a
    session of its own (a terminal's Ctrl-C does not reach it), its standard streams lead
    nowhere (whoever reads this process's output is not kept waiting for it), and no one
    waits for it (no zombie is left: the process in between exits at once)."""
    try:
        middle = os.fork()
    except OSError:
        return False
    if middle:
        os.waitpid(middle, 0)
        return True
    status = 1
    try:
        os.setsid()
        if os.fork():
            status = 0
            return
        nowhere = os.open(os.devnull, os.O_RDWR)
        for stream in (0, 1, 2):
            os.dup2(nowhere, stream)
        work()
        status = 0
    finally:
        os._exit(status)  # never back into the caller's code, in either process
