"""Feeds of the latest articles, in Atom 1.0, RSS 2.0 and JSON Feed 1.1: of all articles
(/feeds/articles.atom, .rss, .json) and of the articles about, mentioning or by a topic,
organisation, person or event (/feeds/{kind}/{slug}.atom …). Each entry: the article's
IRI as id, its page as link, dates, authors, its topics as categories, its summary.

Entries come from the build's search index (an index walk of FEED_SIZE rows, whatever the
size of the data); responses carry an ETag and Last-Modified from the build."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, request, url_for

from ..vocab import SLUG, id_prefix
from .current import served
from .errors import HttpError
from .pages import href
from .search import index, labels

blueprint = Blueprint("feeds", __name__)
FEED_SIZE = 50
KINDS = ("topic", "organisation", "person", "event")
ATOM = "http://www.w3.org/2005/Atom"
MEDIA = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
TITLES = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}


@blueprint.get("/feeds/articles.<fmt>")
def latest(fmt: str):
    title = served().build.manifest["title"]
    return _feed(fmt, None, f"{title}: latest articles", url_for("resources.home"))


@blueprint.get("/feeds/<kind>/<slug>.<fmt>")
def about(kind: str, slug: str, fmt: str):
    if kind not in KINDS or not SLUG.fullmatch(slug):
        raise HttpError(404, f"No feed for `{kind}/{slug[:80]}`; feeds are of " + ", ".join(KINDS))
    iri = f"{id_prefix(served().base)}{kind}/{slug}"
    name = labels().get(iri)
    if name is None:
        raise HttpError(404, f"No {kind} `{slug}` in this dataset.")
    title = f"{served().build.manifest['title']}: {name}"
    return _feed(fmt, iri, title, href(iri, served().base, request.script_root))


def feed_links() -> list[tuple[str, str, str]]:
    """The feeds of the page being rendered, as (url, media type, title): the latest
    articles on the home page, a record's articles on its page."""
    path = request.path
    formats = list(MEDIA)
    if path == "/":
        return [
            (url_for("feeds.latest", fmt=f), MEDIA[f], f"Latest articles ({TITLES[f]})")
            for f in formats
        ]
    parts = path.split("/")
    if len(parts) == 4 and parts[1] == "doc" and parts[2] in KINDS:
        slug, _, extension = parts[3].partition(".")
        iri = f"{id_prefix(served().base)}{parts[2]}/{slug}"
        if extension in ("", "html") and iri in labels():
            return [
                (
                    url_for("feeds.about", kind=parts[2], slug=slug, fmt=f),
                    MEDIA[f],
                    f"Articles: {labels()[iri]} ({TITLES[f]})",
                )
                for f in formats
            ]
    return []


@blueprint.app_context_processor
def _globals():
    return {"feed_links": feed_links}


def _feed(fmt: str, iri: str | None, title: str, page: str) -> Response:
    if fmt not in MEDIA:
        raise HttpError(404, "No feed format `." + fmt[:20] + "`; offered: .atom, .rss, .json")
    current = served()
    entries = index().latest(iri, FEED_SIZE)
    names = labels()
    created = datetime.fromisoformat(current.build.manifest["created"])
    self_url = request.base_url
    # `page` comes from url_for, mount point included: only the scheme and host go before it
    page_url = request.host_url.rstrip("/") + page if page.startswith("/") else page
    updated = max((_when(e["modified"] or e["date"]) for e in entries), default=created)
    feed = {
        "id": iri or f"{current.base}feeds/articles",
        "title": title,
        "self": self_url,
        "page": page_url,
        "updated": updated,
        "entries": [
            {
                "id": e["iri"],
                "title": e["title"],
                "link": request.host_url.rstrip("/")
                + (href(e["iri"], current.base, request.script_root) or ""),
                "published": _when(e["date"]),
                "updated": _when(e["modified"] or e["date"]),
                "authors": [names.get(a, a) for a in e["authors"]],
                "categories": [(t, names.get(t, t)) for t in e["topics"]],
                "summary": e["summary"],
            }
            for e in entries
        ],
        "author": current.build.manifest["title"],
    }
    body = {"atom": _atom, "rss": _rss, "json": _json}[fmt](feed)
    response = Response(body, mimetype=MEDIA[fmt])
    response.set_etag(f"{current.etag}-feed-{fmt}")
    response.last_modified = created
    response.headers["Cache-Control"] = "public, max-age=300"
    return response.make_conditional(request)


def _when(value: str) -> datetime:
    """An xsd:date or xsd:dateTime as a datetime (a date at midnight UTC; no offset: UTC)."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        try:
            when = datetime.combine(date.fromisoformat(value[:10]), datetime.min.time())
        except ValueError:
            when = datetime(1970, 1, 1)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _rfc3339(when: datetime) -> str:
    """A time as Atom and JSON Feed write it.

    >>> _rfc3339(_when("2021-02-08"))
    '2021-02-08T00:00:00Z'
    """
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


def _atom(feed: dict) -> bytes:
    ET.register_namespace("", ATOM)

    def el(parent, tag, text=None, **attributes):
        node = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
        if text is not None:
            node.text = text
        return node

    root = ET.Element(f"{{{ATOM}}}feed")
    el(root, "id", feed["id"])
    el(root, "title", feed["title"])
    el(root, "updated", _rfc3339(feed["updated"]))
    el(root, "link", rel="self", href=feed["self"], type=MEDIA["atom"])
    el(root, "link", rel="alternate", href=feed["page"], type="text/html")
    el(el(root, "author"), "name", feed["author"])
    for entry in feed["entries"]:
        node = el(root, "entry")
        el(node, "id", entry["id"])
        el(node, "title", entry["title"])
        el(node, "link", rel="alternate", href=entry["link"], type="text/html")
        el(node, "published", _rfc3339(entry["published"]))
        el(node, "updated", _rfc3339(entry["updated"]))
        for author in entry["authors"]:
            el(el(node, "author"), "name", author)
        for term, label in entry["categories"]:
            el(node, "category", term=term, label=label)
        if entry["summary"]:
            el(node, "summary", entry["summary"], type="text")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _rss(feed: dict) -> bytes:
    atom = f"{{{ATOM}}}"
    ET.register_namespace("atom", ATOM)
    root = ET.Element("rss", version="2.0")
    channel = ET.SubElement(root, "channel")
    ET.SubElement(channel, "title").text = feed["title"]
    ET.SubElement(channel, "link").text = feed["page"]
    ET.SubElement(channel, "description").text = feed["title"]
    ET.SubElement(channel, f"{atom}link", rel="self", href=feed["self"], type=MEDIA["rss"])
    ET.SubElement(channel, "lastBuildDate").text = format_datetime(feed["updated"])
    for entry in feed["entries"]:
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = entry["title"]
        ET.SubElement(item, "link").text = entry["link"]
        ET.SubElement(item, "guid", isPermaLink="false").text = entry["id"]
        ET.SubElement(item, "pubDate").text = format_datetime(entry["published"])
        if entry["summary"]:
            ET.SubElement(item, "description").text = entry["summary"]
        for _, label in entry["categories"]:
            ET.SubElement(item, "category").text = label
        for author in entry["authors"]:  # RSS's <author> is an e-mail address
            ET.SubElement(item, "{http://purl.org/dc/elements/1.1/}creator").text = author
    ET.register_namespace("dc", "http://purl.org/dc/elements/1.1/")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _json(feed: dict) -> bytes:
    body = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed["title"],
        "home_page_url": feed["page"],
        "feed_url": feed["self"],
        "authors": [{"name": feed["author"]}],
        "items": [
            {
                "id": entry["id"],
                "url": entry["link"],
                "title": entry["title"],
                "summary": entry["summary"],
                "content_text": entry["summary"] or entry["title"],
                "date_published": _rfc3339(entry["published"]),
                "date_modified": _rfc3339(entry["updated"]),
                "authors": [{"name": a} for a in entry["authors"]],
                "tags": [label for _, label in entry["categories"]],
            }
            for entry in feed["entries"]
        ],
    }
    return json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8")
