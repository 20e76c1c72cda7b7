"""lod.serve.guard and lod.serve.pool: the checks that refuse a query before it runs, and the
worker pool that runs the rest under a time limit, a memory limit and a concurrency bound."""

from __future__ import annotations

import json
import pickle
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef

from lod.errors import (
    QueryRefused,
    QuerySyntaxError,
    QueryTimeout,
    QueryTooLarge,
    StoreUnavailable,
    TooManyQueries,
)
from lod.formats import Format, ResultFormat
from lod.serve import guard
from lod.serve.guard import check, read
from lod.serve.pool import QueryService
from lod.serve.store import EmbeddedStore

EX = "http://ex/"
COUNT = 300
# Four-way cartesian product of the store with itself: 300^4 rows, far past any time limit.
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SIMPLE = f"SELECT ?o WHERE {{ <{EX}s1> <{EX}p> ?o }}"


def make_store(path: Path, value: str) -> Path:
    store = ox.Store(str(path))
    store.extend(
        ox.Quad(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(f"{EX}p"), ox.Literal(f"{value}{i}"))
        for i in range(COUNT)
    )
    store.flush()
    del store
    return path


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    return make_store(tmp_path_factory.mktemp("store") / "oxigraph", "v")


@pytest.fixture
def service():
    with QueryService(timeout=30, concurrency=2, memory_mb=512) as service:
        yield service


def run(
    service: QueryService,
    store_path: Path,
    sparql: str,
    fmt=None,
    default_graphs=(),
    named_graphs=None,
    **options,
):
    """The query read (as the endpoint reads it) and run; JSON results or Turtle unless
    `fmt` is given."""
    query = read(sparql, default_graphs, named_graphs)
    fmt = fmt or (Format.TURTLE if query.is_graph else ResultFormat.JSON)
    return service.run(EmbeddedStore(store_path), query, fmt, **options)


def values(answer) -> list[str]:
    document = json.loads(answer.body)
    return [row["o"]["value"] for row in document["results"]["bindings"]]


# Answers


def test_select_json(service, store_path):
    answer = run(service, store_path, SIMPLE)
    assert (answer.form, answer.media_type) == ("SELECT", "application/sparql-results+json")
    assert values(answer) == ["v1"]


def test_select_csv(service, store_path):
    sparql = f"SELECT ?o WHERE {{ ?s <{EX}p> ?o }} ORDER BY ?o LIMIT 2"
    answer = run(service, store_path, sparql, ResultFormat.CSV)
    assert answer.media_type == "text/csv"
    assert answer.body.splitlines() == [b"o", b"v0", b"v1"]


def test_select_counts_every_triple(service, store_path):
    answer = run(service, store_path, "SELECT (COUNT(*) AS ?o) WHERE { ?s ?p ?o }")
    assert values(answer) == [str(COUNT)]


@pytest.mark.parametrize(("sparql", "expected"), [
    (f'ASK {{ ?s <{EX}p> "v7" }}', True),
    (f'ASK {{ ?s <{EX}p> "nowhere" }}', False),
])  # fmt: skip
def test_ask(service, store_path, sparql, expected):
    answer = run(service, store_path, sparql)
    assert answer.form == "ASK"
    assert json.loads(answer.body)["boolean"] is expected


CONSTRUCT = f"CONSTRUCT {{ ?s <{EX}q> ?o }} WHERE {{ ?s <{EX}p> ?o }} ORDER BY ?s LIMIT 3"


@pytest.mark.parametrize("fmt", [Format.TURTLE, Format.JSONLD, Format.NTRIPLES])
def test_construct(service, store_path, fmt):
    answer = run(service, store_path, CONSTRUCT, fmt)
    assert (answer.form, answer.media_type) == ("CONSTRUCT", fmt.media_type)
    graph = Graph().parse(data=answer.body, format=fmt.rdflib_name)
    assert len(graph) == 3
    assert (URIRef(f"{EX}s0"), URIRef(f"{EX}q"), Literal("v0")) in graph


def test_describe(service, store_path):
    answer = run(service, store_path, f"DESCRIBE <{EX}s5>", Format.NTRIPLES)
    assert answer.form == "DESCRIBE"
    assert answer.body.strip() == f'<{EX}s5> <{EX}p> "v5" .'.encode()


def test_formats_reach_a_worker_as_themselves():
    """A job carries its format, pickled by name (the engine's format value does not
    pickle): the worker has the same member back."""
    for fmt in [*Format, *ResultFormat]:
        assert pickle.loads(pickle.dumps(fmt)) is fmt


def test_store_switch_answers_from_the_new_store(tmp_path, store_path):
    other = make_store(tmp_path / "other", "w")
    with QueryService(timeout=30, concurrency=1, memory_mb=512) as service:
        assert values(run(service, store_path, SIMPLE)) == ["v1"]
        assert values(run(service, other, SIMPLE)) == ["w1"]
        assert values(run(service, store_path, SIMPLE)) == ["v1"]


# Refusals

SERVICE = "http://127.0.0.1:9/sparql"
REFUSED = {
    "service": f"SELECT * WHERE {{ SERVICE <{SERVICE}> {{ ?s ?p ?o }} }}",
    "service lower case": f"select * where {{ service <{SERVICE}> {{ ?s ?p ?o }} }}",
    "service silent": f"SELECT * WHERE {{ SERVICE SILENT <{SERVICE}> {{ ?s ?p ?o }} }}",
    "service variable": "SELECT * WHERE { SERVICE ?x { ?s ?p ?o } }",
    "service prefixed": f"PREFIX e: <{EX}> SELECT * WHERE {{ SERVICE e:x {{ ?s ?p ?o }} }}",
    "service in optional": f"SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{ SERVICE <{SERVICE}> "
    "{ ?s ?p ?x } } }",
    "service in filter exists": f"ASK {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{SERVICE}> "
    "{ ?s ?p ?o } } }",
    "service in filter not exists": f"ASK {{ ?s ?p ?o FILTER NOT EXISTS {{ SERVICE "
    f"<{SERVICE}> {{ ?s ?p ?o }} }} }}",
    "service in subquery": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ SELECT * WHERE {{ SERVICE "
    f"<{SERVICE}> {{ ?s ?p ?o }} }} }} }}",
    "service in minus": f"SELECT * WHERE {{ ?s ?p ?o MINUS {{ SERVICE <{SERVICE}> "
    "{ ?s ?p ?o } } }",
    "service in union": f"SELECT * WHERE {{ {{ ?s ?p ?o }} UNION {{ SERVICE <{SERVICE}> "
    "{ ?s ?p ?o } } }",
    "service in graph": f"SELECT * WHERE {{ GRAPH ?g {{ SERVICE <{SERVICE}> {{ ?s ?p ?o }} }} }}",
    "service deep": f"SELECT * WHERE {'{ ' * 30} SERVICE <{SERVICE}> {{ ?s ?p ?o }} {' }' * 30}",
    "service escaped keyword": rf"SELECT * WHERE {{ \u0053ERVICE <{SERVICE}> {{ ?s ?p ?o }} }}",
    # pyoxigraph reads these two as SERVICE calls where rdflib reads a string and a comment
    "service after an escaped quote": rf'SELECT * WHERE {{ BIND("\u0022 AS ?x) }} #" AS ?y) '
    f"SERVICE <{SERVICE}> {{ ?s ?p ?o }} }}",
    "service after a CR in a comment": f"SELECT * WHERE {{ # \r SERVICE <{SERVICE}> "
    "{ ?s ?p ?o } \n}",
    "from": "SELECT * FROM <http://example.org/graph> WHERE { ?s ?p ?o }",
    "from file": "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
    "from named": "SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "from prefixed": "PREFIX e: <http://example.org/> ASK FROM e:g { ?s ?p ?o }",
    "from in construct": "CONSTRUCT { ?s ?p ?o } FROM <http://example.org/g> WHERE { ?s ?p ?o }",
    "insert data": f"INSERT DATA {{ <{EX}a> <{EX}b> <{EX}c> }}",
    "delete where": "DELETE WHERE { ?s ?p ?o }",
    "delete insert": "PREFIX e: <http://ex/> DELETE { ?s ?p ?o } INSERT { ?s e:q ?o } "
    "WHERE { ?s ?p ?o }",
    "load": "LOAD <http://example.org/data.ttl>",
    "clear all": "CLEAR ALL",
    "drop graph": "DROP GRAPH <http://example.org/g>",
    "create graph": "CREATE GRAPH <http://example.org/g>",
    "copy": "COPY DEFAULT TO <http://example.org/g>",
    "move": "MOVE DEFAULT TO <http://example.org/g>",
    "add": "ADD DEFAULT TO <http://example.org/g>",
    "with": "WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
}


@pytest.mark.parametrize("sparql", REFUSED.values(), ids=REFUSED.keys())
def test_check_refuses(sparql):
    with pytest.raises(QueryRefused):
        check(sparql)


@pytest.mark.parametrize("sparql", REFUSED.values(), ids=REFUSED.keys())
def test_run_refuses(service, store_path, sparql):
    with pytest.raises(QueryRefused):
        run(service, store_path, sparql)


# Once normalised, the escaped quote ends the string, and its SERVICE is in a comment for both
# parsers; only the textual backstop refuses it.
SERVICES = {
    name: sparql
    for name, sparql in REFUSED.items()
    if name.startswith("service") and name != "service after an escaped quote"
}


@pytest.mark.parametrize("sparql", SERVICES.values(), ids=SERVICES.keys())
def test_parse_tree_refuses_service_on_its_own(monkeypatch, sparql):
    """The textual backstop aside, the walk of the parse tree finds every SERVICE."""
    monkeypatch.setattr(guard, "_SERVICE", re.compile("(?!)"))
    with pytest.raises(QueryRefused, match="^SERVICE is not allowed: .*endpoints$"):
        check(sparql)


def test_refusals_say_why():
    with pytest.raises(QueryRefused, match="SERVICE is not allowed: this endpoint does not"):
        check(REFUSED["service in subquery"])
    with pytest.raises(QueryRefused, match=r"FROM NAMED <http://example.org/g> is not allowed"):
        check(REFUSED["from named"])
    with pytest.raises(QueryRefused, match="FROM <http://example.org/g> is not allowed"):
        check(REFUSED["from prefixed"])
    with pytest.raises(QueryRefused, match="LOAD is an update, and this endpoint is read-only"):
        check(REFUSED["load"])


@pytest.mark.parametrize("sparql", [
    f"SELECT * WHERE {{ ?s <{EX}p> ?o }}",
    'SELECT * WHERE { ?s ?p "customer service" }',  # the word alone is no SERVICE
    "PREFIX schema: <https://schema.org/> SELECT ?service WHERE { ?service a schema:Service ;"
    " schema:serviceType ?type }",
    "# SERVICE is refused, FROM too\nASK { ?s ?p ?o }",
    r'SELECT * WHERE { ?s ?p "caf\u00E9" }',
])  # fmt: skip
def test_check_accepts(sparql):
    assert check(sparql) in ("SELECT", "ASK")


def test_from_an_allowed_graph():
    sparql = f"BASE <{EX}> PREFIX e: <{EX}> SELECT * FROM e:g FROM NAMED <h> WHERE {{ }}"
    assert check(sparql, allowed_graphs=frozenset({f"{EX}g", f"{EX}h"})) == "SELECT"
    with pytest.raises(QueryRefused, match=f"FROM NAMED <{EX}h>"):
        check(sparql, allowed_graphs=frozenset({f"{EX}g"}))


def test_protocol_dataset_names_store_graphs_only(service, store_path):
    """default-graph-uri / named-graph-uri select graphs of the store: one it does not hold
    is an empty graph, never fetched."""
    answer = run(service, store_path, SIMPLE, default_graphs=["http://example.org/g"])
    assert values(answer) == []
    answer = run(
        service, store_path, "ASK { GRAPH ?g { ?s ?p ?o } }", named_graphs=["file:///etc/passwd"]
    )
    assert b"false" in answer.body


@pytest.mark.parametrize("sparql", [
    "SELECT * WHERE { ?s ?p }",
    "SELECT * WHERE { ?s ?p ?o ",
    "SELEC * WHERE { ?s ?p ?o }",
    "",
    "{ ?s ?p ?o }",
])  # fmt: skip
def test_malformed(service, store_path, sparql):
    with pytest.raises(QuerySyntaxError, match="line"):
        check(sparql)
    with pytest.raises(QuerySyntaxError):
        run(service, store_path, sparql)


def test_malformed_for_the_engine(service, store_path):
    """rdflib parses an undeclared prefix; the engine's own parser refuses it."""
    with pytest.raises(QuerySyntaxError, match="Prefix not found"):
        run(service, store_path, "SELECT * WHERE { ?s nope:p ?o }")


def test_deep_nesting_is_checked_in_the_worker(service, store_path):
    """Past the parser's recursion limit in a request thread, but the worker's is higher."""
    sparql = "SELECT * WHERE " + "{ " * 200 + f"<{EX}s1> <{EX}p> ?o" + " }" * 200
    assert values(run(service, store_path, sparql)) == ["v1"]


@pytest.mark.parametrize(("sparql", "form"), [
    ("SELECT * {}", "SELECT"),
    ("# a comment\nPREFIX e: <http://ex/>\nBASE <http://ex/>\nask {}", "ASK"),
    ("PREFIX : <http://ex/> CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
    (r"\u0044ESCRIBE <http://ex/s1>", "DESCRIBE"),
])  # fmt: skip
def test_reading_finds_the_form(sparql, form):
    assert read(sparql).form == form


def test_reading_does_not_parse(monkeypatch):
    """A long query is no burden on the calling thread: reading it runs a few linear
    expressions, never the parser (the full check takes seconds on this one)."""

    def no_parse(*args, **kwargs):
        raise AssertionError("the parser ran in the calling thread")

    monkeypatch.setattr(guard.QUERY_GRAMMAR, "parse_string", no_parse)
    sparql = "SELECT * WHERE { ?s ?p ?o FILTER(?o IN (" + ",".join(["1"] * 100_000) + ")) }"
    assert read(sparql).form == "SELECT"


def test_refused_service_makes_no_connection(service, store_path):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(1)
        port = listener.getsockname()[1]
        endpoint = f"http://127.0.0.1:{port}/sparql"
        for sparql in (
            f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}",
            rf'SELECT * WHERE {{ BIND("\u0022 AS ?x) }} #" AS ?y) SERVICE <{endpoint}> '
            "{ ?s ?p ?o } }",
            f"SELECT * WHERE {{ # \r SERVICE <{endpoint}> {{ ?s ?p ?o }}\n}}",
        ):
            with pytest.raises(QueryRefused):
                run(service, store_path, sparql)
        with pytest.raises(TimeoutError):
            listener.accept()


# Limits


class Background:
    """run() in a thread; what it returned or raised, and when."""

    def __init__(self, service, store_path, sparql, retry_while_busy=False):
        self.outcome = None
        self.finished = threading.Event()
        self.started = time.monotonic()
        self.thread = threading.Thread(
            target=self._run, args=(service, store_path, sparql, retry_while_busy), daemon=True
        )
        self.thread.start()

    def _run(self, service, store_path, sparql, retry_while_busy):
        while True:
            try:
                self.outcome = run(service, store_path, sparql)
            except TooManyQueries:
                if retry_while_busy:
                    time.sleep(0.01)
                    continue
                raise
            except Exception as error:
                self.outcome = error
            break
        self.elapsed = time.monotonic() - self.started
        self.finished.set()

    def wait(self):
        assert self.finished.wait(60), "run() did not return"
        return self.outcome


def wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.01)


@pytest.mark.slow
def test_timeout_kills_and_replaces_the_worker(store_path):
    with QueryService(timeout=1, concurrency=1, memory_mb=512) as service:
        assert values(run(service, store_path, SIMPLE)) == ["v1"]
        (first,) = service._workers
        started = time.monotonic()
        with pytest.raises(QueryTimeout, match=r"query stopped after 1 s \(LOD_QUERY_TIMEOUT\)"):
            run(service, store_path, SLOW)
        assert time.monotonic() - started < 15
        assert not first.process.is_alive()
        assert values(run(service, store_path, SIMPLE)) == ["v1"]
        (second,) = service._workers
        assert second.process.pid != first.process.pid


@pytest.mark.slow
def test_other_queries_are_answered_meanwhile(store_path):
    with QueryService(timeout=5, concurrency=2, memory_mb=512) as service:
        slow = Background(service, store_path, SLOW)
        wait_for(lambda: service._workers)  # the slow query's worker, the only one yet
        for _ in range(3):
            assert values(run(service, store_path, SIMPLE)) == ["v1"]
        assert not slow.finished.is_set()
        assert isinstance(slow.wait(), QueryTimeout)
        assert slow.elapsed < 15


@pytest.mark.slow
def test_concurrency_bound(store_path):
    with QueryService(timeout=4, concurrency=1, memory_mb=512) as service:
        slow = Background(service, store_path, SLOW, retry_while_busy=True)
        deadline = time.monotonic() + 10
        while True:  # until the slow query holds the only slot
            assert time.monotonic() < deadline, "the slow query never started"
            started = time.monotonic()
            try:
                run(service, store_path, SIMPLE)
            except TooManyQueries as busy:
                assert time.monotonic() - started < 1
                assert busy.retry_after == 1
                break
            time.sleep(0.05)
        assert isinstance(slow.wait(), QueryTimeout)
        assert values(run(service, store_path, SIMPLE)) == ["v1"]


def test_memory_limit(store_path):
    with QueryService(timeout=30, concurrency=1, memory_mb=100) as service:
        with pytest.raises(QueryTooLarge, match="LOD_QUERY_MEMORY_MB"):
            run(service, store_path, "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } "
                "ORDER BY ?c ?f ?i LIMIT 1")  # fmt: skip
        assert values(run(service, store_path, SIMPLE)) == ["v1"]


def test_results_larger_than_max_bytes_are_refused_whole(store_path):
    with QueryService(timeout=30, concurrency=1, memory_mb=512, max_bytes=1000) as service:
        with pytest.raises(QueryTooLarge, match="add a LIMIT"):
            run(service, store_path, "SELECT * WHERE { ?s ?p ?o }")
        assert values(run(service, store_path, SIMPLE)) == ["v1"]


def test_missing_store(service, store_path, tmp_path):
    """A store gone from disk (a build pruned) between the app opening it and a worker
    opening it: a clear 503, not a crash."""
    copy = shutil.copytree(store_path, tmp_path / "store")
    store = EmbeddedStore(copy)
    shutil.rmtree(copy)
    with pytest.raises(StoreUnavailable, match="cannot open the store"):
        service.run(store, read(SIMPLE), ResultFormat.JSON)


def test_close_kills_every_worker(store_path):
    service = QueryService(timeout=30, concurrency=2, memory_mb=512)
    slow = Background(service, store_path, SLOW)
    wait_for(lambda: service._workers)
    run(service, store_path, SIMPLE)  # a second worker, left idle
    workers = list(service._workers)
    assert len(workers) == 2
    service.close()
    assert isinstance(slow.wait(), StoreUnavailable)
    assert not any(worker.process.is_alive() for worker in workers)
    with pytest.raises(StoreUnavailable, match="shut down"):
        run(service, store_path, SIMPLE)
