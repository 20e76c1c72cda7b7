"""A browser on any URL the site links gets a page to read: the machine URLs (/ldes and its
pages, /shapes, /.well-known/void, /sparql) answer a browser's Accept with HTML that links
their machine formats, while machine clients get what they asked for."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
# Downloads, feeds and the URLs that name their format are files, not pages.
FILES = ("/dumps/", "/feeds/", "/opensearch.xml", "/sitemap", "/robots.txt", "/static/")
MACHINE_SUFFIXES = (".ttl", ".jsonld", ".nt", ".rdf", ".trig", ".nq", ".xml", ".json", ".tsv")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.found.append(href)


def links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.found


def is_page(url: str) -> bool:
    parts = urlsplit(url)
    return (
        not parts.netloc
        and parts.path.startswith("/")
        and not parts.path.startswith(FILES)
        and not parts.path.endswith(MACHINE_SUFFIXES)
    )


def test_every_url_the_site_links_gives_a_browser_a_page(client):
    """From the home page, two links deep."""
    seen, frontier = set(), ["/"]
    for _ in range(2):
        following = []
        for url in frontier:
            answer = client.get(url, headers={"Accept": BROWSER})
            assert answer.status_code == 200, url
            assert answer.mimetype == "text/html", (url, answer.mimetype)
            for link in links(answer.get_data(as_text=True)):
                if is_page(link) and link not in seen:
                    seen.add(link)
                    following.append(link)
        frontier = following
    assert {"/ldes", "/shapes", "/.well-known/void", "/sparql"} <= {urlsplit(u).path for u in seen}


@pytest.mark.parametrize("url", ["/ldes", "/ldes/1", "/shapes"])
def test_a_machine_url_page_links_its_machine_formats(client, url):
    page = client.get(url, headers={"Accept": BROWSER}).get_data(as_text=True)
    formats = [link for link in links(page) if link.startswith(url + ".")]
    assert len(formats) >= 3, formats
    for link in formats:
        answer = client.get(link)
        assert answer.status_code == 200 and answer.mimetype != "text/html", link


@pytest.mark.parametrize(
    "url, accept, media_type",
    [
        ("/ldes", "", "application/trig"),
        ("/ldes", "*/*", "application/trig"),
        ("/ldes", "application/n-quads", "application/n-quads"),
        ("/ldes/1", "application/ld+json", "application/ld+json"),
        ("/shapes", "", "text/turtle"),
        ("/shapes", "*/*", "text/turtle"),
        ("/shapes", "application/rdf+xml", "application/rdf+xml"),
        ("/.well-known/void", "text/turtle", "text/turtle"),
    ],
)
def test_machine_clients_get_what_they_ask_for(client, url, accept, media_type):
    answer = client.get(url, headers={"Accept": accept} if accept else {})
    assert answer.status_code == 200 and answer.mimetype == media_type
    assert "Accept" in answer.headers["Vary"]


def test_a_page_of_the_change_stream_names_its_resources(client):
    page = client.get("/ldes/1", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert "/doc/organisation/mia-mga" in page


def test_the_shapes_page_says_what_an_article_needs(client):
    page = client.get("/shapes", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert (
        "schema:NewsArticle" in page and "an article needs a headline with a language tag" in page
    )


def test_an_unknown_format_of_the_stream_is_404(client):
    assert client.get("/ldes.xyz").status_code == 404
    assert client.get("/ldes/1.xyz").status_code == 404


def test_the_checksums_the_downloads_page_links_are_served(client):
    import hashlib

    with client.get("/dumps/SHA256SUMS") as sums:
        assert sums.status_code == 200 and sums.mimetype == "text/plain"
        lines = sums.get_data(as_text=True).splitlines()
    for line in lines:
        digest, name = line.split("  ")
        with client.get(f"/dumps/{name}") as dump:
            assert hashlib.sha256(dump.data).hexdigest() == digest


def test_a_list_asked_for_in_a_format_it_is_not_in_is_406(client):
    answer = client.get("/doc/event/", headers={"Accept": "text/turtle"})
    assert answer.status_code == 406
    assert "text/html" in answer.get_data(as_text=True)
