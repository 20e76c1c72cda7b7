r"""Safe SPARQL execution: a query is checked before it runs, and it runs in a worker process
that can be killed, under a time limit, a memory limit and a bound on concurrent queries.

Why it is built this way:

* pyoxigraph (0.5) answers `SERVICE <iri>` by sending the query to that IRI over HTTP, and
  neither it nor rdflib can stop a running query from another thread. So the query's parse
  tree is checked before anything runs, and queries run in worker processes that are killed
  (SIGKILL) at the time limit and live under an address-space limit (RLIMIT_AS), set at
  `memory_mb` above what the worker maps with its store open (see `_open` for why).

* rdflib's parser is the gate. pyoxigraph has no way to parse a query without running it, so
  there is no fallback to it: "trying" pyoxigraph on a query rdflib cannot parse would run it,
  SERVICE calls included. A query rdflib cannot parse is malformed, with rdflib's message.

* The two parsers read some texts differently: rdflib expands `\uXXXX` escapes everywhere
  before parsing (as SPARQL 1.1 §19.2 says) while pyoxigraph expands them only inside
  strings, and rdflib ends a `#` comment only at LF while pyoxigraph also ends it at CR.
  Either way a SERVICE that rdflib reads as part of a string or a comment runs in pyoxigraph
  (both were tried). So the text is normalised first (escapes expanded once, line ends made
  LF) and both parsers read that same text; and, in case they disagree somewhere else, the
  word SERVICE followed by an IRI, a variable or a prefixed name is refused wherever it
  appears, even in a string or a comment (`"customer service?"` is refused too: the price
  of not trusting two parsers to agree).

* rdflib's parser is pure Python: about 1 ms per term (a 150 kB `IN (…)` list takes 20 s),
  and it recurses a dozen frames per triple pattern (the default recursion limit stops it
  short of 100 patterns). In a request thread that would hold the thread, and the GIL, for as
  long as the query is long. So the full `check` runs in the worker, under the time limit
  and with a high recursion limit; the calling thread only runs `precheck`, a few linear
  regular expressions that find the query form (for content negotiation) and refuse
  updates and SERVICE outright.

* Workers are forked by a "forkserver": forking the threaded Flask process itself could copy
  a lock another thread holds, and "spawn" would import rdflib, pyoxigraph and lod again for
  every worker (about 0.3 s). The forkserver imports this module once and forks workers
  from its single thread, so a worker killed at the time limit is replaced in milliseconds.
  As with any multiprocessing start method but fork, a script run as `__main__` is imported
  again in each worker: it must keep its side effects under `if __name__ == "__main__":`.

* A remote store (lod.remote.RemoteStore) runs the query itself, so no worker runs it: the
  store is asked to stop at the time limit and the HTTP client waits no longer. The full
  `check` still runs in a worker, under the same limits (it is the costly, GIL-holding
  part), and with `standard_only`: a store may give extension functions powers a reader
  must not have (Virtuoso's `bif:http_get` fetches any URL, from the SPARQL user), so only
  SPARQL's own functions and XSD casts reach it, and no IRI in its `bif:` or `sql:` schemes.
"""

from __future__ import annotations

import multiprocessing
import re
import resource
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox
from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql.algebra import translatePrologue
from rdflib.plugins.sparql.parser import Query as QUERY_GRAMMAR
from rdflib.plugins.sparql.parser import expandUnicodeEscapes
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef

from .errors import (
    QueryError,
    QueryRefused,
    QuerySyntaxError,
    QueryTimeout,
    QueryTooLarge,
    StoreUnavailable,
    TooManyQueries,
)
from .formats import Format, ResultFormat, serialize_triples
from .remote import RemoteStore
from .store import EmbeddedStore

MiB = 1024 * 1024
FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATES = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
SERVICE_REFUSED = "SERVICE is not allowed: this endpoint does not query other endpoints"
WORKER_RECURSION_LIMIT = 1_000_000  # Python 3.11 keeps Python frames off the C stack
XSD = "http://www.w3.org/2001/XMLSchema#"
ENGINE_SCHEMES = ("bif:", "sql:")  # Virtuoso's names for its SQL procedures

_SKIP = r"(?:\s|#[^\n]*)*"  # whitespace and comments
_PROLOGUE = re.compile(
    rf"{_SKIP}(?:(?:BASE{_SKIP}<[^>]*>|PREFIX{_SKIP}[^\s:#]*:{_SKIP}<[^>]*>){_SKIP})*(\w*)",
    re.IGNORECASE,
)
_SERVICE = re.compile(
    rf"(?<![\w?$:.\-])SERVICE{_SKIP}(?:SILENT{_SKIP})?(?:[<?$:]|[^\W\d][\w.\-]*:)",
    re.IGNORECASE,
)


def precheck(sparql: str) -> str:
    """The query form ("SELECT", "ASK", "CONSTRUCT" or "DESCRIBE") read from the text alone,
    refusing updates and SERVICE: linear in the query's length, so safe in a request thread.
    It is no substitute for `check`, which `QueryService.run` makes in the worker."""
    return _precheck(_normalise(sparql))


def check(
    sparql: str, allowed_graphs: frozenset[str] = frozenset(), *, standard_only: bool = False
) -> str:
    """The query form of a query this endpoint will run; QuerySyntaxError when malformed,
    QueryRefused for an update, a SERVICE anywhere, or FROM / FROM NAMED of a graph not in
    `allowed_graphs`; with `standard_only` (a remote store), also a call of a function
    that is neither SPARQL's nor an XSD cast, and an IRI in a store's procedure scheme.
    Costly for long queries (see the module docstring)."""
    return _prepare(sparql, allowed_graphs, standard_only)[0]


def _prepare(
    sparql: str, allowed_graphs: frozenset[str], standard_only: bool = False
) -> tuple[str, str]:
    """The query form and the normalised text: the only text an engine may be given."""
    text = _normalise(sparql)
    form = _precheck(text)
    try:
        tree = QUERY_GRAMMAR.parse_string(text, parse_all=True)
    except ParseBaseException as error:
        raise QuerySyntaxError(
            f"line {error.lineno}, column {error.col}: {error.msg}, found {error.found}"
        ) from None
    except RecursionError:
        raise QueryRefused("the query is nested too deeply to be checked") from None
    prologue = None
    for node in _nodes(tree):
        if standard_only and (isinstance(node, URIRef) or _is_pname(node)):
            prologue = prologue or translatePrologue(tree[0], None)
            _allow_iri(_absolute(prologue, node))
        if not isinstance(node, CompValue):
            continue
        if standard_only and node.name == "Function":
            prologue = prologue or translatePrologue(tree[0], None)
            function = _absolute(prologue, node["iri"])
            if not function.startswith(XSD):
                raise QueryRefused(
                    f"the function <{function}> is not allowed: this endpoint runs SPARQL's "
                    "own functions and XSD casts only"
                )
        if node.name == "ServiceGraphPattern":
            raise QueryRefused(SERVICE_REFUSED)
        if node.name == "DatasetClause":
            prologue = prologue or translatePrologue(tree[0], None)
            for kind, iri in dict.items(node):
                clause = "FROM NAMED" if kind == "named" else "FROM"
                _allow(clause, _absolute(prologue, iri), allowed_graphs)
    return form, text


def _normalise(sparql: str) -> str:
    """`\\uXXXX` escapes expanded and line ends made LF: the text both parsers agree on."""
    try:
        text = expandUnicodeEscapes(sparql)
        text.encode("utf-8")
    except (ValueError, UnicodeEncodeError) as error:
        raise QuerySyntaxError(f"bad \\u escape: {error}") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _precheck(text: str) -> str:
    prologue = _PROLOGUE.match(text)
    word = prologue.group(1).upper()
    if word in UPDATES:
        raise QueryRefused(f"{word} is an update, and this endpoint is read-only")
    if word not in FORMS:
        line = text.count("\n", 0, prologue.start(1)) + 1
        found = f", found {prologue.group(1)[:40]!r}" if word else ""
        raise QuerySyntaxError(f"line {line}: expected SELECT, CONSTRUCT, DESCRIBE or ASK{found}")
    service = _SERVICE.search(text)
    if service:
        line = text.count("\n", 0, service.start()) + 1
        raise QueryRefused(f"{SERVICE_REFUSED} (line {line})")
    return word


def _nodes(tree) -> Iterator:
    """Every node of a parse tree, however deep (a loop, not recursion: a deep query must
    not be able to hide a node by exhausting the stack)."""
    pending, seen = [tree], set()
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, str) or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, CompValue):
            pending.extend(dict.values(node))
        elif isinstance(node, ParseResults):
            pending.extend(node)
            pending.extend(node.values())
        elif isinstance(node, list | tuple):
            pending.extend(node)


def _absolute(prologue, iri) -> str:
    try:
        return str(prologue.absolutize(iri))
    except Exception as error:  # rdflib raises a bare Exception for an unknown prefix
        raise QuerySyntaxError(str(error)) from None


def _is_pname(node) -> bool:
    return isinstance(node, CompValue) and node.name == "pname"


def _allow_iri(iri: str) -> None:
    if iri.lower().startswith(ENGINE_SCHEMES):
        raise QueryRefused(
            f"<{iri[:80]}> is not allowed: this endpoint runs standard SPARQL only, "
            "no engine procedures"
        )


def _allow(clause: str, iri: str, allowed_graphs: frozenset[str]) -> None:
    if iri not in allowed_graphs:
        raise QueryRefused(
            f"{clause} <{iri}> is not allowed: this endpoint queries only its own data"
        )


@dataclass(frozen=True)
class Answer:
    """A query's results, serialised."""

    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    body: bytes
    media_type: str


@dataclass(frozen=True)
class _Job:
    """What a worker needs to answer one query, pickled over its pipe (formats by name: their
    pyoxigraph values do not pickle)."""

    store_path: Path | None  # None: check the query only (a remote store runs it)
    sparql: str
    allowed_graphs: frozenset[str]
    results: str
    graph: str
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...] | None
    max_bytes: int
    base_iri: str | None
    standard_only: bool = False


class QueryService:
    """A pool of query workers: at most `concurrency` queries at once in this process, each
    stopped after `timeout` seconds, each allowed `memory_mb` MB of address space beyond
    what its worker maps at rest, and results of at most `max_bytes`.

    Thread-safe. Workers start when first needed and are kept for the next query; a worker
    that hits a limit is killed and replaced by the next query that needs one."""

    def __init__(
        self, timeout: float, concurrency: int, memory_mb: int, *, max_bytes: int = 64 * MiB
    ):
        self.timeout = timeout
        self.concurrency = concurrency
        self.memory_mb = memory_mb
        self.max_bytes = max_bytes
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._closed = False
        self._finalizer = weakref.finalize(self, _kill, self._workers)

    def run(
        self,
        store: Path | RemoteStore,
        sparql: str,
        *,
        accept_results: ResultFormat,
        accept_graph: Format,
        default_graphs: Iterable[str] = (),
        named_graphs: Iterable[str] | None = None,
        allowed_graphs: frozenset[str] = frozenset(),
        base_iri: str | None = None,
    ) -> Answer:
        """Check and run one query on the embedded store at the path `store` (or on a
        remote store); results of SELECT and ASK in `accept_results`, graphs of CONSTRUCT
        and DESCRIBE in `accept_graph`; relative IRIs in the query resolve against
        `base_iri`.

        `default_graphs` and `named_graphs` are the protocol's dataset (default-graph-uri,
        named-graph-uri): they name graphs of the store only, and one the store does not
        hold is an empty graph (the engine never fetches them). FROM and FROM NAMED in the
        query text are held to `allowed_graphs`. Raises a QueryError."""
        if not accept_graph.is_rdf:
            raise ValueError(f"{accept_graph} is not an RDF format")
        precheck(sparql)
        default_graphs = tuple(default_graphs)
        named_graphs = None if named_graphs is None else tuple(named_graphs)
        remote = isinstance(store, RemoteStore)
        dataset = {
            "accept_results": accept_results,
            "accept_graph": accept_graph,
            "default_graphs": default_graphs,
            "named_graphs": named_graphs,
            "base_iri": base_iri,
        }
        job = _Job(
            None if remote else Path(store),
            sparql,
            allowed_graphs,
            accept_results.name,
            accept_graph.name,
            default_graphs,
            named_graphs,
            self.max_bytes,
            base_iri,
            standard_only=remote,
        )
        if not self._slots.acquire(blocking=False):
            raise TooManyQueries(
                f"{self.concurrency} queries are running already (LOD_QUERY_CONCURRENCY); "
                "try again in a moment",
                retry_after=1,
            )
        try:
            started = time.monotonic()
            reply = self._ask(job)
            if remote and not isinstance(reply, QueryError):
                form, text = reply
                left = self.timeout - (time.monotonic() - started)
                reply = form, self._remote(store, form, text, left, **dataset)
        finally:
            self._slots.release()
        if isinstance(reply, QueryError):
            raise reply
        form, body = reply
        fmt = accept_results if form in ("SELECT", "ASK") else accept_graph
        return Answer(form, body, fmt.media_type)

    def _remote(self, store: RemoteStore, form: str, text: str, left: float, **dataset) -> bytes:
        """A checked query run by a remote store in the `left` seconds of its time limit."""
        stopped = QueryTimeout(f"query stopped after {self.timeout:g} s (LOD_QUERY_TIMEOUT)")
        if left <= 0:
            raise stopped
        try:
            return store.run(text, form, timeout=left, max_bytes=self.max_bytes, **dataset)
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
        """One worker's reply to one job: (form, body) or a QueryError."""
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
    store = None
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        try:
            if job.store_path is None:  # a remote store runs it: check it only
                _limit(memory_mb)
                reply = _prepare(job.sparql, job.allowed_graphs, job.standard_only)
            else:
                if store is None or store.path != job.store_path:
                    store = None  # the old build's store closes before the new one opens
                    store = _open(job.store_path, memory_mb)
                form, text = _prepare(job.sparql, job.allowed_graphs)
                reply = form, _execute(store, text, job)
        except QueryError as error:
            reply = error
        except MemoryError:
            reply = QueryTooLarge(
                f"the query needed more than {memory_mb} MB (LOD_QUERY_MEMORY_MB)"
            )
        except Exception as error:  # the engine failed; the worker can still answer
            reply = StoreUnavailable(f"the engine failed: {error}")
        conn.send(reply)


def _open(path: Path, memory_mb: int) -> EmbeddedStore:
    """Open a build's store, then allow the worker `memory_mb` MB of address space beyond
    what it maps with the store open.

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


def _execute(store: EmbeddedStore, text: str, job: _Job) -> bytes:
    try:
        results = store.query(
            text,
            default_graphs=job.default_graphs,
            named_graphs=job.named_graphs,
            base_iri=job.base_iri,
        )
        if isinstance(results, ox.QueryTriples):
            body = serialize_triples(results, Format[job.graph])
        else:
            body = results.serialize(format=ResultFormat[job.results].oxigraph)
    except SyntaxError as error:
        raise QuerySyntaxError(str(error)) from None
    except OSError as error:
        raise StoreUnavailable(f"the store could not be read: {error}") from None
    if len(body) > job.max_bytes:
        raise QueryTooLarge(f"results exceed {job.max_bytes / MiB:g} MiB; add a LIMIT")
    return body
