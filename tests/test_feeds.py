"""Feeds (/feeds/…): Atom 1.0, RSS 2.0 and JSON Feed 1.1 of the latest articles and of the
articles linked to a topic, organisation, person or event; read by feedparser with no
error, holding what the Atom and RSS specifications require; linked from the pages;
conditional GET."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

import feedparser
import pytest

from lod import Settings, build
from lod.web import create_app

from .conftest import copy_data
from .test_search import write_articles

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "https://lod.example.org/id/"
FEEDS = [
    "/feeds/articles",
    "/feeds/topic/digital-technologies",
    "/feeds/organisation/mia-mga",
    "/feeds/person/cecilie-kern",
    "/feeds/event/csocd59",
]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("feeds")
    data = copy_data(root / "data")
    write_articles(data)
    built = build(Settings(data=data, out=root / "dist"))
    return create_app(Settings(data=data, out=built.path.parent.parent)).test_client()


@pytest.mark.parametrize("path", FEEDS)
@pytest.mark.parametrize("fmt", ["atom", "rss"])  # feedparser 6.0 reads no JSON Feed
def test_feeds_parse_without_errors(client, path, fmt):
    response = client.get(f"{path}.{fmt}")
    assert response.status_code == 200
    parsed = feedparser.parse(
        response.data, response_headers={"content-type": response.headers["Content-Type"]}
    )
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == {"atom": "atom10", "rss": "rss20"}[fmt]
    assert parsed.entries
    for entry in parsed.entries:
        assert entry.id.startswith(BASE + "article/")
        assert entry.link.startswith("http://localhost/doc/article/")
        assert entry.title and entry.published_parsed
    if fmt == "atom":
        assert all(e.get("author") for e in parsed.entries)


def test_the_latest_feed_is_newest_first(client):
    parsed = feedparser.parse(client.get("/feeds/articles.atom").data)
    dates = [e.published_parsed for e in parsed.entries]
    assert dates == sorted(dates, reverse=True)
    assert len(parsed.entries) == 5


def test_a_topic_feed_holds_the_articles_about_it(client):
    parsed = feedparser.parse(client.get("/feeds/topic/digital-technologies.atom").data)
    slugs = {e.id.rsplit("/", 1)[1] for e in parsed.entries}
    assert {"headline-match", "body-match", "hostile", "photovoltaic"} <= slugs
    entry = next(e for e in parsed.entries if e.id.endswith("/headline-match"))
    assert entry.author == "Cecilie Kern"
    assert "Digital technologies" in {t.label for t in entry.tags}
    assert entry.summary == "Island states met in Suva."


def test_a_hostile_headline_stays_text(client):
    parsed = feedparser.parse(client.get("/feeds/articles.atom").data)
    entry = next(e for e in parsed.entries if e.id.endswith("/hostile"))
    assert entry.title == '<script>alert("x")</script> Hostile <b>headline</b>'
    assert entry.title_detail.type == "text/plain"


def test_atom_has_what_the_specification_requires(client):
    """RFC 4287: a feed has atom:id, atom:title, atom:updated, an author (or every entry
    has one), a self link; each entry atom:id, atom:title, atom:updated."""
    root = ET.fromstring(client.get("/feeds/topic/digital-technologies.atom").data)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{name}") is not None, name
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    entries = root.findall(f"{ATOM}entry")
    assert entries
    for entry in entries:
        for name in ("id", "title", "updated", "published", "summary", "category"):
            assert entry.find(f"{ATOM}{name}") is not None, name
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None


def test_rss_has_what_the_specification_requires(client):
    """RSS 2.0: a channel has title, link and description; an item a title or a
    description (here both, with a guid, link and pubDate)."""
    root = ET.fromstring(client.get("/feeds/organisation/mia-mga.rss").data)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for name in ("title", "link", "description"):
        assert channel.findtext(name), name
    items = channel.findall("item")
    assert items
    for item in items:
        for name in ("title", "link", "guid", "pubDate"):
            assert item.findtext(name), name


@pytest.mark.parametrize("path", FEEDS)
def test_json_feed_has_what_the_specification_requires(client, path):
    """JSON Feed 1.1: version, title and items; each item an id and content_text or
    content_html; dates in RFC 3339."""
    response = client.get(f"{path}.json")
    assert response.mimetype == "application/feed+json"
    body = response.json
    assert body["version"] == "https://jsonfeed.org/version/1.1"
    assert body["title"] and body["items"] and body["feed_url"].endswith(f"{path}.json")
    for item in body["items"]:
        assert isinstance(item["id"], str) and item["url"].startswith("http://localhost/doc/")
        assert item["content_text"]
        assert datetime.fromisoformat(item["date_published"])
        assert all(author["name"] for author in item["authors"])


@pytest.mark.parametrize(
    ("page", "feed"),
    [
        ("/", "/feeds/articles.atom"),
        ("/doc/topic/digital-technologies", "/feeds/topic/digital-technologies.atom"),
        ("/doc/organisation/mia-mga", "/feeds/organisation/mia-mga.rss"),
        ("/doc/person/cecilie-kern", "/feeds/person/cecilie-kern.json"),
        ("/doc/event/csocd59", "/feeds/event/csocd59.atom"),
    ],
)
def test_pages_link_their_feeds(client, page, feed):
    body = client.get(page, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'rel="alternate" type="application/' in body
    assert f'href="{feed}"' in body


def test_pages_without_a_feed_link_none(client):
    body = client.get("/doc/place/new-york-city", headers={"Accept": "text/html"})
    assert "/feeds/" not in body.get_data(as_text=True)


def test_conditional_get(client):
    first = client.get("/feeds/articles.rss")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get("/feeds/articles.rss", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/articles.xml",
        "/feeds/place/new-york-city.atom",
        "/feeds/topic/no-such-topic.atom",
        "/feeds/topic/Bad..slug.rss",
    ],
)
def test_unknown_feeds_are_404(client, path):
    assert client.get(path).status_code == 404
