"""Shared fixtures: the default dataset built once per session, a live server over it,
paths to the shared vocabularies."""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from lod import Settings, build

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
# the test dataset in the six official languages of the UN (docs/languages.md)
MULTILINGUAL = ROOT / "tests" / "fixtures" / "languages"
UN_NAMES = {
    "en": "United Nations",
    "fr": "Organisation des Nations Unies",
    "es": "Naciones Unidas",
    "ar": "الأمم المتحدة",
    "ru": "Организация Объединённых Наций",
    "zh": "联合国",
}
SHARED = ROOT.parent / "shared"
VOCAB = SHARED / "vocab"


def copy_data(target: Path) -> Path:
    """A private copy of data/ that a test may break."""
    shutil.copytree(DATA, target)
    return target


def wait_for_lock(out: Path) -> None:
    """Once no process holds the build lock of `out`: the snapshot writer that `lod build`
    may leave behind (lod.make.Builder.save) is done, and dist/cache/ is still."""
    with open(Path(out) / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)


def generator():
    """bench/generate.py, the synthetic corpus generator, as a module."""
    spec = importlib.util.spec_from_file_location("generate", ROOT / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def corpus_1k(tmp_path_factory) -> Path:
    """A generated corpus of 1000 articles (do not change it: copy it)."""
    out = tmp_path_factory.mktemp("corpus") / "1k"
    generator().generate(1000, out)
    return out


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """data/ built into a session-wide dist folder: the Build."""
    out = tmp_path_factory.mktemp("dist")
    return build(Settings(data=DATA, out=out))


@pytest.fixture(scope="session")
def schema_vocab():
    path = VOCAB / "schemaorg-current-https.ttl"
    assert path.exists(), f"{path} is missing: ../shared/ must sit beside the checkout"
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LiveServer:
    """A real HTTP server (gunicorn on app:app) on 127.0.0.1, stopped at the end."""

    url: str
    process: subprocess.Popen

    def get(self, path: str, **options) -> requests.Response:
        options.setdefault("allow_redirects", False)
        options.setdefault("timeout", 30)
        return requests.get(self.url + path, **options)

    def request(self, method: str, path: str, **options) -> requests.Response:
        options.setdefault("allow_redirects", False)
        options.setdefault("timeout", 30)
        return requests.request(method, self.url + path, **options)


def start_server(
    out: Path, *, workers: int = 2, threads: int = 4, mount: str = "", **env
) -> LiveServer:
    """gunicorn on app:app; `mount` serves it under a path (SCRIPT_NAME), and the server's
    url then ends with it."""
    port = free_port()
    if mount:
        env["SCRIPT_NAME"] = mount
    environment = {
        **os.environ,
        "LOD_OUT": str(out),
        "LOD_DATA": str(DATA),
        **{k: str(v) for k, v in env.items()},
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--graceful-timeout",
            "2",
            "app:app",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}{mount}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            with process.stderr:
                raise RuntimeError("server exited: " + process.stderr.read().decode()[-2000:])
        try:
            if requests.get(url + "/healthz", timeout=5).status_code == 200:
                return LiveServer(url, process)
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start within 60 s")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    server.process.stderr.close()


@pytest.fixture
def app(built):
    """The app over the session's build, in-process (Flask's test client, no server): for
    what needs no real HTTP. Its query workers are stopped at the end."""
    from lod.web import create_app

    app = create_app(Settings(out=built.path.parent.parent, query_timeout=2))
    app.testing = True
    yield app
    app.extensions["lod.queries"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def server(built):
    """gunicorn serving the session's build of data/ (2 workers, short query limit)."""
    live = start_server(built.path.parent.parent, LOD_QUERY_TIMEOUT=2, LOD_QUERY_CONCURRENCY=2)
    yield live
    stop_server(live)


SLOW_FIXTURES = {
    # a real server, store or browser, or a generated corpus: seconds each
    "server",
    "big_server",
    "rich_server",
    "own_server",
    "servers",
    "site",
    "edge",
    "virtuoso",
    "virtuoso_server",
    "chromium",
    "dom",
    "phone",
    "corpus",
    "corpus_1k",
}


def pytest_collection_modifyitems(config, items):
    """Tests that use a real server, store, browser or generated corpus are `slow`.

    tests/test_engines.py imports tests of test_server.py and test_sparql.py to run them
    on every engine; on the embedded one their own modules run them already, so there they
    are deselected (the tests test_engines.py defines itself run on both)."""
    again, kept = [], []
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("engine") if callspec else None
        imported = getattr(item, "function", None) is not None and (
            item.function.__module__ != item.module.__name__
        )
        (again if engine == "embedded" and imported else kept).append(item)
    if again:
        config.hook.pytest_deselected(items=again)
        items[:] = kept


def require(available: bool, what: str) -> None:
    """Skip when a system tool is missing here; in CI (LOD_REQUIRE_TOOLS=1) fail instead."""
    if available:
        return
    if os.environ.get("LOD_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{what} is required in CI (.ci/run installs it)")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory):
    """A real Virtuoso on 127.0.0.1 for the session (tests/virtuoso.py), stopped at the end."""
    from .virtuoso import Virtuoso, available

    require(available(), "Virtuoso (virtuoso-t, from virtuoso-opensource-7-bin)")
    store = Virtuoso(tmp_path_factory.mktemp("virtuoso"))
    try:
        store.start()
        yield store
    finally:
        store.stop()


@pytest.fixture(scope="session")
def virtuoso_server(built, virtuoso):
    """gunicorn serving the session's build from Virtuoso (published into it first), with
    the same settings as `server`."""
    from lod.publish import remote as upload

    upload.publish(built, virtuoso.client())
    live = start_server(
        built.path.parent.parent, LOD_QUERY_TIMEOUT=2, LOD_QUERY_CONCURRENCY=2, **virtuoso.env()
    )
    yield live
    stop_server(live)
