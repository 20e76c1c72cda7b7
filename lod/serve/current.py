"""The build being served: dist/current (or a remote store's pointer), followed.

The app holds no state of its own beyond what it reads from dist/current, so any number
of processes (gunicorn workers, machines sharing the folder) serve the same data. A new
build is picked up on the next request, without a restart: dist/current is read per
request (one readlink) and the store reopened when it points elsewhere.

With a remote store (LOD_SPARQL_ENDPOINT) the build served is the one the store's pointer
names (lod.remote), read at most once per POINTER_TTL seconds per process, and its
manifest, lists, dumps and indexes come from that build's folder, dist/builds/{id}/: so
the pages, the dumps and the SPARQL answers are always of one build, on every machine,
even while `lod build` has written a newer one that is not published yet.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .. import remote
from ..errors import NoBuild, NotPublished, QueryError
from ..layout import Build, Output, open_build
from ..lists import Lists
from ..remote import SparqlClient
from .remote import RemoteStore
from .store import EmbeddedStore, Store

log = logging.getLogger(__name__)
POINTER_TIMEOUT = 2.0  # seconds to read the pointer: a store that hangs holds no request long


@dataclass
class Served:
    """One build as the app serves it: manifest, store, per-kind lists, and what the layers
    above compute once per build (`memo`)."""

    build: Build
    store: Store
    _memo: dict = field(default_factory=dict, repr=False)
    _memo_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def base(self) -> str:
        return self.build.base

    @property
    def etag(self) -> str:
        return self.build.id

    @cached_property
    def lists(self) -> Lists:
        return Lists(self.build.path)

    def memo(self, name: str, make: Callable[[], Any]) -> Any:
        """What `make` gives, made once for this build (an index read from its folder): a
        new build is a new Served, so nothing outlives the build it was made from."""
        if name not in self._memo:
            with self._memo_lock:
                if name not in self._memo:
                    self._memo[name] = make()
        return self._memo[name]


class Published:
    """Follows dist/current (or, with a remote store, its pointer): the build to serve now."""

    def __init__(self, out: Path, client: SparqlClient | None = None, base: str | None = None):
        self.out = Path(out)
        self.client = client
        self.base = base
        self._lock = threading.Lock()
        self._target: str | None = None
        self._served: Served | None = None
        self._pointer_lock = threading.Lock()
        self._graph: str | None = None  # the build graph the pointer named when last read
        self._read_at = float("-inf")

    def current(self) -> Served:
        if self.client is not None:
            return self._current_remote()
        try:
            target = os.readlink(Output(self.out).current)
        except OSError:
            raise NoBuild(self.out) from None
        if target != self._target:
            with self._lock:
                if target != self._target:
                    build = open_build(self.out)
                    self._served = Served(build, EmbeddedStore(build.store_path))
                    self._target = target
        return self._served

    def _current_remote(self) -> Served:
        graph = self._pointer()
        if graph != self._target:
            with self._lock:
                if graph != self._target:
                    base = self._base()
                    build_id = remote.build_id_of(base, graph)
                    if build_id is None:
                        raise NotPublished(f"the store's pointer names <{graph}>, not a build")
                    build = open_build(self.out, build_id)
                    self._served = Served(build, RemoteStore(self.client, graph))
                    self._target = graph
        return self._served

    def _pointer(self) -> str:
        """The build graph the store serves: read again once POINTER_TTL has passed, by one
        thread while the others go on with the one read before. When the store cannot be
        read, the last pointer read is served (pages, lists and dumps need no store; what
        does need it answers 503), or, by a process that has read none yet, the build this
        machine published last (dist/published); the store is tried again a POINTER_TTL
        later."""
        if time.monotonic() - self._read_at < remote.POINTER_TTL and self._graph:
            return self._graph
        if not self._pointer_lock.acquire(blocking=self._graph is None):
            return self._graph  # another thread is reading it
        try:
            if time.monotonic() - self._read_at < remote.POINTER_TTL and self._graph:
                return self._graph
            try:
                graphs = remote.read_pointer(self.client, self._base(), POINTER_TIMEOUT)
            except QueryError as error:
                self._read_at = time.monotonic()
                if self._graph is None:
                    self._graph = self._published_here()
                if self._graph is None:
                    raise
                log.warning(
                    "serving build graph %s: the pointer cannot be read: %s", self._graph, error
                )
                return self._graph
            self._read_at = time.monotonic()
            if self._graph in graphs or (not graphs and self._graph):
                return self._graph  # a switch caught half-way: keep the one served
            if not graphs:
                raise NotPublished(
                    f"the SPARQL store at {self.client.where} serves no build yet: "
                    "run `lod publish`"
                )
            self._graph = graphs[-1]
            return self._graph
        finally:
            self._pointer_lock.release()

    def _published_here(self) -> str | None:
        """The graph of the build `lod publish` loaded last from this machine, if any."""
        try:
            build_id = os.readlink(Output(self.out).published).rsplit("/", 1)[-1]
        except OSError:
            return None
        return remote.graph_iri(self._base(), build_id)

    def _base(self) -> str:
        """The dataset's base IRI: LOD_BASE, else the one dist/current was built with."""
        return self.base or open_build(self.out).base
