"""Deployment that works from anywhere: the package installed from its wheel (not the
checkout) builds data/ and serves it with `gunicorn 'lod.web:create_app()'` from any folder;
nginx in front (deploy/nginx.conf), under a path prefix on a port that is not the default,
keeps every URL the site writes on the public scheme, host, port and prefix, and `lod check`
tells that deployment from one whose proxy loses the port; the systemd units in deploy/
parse and name real commands and options."""

from __future__ import annotations

import fcntl
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from click.testing import CliRunner
from rdflib import RDF, SH, Graph

from lod import Settings, build
from lod.cli import cli
from lod.web import create_app

from .conftest import DATA, ROOT, LiveServer, free_port, require, stop_server

DEPLOY = ROOT / "deploy"
APP = "lod.web:create_app()"
EVENT = "event/csocd59-migration-displacement-side-event"
PREFIX = "/lod"
HTML, TURTLE, JSON = "text/html", "text/turtle", "application/json"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)), None
)


def clean_environment(**settings) -> dict[str, str]:
    """This environment without what would lead a subprocess to the checkout's lod
    (PYTHONPATH) or to a developer's settings (LOD_*), with `settings` added."""
    kept = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("LOD_")}
    return {**kept, **{k: str(v) for k, v in settings.items()}}


@contextmanager
def gunicorn(python: Path | str, cwd: Path, env: dict[str, str]) -> Iterator[LiveServer]:
    """gunicorn on the app factory of the package `python` imports, as deploy/lod.service
    runs it, on a free port of 127.0.0.1; stopped at the end."""
    port = free_port()
    command = [python, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    command += ["--threads", "4", "--graceful-timeout", "2", APP]
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    server = LiveServer(f"http://127.0.0.1:{port}", process)
    try:
        wait_for(server.url + "/healthz", process, "gunicorn")
        yield server
    finally:
        stop_server(server)


def wait_for(url: str, process: subprocess.Popen, what: str, **options) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: " + process.stderr.read().decode()[-2000:])
        try:
            if requests.get(url, timeout=5, **options).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer {url} within 60 s")


# --- behind a trusted proxy, the port the client used ------------------------------------------


@pytest.fixture(scope="module")
def trusting(built):
    app = create_app(Settings(out=built.path.parent.parent, trust_proxy=1, query_timeout=2))
    yield app.test_client()
    app.extensions["lod.queries"].close()


@pytest.mark.parametrize(
    ("forwarded", "public"),
    [
        pytest.param({"Host": "news.example.org:8443"}, "https://news.example.org:8443", id="host"),
        pytest.param(
            {"Host": "news.example.org", "Port": "8443"}, "https://news.example.org:8443", id="port"
        ),
        pytest.param(
            {"Host": "news.example.org:8443", "Port": "9443"},
            "https://news.example.org:9443",
            id="port-over-host",
        ),
        pytest.param(
            {"Host": "news.example.org", "Port": "443"}, "https://news.example.org", id="default"
        ),
    ],
)
def test_a_trusted_proxy_names_the_port(trusting, forwarded, public):
    """With LOD_TRUST_PROXY, X-Forwarded-Host with a port, or X-Forwarded-Port, give every
    absolute URL the app writes the port the client used (none when it is the scheme's)."""
    headers = {f"X-Forwarded-{k}": v for k, v in forwarded.items()}
    headers |= {"X-Forwarded-Proto": "https", "X-Forwarded-Prefix": PREFIX}
    root = public + PREFIX
    robots = trusting.get("/robots.txt", headers=headers).get_data(as_text=True)
    assert f"Sitemap: {root}/sitemap.xml" in robots
    sitemap = trusting.get("/sitemap.xml", headers=headers).get_data(as_text=True)
    assert f"<loc>{root}/doc/{EVENT}</loc>" in sitemap
    manifest = trusting.get("/reconcile", headers=headers).get_json()
    assert manifest["suggest"]["entity"]["service_url"] == f"{root}/reconcile"
    stream = trusting.get("/ldes", headers={**headers, "Accept": "application/trig"})
    assert f"<{root}/ldes>" in stream.get_data(as_text=True)
    search = trusting.get("/opensearch.xml", headers=headers).get_data(as_text=True)
    assert f'template="{root}/search?q={{searchTerms}}"' in search


# --- the package installed from its wheel ------------------------------------------------------

SOURCES = ("lod", "pyproject.toml", "README.md")  # what the wheel is made of


def _builds_wheels_offline() -> bool:
    """Whether this environment's setuptools can build the wheel without fetching one
    (setuptools 70.1 builds wheels itself; earlier ones need the `wheel` package)."""
    try:
        major, minor = (int(part) for part in version("setuptools").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return False
    has_wheel = importlib.util.find_spec("wheel") is not None
    return (major, minor) >= (70, 1) or ((major, minor) >= (68, 0) and has_wheel)


def build_wheel(tmp: Path) -> Path:
    """lod's wheel, made from a copy of its sources (a build writes build/ and
    lod.egg-info/ beside them), the way `pip install .` makes it."""
    source = tmp / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp / "wheels"]
    command += ["--no-build-isolation"] if _builds_wheels_offline() else []
    done = subprocess.run(
        [*command, source], capture_output=True, text=True, env=clean_environment(), timeout=600
    )
    if done.returncode and "setuptools" in done.stderr and "version" in done.stderr:
        require(False, "pip able to fetch setuptools>=68 (an index) to build lod's wheel")
    assert done.returncode == 0, done.stdout + done.stderr
    return next((tmp / "wheels").glob("lod-*.whl"))


def install(wheel: Path, venv: Path) -> Path:
    """A new virtual environment holding lod from `wheel`, and this one's libraries (but
    not its lod) on its path; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q"]
        + ["--no-deps", "--no-index", wheel],
        check=True,
        env=clean_environment(),
        timeout=600,
    )
    # After the install (pip would take this environment's lod for the one to replace): a
    # path in a .pth file adds the folder, and runs none of the .pth files in it (the hook
    # of an editable lod), so `import lod` finds the wheel's lod and only that.
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (Path(site) / "libraries.pth").write_text("\n".join(sorted(ours)) + "\n", "utf-8")
    return python


@pytest.mark.slow
def test_the_installed_package_builds_and_serves_from_anywhere(tmp_path):
    wheel = build_wheel(tmp_path)
    python = install(wheel, tmp_path / "venv")
    site = tmp_path / "site"  # a working folder with nothing of the checkout in it
    site.mkdir()
    env = clean_environment(LOD_KEEP_STATE=0)
    where = subprocess.run(
        [python, "-c", "import lod.config as c; print(c.__file__); print(c.SHAPES_DIR)"],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(Path(w).is_relative_to(tmp_path / "venv") for w in where), where
    lod = python.parent / "lod"  # the console script the wheel installed
    done = subprocess.run(
        [lod, "build", "--data", DATA, "--no-progress"],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (site / "dist" / "current" / "manifest.json").exists()

    with gunicorn(python, site, {**env, "LOD_OUT": "dist"}) as server:
        home = server.get("/", headers={"Accept": HTML})
        assert home.status_code == 200
        assert "MIA-MGA news as Linked Open Data" in home.text
        style = re.search(r'href="(/static/[^"]+\.css[^"]*)"', home.text)
        assert style and server.get(style.group(1)).status_code == 200  # static files
        page = server.get(f"/doc/{EVENT}", headers={"Accept": HTML})  # templates
        assert page.status_code == 200 and "CSocD59" in page.text
        shapes = server.get("/shapes.ttl")  # the shapes, package data
        assert shapes.status_code == 200
        graph = Graph().parse(data=shapes.text, format="turtle")
        assert len(set(graph.subjects(RDF.type, SH.NodeShape))) >= 8  # one per kind at least


# --- nginx in front ----------------------------------------------------------------------------


@dataclass
class Site:
    url: str  # the public root: https://127.0.0.1:{port}/lod
    certificate: Path

    def get(self, path: str, accept: str | None = None, **options) -> requests.Response:
        options.setdefault("allow_redirects", False)
        headers = {"Accept": accept} if accept else {}
        return requests.get(
            self.url + path, headers=headers, verify=self.certificate, timeout=30, **options
        )


def certificate(folder: Path) -> tuple[Path, Path]:
    require(shutil.which("openssl") is not None, "openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
    )
    return cert, key


def site_config(folder: Path, port: int, upstream: str, cert: Path, key: Path) -> str:
    """deploy/nginx.conf as it is, but for where the test runs it: on 127.0.0.1 (a free
    port), before the test's gunicorn, with the test's certificate and cache folder."""
    text = (DEPLOY / "nginx.conf").read_text("utf-8")
    changes = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{port} ssl http2;",
        "listen 80;": f"listen 127.0.0.1:{free_port()};",
        "server 127.0.0.1:8000;": f"server {upstream};",
        "/etc/letsencrypt/live/example.org/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/example.org/privkey.pem": str(key),
        "/var/cache/nginx/lod": str(folder / "cache"),
    }
    for old, new in changes.items():
        assert old in text, f"deploy/nginx.conf has no `{old}` any more: update this test"
        text = text.replace(old, new)
    return "\n".join(line for line in text.splitlines() if "listen [::]" not in line)


@contextmanager
def nginx(folder: Path, site: str) -> Iterator[subprocess.Popen]:
    """A real nginx in the foreground, with its configuration, pid, logs and temporary
    files in `folder`, serving `site` (a server{} context's worth); stopped at the end."""
    folder.mkdir()
    (folder / "site.conf").write_text(site, "utf-8")
    temporary = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # its workers write to `folder`
        + f"daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        + f"error_log {folder / 'error.log'} warn;\nevents {{ worker_connections 128; }}\n"
        + f"http {{\n    access_log {folder / 'access.log'};\n{temporary}\n"
        + f"    include {folder / 'site.conf'};\n}}\n",
        "utf-8",
    )
    command = [NGINX, "-p", folder, "-c", folder / "nginx.conf", "-e", folder / "error.log"]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()


@contextmanager
def proxied(folder: Path, upstream: str, cert: Path, key: Path, port: int, lose_port=False):
    """deploy/nginx.conf on `port` in front of `upstream`; with `lose_port`, forwarding
    nginx's $host (the host without its port), as the README's example once did."""
    text = site_config(folder, port, upstream, cert, key)
    if lose_port:
        text = text.replace("$lod_host;", "$host;")
    site = Site(f"https://127.0.0.1:{port}{PREFIX}", cert)
    with nginx(folder, text) as process:
        wait_for(f"{site.url}/healthz", process, "nginx", verify=cert)
        yield site


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory):
    """data/ built with its base at the public URL, served by gunicorn trusting one proxy,
    behind deploy/nginx.conf at https://127.0.0.1:{port}/lod (TLS, a port not the
    default); and the same behind a copy of nginx.conf that loses the port."""
    require(NGINX is not None, "nginx (Debian's nginx package)")
    folder = tmp_path_factory.mktemp("deploy")
    port, lossy_port = free_port(), free_port()
    root = f"https://127.0.0.1:{port}{PREFIX}"
    build(Settings(data=DATA, out=folder / "dist", base=root + "/", keep_state=0))
    cert, key = certificate(folder)
    env = {**os.environ, "LOD_OUT": str(folder / "dist"), "LOD_TRUST_PROXY": "1"}
    with gunicorn(sys.executable, folder, env) as app:
        upstream = app.url.removeprefix("http://")
        with (
            proxied(folder / "nginx", upstream, cert, key, port) as site,
            proxied(folder / "lossy", upstream, cert, key, lossy_port, lose_port=True) as lossy,
        ):
            yield site, lossy


# Every kind of answer the site gives, as (path, Accept): pages, data, crawlers' files,
# feeds, the change stream, search, errors.
ANSWERS = [
    ("/", HTML),
    ("/doc/event/", HTML),
    ("/doc/event/", JSON),
    (f"/doc/{EVENT}", HTML),
    (f"/doc/{EVENT}", TURTLE),
    (f"/doc/{EVENT}", "application/ld+json"),
    (f"/doc/{EVENT}.nt", None),
    (f"/id/{EVENT}", TURTLE),
    ("/id/dataset", TURTLE),
    ("/.well-known/void", TURTLE),
    ("/.well-known/void", HTML),
    ("/sitemap.xml", None),
    ("/robots.txt", None),
    ("/reconcile", JSON),
    ("/reconcile/preview?id=event/csocd59", HTML),
    ("/ldes", "application/trig"),
    ("/ldes", HTML),
    ("/ldes/1", "application/trig"),
    ("/ldes/1", HTML),
    ("/feeds/articles.atom", None),
    ("/feeds/articles.rss", None),
    ("/feeds/articles.json", None),
    ("/feeds/topic/digital-divide.atom", None),
    ("/opensearch.xml", None),
    ("/search?q=migration", HTML),
    ("/search?q=migration", JSON),
    ("/sparql", HTML),
    ("/sparql", TURTLE),
    ("/shapes", HTML),
    ("/dumps/", HTML),
    ("/no/such/page", HTML),
]
HOSTS = {"127.0.0.1", "localhost"}
ABSOLUTE = re.compile(r"""https?://[^\s"'<>\\)\]]+""")
RELATIVE = re.compile(r"""(?:href|src|action)="(/[^"]*)\"""")
LINKS = re.compile(r"""(?:href|src)="([^"]+)"|<loc>([^<]+)</loc>|^Sitemap: (\S+)""", re.M)


def written_urls(response: requests.Response) -> list[str]:
    """The URLs an answer writes (headers, absolute URLs, root-relative links), absolute."""
    found = _headed(response) + ABSOLUTE.findall(response.text) + RELATIVE.findall(response.text)
    return [urljoin(response.url, url.replace("&amp;", "&")) for url in found]


def links(response: requests.Response) -> list[str]:
    """The URLs an answer links, to be followed (not identifiers, such as an Atom id)."""
    found = _headed(response) + [next(filter(None, m)) for m in LINKS.findall(response.text)]
    return [urljoin(response.url, url.replace("&amp;", "&")) for url in found]


def _headed(response: requests.Response) -> list[str]:
    found = [response.headers[h] for h in ("Location", "Content-Location") if h in response.headers]
    return found + re.findall(r"<([^>]+)>", response.headers.get("Link", ""))


@pytest.mark.slow
def test_every_url_the_site_writes_behind_nginx_is_public(behind_nginx):
    """Through deploy/nginx.conf at https://127.0.0.1:{port}/lod, every URL of the site's
    own host in every kind of answer carries the scheme, the port and the prefix, and
    links somewhere."""
    site, _ = behind_nginx
    linked: dict[str, str] = {}  # URL -> where it was written
    count = 0
    for path, accept in ANSWERS:
        response = site.get(path, accept)
        assert response.status_code in (200, 303, 404), (path, response.status_code)
        urls = [u for u in written_urls(response) if urlsplit(u).hostname in HOSTS]
        assert urls, f"{path} ({accept}) writes no URL of the site"
        stray = [u for u in urls if not (u + "/").startswith(site.url + "/")]
        assert not stray, f"{path} ({accept}) writes URLs not under {site.url}/: {stray[:5]}"
        count += len(urls)
        followed = [u.split("#")[0] for u in links(response) if urlsplit(u).hostname in HOSTS]
        linked |= dict.fromkeys(followed, path)
    for url, where in sorted(linked.items()):  # and each link leads somewhere, through nginx
        answer = requests.get(
            url, headers={"Accept": HTML}, verify=site.certificate, timeout=30
        )  # (303s followed)
        assert answer.status_code < 400, f"{url} (written by {where}): {answer.status_code}"
    assert count > 1000 and len(linked) > 100


@pytest.mark.slow
def test_lod_check_passes_behind_nginx_and_fails_when_it_loses_the_port(behind_nginx, monkeypatch):
    site, lossy = behind_nginx
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(site.certificate))  # the test's own CA
    passed = CliRunner().invoke(cli, ["check", site.url])
    assert passed.exit_code == 0, passed.output
    assert "ok   absolute URLs (" in passed.output
    assert "ok   links /doc/" in passed.output
    failed = CliRunner().invoke(cli, ["check", lossy.url])
    assert failed.exit_code == 1, failed.output
    lines = [line for line in failed.output.splitlines() if line.startswith("FAIL")]
    port = urlsplit(lossy.url).port
    assert len(lines) == 1, failed.output
    assert lines[0].startswith("FAIL absolute URLs: /reconcile names https://127.0.0.1/lod/")
    assert f"(the port {port} is lost)" in lines[0]


# --- systemd -----------------------------------------------------------------------------------

UNITS = (
    "lod.service",
    "lod-update.service",
    "lod-update.timer",
    "lod-sync.service",
    "lod-sync.timer",
)
INSTALLED = "/opt/lod/venv/bin/"  # where the units expect lod's virtual environment


def unit_values(name: str, key: str) -> list[str]:
    """The values of `key` in a unit file, continuation lines joined."""
    text = (DEPLOY / name).read_text("utf-8").replace("\\\n", " ")
    return [
        line.split("=", 1)[1].strip() for line in text.splitlines() if line.startswith(key + "=")
    ]


def here(command: str) -> str:
    """A unit's command line with this environment's lod and gunicorn for the installed."""
    return command.replace(INSTALLED, str(Path(sys.executable).parent) + "/")


def test_the_units_verify(tmp_path):
    """systemd-analyze verify (as systemd would load them, its executables this test
    environment's) finds nothing to say about the units."""
    if shutil.which("systemd-analyze") is None:  # the tests below check the commands
        pytest.skip("systemd-analyze is not installed (systemd)")
    for name in UNITS:
        (tmp_path / name).write_text(here((DEPLOY / name).read_text("utf-8")), "utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", *UNITS], cwd=tmp_path, capture_output=True, text=True
    )
    said = [line for line in (done.stdout + done.stderr).splitlines() if "lod" in line]
    assert done.returncode == 0 and not said, done.stdout + done.stderr


@pytest.mark.parametrize("job", ["lod-update", "lod-sync"])
def test_each_timer_starts_its_service(job):
    assert (DEPLOY / f"{job}.timer").exists() and (DEPLOY / f"{job}.service").exists()
    assert not unit_values(f"{job}.timer", "Unit")  # so the service of the same name


def lod_commands(command: str) -> list[list[str]]:
    """The `lod …` commands of a unit's ExecStart (in `sh -c '…'` too), as words; the
    shell's $VARIABLE ($$ in a unit) becomes a placeholder."""
    words = shlex.split(command.replace("$$", "$"))
    scripts = [words[i + 1] for i, w in enumerate(words) if w == "-c"] or [shlex.join(words)]
    found = []
    for script in scripts:
        for part in re.split(r"&&|;|\|\|", script):
            part_words = [re.sub(r"^\$\w+$", "SOURCE", w) for w in shlex.split(part)]
            if part_words and part_words[0].endswith("/lod"):
                found.append(part_words)
    return found


@pytest.mark.parametrize(
    "unit, expected",
    [("lod-update.service", ["import", "build"]), ("lod-sync.service", ["sync", "build"])],
)
def test_the_jobs_run_real_lod_commands(unit, expected):
    """Each `lod` command a job runs exists with its options (`--help` after them exits 0;
    click refuses an unknown command or option with 2), under the one update lock."""
    (command,) = unit_values(unit, "ExecStart")
    assert command.startswith("/usr/bin/flock --wait 600 /srv/lod/update.lock ")
    commands = lod_commands(command)
    assert [c[1] for c in commands] == expected
    for words in commands:
        done = subprocess.run(
            [sys.executable, "-m", "lod", *words[1:], "--help"], capture_output=True, text=True
        )
        assert done.returncode == 0, (words, done.stderr)
        assert f"Usage: python -m lod {words[1]}" in done.stdout


def test_the_site_service_runs_gunicorn_on_the_app(built):
    """lod.service's ExecStart, checked by gunicorn itself (it loads the app)."""
    (command,) = unit_values("lod.service", "ExecStart")
    words = shlex.split(here(command))
    assert words[-1] == APP
    env = {**os.environ, "LOD_OUT": str(built.path.parent.parent)}
    done = subprocess.run([*words, "--check-config"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_environment_file_names_real_settings():
    """Each variable of lod.env is a setting of lod/config.py or one a job's command uses."""
    config = (ROOT / "lod" / "config.py").read_text("utf-8")
    commands = [unit_values(u, "ExecStart")[0] for u in ("lod-update.service", "lod-sync.service")]
    names = [
        line.split("=", 1)[0]
        for line in (DEPLOY / "lod.env").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    used = [n for n in names if f'"{n}"' in config or any(f"$${n}" in c for c in commands)]
    assert names and used == names, set(names) - set(used)
    for name in UNITS:
        if name.endswith(".service"):
            assert unit_values(name, "EnvironmentFile") == ["/etc/lod/lod.env"]


@pytest.mark.slow
def test_the_update_service_imports_and_builds_under_its_lock(tmp_path):
    """lod-update.service's ExecStart, run as systemd would (its paths here): it imports a
    feed into data/ and builds; while another holds the lock, it does neither."""
    data = shutil.copytree(DATA, tmp_path / "data")
    lock = tmp_path / "update.lock"
    (command,) = unit_values("lod-update.service", "ExecStart")
    command = here(command).replace("/srv/lod/update.lock", str(lock)).replace("$$", "$")
    env = clean_environment(
        LOD_DATA=data,
        LOD_OUT=tmp_path / "dist",
        LOD_IMPORT_SOURCES=ROOT / "tests/fixtures/real/feeds/rss-wordpress-natasha.xml",
        **dict(v.split("=", 1) for v in unit_values("lod-update.service", "Environment")),
    )
    if "PYTHONPATH" in os.environ:  # the lod these tests run, as the tests do
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        busy = subprocess.run(
            shlex.split(command.replace("--wait 600", "--nonblock")), env=env, cwd=tmp_path
        )
    assert busy.returncode == 1 and not (tmp_path / "dist").exists()
    done = subprocess.run(
        shlex.split(command), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "created" in done.stdout
    assert len(list((data / "articles").iterdir())) > len(list((DATA / "articles").iterdir()))
    assert (tmp_path / "dist" / "current" / "manifest.json").exists()


def test_the_deployment_page_names_the_files_and_its_links_resolve():
    from .test_docs import test_links_resolve_inside_the_repository as resolve

    resolve("docs/deploy.md")
    page = (ROOT / "docs" / "deploy.md").read_text("utf-8")
    assert all(f"(../deploy/{p.name})" in page for p in DEPLOY.iterdir()), "a file unlinked"
