"""The per-build cache of documents and query results (lod.serve.cache) and the front that
uses it (lod.web.front): what it gives is byte for byte what is computed afresh, never
another build's, never a damaged entry; a file it cannot use means no cache, never an
error."""

from __future__ import annotations

import io
import os
import sqlite3
import threading
import time

import pytest

from lod import Settings, build
from lod.errors import QueryRefused, QueryTimeout
from lod.serve.cache import (
    FILE,
    BuildCache,
    MiB,
    cache_folder,
    open_cache,
    result_key,
)
from lod.vocab import KINDS
from lod.web.front import ANSWERED_FROM, QUERY_BODY, ResponseFront

from .conftest import copy_data, start_server, stop_server

QUERY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 20"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 20"
SPARQL = {"Content-Type": "application/sparql-query"}


def counted(body: bytes):
    calls = []

    def render():
        calls.append(1)
        return body

    return render, calls


# --- the cache file ----------------------------------------------------------------------------


def test_a_document_is_rendered_once_and_kept_byte_for_byte(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1")
    render, calls = counted(b"<a> <b> <c> .\n")
    assert cache.document(("iri", "ttl", 0), render) == b"<a> <b> <c> .\n"
    assert cache.document(("iri", "ttl", 0), render) == b"<a> <b> <c> .\n"
    assert len(calls) == 1
    # another process (a new connection) reads what this one wrote
    other = BuildCache(tmp_path / FILE, "b1")
    assert other.document(("iri", "ttl", 0), lambda: b"not this") == b"<a> <b> <c> .\n"
    assert other.document(("iri", "nt", 0), lambda: "text") == b"text"


def test_a_render_that_fails_keeps_nothing(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1")

    def missing():
        raise LookupError("404")

    with pytest.raises(LookupError):
        cache.document(("nope", "ttl", 0), missing)
    assert cache.document(("nope", "ttl", 0), lambda: b"now") == b"now"


def test_a_damaged_entry_is_detected_and_rendered_again(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1")
    cache.document(("iri", "ttl", 0), lambda: b"the true body")
    with sqlite3.connect(tmp_path / FILE) as connection:
        connection.execute("UPDATE documents SET body = ?", (b"the trUe body",))
    fresh = BuildCache(tmp_path / FILE, "b1")
    assert fresh.document(("iri", "ttl", 0), lambda: b"the true body") == b"the true body"
    # and the entry is mended for the next reader
    assert fresh.document(("iri", "ttl", 0), lambda: b"other") == b"the true body"


def test_a_damaged_file_is_ignored(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1")
    cache.document(("iri", "ttl", 0), lambda: b"kept")
    cache.close()
    for name in os.listdir(tmp_path):
        (tmp_path / name).unlink()
    (tmp_path / FILE).write_bytes(b"this is no SQLite database" * 200)
    damaged = BuildCache(tmp_path / FILE, "b1")
    assert not damaged.enabled
    assert damaged.document(("iri", "ttl", 0), lambda: b"fresh") == b"fresh"
    assert damaged.result(("q",), lambda: ("SELECT", b"rows")) == ("SELECT", b"rows")


def test_a_damaged_page_is_ignored(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1")
    for n in range(200):
        cache.document((f"iri{n}", "ttl", 0), lambda n=n: b"x" * 3000 + str(n).encode())
    cache.close()
    with sqlite3.connect(tmp_path / FILE) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = (tmp_path / FILE).stat().st_size
    with open(tmp_path / FILE, "r+b") as file:  # the b-tree pages past the header, wiped
        file.seek(4096)
        file.write(b"\xff" * (size - 4096))
    damaged = BuildCache(tmp_path / FILE, "b1")
    for n in range(200):
        expected = b"x" * 3000 + str(n).encode()
        assert damaged.document((f"iri{n}", "ttl", 0), lambda e=expected: e) == expected


def test_a_file_of_another_build_is_not_used(tmp_path):
    BuildCache(tmp_path / FILE, "b1").document(("iri", "ttl", 0), lambda: b"build one")
    other = BuildCache(tmp_path / FILE, "b2")
    assert not other.enabled
    assert other.document(("iri", "ttl", 0), lambda: b"build two") == b"build two"


def test_a_folder_that_cannot_be_written_means_no_cache(tmp_path):
    (tmp_path / "cache").write_text("a file where the folder should be")
    cache = open_cache(tmp_path, "b1")
    assert not cache.enabled
    assert cache.document(("iri", "ttl", 0), lambda: b"served") == b"served"


def test_zero_megabytes_means_no_cache(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1", max_mb=0)
    render, calls = counted(b"body")
    cache.document(("iri", "ttl", 0), render)
    cache.document(("iri", "ttl", 0), render)
    assert len(calls) == 2
    assert not (tmp_path / FILE).exists()


def test_results_are_kept_and_bounded(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1", result_entries=3, result_entry_kb=1)
    runs = []

    def run(n):
        def answer():
            runs.append(n)
            return "SELECT", f"rows {n}".encode()

        return answer

    for n in range(5):
        assert cache.result(("q", n), run(n)) == ("SELECT", f"rows {n}".encode())
    assert cache.result(("q", 4), run(4)) == ("SELECT", b"rows 4")
    assert runs == [0, 1, 2, 3, 4]  # the last one came from the cache
    cache.result(("q", 0), run(0))  # the oldest were dropped to keep three
    assert runs == [0, 1, 2, 3, 4, 0]
    with sqlite3.connect(tmp_path / FILE) as connection:
        assert connection.execute("SELECT count(*) FROM results").fetchone()[0] == 3
    big = b"x" * 2048  # over result_entry_kb: answered, not kept
    cache.result(("big",), lambda: ("SELECT", big))
    assert cache.result(("big",), lambda: ("SELECT", b"again")) == ("SELECT", b"again")


def test_the_results_running_totals_are_the_results_count_and_bytes(tmp_path):
    """Writes count and sum as they go (no scan of every body per write): through new
    results, replaced ones and the oldest dropped for either bound, the totals are what the
    rows add up to; a file made before the totals were kept gets them from its rows."""
    path = tmp_path / FILE

    def totals() -> tuple:
        with sqlite3.connect(path) as connection:
            kept = connection.execute("SELECT count, bytes FROM totals").fetchone()
            rows = connection.execute("SELECT count(*), total(size) FROM results").fetchone()
        return kept, (rows[0], int(rows[1]))

    cache = BuildCache(path, "b1", result_entries=6, result_mb=3000 / MiB)
    for n in range(20):
        cache.keep_response(("answer", n % 9), [], b"x" * (50 * n))  # replaced from n = 9
        kept, rows = totals()
        assert kept == rows and rows[0] <= 6 and rows[1] <= 3000, n
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE totals")
    cache.close()
    BuildCache(path, "b1")
    kept, rows = totals()
    assert kept == rows and rows[0] > 0


@pytest.mark.parametrize("error", [QueryRefused("no"), QueryTimeout("stopped")])
def test_refused_and_stopped_queries_are_not_kept(tmp_path, error):
    cache = BuildCache(tmp_path / FILE, "b1")

    def fails():
        raise error

    with pytest.raises(type(error)):
        cache.result(("q",), fails)
    assert cache.result(("q",), lambda: ("ASK", b"true")) == ("ASK", b"true")


def test_result_keys_tell_queries_formats_and_datasets_apart():
    keys = {
        result_key(QUERY, "JSON", (), None, "b"),
        result_key(QUERY + " ", "JSON", (), None, "b"),
        result_key(QUERY, "XML", (), None, "b"),
        result_key(QUERY, "JSON", ("http://g/",), None, "b"),
        result_key(QUERY, "JSON", (), (), "b"),
        result_key(QUERY, "JSON", (), ("http://g/",), "b"),
        result_key(QUERY, "JSON", (), None, "c"),
    }
    assert len(keys) == 7


def test_old_builds_cache_folders_are_removed(tmp_path):
    (tmp_path / "builds" / "b2").mkdir(parents=True)
    (tmp_path / "builds" / "b3").mkdir(parents=True)
    for name in ("b1", "b2"):
        open_cache(tmp_path, name).document(("iri", "ttl", 0), lambda: b"x")
    assert not cache_folder(tmp_path, "b1").exists()  # b2's opening removed it: no build b1
    assert cache_folder(tmp_path, "b2").exists()
    (tmp_path / "cache" / "validation").mkdir()  # the build's own cache: never touched
    open_cache(tmp_path, "b3")
    assert cache_folder(tmp_path, "b2").exists()  # still a build (kept for a roll-back)
    assert (tmp_path / "cache" / "validation").exists()


# --- through the app ---------------------------------------------------------------------------


@pytest.fixture
def uncached(built):
    """The same build served with no cache: what the app computes afresh."""
    from lod.web import create_app

    app = create_app(Settings(out=built.path.parent.parent, query_timeout=2, cache_mb=0))
    yield app.test_client()
    app.extensions["lod.queries"].close()


def resource_paths(built) -> list[str]:
    import json

    lists = json.loads((built.path / "lists.json").read_text("utf-8"))
    base = built.base
    return [
        "/doc/" + entry["iri"][len(base) + 3 :]
        for kind in KINDS
        for entry in lists.get(kind, [])
        if entry["iri"].startswith(base + "id/")
    ]


def test_cached_documents_equal_fresh_ones(client, uncached, built):
    paths = resource_paths(built)
    assert paths
    for path in paths:
        for extension in ("ttl", "html", "jsonld", "nt", "rdf"):
            first = client.get(f"{path}.{extension}")
            again = client.get(f"{path}.{extension}")
            fresh = uncached.get(f"{path}.{extension}")
            assert first.status_code == again.status_code == fresh.status_code == 200
            assert first.data == again.data == fresh.data, path
            assert again.headers["ETag"] == fresh.headers["ETag"]
    folder = cache_folder(built.path.parent.parent, built.id)
    with sqlite3.connect(folder / FILE) as connection:
        keys = [k for (k,) in connection.execute("SELECT key FROM documents")]
    # each document, and the whole response in front (other tests of the session may have
    # kept more pages of the same build)
    assert all(k.startswith(built.id + "\x00") for k in keys)
    assert len(keys) >= 2 * 5 * len(paths)


def test_a_missing_resource_is_still_404_and_not_kept(client):
    assert client.get("/doc/person/nobody.ttl").status_code == 404
    assert client.get("/doc/person/nobody.ttl").status_code == 404


def test_cached_results_equal_fresh_ones(client, uncached):
    for query, accept in (
        (QUERY, "application/sparql-results+json"),
        (QUERY, "application/sparql-results+xml"),
        (QUERY, "text/csv"),
        (CONSTRUCT, "text/turtle"),
        (CONSTRUCT, "application/n-triples"),
    ):
        headers = {**SPARQL, "Accept": accept}
        first = client.post("/sparql", data=query, headers=headers)
        again = client.post("/sparql", data=query, headers=headers)
        fresh = uncached.post("/sparql", data=query, headers=headers)
        assert first.status_code == again.status_code == fresh.status_code == 200
        assert first.data == again.data == fresh.data
        assert again.mimetype == fresh.mimetype


def test_a_refused_query_is_refused_again(client):
    query = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
    for _ in range(2):
        assert client.post("/sparql", data=query, headers=SPARQL).status_code == 400


# --- a build switch under load -----------------------------------------------------------------


@pytest.mark.slow
def test_a_build_switch_never_serves_the_old_build_under_the_new_etag(tmp_path):
    """Clients ask for a person's document (and an article that shows her name) while a
    new build renames her: every answer's ETag names the build its body is from."""
    data = copy_data(tmp_path / "data")
    out = tmp_path / "dist"
    first = build(Settings(data=data, out=out))
    server = start_server(out, LOD_QUERY_CONCURRENCY=2)
    paths = [
        "/doc/person/cecilie-kern.ttl",
        "/doc/person/cecilie-kern.html",
        "/doc/article/commission-on-social-development-examines-role-of-digital-technologies.ttl",
    ]
    seen: list[tuple[str, str, bytes]] = []
    answers: list[list[bytes]] = []  # each client's query answers, in order
    stop = threading.Event()
    failures: list[str] = []
    name_query = (
        "SELECT ?name WHERE { ?person <https://schema.org/name> ?name "
        'FILTER STRSTARTS(?name, "Cecilie") }'
    )

    def hammer():
        mine: list[bytes] = []
        answers.append(mine)
        while not stop.is_set():
            for path in paths:
                response = server.get(path)
                if response.status_code != 200:
                    failures.append(f"{path}: {response.status_code}")
                    continue
                seen.append((path, response.headers["ETag"], response.content))
            response = server.request("POST", "/sparql", data=name_query, headers=SPARQL)
            if response.status_code == 200:
                mine.append(response.content)
            elif response.status_code != 429:  # more queries at once than allowed: refused
                failures.append(f"query: {response.status_code}")

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        person = data / "people" / "cecilie-kern.yaml"
        person.write_text(
            person.read_text("utf-8").replace("name: Cecilie Kern", "name: Cecilie Kern-Renamed"),
            "utf-8",
        )
        second = build(Settings(data=data, out=out))
        deadline = threading.Event()
        deadline.wait(2)  # the clients go on against the new build
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        stop_server(server)
    assert not failures, failures[:5]
    by_build = {first.id: b"Cecilie Kern", second.id: b"Cecilie Kern-Renamed"}
    builds_seen = set()
    for path, etag, body in seen:
        build_id = next(b for b in by_build if etag.strip('"').startswith(b))
        builds_seen.add(build_id)
        renamed = b"Kern-Renamed" in body
        assert renamed == (build_id == second.id), (path, etag)
    assert builds_seen == {first.id, second.id}
    # a query's kept answer is the served build's: once a client has the new name, it
    # never again gets the old one (the second build only adds to what the first served)
    for mine in answers:
        renamed = [b"Kern-Renamed" in body for body in mine]
        assert renamed == sorted(renamed), renamed
    assert any(b"Kern-Renamed" in body for mine in answers for body in mine)


# --- whole responses in front of the app (ResponseFront) ---------------------------------------


def test_kept_responses_have_the_apps_headers(client, uncached, built):
    path = resource_paths(built)[0] + ".ttl"
    client.get(path)
    kept = client.get(path)
    fresh = uncached.get(path)
    assert kept.data == fresh.data
    drop = {"Date"}
    assert {k: v for k, v in kept.headers if k not in drop} == {
        k: v for k, v in fresh.headers if k not in drop
    }
    etag = kept.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path + "?offset=0").data == fresh.data


class FakePublished:
    def __init__(self, build_id):
        self.build_id = build_id

    def current(self):
        return self.build_id


def fake_app(etags: list[str], calls: list):
    """An app that answers from the build its ETag names (and says so, as lod's does)."""

    def app(environ, start_response):
        calls.append(environ["PATH_INFO"])
        environ[ANSWERED_FROM] = etags[0].strip('"').split("-")[0]
        start_response("200 OK", [("ETag", etags[0]), ("Content-Type", "text/turtle")])
        return [b"body of ", etags[0].encode()]

    return app


def test_a_response_is_kept_only_under_the_build_it_was_answered_from(tmp_path):
    caches = {b: BuildCache(tmp_path / b / FILE, b) for b in ("b1", "b2")}
    etags, calls = ['"b2-ttl-0"'], []
    published = FakePublished("b1")
    front = ResponseFront(fake_app(etags, calls), published, caches.get)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/doc/person/x.ttl"}

    def get():
        return b"".join(front(dict(environ), lambda status, headers, exc=None: None))

    # the app answered from b2 while the front looked at b1 (a switch between the two)
    assert get() == b'body of "b2-ttl-0"'
    assert caches["b1"].response(ResponseFront._key(environ)) is None
    etags[0] = '"b1-ttl-0"'
    assert get() == b'body of "b1-ttl-0"'
    assert get() == b'body of "b1-ttl-0"'
    assert len(calls) == 2  # the third came from b1's cache
    published.build_id = "b2"  # the switch: b2's cache is empty, the app answers
    etags[0] = '"b2-ttl-0"'
    assert get() == b'body of "b2-ttl-0"'
    assert len(calls) == 3


def test_the_front_passes_what_it_cannot_answer_to_the_app(tmp_path):
    calls: list = []
    front = ResponseFront(
        fake_app(['"b1-x"'], calls),
        FakePublished("b1"),
        {"b1": BuildCache(tmp_path / FILE, "b1")}.get,
    )
    query = b"SELECT * WHERE { ?s ?p ?o }"
    for environ in (
        {"REQUEST_METHOD": "POST", "PATH_INFO": "/doc/person/x.ttl"},
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/doc/person/x"},  # negotiated
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/doc/person/x.ttl", "QUERY_STRING": "offset=1"},
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/doc/person/x.ttl", "HTTP_RANGE": "bytes=0-1"},
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/sparql"},  # the service description
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/search", "QUERY_STRING": "q=x"},
        {"REQUEST_METHOD": "HEAD", "PATH_INFO": "/sparql", "QUERY_STRING": "query=x"},
        *(
            {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": "/sparql",
                "CONTENT_TYPE": content_type,
                "CONTENT_LENGTH": length,
                "wsgi.input": io.BytesIO(query),
            }
            for content_type, length in (
                ("application/sparql-query", ""),  # chunked: no length
                ("application/sparql-query", str(QUERY_BODY + 1)),
                ("application/json", str(len(query))),
            )
        ),
    ):
        for _ in range(2):
            front(dict(environ), lambda status, headers, exc=None: None)
    assert len(calls) == 20


def test_a_query_posted_to_the_front_reaches_the_app_whole(tmp_path):
    """The front reads a POSTed query's body to name its answer; the app reads it too."""
    read: list[bytes] = []

    def app(environ, start_response):
        read.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [b"no"]

    front = ResponseFront(app, FakePublished("b1"), {"b1": BuildCache(tmp_path / FILE, "b1")}.get)
    query = "SELECT * WHERE { ?s ?p ?o } # é".encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/sparql",
        "CONTENT_TYPE": "application/sparql-query; charset=utf-8",
        "CONTENT_LENGTH": str(len(query)),
    }
    for _ in range(2):
        front({**environ, "wsgi.input": io.BytesIO(query)}, lambda s, h, e=None: None)
    assert read == [query, query]  # a 400 is not kept: the app answers each time


@pytest.mark.parametrize(
    "ask",
    [
        lambda c, q, h: c.post("/sparql", data=q, headers={**SPARQL, **h}),
        lambda c, q, h: c.post("/sparql", data={"query": q}, headers=h),
        lambda c, q, h: c.get("/sparql", query_string={"query": q}, headers=h),
        lambda c, q, h: c.get("/sparql", query_string={"query": q, "format": "csv"}, headers=h),
    ],
    ids=["post", "form", "get", "get-format"],
)
def test_a_query_answered_again_skips_the_app_and_is_its_answer(built, uncached, ask):
    """The second time, the answer comes from the front (the app is not called), with the
    app's headers and bytes; another Accept is another answer."""
    from lod.web import create_app

    app = create_app(Settings(out=built.path.parent.parent, query_timeout=5))
    front = app.wsgi_app
    calls: list[str] = []
    inner = front.app

    def counting(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    front.app = counting
    client = app.test_client()
    try:
        query = f"{QUERY}\n# {time.time_ns()}"  # new to the build's cache
        accept = {"Accept": "application/sparql-results+xml"}
        first, again = ask(client, query, accept), ask(client, query, accept)
        fresh = ask(uncached, query, accept)
        assert first.status_code == again.status_code == fresh.status_code == 200
        assert first.data == again.data == fresh.data
        assert len(calls) == 1
        drop = {"Date"}
        assert {k: v for k, v in again.headers if k not in drop} == {
            k: v for k, v in fresh.headers if k not in drop
        }
        other = ask(client, query, {"Accept": "text/csv"})
        assert other.status_code == 200 and len(calls) == 2
    finally:
        app.extensions["lod.queries"].close()


def test_kept_answers_are_held_to_the_bounds_of_results(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1", result_entries=2, result_entry_kb=1)
    for n in range(3):
        cache.keep_response(("answer", str(n)), [("Content-Type", "text/csv")], b"x")
    cache.keep_response(("answer", "big"), [], b"x" * 2048)
    assert cache.response(("answer", "0")) is None  # the oldest dropped
    assert cache.response(("answer", "2")) == ([("Content-Type", "text/csv")], b"x")
    assert cache.response(("answer", "big")) is None  # over the entry bound: not kept
    cache.keep_response(("response", "/doc/a.ttl"), [], b"y" * 2048)  # documents: not those
    assert cache.response(("response", "/doc/a.ttl")) == ([], b"y" * 2048)


def test_settings_turn_the_cache_off_with_zero_and_refuse_a_negative_size():
    from lod.errors import ConfigError

    settings = Settings.from_env({"LOD_CACHE_MB": "0", "LOD_QUERY_MEMORY_STORE_MB": "0"})
    assert settings.cache_mb == 0 and settings.query_memory_store_mb == 0
    settings = Settings.from_env({"LOD_RESULT_CACHE_ENTRIES": "5", "LOD_RESULT_CACHE_MB": "2"})
    assert settings.result_cache_entries == 5 and settings.result_cache_mb == 2
    for variable, value in (
        ("LOD_CACHE_MB", "-1"),
        ("LOD_RESULT_CACHE_ENTRIES", "0"),
        ("LOD_QUERY_TIMEOUT", "0"),
        ("LOD_RESULT_CACHE_ENTRY_KB", "lots"),
    ):
        with pytest.raises(ConfigError, match=variable):
            Settings.from_env({variable: value})
