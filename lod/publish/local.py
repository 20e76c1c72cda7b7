"""Publishing a finished build on this machine: dist/current switched to it in one
rename(2), so a reader sees the old build or the new one, never half of one; old builds
pruned; one build at a time per output folder.

>>> import tempfile
>>> out = Output(tempfile.mkdtemp())
>>> out.build("b1").mkdir(parents=True)
>>> switch(out, out.build("b1"))
>>> os.readlink(out.current)
'builds/b1'
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..layout import Build, Output

KEEP_BUILDS = 3


def switch(out: Output, target: Path) -> None:
    """dist/current points to `target` (a folder of dist/builds/)."""
    _point(out, out.current, target)


def mark_published(out: Output, build: Build) -> None:
    """Remember the build a remote store serves as dist/published (kept when pruning)."""
    _point(out, out.published, build.path)


def _point(out: Output, link: Path, target: Path) -> None:
    staged = link.with_name(f".{link.name}-{os.getpid()}")
    if staged.is_symlink():
        staged.unlink()
    os.symlink(Path(out.builds.name) / target.name, staged)
    os.replace(staged, link)


def prune(out: Output, keep: Path) -> None:
    """Drop partial builds and all but the newest KEEP_BUILDS builds (never the one a
    remote store serves, dist/published)."""
    builds = sorted(p for p in out.builds.iterdir() if not p.name.startswith("."))
    published = out.published.resolve() if out.published.is_symlink() else None
    for old in builds[:-KEEP_BUILDS]:
        if old != keep and old.resolve() != published:
            shutil.rmtree(old, ignore_errors=True)
    for partial in out.builds.glob(out.partial("*").name):
        shutil.rmtree(partial, ignore_errors=True)


@contextmanager
def lock(out: Output) -> Iterator[None]:
    """One build at a time per output folder. The lock is the open file's, released when
    its last descriptor is closed: a process forked while it is held holds it until it
    exits, which is how a detached snapshot writer (Builder.save) keeps the next build
    waiting, and a pool's workers are gone before the build ends."""
    with open(out.lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
