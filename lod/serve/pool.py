"""Killable query workers: a checked query runs in a worker process under a time limit, a
memory limit and a bound on concurrent queries (see lod.serve.guard for the check).

Why it is built this way:

* rdflib's parser is pure Python: about 1 ms per term (a 150 kB `IN (…)` list takes 20 s),
  and it recurses a dozen frames per triple pattern (the default recursion limit stops it
  short of 100 patterns). In a request thread that would hold the thread, and the GIL, for as
  long as the query is long. So the full check (`verify`) runs in the worker, under the
  time limit and with a high recursion limit; the calling thread only reads the query
  (`read`: a few linear regular expressions that find the query form, for content
  negotiation, and refuse updates and SERVICE outright), once, before it asks the pool.

* Workers are forked by a "forkserver": forking the threaded Flask process itself could copy
  a lock another thread holds, and "spawn" would import rdflib, pyoxigraph and lod again for
  every worker (about 0.3 s). The forkserver imports this module once and forks workers
  from its single thread, so a worker killed at the time limit is replaced in milliseconds.
  As with any multiprocessing start method but fork, a script run as `__main__` is imported
  again in each worker: it must keep its side effects under `if __name__ == "__main__":`.

* A remote store (lod.remote.RemoteStore) runs the query itself, so no worker runs it: the
  store is asked to stop at the time limit and the HTTP client waits no longer. The full
  check still runs in a worker, under the same limits (it is the costly, GIL-holding
  part), and with `standard_only`: a store may give extension functions powers a reader
  must not have (Virtuoso's `bif:http_get` fetches any URL, from the SPARQL user), so only
  SPARQL's own functions and XSD casts reach it, and no IRI in its `bif:` or `sql:` schemes.

"""

from __future__ import annotations

import json
import multiprocessing
import resource
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from ..errors import (
    QueryError,
    QueryTimeout,
    QueryTooLarge,
    StoreUnavailable,
    TooManyQueries,
)
from ..formats import Format, ResultFormat
from ..layout import MANIFEST
from .guard import Query, verify
from .rewrite import Given, answers_of, rewritten
from .store import MEMORY_BYTES_PER_TRIPLE, EmbeddedStore, MemoryStore, Store

MiB = 1024 * 1024
COPY_SLACK_MB = 128  # the copying thread's stack and malloc arena
COPY_WAIT_MB = 64  # a copy this small is made before the first query (about 0.5 s at most)
WORKER_RECURSION_LIMIT = 1_000_000  # Python 3.11 keeps Python frames off the C stack


@dataclass(frozen=True)
class Answer:
    """A query's results (SELECT, ASK) or graph (CONSTRUCT, DESCRIBE), serialised in `fmt`."""

    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    body: bytes
    fmt: ResultFormat | Format

    @property
    def media_type(self) -> str:
        return self.fmt.media_type


@dataclass(frozen=True)
class _Job:
    """What a worker needs to answer one query, pickled over its pipe."""

    store_path: Path | None  # None: check the query only (a remote store runs it)
    query: Query
    fmt: ResultFormat | Format
    allowed_graphs: frozenset[str]
    max_bytes: int
    base_iri: str | None
    standard_only: bool = False
    copy_mb: int = 0  # > 0: copy the store into memory (MemoryStore), about this large

    def run(self, store: Store, timeout: float, tree=None) -> bytes:
        """The query run by `store` (checked already, and read as `tree`: then given to the
        engine as lod.serve.rewrite says), in `fmt`."""
        given = self.given(store, tree)
        return (store if given.store is None else given.store).run(
            given.text,
            self.query.form,
            accept_results=ResultFormat.JSON if self.query.is_graph else self.fmt,
            accept_graph=self.fmt if self.query.is_graph else Format.TURTLE,
            default_graphs=self.query.default_graphs,
            named_graphs=self.query.named_graphs,
            base_iri=self.base_iri,
            timeout=timeout,
            max_bytes=self.max_bytes,
        )

    def given(self, store: Store, tree) -> Given:
        """What the engine is given: the query as asked, or rewritten from the build's
        answers (not for a query over a dataset of its own, nor a remote store)."""
        query = self.query
        if tree is None or query.default_graphs or query.named_graphs is not None:
            return Given(query.text)
        answers = answers_of(store.path) if isinstance(store, EmbeddedStore) else None

        def count(text: str) -> int:
            return sum(1 for _ in store.query(text, base_iri=self.base_iri))

        return rewritten(query.text, tree, answers, count)


class QueryService:
    """A pool of query workers: at most `concurrency` queries at once in this process, each
    stopped after `timeout` seconds, each allowed `memory_mb` MB of address space beyond
    what its worker maps at rest, and results of at most `max_bytes`.

    Thread-safe. Workers start when first needed and are kept for the next query; a worker
    that hits a limit is killed and replaced by the next query that needs one."""

    def __init__(
        self,
        timeout: float,
        concurrency: int,
        memory_mb: int,
        *,
        max_bytes: int = 64 * MiB,
        memory_store_mb: int = 0,
    ):
        self.timeout = timeout
        self.concurrency = concurrency
        self.memory_mb = memory_mb
        self.max_bytes = max_bytes
        self.memory_store_mb = memory_store_mb
        self._fits: dict[Path, int] = {}
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._closed = False
        self._finalizer = weakref.finalize(self, _kill, self._workers)

    def run(
        self,
        store: Store,
        query: Query,
        fmt: ResultFormat | Format,
        *,
        allowed_graphs: frozenset[str] = frozenset(),
        base_iri: str | None = None,
    ) -> Answer:
        """Check and run one query (read by lod.serve.guard.read) on `store` (in a worker
        that opens it, or by the store itself when it runs queries: a remote store); its
        answer in `fmt`, a ResultFormat for SELECT and ASK, an RDF Format for CONSTRUCT and
        DESCRIBE; relative IRIs in the query resolve against `base_iri`.

        The query's dataset (default-graph-uri, named-graph-uri) names graphs of the store
        only, and one the store does not hold is an empty graph (the engine never fetches
        them). FROM and FROM NAMED in the query text are held to `allowed_graphs`. Raises a
        QueryError."""
        if fmt not in query.formats:
            raise ValueError(f"{fmt} is no format for a {query.form} query")
        remote = store.worker_path is None
        job = _Job(
            store.worker_path,
            query,
            fmt,
            allowed_graphs,
            self.max_bytes,
            base_iri,
            standard_only=remote,
            copy_mb=0 if remote else self._copy_mb(store.worker_path),
        )
        self._acquire()
        try:
            started = time.monotonic()
            reply = self._ask(job)
            if remote and not isinstance(reply, QueryError):
                reply = self._remote(store, job, self.timeout - (time.monotonic() - started))
        finally:
            self._slots.release()
        if isinstance(reply, QueryError):
            raise reply
        return Answer(query.form, reply, fmt)

    def _acquire(self) -> None:
        if not self._slots.acquire(blocking=False):
            raise TooManyQueries(
                f"{self.concurrency} queries are running already (LOD_QUERY_CONCURRENCY); "
                "try again in a moment",
                retry_after=1,
            )

    @contextmanager
    def slot(self) -> Iterator[None]:
        """One of the `concurrency` slots for work run here rather than in a worker (a
        full-text search), counted with the SPARQL queries; TooManyQueries when none is
        free."""
        self._acquire()
        try:
            yield
        finally:
            self._slots.release()

    def _copy_mb(self, store_path: Path) -> int:
        """The MB a copy in memory of a build's store takes (its triples, from the build's
        manifest beside the store, at about MEMORY_BYTES_PER_TRIPLE each), or 0 when that
        is over `memory_store_mb`: the store is then queried on disk."""
        if store_path not in self._fits:
            need = 0
            if self.memory_store_mb > 0:
                try:
                    manifest = json.loads((store_path.parent / MANIFEST).read_bytes())
                    need = -(-int(manifest["triples"]) * MEMORY_BYTES_PER_TRIPLE // MiB) or 1
                except (OSError, ValueError, KeyError, TypeError):
                    need = 0
                if need > self.memory_store_mb:
                    need = 0
            if len(self._fits) > 16:
                self._fits.clear()
            self._fits[store_path] = need
        return self._fits[store_path]

    def _remote(self, store: Store, job: _Job, left: float) -> bytes:
        """A checked query run by a remote store in the `left` seconds of its time limit."""
        stopped = QueryTimeout(f"query stopped after {self.timeout:g} s (LOD_QUERY_TIMEOUT)")
        if left <= 0:
            raise stopped
        try:
            return job.run(store, left)
        except QueryTimeout:
            raise stopped from None

    def close(self) -> None:
        """Kill every worker, busy or idle; run() refuses from then on."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            for worker in idle:
                self._workers.discard(worker)
        self._finalizer()  # busy workers die here; the thread that used each one reaps it
        for worker in idle:
            worker.stop()

    def __enter__(self) -> QueryService:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _ask(self, job: _Job):
        """One worker's reply to one job: the body (None when it only checks the query) or a
        QueryError."""
        worker = self._checkout()
        keep = False
        try:
            worker.conn.send(job)
            if not worker.conn.poll(self.timeout):
                raise QueryTimeout(f"query stopped after {self.timeout:g} s (LOD_QUERY_TIMEOUT)")
            reply = worker.conn.recv()
            keep = not isinstance(reply, QueryTooLarge)
            return reply
        except (EOFError, OSError):  # the worker died; its exit status says why
            worker.process.join(1)
            raise self._death(worker.process.exitcode) from None
        finally:
            if keep:
                self._checkin(worker)
            else:
                self._retire(worker)

    def _death(self, exitcode: int | None) -> QueryError:
        if self._closed:
            return StoreUnavailable("the query service is shut down")
        if exitcode is not None and exitcode >= 0:  # it exited: it could not start
            return StoreUnavailable(
                f"a query worker exited with status {exitcode} before answering; see the log"
            )
        # killed by a signal: SIGABRT when the engine cannot allocate, SIGKILL from the kernel
        return QueryTooLarge(
            f"the query needed more than {self.memory_mb} MB (LOD_QUERY_MEMORY_MB) and was stopped"
        )

    def _checkout(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise StoreUnavailable("the query service is shut down")
            while self._idle:
                worker = self._idle.pop()
                if worker.process.is_alive():
                    return worker
                self._workers.discard(worker)
                worker.stop()
        worker = _Worker(self.memory_mb)
        with self._lock:
            if not self._closed:
                self._workers.add(worker)
                return worker
        worker.stop()
        raise StoreUnavailable("the query service is shut down")

    def _checkin(self, worker: _Worker) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(worker)
                return
        worker.stop()

    def _retire(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.discard(worker)
        worker.stop()


def _kill(workers: set[_Worker]) -> None:
    """SIGKILL every worker: at close(), at exit, or when the service is collected."""
    for worker in list(workers):
        worker.process.kill()


_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([__name__])
_START = threading.Lock()  # multiprocessing does not promise that start() is thread-safe


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, memory_mb: int):
        self.conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(
            target=_serve, args=(child, memory_mb), name="lod-query", daemon=True
        )
        with _START:
            self.process.start()
        child.close()

    def stop(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


def _serve(conn: Connection, memory_mb: int) -> None:
    """A worker's life: answer jobs until the pipe closes."""
    sys.setrecursionlimit(WORKER_RECURSION_LIMIT)
    held = _Held(memory_mb)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        try:
            if job.store_path is None:  # a remote store runs it: check it only
                _limit(memory_mb)
                verify(job.query, job.allowed_graphs, job.standard_only)
                reply = None
            else:
                store = held.store(job)
                reply = job.run(store, 0, verify(job.query, job.allowed_graphs))
        except QueryError as error:
            reply = error
        except MemoryError:
            reply = QueryTooLarge(
                f"the query needed more than {memory_mb} MB (LOD_QUERY_MEMORY_MB)"
            )
        except Exception as error:  # the engine failed; the worker can still answer
            reply = StoreUnavailable(f"the engine failed: {error}")
        conn.send(reply)


class _Held:
    """The store a worker holds open: the last job's build's, on disk, then its copy in
    memory once made."""

    def __init__(self, memory_mb: int):
        self.memory_mb = memory_mb
        self.open: EmbeddedStore | None = None
        self.copy: _Copy | None = None  # the store being copied into memory, in a thread

    def store(self, job: _Job) -> EmbeddedStore:
        if self.open is None or self.open.path != job.store_path:
            self.open = self.copy = None  # the old build's store closes before the new one opens
            self.open = _open(job.store_path, self.memory_mb, job.copy_mb)
            if job.copy_mb:  # a large one answered on disk until the copy is made
                self.copy = _Copy(job.store_path)
                if job.copy_mb <= COPY_WAIT_MB:
                    self.copy.done.wait()
        if self.copy is not None and self.copy.done.is_set():
            self.open = self.copy.store or self.open
            self.copy = None
            _tighten(self.memory_mb)
        return self.open


class _Copy:
    """A build's store copied into memory by a thread of the worker (pyoxigraph lets the
    GIL go while it loads), so that the queries that come meanwhile are answered from the
    store on disk and none waits for the copy or is stopped at the time limit by it."""

    def __init__(self, path: Path):
        self.store: MemoryStore | None = None
        self.done = threading.Event()
        threading.Thread(target=self._load, args=(path,), daemon=True).start()

    def _load(self, path: Path) -> None:
        try:
            self.store = MemoryStore(path)
        except (OSError, MemoryError, ValueError, SyntaxError):
            self.store = None  # the copy failed: queries stay on disk
        finally:
            self.done.set()


def _open(path: Path, memory_mb: int, copy_mb: int = 0) -> EmbeddedStore:
    """Open a build's store, then allow the worker `memory_mb` MB of address space beyond
    what it maps with the store open (and, when the store is to be copied into memory,
    twice `copy_mb` more for the copy and what loading it takes, until `_tighten`: while
    a large copy is made, the queries answered on disk meanwhile have that headroom too).

    The budget is relative because the base is large and varies: RocksDB starts a thread
    per CPU, each with its stack and malloc arena, so a worker at rest maps about 0.33 GB
    on one CPU and 0.4-0.5 GB on two, though only some 60 MB of it is resident: a fixed
    limit would starve the query on one machine and mean nothing on another."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    try:
        return EmbeddedStore(path)
    except OSError as error:
        raise StoreUnavailable(f"cannot open the store {path}: {error}") from None
    finally:
        copying = 2 * copy_mb + COPY_SLACK_MB if copy_mb else 0
        limit = _address_space() + (memory_mb + copying) * MiB
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _tighten(memory_mb: int) -> None:
    """Once the copy in memory is made: `memory_mb` MB beyond what the worker maps now (the
    headroom `_open` left for making the copy is a query's no longer)."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space() + memory_mb * MiB
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


_limited = False  # whether this worker has its address-space limit


def _limit(memory_mb: int) -> None:
    """A worker that opens no store: `memory_mb` MB beyond what it maps now (once; `_open`
    sets its own limit should the worker open a store later)."""
    global _limited
    if _limited:
        return
    _limited = True
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space() + memory_mb * MiB
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _address_space() -> int:
    """Bytes of address space this process maps (Linux; elsewhere 0: the budget is absolute)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:
        return 0
