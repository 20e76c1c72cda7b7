"""A deployment behind a web server: mounted under a path (SCRIPT_NAME) and, when told to
trust its proxy (LOD_TRUST_PROXY), as the X-Forwarded-* headers say. Every URL the app
writes (pages, sitemap, Link and Location headers, JSON, the reconciliation manifest,
robots.txt) keeps the mount point."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from lod import Settings
from lod.cli import cli
from lod.web import create_app

from .conftest import DATA, start_server, stop_server

MOUNT = "/lod"
EVENT = "event/csocd59-migration-displacement-side-event"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def mounted(built):
    live = start_server(built.path.parent.parent, workers=1, mount=MOUNT)
    yield live
    stop_server(live)


def test_the_site_under_a_path_passes_lod_check(mounted):
    result = CliRunner().invoke(cli, ["check", mounted.url])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].endswith("all ok")
    assert "ok   links /doc/" in result.output  # the pages' links stay under /lod/ and answer


def test_pages_link_under_the_mount_point(mounted):
    for path in (f"/doc/{EVENT}.html", "/", "/doc/event/", "/dumps/"):
        page = mounted.get(path, headers={"Accept": "text/html"}).text
        local = [h for h in re.findall(r'href="([^"]+)"', page) if h.startswith("/")]
        assert local, path
        assert all(h.startswith(f"{MOUNT}/") for h in local), (path, local)


def test_headers_and_sitemap_keep_the_mount_point(mounted):
    response = mounted.get(f"/id/{EVENT}")
    assert response.headers["Location"] == f"{MOUNT}/doc/{EVENT}"
    document = mounted.get(f"/doc/{EVENT}", headers={"Accept": "text/turtle"})
    assert document.headers["Content-Location"] == f"{MOUNT}/doc/{EVENT}.ttl"
    links = re.findall(r"<([^>]+)>", document.headers["Link"])
    assert links and all(link.startswith(f"{MOUNT}/doc/") for link in links)
    sitemap = ET.fromstring(mounted.get("/sitemap.xml").content)
    locations = [loc.text for loc in sitemap.iter(f"{SITEMAP}loc")]
    assert locations and all(loc.startswith(mounted.url + "/doc/") for loc in locations)
    assert f"Sitemap: {mounted.url}/sitemap.xml" in mounted.get("/robots.txt").text
    manifest = mounted.get("/reconcile").json()
    assert manifest["suggest"]["entity"]["service_url"] == f"{mounted.url}/reconcile"
    assert manifest["documentation"] == f"{mounted.url}/"
    table = mounted.get(
        "/sparql",
        params={"query": "SELECT ?s WHERE { ?s a <https://schema.org/Event> }", "format": "html"},
        headers={"Accept": "text/html"},
    ).text
    assert f'href="{MOUNT}/doc/event/' in table


FORWARDED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "news.example.org",
    "X-Forwarded-Prefix": MOUNT,
    "X-Forwarded-For": "203.0.113.9",
}


def client(built, **settings):
    return create_app(Settings(data=DATA, out=built.path.parent.parent, **settings)).test_client()


def test_a_trusted_proxy_sets_scheme_host_and_mount(built):
    app = client(built, trust_proxy=1)
    manifest = app.get("/reconcile", headers=FORWARDED).get_json()
    assert manifest["suggest"]["entity"]["service_url"] == (
        "https://news.example.org/lod/reconcile"
    )
    assert app.get(f"/id/{EVENT}", headers=FORWARDED).headers["Location"] == (
        f"{MOUNT}/doc/{EVENT}"
    )
    robots = app.get("/robots.txt", headers=FORWARDED).get_data(as_text=True)
    assert "Sitemap: https://news.example.org/lod/sitemap.xml" in robots
    sitemap = app.get("/sitemap.xml", headers=FORWARDED).get_data(as_text=True)
    assert f"<loc>https://news.example.org/lod/doc/{EVENT}</loc>" in sitemap
    page = app.get(f"/doc/{EVENT}.html", headers=FORWARDED).get_data(as_text=True)
    assert 'href="/lod/doc/' in page and 'href="/doc/' not in page


def test_an_untrusted_proxy_is_ignored(built):
    app = client(built)
    manifest = app.get("/reconcile", headers=FORWARDED).get_json()
    assert manifest["suggest"]["entity"]["service_url"] == "http://localhost/reconcile"


def test_lod_trust_proxy_is_read_from_the_environment():
    assert Settings.from_env({"LOD_TRUST_PROXY": "2"}).trust_proxy == 2
    assert Settings.from_env({}).trust_proxy == 0


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/doc/event/csocd59",
        "/search?q=migration",
        "/feeds/articles.atom",
        "/feeds/articles.json",
        "/feeds/topic/digital-divide.rss",
        "/opensearch.xml",
        "/sitemap.xml",
    ],
)
def test_every_link_keeps_the_mount_point_once(client, path):
    """In-process, mounted at /lod (SCRIPT_NAME): every local link and absolute URL a page,
    a feed or a search answer writes is under /lod/, and never under /lod/lod/."""
    response = client.get(path, base_url="http://localhost/lod/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    links = re.findall(r'(?:href|src|action)="([^"]*)"', body)
    links += re.findall(r'http://localhost[^"<\s>\\]*', body)
    local = [u for u in links if u.startswith("/") or u.startswith("http://localhost")]
    assert local, "no local link found"
    for url in local:
        path_part = url.removeprefix("http://localhost")
        assert path_part.startswith("/lod/") or path_part == "/lod", url
        assert not path_part.startswith("/lod/lod"), url


def test_search_json_pages_keep_the_mount_point(client):
    response = client.get(
        "/search?q=migration",
        base_url="http://localhost/lod/",
        headers={"Accept": "application/json"},
    )
    pages = [hit["page"] for hit in response.get_json()["results"]]
    assert pages and all(page.startswith("/lod/doc/") for page in pages), pages
