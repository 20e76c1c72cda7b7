"""The remote engine (lod.remote) against a real Virtuoso: both engines side by side;
what a shared store must hide and refuse; publishing while the app serves, a failed
publish, a roll-back; the store going down and coming back. Everything is bounded in time.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from rdflib.query import Result

from lod import Settings, build, remote
from lod.config import Settings as SettingsType
from lod.errors import (
    ConfigError,
    PublishError,
    QueryRefused,
    QuerySyntaxError,
    QueryTimeout,
    StoreUnavailable,
)
from lod.formats import Format
from lod.layout import Build, open_build
from lod.publish import remote as upload
from lod.remote import SparqlClient, iri_ref
from lod.serve.guard import check
from lod.serve.remote import RemoteStore
from lod.web import create_app
from lod.web.sparql import EXAMPLES

from .conftest import ROOT, copy_data, start_server, stop_server
from .test_sparql import error_of, get, post_direct, results

ARTICLE = "commission-on-social-development-examines-role-of-digital-technologies"
HEADLINE = "Commission on Social Development Examines the Role of Digital Technologies"


# -- both engines side by side -------------------------------------------------------------


def resource_paths(built) -> list[str]:
    lists = json.loads((built.path / "lists.json").read_text("utf-8"))
    base = built.base
    return [e["iri"].replace(base + "id/", "/doc/") for entries in lists.values() for e in entries]


@pytest.mark.parametrize("suffix", ["ttl", "nt", "jsonld", "rdf", "html"])
def test_every_document_is_the_same_on_both_engines(server, virtuoso_server, built, suffix):
    """Byte for byte: the same triples, written by the same serialisers (each document
    holds few enough incoming links that paging order does not matter). HTML lists values
    in the order the engine gives them, so there the embedded JSON-LD and the links are
    compared."""
    paths = resource_paths(built)
    assert len(paths) > 30
    for path in paths:
        one = server.get(f"{path}.{suffix}")
        other = virtuoso_server.get(f"{path}.{suffix}")
        assert one.status_code == other.status_code == 200, path
        assert one.headers.get("ETag") == other.headers.get("ETag")
        if suffix != "html":
            assert one.content == other.content, path
            continue
        for pattern in (r'<script type="application/ld\+json">.*?</script>', r'href="[^"]*"'):
            found = [sorted(re.findall(pattern, r.text, re.S)) for r in (one, other)]
            assert found[0] == found[1], (path, pattern)
            assert found[0]


def test_example_queries_answer_the_same(server, virtuoso_server):
    for title, query in EXAMPLES:
        answers = []
        for live in (server, virtuoso_server):
            response = get(query, accept="application/sparql-results+json").send(live)
            assert response.status_code == 200, (title, response.text[:300])
            answer = Result.parse(io.BytesIO(response.content), format="json")
            answers.append(sorted(tuple(str(v) for v in row) for row in answer))
        assert answers[0] == answers[1], title
        assert answers[0], title


def test_answers_are_written_by_the_app(server, virtuoso_server):
    """Virtuoso's quirks (ASK answered as a one-row table, `typed-literal`, extra keys) do
    not reach clients: the app writes every answer with its own serialisers."""
    for query in ("ASK { ?s ?p ?o }", "ASK { <http://example.org/none> ?p ?o }"):
        for accept in ("application/sparql-results+json", "application/sparql-results+xml"):
            bodies = {
                get(query, accept=accept).send(live).content for live in (server, virtuoso_server)
            }
            assert len(bodies) == 1, bodies
    query = "SELECT ?n WHERE { ?s <http://rdfs.org/ns/void#triples> ?n } ORDER BY ?n"
    bodies = [
        get(query, accept="application/sparql-results+json").send(live).content
        for live in (server, virtuoso_server)
    ]
    assert bodies[0] == bodies[1]
    assert b"typed-literal" not in bodies[1]


# -- what a shared store must hide and refuse ----------------------------------------------


def test_only_the_build_graph_is_visible(virtuoso_server, built):
    """Not the control graph, not another build, not Virtuoso's system graphs (thousands
    of triples), whatever the query or the protocol's dataset names."""
    count = results(get("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }").send(virtuoso_server))
    assert [int(row.n) for row in count] == [built.manifest["triples"]]
    control = f"{built.base}graph/control"
    system = "http://www.openlinksw.com/schemas/virtrdf#"
    for query, params in [
        ("SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", {}),
        (f"SELECT * {{ GRAPH <{control}> {{ ?s ?p ?o }} }}", {}),
        (f"SELECT * {{ GRAPH <{system}> {{ ?s ?p ?o }} }}", {}),
        ("SELECT * { ?s ?p ?o }", {"default_graph_uri": control}),
        ("SELECT * { ?s ?p ?o }", {"default_graph_uri": system}),
        ("SELECT * { ?s ?p ?o }", {"default_graph_uri": f"{built.base}graph/{built.id}"}),
        ("SELECT * { GRAPH ?g { ?s ?p ?o } }", {"named_graph_uri": control}),
        ("SELECT * { GRAPH ?g { ?s ?p ?o } }", {"named_graph_uri": system}),
    ]:
        response = get(query, **params).send(virtuoso_server)
        assert response.status_code == 200, response.text[:300]
        assert list(results(response)) == [], (query, params)


ENGINE_EXTENSIONS = [
    ("bif-http-get", 'SELECT (<bif:http_get>("http://127.0.0.1:9/") AS ?x) {}'),
    ("bif-prefix", 'PREFIX bif: <bif:> SELECT (bif:sprintf("%d", 3) AS ?x) {}'),
    ("bif-predeclared", 'SELECT (bif:sprintf("%d", 3) AS ?x) {}'),
    ("sql", 'SELECT (<sql:file_to_string>("/etc/passwd") AS ?x) {}'),
    ("bif-namespace", 'SELECT (<http://www.openlinksw.com/schemas/bif#sprintf>("%d", 3) AS ?x) {}'),
    ("bif-predicate", 'SELECT ?s { ?s <bif:contains> "word" }'),
    ("bif-relative", 'BASE <bif:> SELECT ?s { ?s <contains> "word" }'),
    ("function-in-filter", "SELECT ?s { ?s ?p ?o FILTER(<http://example.org/f>(?o)) }"),
    ("custom-aggregate", "SELECT (<http://example.org/sum>(?o) AS ?n) { ?s ?p ?o }"),
    ("define", "DEFINE input:default-graph-uri <http://example.org/> SELECT * { ?s ?p ?o }"),
    ("option", "SELECT * { ?s ?p ?o OPTION (QUIETCAST) }"),
]


@pytest.mark.parametrize(
    "query", [q for _, q in ENGINE_EXTENSIONS], ids=[i for i, _ in ENGINE_EXTENSIONS]
)
def test_engine_extensions_are_refused(virtuoso_server, query):
    response = post_direct(query).send(virtuoso_server)
    assert response.status_code == 400, response.text[:300]
    assert error_of(response)["title"] in ("Query refused", "Malformed query")


def test_standard_functions_and_casts_reach_the_store(virtuoso_server):
    query = (
        'PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> SELECT (xsd:integer("42") AS ?n) '
        '(STRLEN("abc") AS ?l) (UCASE("a") AS ?u) {}'
    )
    response = post_direct(query).send(virtuoso_server)
    assert response.status_code == 200, response.text[:300]
    [row] = list(results(response))
    assert (int(row.n), int(row.l), str(row.u)) == (42, 3, "A")


@pytest.mark.parametrize(
    "query, refused",
    [
        ('SELECT (<bif:sprintf>("%d", 1) AS ?x) {}', True),
        ("SELECT ?x { BIND(<http://example.org/f>(1) AS ?x) }", True),
        (
            "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> "
            'SELECT (xsd:date("2021-01-01") AS ?x) {}',
            False,
        ),
        ("SELECT (COUNT(*) AS ?n) (SAMPLE(?s) AS ?x) { ?s ?p ?o } ", False),
        ('SELECT ?s { ?s <http://example.org/bif:x> "bif:sprintf" }', False),
    ],
)
def test_standard_only_check(query, refused):
    """The embedded engine is checked as before; a remote one also by `standard_only`."""
    assert check(query) in ("SELECT",)
    if refused:
        with pytest.raises(QueryRefused):
            check(query, standard_only=True)
    else:
        assert check(query, standard_only=True) == "SELECT"


def test_unknown_prefix_is_malformed_for_a_remote_store():
    with pytest.raises(QuerySyntaxError):
        check("SELECT ?s { ?s bif:contains 'x' }", standard_only=True)


@pytest.mark.parametrize("text", ["x> ?p ?o } #", 'a"b', "a b", "a{b}", "a\\u003e", "a\nb"])
def test_no_iri_can_inject_sparql(text):
    with pytest.raises(ValueError):
        iri_ref(f"https://lod.example.org/id/event/{text}")


def test_injection_through_the_url_is_404(virtuoso_server):
    for path in (
        "/id/event/x%3E%20%3Fp%20%3Fo%20%7D%20%23",
        "/doc/event/a%22b.ttl",
        "/doc/event/a%20b",
    ):
        assert virtuoso_server.get(path).status_code == 404, path


# -- settings and credentials --------------------------------------------------------------


def test_credentials_come_from_the_environment_and_stay_out_of_reprs():
    settings = SettingsType.from_env(
        {
            "LOD_SPARQL_ENDPOINT": "http://store.example:8890/sparql",
            "LOD_SPARQL_USER": "loader",
            "LOD_SPARQL_PASSWORD": "s3cret",
        }
    )
    assert settings.sparql_password == "s3cret"
    assert "s3cret" not in repr(settings)
    client = SparqlClient.from_settings(settings)
    assert client.where == "http://store.example:8890"
    assert SparqlClient.from_settings(Settings()) is None


@pytest.mark.parametrize(
    "variable", ["LOD_SPARQL_ENDPOINT", "LOD_SPARQL_UPDATE", "LOD_SPARQL_GRAPH_STORE"]
)
def test_store_urls_must_be_http(variable):
    env = {"LOD_SPARQL_ENDPOINT": "http://store.example/sparql", variable: "file:///etc/passwd"}
    with pytest.raises(ConfigError, match=variable):
        SparqlClient.from_settings(SettingsType.from_env(env))


class _BasicStore(BaseHTTPRequestHandler):
    """A store that wants Basic credentials (as Fuseki and GraphDB do) and answers every
    query with one solution; it counts the requests that came without credentials."""

    anonymous = 0
    ANSWER = (
        b'<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">'
        b'<head><variable name="p"/></head><results><result><binding name="p">'
        b"<uri>http://example.org/p</uri></binding></result></results></sparql>"
    )

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Authorization") != "Basic bG9hZGVyOnMzY3JldA==":  # loader:s3cret
            type(self).anonymous += 1
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="store"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        _answer(self, 200, "application/sparql-results+xml", self.ANSWER)

    def log_message(self, *args):
        pass


def _answer(handler: BaseHTTPRequestHandler, status: int, media_type: str, body: bytes):
    handler.send_response(status)
    handler.send_header("Content-Type", media_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A store answering as `handler` does, on a free port: its endpoint's URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/sparql"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_basic_credentials_are_sent_once_asked_for():
    with _serving(_BasicStore) as url:
        client = SparqlClient(url, user="loader", password="s3cret", timeout=5)
        store = RemoteStore(client, "http://example.org/g")
        assert store.exists("http://example.org/s") is True
        assert store.exists("http://example.org/s") is True
        assert _BasicStore.anonymous == 1  # asked once; then sent up front
        wrong = SparqlClient(url, user="loader", password="wrong", timeout=5)
        with pytest.raises(Exception, match="credentials"):
            RemoteStore(wrong, "http://example.org/g").exists("http://example.org/s")


class _CancellingStore(BaseHTTPRequestHandler):
    """A store that answers every query as Virtuoso does when its own time limit cancels a
    query it cannot give partial results for (seen in CI): a 500 with SQL state HY008."""

    BODY = (
        b"Virtuoso HY008 Error SR203: Async statement killed by SQLCancel.\n\n"
        b"SPARQL query:\nSELECT * WHERE { ?s ?p ?o }"
    )

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _answer(self, 500, "text/plain", self.BODY)

    def log_message(self, *args):
        pass


def test_a_query_the_store_cancelled_at_its_time_limit_is_a_timeout():
    with _serving(_CancellingStore) as url:
        client = SparqlClient(url, timeout=2)
        with pytest.raises(QueryTimeout, match=r"time limit \(2 s\)"):
            client.query(
                "SELECT * WHERE { ?s ?p ?o }",
                accept="text/plain",
                default_graphs=(),
                named_graphs=(),
            )
        with pytest.raises(StoreUnavailable, match="time limit"):  # the app's own lookups
            RemoteStore(client, "http://example.org/g").exists("http://example.org/s")


# -- publishing while the app serves -------------------------------------------------------


@dataclass
class Site:
    """A dataset of its own (its own base IRI) in the session's Virtuoso, served by gunicorn
    from it: builds B1 and B2 differ in the article's headline and in one topic."""

    settings: Settings
    client: SparqlClient
    server: object
    builds: dict[str, Build] = field(default_factory=dict)
    headlines: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.settings.base

    def served(self) -> str:
        graphs = remote.read_pointer(self.client, self.base)
        assert len(graphs) == 1, graphs
        return remote.build_id_of(self.base, graphs[0])

    def wait_for(self, build_id: str, within: float = 10) -> None:
        """Once every worker serves the build: one says so, and the others read the pointer
        again within POINTER_TTL of that (twice, for a read under way as it switched)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.server.get("/healthz", timeout=5).json().get("build") == build_id:
                time.sleep(2 * remote.POINTER_TTL)
                return
            time.sleep(0.1)
        pytest.fail(f"the app did not serve {build_id} within {within:g} s")


def _edit(data: Path, name: str) -> None:
    """The article's headline ends with `name`; a topic with as many labels as the
    number in `name` changes the triple count."""
    article = data / "articles" / f"{ARTICLE}.md"
    text = article.read_text("utf-8")
    text = re.sub(r"(?m)^headline: .*$", f"headline: {HEADLINE} ({name})", text)
    article.write_text(text, "utf-8")
    labels = "".join(f"  - label {n}\n" for n in range(int(name[1:])))
    topic = f"id: extra\nname: Topic of {name}\naltLabel:\n{labels}"
    (data / "topics" / "extra.yaml").write_text(topic, "utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory, virtuoso):
    folder = tmp_path_factory.mktemp("site")
    data = copy_data(folder / "data")
    settings = Settings(data=data, out=folder / "dist", base="https://switch.example.org/")
    client = virtuoso.client()
    builds, headlines = {}, {}  # B1 and B2 differ in headline and in triple count
    for name in ("B1", "B2"):
        headlines[name] = f"{HEADLINE} ({name})"
        _edit(data, name)
        builds[name] = build(settings)
    upload.publish(builds["B1"], client)
    live = start_server(
        settings.out,
        workers=2,
        threads=4,
        LOD_QUERY_TIMEOUT=5,
        LOD_QUERY_CONCURRENCY=8,  # above the threads: a 429 would be a failure here
        LOD_DATA=data,
        **virtuoso.env(),
    )
    try:
        yield Site(settings, client, live, builds, headlines)
    finally:
        stop_server(live)


@dataclass
class Watch:
    """Requests to the app from threads until stopped: each one's build as it says (ETag,
    /healthz) and what its data says, so a response mixing two builds is caught."""

    site: Site
    threads: int = 4
    seen: list = field(default_factory=list)  # (time, kind, build name)
    failures: list = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self):
        self._workers = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(self.threads)
        ]
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for worker in self._workers:
            worker.join(30)
        assert not any(w.is_alive() for w in self._workers), "a watcher hung"

    def _name(self, build_id: str) -> str | None:
        return next((n for n, b in self.site.builds.items() if b.id == build_id), None)

    def _check(self, kind: str, name: str | None, detail: str) -> None:
        if name is None:
            self.failures.append((kind, detail))
        else:
            self.seen.append((time.monotonic(), kind, name))

    def _run(self, number: int) -> None:
        site, server = self.site, self.site.server
        by_headline = {h: n for n, h in site.headlines.items()}
        by_count = {b.manifest["triples"]: n for n, b in site.builds.items()}
        article = f"{site.base}id/article/{ARTICLE}"
        query = (
            f"SELECT ?h (COUNT(*) AS ?n) {{ <{article}> <https://schema.org/headline> ?h . "
            "?s ?p ?o } GROUP BY ?h"
        )
        step = number
        while not self._stop.is_set():
            step += 1
            try:
                if step % 3 == 0:
                    response = server.get("/healthz", timeout=10)
                    ok = response.status_code == 200
                    name = self._name(response.json().get("build", "")) if ok else None
                    self._check("healthz", name, response.text[:200])
                elif step % 3 == 1:
                    response = server.get(f"/doc/article/{ARTICLE}.nt", timeout=10)
                    etag = response.headers.get("ETag", "").strip('"')
                    by_etag = self._name(etag.rsplit("-", 2)[0]) if response.ok else None
                    found = [n for h, n in by_headline.items() if f'"{h}"@en' in response.text]
                    same = by_etag is not None and found == [by_etag]
                    self._check(
                        "document",
                        by_etag if same else None,
                        f"{etag} {found} {response.status_code}",
                    )
                else:
                    response = get(query, accept="application/sparql-results+json").send(
                        server, timeout=10
                    )
                    rows = response.json()["results"]["bindings"] if response.ok else []
                    names = {by_headline.get(r["h"]["value"]) for r in rows} | {
                        by_count.get(int(r["n"]["value"])) for r in rows
                    }
                    name = names.pop() if len(names) == 1 else None
                    self._check("sparql", name, f"{response.status_code} {response.text[-300:]}")
            except (requests.RequestException, ValueError, KeyError) as error:
                self.failures.append(("request", repr(error)))

    def names(self, since: float = 0.0) -> set[str]:
        return {name for at, _, name in self.seen if at >= since}


def test_publish_while_the_app_serves(site):
    """B1 served, B2 published: every response is wholly B1's or wholly B2's, none fails,
    and the app serves B2 everywhere within a second or so of the switch."""
    if site.served() != site.builds["B1"].id:
        upload.publish(site.builds["B1"], site.client)
    site.wait_for(site.builds["B1"].id)
    with Watch(site) as watch:
        time.sleep(1.0)
        done = upload.publish(site.builds["B2"], site.client)
        switched = time.monotonic()
        time.sleep(3.0)
    assert not watch.failures, watch.failures[:5]
    assert done.loaded and done.switched
    assert done.previous == remote.graph_iri(site.base, site.builds["B1"].id)
    assert watch.names() == {"B1", "B2"}
    assert watch.names(since=switched + 1.5) == {"B2"}  # POINTER_TTL, and a request's time
    assert len(watch.seen) > 50
    assert site.served() == site.builds["B2"].id


def _broken(good: Build, folder: Path) -> Build:
    """A copy of `good` under another id whose dump breaks two thirds of the way in."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = gzip.decompress(good.dump(Format.NTRIPLES).read_bytes()).splitlines(keepends=True)
    lines[len(lines) * 2 // 3] = b'<http://example.org/s> <http://example.org/p> "no end .\n'
    with gzip.open(folder / "dataset.nt.gz", "wb") as stream:
        stream.write(b"".join(lines))
    return Build(folder, dict(good.manifest, id=good.id[:-8] + "0badd0c5"))


def test_failed_publish_leaves_the_old_build_served(site, tmp_path):
    if site.served() != site.builds["B2"].id:
        upload.publish(site.builds["B2"], site.client)
    site.wait_for(site.builds["B2"].id)
    broken = _broken(site.builds["B2"], tmp_path / "broken")
    graph = remote.graph_iri(site.base, broken.id)
    with Watch(site) as watch:
        time.sleep(0.5)
        started = time.monotonic()
        with pytest.raises(PublishError) as failure:
            upload.publish(broken, site.client, chunk_bytes=8 * 1024)  # loads some chunks first
        assert time.monotonic() - started < 30
        time.sleep(1.5)
    assert "did not take the build" in str(failure.value)
    assert not watch.failures, watch.failures[:5]
    assert watch.names() == {"B2"}
    assert site.served() == site.builds["B2"].id
    assert graph not in remote.loaded_graphs(site.client, site.base)
    assert remote.triple_count(site.client, graph) == 0  # what it loaded was dropped


def _lod(*args: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lod", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_roll_back_and_old_graphs_dropped(site, virtuoso):
    """`lod publish ID` of a build still in the store switches at once; `lod build
    --publish` of a third build drops the graph before the one it replaced."""
    env = {**virtuoso.env(publish=True), "LOD_BASE": site.base, "LOD_DATA": str(site.settings.data)}
    out = str(site.settings.out)
    if site.served() != site.builds["B2"].id:
        upload.publish(site.builds["B2"], site.client)
    b1, b2 = site.builds["B1"].id, site.builds["B2"].id

    rolled = _lod("publish", b1, "--out", out, env=env)
    assert rolled.returncode == 0, rolled.stderr
    assert f"published {b1}: switched to" in rolled.stdout
    site.wait_for(b1)
    assert (site.settings.out / "published").resolve().name == b1

    again = _lod("publish", b1, "--out", out, env=env)
    assert again.returncode == 0, again.stderr
    assert "already serving" in again.stdout

    _edit(site.settings.data, "B3")
    third = _lod("build", "--publish", "--out", out, env=env)
    assert third.returncode == 0, third.stderr
    b3 = open_build(site.settings.out).id
    assert f"published {b3}: loaded" in third.stdout
    assert "1 old graph dropped" in third.stdout
    site.wait_for(b3)
    loaded = remote.loaded_graphs(site.client, site.base)
    assert loaded == sorted(remote.graph_iri(site.base, b) for b in (b1, b3))
    assert remote.triple_count(site.client, remote.graph_iri(site.base, b2)) == 0
    page = site.server.get(f"/doc/article/{ARTICLE}.nt").text
    assert f"{HEADLINE} (B3)" in page

    site.builds["B1"] = open_build(site.settings.out, b1)
    upload.publish(site.builds["B2"], site.client)  # back where the other tests expect it
    site.wait_for(b2)


def test_publishing_needs_the_store_settings(site):
    result = _lod("publish", "--out", str(site.settings.out), env={"LOD_SPARQL_ENDPOINT": ""})
    assert result.returncode == 1
    assert "LOD_SPARQL_ENDPOINT" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_app_machine_without_the_build_folder_says_so(site, virtuoso, tmp_path):
    """The app needs the folder of the build the store serves (manifest, lists, dumps)."""
    copy = tmp_path / "dist"
    shutil.copytree(site.settings.out, copy, symlinks=True)
    served = site.served()
    shutil.rmtree(copy / "builds" / served)
    app = create_app(Settings(out=copy, base=site.base, sparql_endpoint=virtuoso.endpoint))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert f"serves build {served}" in response.get_json()["error"]["message"]


# -- the store goes down and comes back ----------------------------------------------------


EVENT = "/doc/event/csocd59-migration-displacement-side-event.ttl"


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_store_down_is_503_at_once_and_the_app_recovers(virtuoso, virtuoso_server, built, tmp_path):
    live = virtuoso_server
    assert get("ASK {}").send(live).status_code == 200  # the query workers are up
    assert live.get(EVENT).status_code == 200
    virtuoso.stop()
    try:
        # a document served before is kept with its build (lod.serve.cache): still served
        assert live.get(EVENT, timeout=10).status_code == 200
        for path, call in [
            ("document", lambda: live.get(f"{EVENT}?offset=7", timeout=10)),
            ("303", lambda: live.get("/id/event/csocd59", timeout=10)),
            # a query not answered before (answers are kept per build too)
            ("sparql", lambda: get("ASK { ?s ?p ?o } # store down").send(live, timeout=10)),
            ("healthz", lambda: live.get("/healthz", timeout=10)),
        ]:
            for _ in range(3):
                response, took = _timed(call)
                assert response.status_code == 503, (path, response.text[:300])
                assert response.headers["Retry-After"] == "1", path
                assert took < 1.0, f"{path} answered 503 after {took:.2f} s"
                assert "Traceback" not in response.text
                assert "cannot be reached" in error_of(response)["message"]
        dump = live.get("/dumps/dataset.nt.gz")
        assert dump.status_code == 200, dump.text[:300]  # the build folder's

        # publishing into a store that is down fails at once, and says why
        started = time.monotonic()
        env = {**virtuoso.env(publish=True), "LOD_BASE": built.base}
        result = _lod("publish", "--out", str(built.path.parent.parent), env=env, timeout=60)
        assert result.returncode == 1
        assert "cannot be reached" in result.stderr and "Traceback" not in result.stderr
        assert time.monotonic() - started < 20
    finally:
        virtuoso.start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if live.get("/healthz", timeout=5).status_code == 200:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the app did not recover within 15 s of the store's return")
    for _ in range(5):
        assert live.get(EVENT).status_code == 200
        assert get("ASK { ?s ?p ?o }").send(live).status_code == 200
    assert live.get("/healthz").json()["build"] == built.id


def test_store_stopped_while_publishing(virtuoso, site, tmp_path):
    """The store stops half-way through a load: the publish fails, and once the store is
    back the old build is served; publishing again loads the build whole."""
    if site.served() != site.builds["B2"].id:
        upload.publish(site.builds["B2"], site.client)
    _edit(site.settings.data, "B4")
    b4 = build(site.settings)
    outcome: dict = {}

    def run():
        try:
            upload.publish(b4, site.client, chunk_bytes=1024)
        except PublishError as error:
            outcome["error"] = error

    publisher = threading.Thread(target=run, daemon=True)
    publisher.start()
    graph = remote.graph_iri(site.base, b4.id)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and remote.triple_count(site.client, graph) == 0:
        time.sleep(0.02)
    virtuoso.stop()
    try:
        publisher.join(60)
        assert not publisher.is_alive(), "publish hung with the store down"
        assert "error" in outcome, "publish succeeded with the store stopped half-way"
    finally:
        virtuoso.start()
    assert site.served() == site.builds["B2"].id
    site.wait_for(site.builds["B2"].id, within=15)
    left = remote.triple_count(site.client, graph)
    assert 0 < left < b4.manifest["triples"]  # half-loaded, and not served
    done = upload.publish(b4, site.client)  # again: what was loaded is replaced, not added to
    assert done.loaded and done.switched
    assert remote.triple_count(site.client, graph) == b4.manifest["triples"]
    site.wait_for(b4.id)


@pytest.mark.slow
def test_the_readme_documents_the_remote_engine():
    readme = (ROOT / "docs" / "virtuoso.md").read_text("utf-8")  # the README points to it
    for name in (
        "LOD_SPARQL_ENDPOINT",
        "LOD_SPARQL_UPDATE",
        "LOD_SPARQL_GRAPH_STORE",
        "LOD_SPARQL_USER",
        "LOD_SPARQL_PASSWORD",
        "lod publish",
        "lod build --publish",
        "## Publishing",
    ):
        assert name in readme, name
    for command in (["publish", "--help"], ["build", "--help"]):
        result = _lod(*command, env={})
        assert result.returncode == 0, result.stderr
    assert "--publish" in _lod("build", "--help", env={}).stdout


def test_a_process_that_never_read_the_pointer_serves_the_build_published_here(built, tmp_path):
    """Store down before a new app process has read the pointer (a gunicorn worker that has
    answered nothing yet): it serves the build this machine published last
    (dist/published), so what needs no store (dumps, lists) is still served; with no such
    build, it says the store cannot be reached."""
    from lod.errors import StoreUnavailable
    from lod.layout import Output
    from lod.publish.local import mark_published
    from lod.serve.current import Published

    from .conftest import free_port

    out = tmp_path / "dist"
    shutil.copytree(built.path.parent.parent, out, symlinks=True)
    down = SparqlClient(f"http://127.0.0.1:{free_port()}/sparql", timeout=1)
    with pytest.raises(StoreUnavailable):
        Published(out, down, built.base).current()
    mark_published(Output(out), open_build(out))
    served = Published(out, down, built.base).current()
    assert served.build.id == built.id
    assert served.store.graph == remote.graph_iri(built.base, built.id)
