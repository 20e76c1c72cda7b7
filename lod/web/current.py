"""The build being served, followed per request.

The app holds no state of its own beyond what it reads from dist/current, so any number
of processes (gunicorn workers, machines sharing the folder) serve the same data. A new
build is picked up on the next request, without a restart: dist/current is read per
request (one readlink) and the store reopened when it points elsewhere.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from flask import current_app, g

from .. import publish
from ..errors import NoBuild
from ..reconcile import NameIndex
from ..store import EmbeddedStore


@dataclass
class Served:
    """One build as the app serves it: manifest, store, per-kind lists."""

    build: publish.Build
    store: EmbeddedStore

    @property
    def base(self) -> str:
        return self.build.base

    @property
    def etag(self) -> str:
        return self.build.id

    @cached_property
    def lists(self) -> dict[str, list[dict]]:
        return json.loads((self.build.path / "lists.json").read_text("utf-8"))

    @cached_property
    def reconcile(self) -> NameIndex:
        return NameIndex.load(self.build.path / "reconcile.json")


class Published:
    """Follows dist/current: the build to serve now."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self._lock = threading.Lock()
        self._target: str | None = None
        self._served: Served | None = None

    def current(self) -> Served:
        try:
            target = os.readlink(self.out / "current")
        except OSError:
            raise NoBuild(self.out) from None
        if target != self._target:
            with self._lock:
                if target != self._target:
                    build = publish.open_build(self.out)
                    self._served = Served(build, EmbeddedStore(build.store_path))
                    self._target = target
        return self._served


def served() -> Served:
    """The build this request is answered from (the same one for the whole request)."""
    if "lod_served" not in g:
        g.lod_served = current_app.extensions["lod.published"].current()
    return g.lod_served
