"""The per-build cache of whole answers (lod.serve.cache) and the front that uses it
(lod.web.front): what it gives is byte for byte what is computed afresh, never another
build's, never a damaged entry, each answer kept once; a file it cannot use means no cache,
never an error."""

from __future__ import annotations

import io
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from lod import Settings, build
from lod.errors import QueryRefused, QueryTimeout, StoreUnavailable
from lod.formats import Format, ResultFormat
from lod.serve import guard
from lod.serve.cache import (
    DOCUMENT,
    FILE,
    QUERY,
    Bounds,
    BuildCache,
    Key,
    MiB,
    cache_folder,
    document_key,
    open_cache,
    query_key,
)
from lod.serve.guard import read
from lod.vocab import KINDS
from lod.web.current import ANSWERED_FROM
from lod.web.front import KEEP, QUERY_BODY, Front

from .conftest import copy_data, start_server, stop_server

QUERY_TEXT = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 20"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 20"
POSTED = {"Content-Type": "application/sparql-query"}
TURTLE = [("Content-Type", "text/turtle")]


def doc(n=0) -> Key:
    return Key(DOCUMENT, f"http://x/id/person/{n}", "text/turtle")


def asked(n=0) -> Key:
    return Key(QUERY, f"digest{n}", "text/csv")


def rows(path, kind=None) -> list[tuple]:
    """(key, size) of each entry, oldest first."""
    where = "" if kind is None else f" WHERE kind = '{kind}'"
    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT key, size FROM answers{where} ORDER BY rowid").fetchall()


# --- the cache file ----------------------------------------------------------------------------


def test_an_answer_is_kept_byte_for_byte_with_its_headers(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1")
    assert cache.get(doc()) is None
    cache.keep(doc(), TURTLE, b"<a> <b> <c> .\n")
    assert cache.get(doc()) == (TURTLE, b"<a> <b> <c> .\n")
    # another process (a new connection) reads what this one wrote
    other = BuildCache(tmp_path / FILE, "b1")
    assert other.get(doc()) == (TURTLE, b"<a> <b> <c> .\n")
    assert other.get(doc(1)) is None


def test_a_damaged_entry_is_a_miss_and_written_over(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1")
    cache.keep(doc(), TURTLE, b"the true body")
    with sqlite3.connect(tmp_path / FILE) as connection:
        body = connection.execute("SELECT body FROM answers").fetchone()[0]
        connection.execute("UPDATE answers SET body = ?", (body.replace(b"true", b"trUe"),))
    fresh = BuildCache(tmp_path / FILE, "b1")
    assert fresh.get(doc()) is None
    fresh.keep(doc(), TURTLE, b"the true body")  # the entry is mended for the next reader
    assert BuildCache(tmp_path / FILE, "b1").get(doc()) == (TURTLE, b"the true body")


def test_a_damaged_entry_is_written_over_even_when_documents_are_full(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1", Bounds(max_mb=3000 / MiB))
    cache.keep(doc(0), TURTLE, b"x" * 1000)
    cache.keep(doc(1), TURTLE, b"y" * 2000)  # does not fit: documents are full
    assert cache.full and cache.get(doc(1)) is None
    with sqlite3.connect(tmp_path / FILE) as connection:
        connection.execute("UPDATE answers SET crc = crc + 1")
    assert cache.get(doc(0)) is None
    cache.keep(doc(0), TURTLE, b"x" * 1000)
    assert cache.get(doc(0)) == (TURTLE, b"x" * 1000)


def test_a_damaged_file_is_ignored(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1")
    cache.keep(doc(), TURTLE, b"kept")
    cache.close()
    for name in os.listdir(tmp_path):
        (tmp_path / name).unlink()
    (tmp_path / FILE).write_bytes(b"this is no SQLite database" * 200)
    damaged = BuildCache(tmp_path / FILE, "b1")
    assert not damaged.enabled
    assert damaged.get(doc()) is None
    damaged.keep(doc(), TURTLE, b"fresh")  # no error, nothing kept
    assert damaged.get(doc()) is None


def test_a_damaged_page_is_ignored(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1")
    for n in range(200):
        cache.keep(doc(n), TURTLE, b"x" * 3000 + str(n).encode())
    cache.close()
    with sqlite3.connect(tmp_path / FILE) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = (tmp_path / FILE).stat().st_size
    with open(tmp_path / FILE, "r+b") as file:  # the b-tree pages past the header, wiped
        file.seek(4096)
        file.write(b"\xff" * (size - 4096))
    damaged = BuildCache(tmp_path / FILE, "b1")
    for n in range(200):
        assert damaged.get(doc(n)) in (None, (TURTLE, b"x" * 3000 + str(n).encode()))
        damaged.keep(doc(n), TURTLE, b"again")  # no error


def test_a_file_of_another_build_is_not_used(tmp_path):
    BuildCache(tmp_path / FILE, "b1").keep(doc(), TURTLE, b"build one")
    other = BuildCache(tmp_path / FILE, "b2")
    assert not other.enabled
    assert other.get(doc()) is None


def test_a_file_of_an_older_version_starts_again(tmp_path):
    """The file of the same build written before answers were kept once (version 1: tables
    of documents and results) is emptied and used, not ignored until the next build."""
    with sqlite3.connect(tmp_path / FILE) as connection:
        connection.executescript(
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('build', 'b1'), ('version', '1');"
            "CREATE TABLE documents (key TEXT PRIMARY KEY, body BLOB, size INT, crc INT);"
            "CREATE TABLE totals (name TEXT PRIMARY KEY, count INT, bytes INT);"
        )
    cache = BuildCache(tmp_path / FILE, "b1")
    assert cache.enabled
    cache.keep(doc(), TURTLE, b"kept")
    assert cache.get(doc()) == (TURTLE, b"kept")
    with sqlite3.connect(tmp_path / FILE) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    assert "documents" not in tables
    with sqlite3.connect(tmp_path / FILE) as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE name = 'version'")
    assert not BuildCache(tmp_path / FILE, "b1").enabled  # a newer version's: not touched


def test_a_folder_that_cannot_be_written_means_no_cache(tmp_path):
    (tmp_path / "cache").write_text("a file where the folder should be")
    cache = open_cache(tmp_path, "b1")
    assert not cache.enabled
    cache.keep(doc(), TURTLE, b"served")
    assert cache.get(doc()) is None


def test_zero_megabytes_means_no_cache(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1", Bounds(max_mb=0))
    cache.keep(doc(), TURTLE, b"body")
    assert cache.get(doc()) is None
    assert not (tmp_path / FILE).exists()


def test_query_answers_are_kept_and_bounded(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1", Bounds(query_entries=3, query_entry_kb=1))
    for n in range(5):
        cache.keep(asked(n), [], f"rows {n}".encode())
    assert [cache.get(asked(n)) for n in range(5)] == [
        None,  # the oldest were dropped to keep three
        None,
        ([], b"rows 2"),
        ([], b"rows 3"),
        ([], b"rows 4"),
    ]
    cache.keep(asked("big"), [], b"x" * 2048)  # over query_entry_kb: answered, not kept
    assert cache.get(asked("big")) is None
    assert len(rows(tmp_path / FILE)) == 3


def test_query_answers_never_push_a_document_out(tmp_path):
    """Documents are a bounded set, queries are not: however many queries are asked, the
    documents kept stay, and a query answer that does not fit beside them drops nothing."""
    path = tmp_path / FILE
    cache = BuildCache(path, "b1", Bounds(max_mb=5000 / MiB, query_mb=4000 / MiB))
    for n in range(3):
        cache.keep(doc(n), TURTLE, b"d" * 1000)
    for n in range(20):
        cache.keep(asked(n), [], b"q" * 500)
    assert [cache.get(doc(n)) for n in range(3)] == [(TURTLE, b"d" * 1000)] * 3
    queries = rows(path, QUERY)
    assert 0 < len(queries) and sum(size for _, size in rows(path)) <= 5000
    assert cache.get(asked(19)) == ([], b"q" * 500)  # the newest kept, the oldest dropped
    assert cache.get(asked(0)) is None
    cache.keep(asked("wide"), [], b"w" * 2500)  # would fit only were documents dropped
    assert cache.get(asked("wide")) is None
    assert rows(path, QUERY) == queries  # and no query answer was dropped for it


def test_documents_are_kept_up_to_the_bound_of_the_file(tmp_path):
    cache = BuildCache(tmp_path / FILE, "b1", Bounds(max_mb=3000 / MiB))
    for n in range(5):
        cache.keep(doc(n), TURTLE, b"d" * 1000)
    assert cache.full
    kept = [n for n in range(5) if cache.get(doc(n)) is not None]
    assert kept == [0, 1]  # with their headers, 1000 bytes and more each
    assert sum(size for _, size in rows(tmp_path / FILE)) <= 3000


def test_the_running_totals_are_what_the_entries_add_up_to(tmp_path):
    """Writes count and sum as they go (no scan of every body per write): through new
    entries, replaced ones and the oldest dropped for either bound, the totals are what the
    rows add up to; a file whose totals are lost gets them from its rows."""
    path = tmp_path / FILE

    def totals() -> tuple:
        with sqlite3.connect(path) as connection:
            kept = dict(
                (kind, (count, bytes_))
                for kind, count, bytes_ in connection.execute("SELECT * FROM totals")
            )
            rows = {
                kind: (count, int(size))
                for kind, count, size in connection.execute(
                    "SELECT kind, count(*), total(size) FROM answers GROUP BY kind"
                )
            }
        return {k: v for k, v in kept.items() if v[0]}, rows

    cache = BuildCache(path, "b1", Bounds(query_entries=6, query_mb=3000 / MiB))
    for n in range(20):
        cache.keep(asked(n % 9), [], b"x" * (50 * n))  # replaced from n = 9
        cache.keep(doc(n % 4), TURTLE, b"y" * n)
        kept, rows = totals()
        assert kept == rows and rows[QUERY][0] <= 6 and rows[QUERY][1] <= 3000, n
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE totals")
    cache.close()
    BuildCache(path, "b1")
    kept, rows = totals()
    assert kept == rows and rows[QUERY][0] > 0 and rows[DOCUMENT][0] == 4


def test_one_key_scheme_tells_answers_apart():
    """Queries by text and dataset, formats, pages, mount points and kinds; the same query
    as the engine reads it (line ends, escapes) is the same answer."""
    query = read(QUERY_TEXT)
    keys = {
        query_key(query, ResultFormat.JSON, ""),
        query_key(read(QUERY_TEXT + " "), ResultFormat.JSON, ""),
        query_key(query, ResultFormat.XML, ""),
        query_key(read(QUERY_TEXT, ("http://g/",)), ResultFormat.JSON, ""),
        query_key(read(QUERY_TEXT, (), ()), ResultFormat.JSON, ""),
        query_key(read(QUERY_TEXT, (), ("http://g/",)), ResultFormat.JSON, ""),
        query_key(query, Format.HTML, ""),
        query_key(query, Format.HTML, "/lod"),
        document_key("http://x/id/person/a", Format.TURTLE, 0, ""),
        document_key("http://x/id/person/a", Format.TURTLE, 100, ""),
        document_key("http://x/id/person/a", Format.HTML, 0, ""),
        document_key("http://x/id/person/a", Format.HTML, 0, "/lod"),
    }
    assert len(keys) == 12
    same = query_key(read("ASK {\r\n ?s ?p \\u003Fo }"), ResultFormat.JSON, "")
    assert same == query_key(read("ASK {\n ?s ?p ?o }"), ResultFormat.JSON, "")


def test_old_builds_cache_folders_are_removed(tmp_path):
    (tmp_path / "builds" / "b2").mkdir(parents=True)
    (tmp_path / "builds" / "b3").mkdir(parents=True)
    for name in ("b1", "b2"):
        open_cache(tmp_path, name).keep(doc(), TURTLE, b"x")
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


def entries(built, kind=None) -> list[str]:
    """The keys of the entries the session's build's cache holds."""
    folder = cache_folder(built.path.parent.parent, built.id)
    return [key for key, _ in rows(folder / FILE, kind)]


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
    keys = entries(built, DOCUMENT)
    # one entry each (other tests of the session may have kept more pages of the same build)
    assert all(k.startswith(built.id + "\x00") for k in keys)
    assert len(keys) >= 5 * len(paths)


def test_a_missing_resource_is_still_404_and_not_kept(client, built):
    assert client.get("/doc/person/nobody.ttl").status_code == 404
    assert client.get("/doc/person/nobody.ttl").status_code == 404
    assert not [k for k in entries(built) if "/person/nobody" in k]


def test_cached_results_equal_fresh_ones(client, uncached):
    for query, accept in (
        (QUERY_TEXT, "application/sparql-results+json"),
        (QUERY_TEXT, "application/sparql-results+xml"),
        (QUERY_TEXT, "text/csv"),
        (CONSTRUCT, "text/turtle"),
        (CONSTRUCT, "application/n-triples"),
    ):
        headers = {**POSTED, "Accept": accept}
        first = client.post("/sparql", data=query, headers=headers)
        again = client.post("/sparql", data=query, headers=headers)
        fresh = uncached.post("/sparql", data=query, headers=headers)
        assert first.status_code == again.status_code == fresh.status_code == 200
        assert first.data == again.data == fresh.data
        assert again.mimetype == fresh.mimetype


def test_each_answer_is_kept_once(app, built):
    """A document asked at its own URL, negotiated, and with `?offset=0` is one entry; a
    query asked by GET, POST and form in one format is one entry, and its page another."""
    root = f"/once-{time.time_ns()}"  # a mount point of its own: entries new to the cache
    client = app.test_client()
    path = resource_paths(built)[0]
    before = set(entries(built))
    for url, accept in (
        (f"{path}.ttl", "*/*"),
        (path, "text/turtle"),
        (f"{path}.ttl?offset=0", ""),
    ):
        response = client.get(
            url, headers={"Accept": accept}, environ_overrides={"SCRIPT_NAME": root}
        )
        assert response.status_code == 200
    query = f"{QUERY_TEXT}\n# {time.time_ns()}"
    csv = {"Accept": "text/csv"}
    for response in (
        client.get("/sparql", query_string={"query": query}, headers=csv),
        client.post("/sparql", data=query, headers={**POSTED, **csv}),
        client.post("/sparql", data={"query": query}, headers=csv),
        client.get("/sparql", query_string={"query": query, "format": "html"}),
        client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/html"}),
    ):
        assert response.status_code == 200
    new = set(entries(built)) - before
    documents = [k for k in new if f"\x00{DOCUMENT}\x00" in k]
    queries = [k for k in new if f"\x00{QUERY}\x00" in k]
    assert len(documents) == 1 and documents[0].endswith(f"\x00text/turtle\x000\x00{root}")
    assert sorted(k.split("\x00")[3] for k in queries) == ["text/csv", "text/html"]


def test_a_negotiated_document_and_its_own_url_share_one_entry(app, uncached, built):
    """Whichever is asked first, each answer has its own headers: Vary and Content-Location
    for the negotiated one only."""
    for first, second in ((".jsonld", ""), ("", ".jsonld")):
        root = f"/share-{time.time_ns()}"
        client = app.test_client()
        path = resource_paths(built)[1]
        accept = {"Accept": "application/ld+json"}
        answers = {}
        for suffix in (first, second, first, second):
            answers[suffix] = client.get(
                path + suffix, headers=accept, environ_overrides={"SCRIPT_NAME": root}
            )
        fresh = {
            suffix: uncached.get(
                path + suffix, headers=accept, environ_overrides={"SCRIPT_NAME": root}
            )
            for suffix in (first, second)
        }
        for suffix, answer in answers.items():
            assert answer.status_code == 200 and answer.data == fresh[suffix].data
            assert dict(answer.headers) == dict(fresh[suffix].headers), suffix
        assert "Content-Location" in answers[""].headers
        assert "Vary" not in answers[".jsonld"].headers
        assert len([k for k in entries(built) if k.endswith(root)]) == 1


def test_a_head_request_keeps_nothing(app, uncached, built):
    """A HEAD is answered with no body: keeping it would give the next GET an empty one."""
    root = f"/head-{time.time_ns()}"
    client = app.test_client()
    path = resource_paths(built)[0]
    for url in (f"{path}.ttl", path):
        assert client.head(url, environ_overrides={"SCRIPT_NAME": root}).status_code == 200
        answer = client.get(url, environ_overrides={"SCRIPT_NAME": root})
        assert answer.data == uncached.get(url, environ_overrides={"SCRIPT_NAME": root}).data != b""


def test_a_refused_query_is_refused_again(client):
    query = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
    for _ in range(2):
        assert client.post("/sparql", data=query, headers=POSTED).status_code == 400


@pytest.mark.parametrize(
    "error", [QueryRefused("no"), QueryTimeout("stopped"), StoreUnavailable("gone")]
)
def test_refused_failed_and_stopped_queries_are_not_kept(app, built, monkeypatch, error):
    service = app.extensions["lod.queries"]
    run = service.run

    def fails(*args, **kwargs):
        raise error

    client = app.test_client()
    query = f"ASK {{ ?s ?p ?o }} # {time.time_ns()}"
    before = set(entries(built))
    monkeypatch.setattr(service, "run", fails)
    for _ in range(2):
        assert client.post("/sparql", data=query, headers=POSTED).status_code >= 400
    assert set(entries(built)) == before
    monkeypatch.setattr(service, "run", run)
    assert client.post("/sparql", data=query, headers=POSTED).status_code == 200
    assert len(set(entries(built)) - before) == 1


def test_a_query_is_read_checked_and_hashed_once(app, monkeypatch):
    """Through the front and the route, a query's text is normalised and prechecked once,
    its digest made once, and its body read from the client once."""
    from lod.web import sparql

    calls = {"request": 0, "normalise": 0, "precheck": 0, "digest": 0}

    def counted(name, function):
        def counting(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return counting

    monkeypatch.setattr(sparql, "_protocol_request", counted("request", sparql._protocol_request))
    monkeypatch.setattr(guard, "_normalise", counted("normalise", guard._normalise))
    monkeypatch.setattr(guard, "_precheck", counted("precheck", guard._precheck))
    digest = counted("digest", guard.hashlib.blake2b)
    monkeypatch.setattr(guard, "hashlib", SimpleNamespace(blake2b=digest))
    client = app.test_client()
    for ask in (
        lambda q: client.post("/sparql", data=q, headers=POSTED),
        lambda q: client.post("/sparql", data={"query": q}),
        lambda q: client.get("/sparql", query_string={"query": q}),
        lambda q: client.get("/sparql", query_string={"query": q, "format": "html"}),
        lambda q: client.post("/sparql", data=q + "#" * QUERY_BODY, headers=POSTED),  # long
    ):
        for name in calls:
            calls[name] = 0
        query = f"ASK {{ ?s ?p ?o }} # {time.time_ns()}\n"
        assert ask(query).status_code == 200
        assert calls == {"request": 1, "normalise": 1, "precheck": 1, "digest": 1}


def test_a_query_body_over_lod_max_body_is_refused(built):
    """The front reads no body the app would refuse: past LOD_MAX_BODY, 413 as ever."""
    from lod.web import create_app

    app = create_app(Settings(out=built.path.parent.parent, query_timeout=2, max_body=100))
    try:
        query = f"ASK {{ ?s ?p ?o }} # {'x' * 200}"
        assert app.test_client().post("/sparql", data=query, headers=POSTED).status_code == 413
    finally:
        app.extensions["lod.queries"].close()


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
            response = server.request("POST", "/sparql", data=name_query, headers=POSTED)
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


# --- the front: whole answers before the app ----------------------------------------------


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


@dataclass
class FakeServed:
    build_id: str
    base: str = "http://x/"


class FakePublished:
    def __init__(self, build_id):
        self.served = FakeServed(build_id)

    def current(self):
        return self.served


def name_path(http, served) -> Key | None:
    """A namer for the fake app: every GET is named by its path."""
    return Key(DOCUMENT, http.path, "text/turtle") if http.method == "GET" else None


def fake_app(etags: list[str], calls: list, status: str = "200 OK"):
    """An app that answers from the build its ETag names (and says so, as lod's does), and
    marks each answer to keep under its path."""

    def app(environ, start_response):
        calls.append(environ["PATH_INFO"])
        environ[ANSWERED_FROM] = etags[0].strip('"').split("-")[0]
        environ[KEEP] = (Key(DOCUMENT, environ["PATH_INFO"], "text/turtle"), frozenset())
        start_response(status, [("ETag", etags[0]), ("Content-Type", "text/turtle")])
        return [b"body of ", etags[0].encode()]

    return app


def fake_front(app, published, caches: dict) -> Front:
    return Front(app, published, lambda served: caches.get(served.build_id), {"/": name_path})


def test_a_response_is_kept_only_under_the_build_it_was_answered_from(tmp_path):
    caches = {b: BuildCache(tmp_path / b / FILE, b) for b in ("b1", "b2")}
    etags, calls = ['"b2-ttl-0"'], []
    published = FakePublished("b1")
    front = fake_front(fake_app(etags, calls), published, caches)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/doc/person/x.ttl"}

    def get():
        return b"".join(front(dict(environ), lambda status, headers, exc=None: None))

    # the app answered from b2 while the front looked at b1 (a switch between the two)
    assert get() == b'body of "b2-ttl-0"'
    assert caches["b1"].get(Key(DOCUMENT, "/doc/person/x.ttl", "text/turtle")) is None
    etags[0] = '"b1-ttl-0"'
    assert get() == b'body of "b1-ttl-0"'
    assert get() == b'body of "b1-ttl-0"'
    assert len(calls) == 2  # the third came from b1's cache
    published.served = FakeServed("b2")  # the switch: b2's cache is empty, the app answers
    etags[0] = '"b2-ttl-0"'
    assert get() == b'body of "b2-ttl-0"'
    assert len(calls) == 3


@pytest.mark.parametrize("status", ["404 NOT FOUND", "400 BAD REQUEST", "503 SERVICE UNAVAILABLE"])
def test_the_front_keeps_no_answer_but_a_200(tmp_path, status):
    calls: list = []
    caches = {"b1": BuildCache(tmp_path / FILE, "b1")}
    front = fake_front(fake_app(['"b1-x"'], calls, status), FakePublished("b1"), caches)
    for _ in range(2):
        front({"REQUEST_METHOD": "GET", "PATH_INFO": "/x"}, lambda s, h, e=None: None)
    assert len(calls) == 2 and not rows(tmp_path / FILE)


def test_the_front_passes_what_it_cannot_answer_to_the_app(built, tmp_path):
    """With lod's own namers: what they cannot name reaches the app every time."""
    from lod.web import resources, sparql
    from lod.web.front import DOCUMENTS, SPARQL

    calls: list = []
    cache = BuildCache(tmp_path / FILE, "b1")
    namers = {DOCUMENTS: resources.named, SPARQL: sparql.named}
    front = Front(fake_app(['"b1-x"'], calls), FakePublished("b1"), lambda served: cache, namers)
    query = b"SELECT * WHERE { ?s ?p ?o }"
    for environ in (
        {"REQUEST_METHOD": "POST", "PATH_INFO": "/doc/person/x.ttl"},
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/doc/person/x"},  # negotiated
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/doc/person/x.ttl", "QUERY_STRING": "offset=1"},
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/doc/person/x.ttl", "HTTP_RANGE": "bytes=0-1"},
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/doc/person/x.png"},
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/doc/nokind/x.ttl"},
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/sparql"},  # the service description
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/sparql", "QUERY_STRING": "query=LOAD+%3Cx%3E"},
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
    assert len(calls) == 26


def test_a_query_posted_to_the_front_reaches_the_app_whole(tmp_path):
    """The front reads a POSTed query's body to name its answer; the app reads it too."""
    from lod.web import sparql
    from lod.web.front import SPARQL

    read_bodies: list[bytes] = []

    def app(environ, start_response):
        read_bodies.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [b"no"]

    cache = BuildCache(tmp_path / FILE, "b1")
    front = Front(app, FakePublished("b1"), lambda served: cache, {SPARQL: sparql.named})
    query = "SELECT * WHERE { ?s ?p ?o } # é".encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/sparql",
        "CONTENT_TYPE": "application/sparql-query; charset=utf-8",
        "CONTENT_LENGTH": str(len(query)),
    }
    for _ in range(2):
        front({**environ, "wsgi.input": io.BytesIO(query)}, lambda s, h, e=None: None)
    assert read_bodies == [query, query]  # a 400 is not kept: the app answers each time


def get_format(name):
    return lambda c, q, h: c.get("/sparql", query_string={"query": q, "format": name}, headers=h)


@pytest.mark.parametrize(
    ("ask", "by_accept"),
    [
        (lambda c, q, h: c.post("/sparql", data=q, headers={**POSTED, **h}), True),
        (lambda c, q, h: c.post("/sparql", data={"query": q}, headers=h), True),
        (lambda c, q, h: c.get("/sparql", query_string={"query": q}, headers=h), True),
        (get_format("csv"), False),
        (get_format("html"), False),
    ],
    ids=["post", "form", "get", "get-format", "page"],
)
def test_a_query_answered_again_skips_the_app_and_is_its_answer(built, uncached, ask, by_accept):
    """The second time, the answer comes from the front (the app is not called), with the
    app's headers and bytes; another Accept is another answer when the Accept chooses the
    format (`format=` chooses it otherwise: the same answer)."""
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
        query = f"{QUERY_TEXT}\n# {time.time_ns()}"  # new to the build's cache
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
        assert other.status_code == 200
        assert len(calls) == (2 if by_accept else 1)
    finally:
        app.extensions["lod.queries"].close()


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
