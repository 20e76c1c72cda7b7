"""`lod check URL` audits a deployment as a Linked Data client: it passes against the test
server, names the check that fails against a server with one deliberate fault (a proxy that
drops CORS, or one that loses the port of the host the client asked for), and reports a
server that is down or silent in one clear line."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import requests
from click.testing import CliRunner
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from lod.check.audit import Result, summary
from lod.check.client import Client
from lod.cli import cli

from .conftest import ROOT, free_port

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-encoding",
    "content-length",
    "te",
    "trailer",
    "upgrade",
}


def lod_check(*arguments: str):
    return CliRunner().invoke(cli, ["check", *arguments])


def failures(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("FAIL")]


def as_asked(host: str) -> str:
    return host


@contextmanager
def proxy(
    target: str, drop: frozenset[str] = frozenset(), host: Callable[[str], str] = as_asked
) -> Iterator[str]:
    """An HTTP proxy on 127.0.0.1 in front of `target` that drops the `drop` headers from
    every answer, and passes on the Host the client asked for as `host` makes it: a
    deployment with one deliberate fault."""

    def forward(environ, start_response):
        request = Request(environ)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        upstream = requests.request(
            request.method,
            target + request.full_path.rstrip("?"),
            headers={**headers, "Host": host(request.host)},
            data=request.get_data(),
            allow_redirects=False,
            timeout=30,
        )
        headers = [
            (name, value)
            for name, value in upstream.headers.items()
            if name.lower() not in HOP_BY_HOP | drop
        ]
        response = Response(upstream.content, upstream.status_code, headers=headers)
        return response(environ, start_response)

    server = make_server("127.0.0.1", 0, forward, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_check_passes_against_the_test_server(server):
    result = lod_check(server.url)
    lines = result.output.splitlines()
    assert failures(result.output) == []
    assert result.exit_code == 0, result.output
    names = "\n".join(lines)
    for check in (
        "ok   VoID /.well-known/void",
        "ok   303 from /id/event/",
        "ok   content negotiation /doc/event/",
        "ok   formats agree /doc/event/",
        "ok   Vary: Accept /doc/event/",
        "ok   CORS /doc/event/",
        "ok   ETag /doc/event/",
        "ok   SPARQL service description /sparql",
        "ok   SPARQL query /sparql (COUNT(*) = ",
        "ok   dump /dumps/dataset.nt.gz",
        "ok   dump /dumps/dataset.ttl.gz",
        "ok   dump /dumps/dataset.jsonld.gz",
        "ok   reconciliation /reconcile (versions ",
        "ok   sitemap /sitemap.xml",
        "ok   robots.txt /robots.txt",
        "ok   absolute URLs (",
        "URLs in /ldes, /ldes/1, /reconcile, /robots.txt, /sitemap.xml, void:dataDump, "
        f"void:sparqlEndpoint: all under {server.url}/ or the base https://lod.example.org/)",
    ):
        assert check in names, f"{check!r} missing from\n{names}"
    # one resource per kind, the dataset's base mapped onto the checked URL
    assert names.count("ok   303 from /id/") == 7
    assert lines[-1] == f"{len(lines) - 1} checks, all ok"


def test_check_names_the_failing_check(server):
    with proxy(server.url, drop=frozenset({"access-control-allow-origin"})) as url:
        result = lod_check(url)
    assert result.exit_code == 1, result.output
    failed = failures(result.output)
    cors = [line for line in failed if line.startswith("FAIL CORS /doc/")]
    assert len(cors) == 7, result.output
    assert all("no Access-Control-Allow-Origin" in line for line in cors)
    assert failed == cors  # nothing else is reported broken
    assert result.output.splitlines()[-1].endswith(", 7 failed")


def without_port(host: str) -> str:
    return host.rsplit(":", 1)[0]


@pytest.mark.parametrize(
    ("host", "how"),
    [
        pytest.param(without_port, "the port {port} is lost", id="port-lost"),
        pytest.param(None, "the port {upstream}, not {port}", id="upstream-host"),
    ],
)
def test_check_fails_when_a_proxy_loses_the_port(server, host, how):
    """The site is only as reachable as the URLs it writes: a proxy that passes on the
    host without the port the client used (nginx's $host), or its own upstream's, makes the
    sitemap, robots.txt, /reconcile and /ldes name URLs that lead elsewhere, while every
    check that follows only paths still passes."""
    upstream = server.url.rsplit(":", 1)[1]
    with proxy(server.url, host=host or (lambda _: f"127.0.0.1:{upstream}")) as url:
        port = url.rsplit(":", 1)[1]
        result = lod_check(url)
    assert result.exit_code == 1, result.output
    failed = failures(result.output)
    assert len(failed) == 1, result.output  # the others pass: they follow paths
    stray = f"http://127.0.0.1{'' if host else ':' + upstream}/"
    assert failed[0].startswith(f"FAIL absolute URLs: /reconcile names {stray}"), failed[0]
    assert f"not under {url}/ ({how.format(port=port, upstream=upstream)})" in failed[0]
    assert "X-Forwarded-Host" in failed[0] and "LOD_TRUST_PROXY" in failed[0]


def test_a_server_that_is_down_is_one_clear_failure():
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "lod", "check", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        f"FAIL server at {url}: cannot connect to {url}/.well-known/void (connection refused)",
        "1 check: 0 ok, 1 failed",
    ]


def test_a_server_that_never_answers_times_out():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # connections queue up; nothing ever answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        result = lod_check(url, "--timeout", "0.5")
    assert result.exit_code == 1
    assert failures(result.output) == [
        f"FAIL server at {url}: no answer from {url}/.well-known/void within 0.5 s"
    ]


@pytest.mark.parametrize("url", ["ftp://example.org/", "example.org", "http://"])
def test_check_wants_an_http_url(url):
    result = lod_check(url)
    assert result.exit_code == 2
    assert "is not an http(s) URL" in result.output


@pytest.mark.parametrize(
    ("iri", "fetched"),
    [
        ("https://lod.example.org/id/event/x", "http://127.0.0.1:5000/id/event/x"),
        ("https://lod.example.org/dumps/d.nt.gz", "http://127.0.0.1:5000/dumps/d.nt.gz"),
        ("https://www.wikidata.org/entity/Q60", "https://www.wikidata.org/entity/Q60"),
    ],
)
def test_iris_under_the_base_are_fetched_from_the_checked_root(iri, fetched):
    client = Client("http://127.0.0.1:5000", 1.0, base="https://lod.example.org/")
    assert client.local(iri) == fetched
    client.session.close()


def test_report_lines():
    assert Result("CORS /doc/x", True).line() == "ok   CORS /doc/x"
    assert Result("ETag /doc/x", True, "304").line() == "ok   ETag /doc/x (304)"
    assert Result("CORS /doc/x", False, "none").line() == "FAIL CORS /doc/x: none"
    assert summary([Result("a", True), Result("b", True)]) == "2 checks, all ok"
    assert summary([Result("a", True), Result("b", False)]) == "2 checks: 1 ok, 1 failed"
