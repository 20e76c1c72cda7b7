"""Feeds of the latest articles, in Atom 1.0, RSS 2.0 and JSON Feed 1.1: of all articles
(/feeds/articles.atom, .rss, .json) and of the articles about, mentioning or by a topic,
organisation, person or event (/feeds/{kind}/{slug}.atom …). Each entry: the article's
IRI as id, its page as link, dates, authors, its topics as categories, its summary.

Each feed also comes in each of the dataset's languages: /feeds/articles.fr.atom,
/feeds/topic/{slug}.fr.rss … hold the articles in that language only (their inLanguage,
`fr` taking `fr-CA` too), name authors and topics in it (falling back in the dataset's
order) and say it (Atom's xml:lang, RSS's <language>, JSON Feed's `language`). A language
is a path, not a parameter: one URL per feed, as readers and caches keep it. The feeds
without one keep every article, each saying its language, the feed's own texts in the
dataset's first language. `feed_url` and `language_feed_links` give pages their URLs.

Entries come from the build's search index (an index walk of FEED_SIZE rows, whatever the
size of the data); responses carry an ETag and Last-Modified from the build."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, request, url_for

from ..languages import autonym, best, chosen, fallback, pick, within
from ..vocab import SLUG, id_prefix
from .current import served
from .errors import HttpError
from .pages import href
from .reader import labels_of
from .search import index

blueprint = Blueprint("feeds", __name__)
FEED_SIZE = 50
KINDS = ("topic", "organisation", "person", "event")
ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MEDIA = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
TITLES = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}


@blueprint.get("/feeds/articles.<fmt>")
def latest(fmt: str):
    """The latest articles; `fmt` is `atom` … or, in a language, `fr.atom` …"""
    asked, dot, fmt = fmt.rpartition(".")
    language = _offered(asked if dot else None)
    title = _title(language)
    if language is None:
        title = f"{title}: latest articles"
    else:
        title = f"{title} ({autonym(language)})"
    feed_id = f"{served().base}feeds/articles" + (f".{language}" if language else "")
    return _feed(fmt, None, language, (feed_id, title, url_for("resources.home")))


@blueprint.get("/feeds/<kind>/<slug>.<fmt>")
def about(kind: str, slug: str, fmt: str):
    """A record's articles; `slug.fmt` is `x.atom` … or, in a language, `x.fr.atom` …"""
    slug, dot, asked = slug.partition(".")  # a slug has no dot: what follows is a language
    if kind not in KINDS or not SLUG.fullmatch(slug):
        raise HttpError(404, f"No feed for `{kind}/{slug[:80]}`; feeds are of " + ", ".join(KINDS))
    language = _offered(asked if dot else None)
    iri = f"{id_prefix(served().base)}{kind}/{slug}"
    name = _name(iri, language)
    if name is None:
        raise HttpError(404, f"No {kind} `{slug}` in this dataset.")
    title = f"{_title(language)}: {name[1]}"
    feed_id = iri
    if language is not None:
        title += f" ({autonym(language)})"
        feed_id = f"{served().base}feeds/{kind}/{slug}.{language}"
    page = href(iri, served().base, request.script_root)
    return _feed(fmt, iri, language, (feed_id, title, page))


def feed_url(fmt: str, language: str | None = None, record: tuple[str, str] | None = None):
    """The URL of a feed (under the app's mount point): of the latest articles, or of
    those linked to `record` (kind, slug); in `language`, or in all languages."""
    if record is None:
        return url_for("feeds.latest", fmt=f"{language}.{fmt}" if language else fmt)
    slug = f"{record[1]}.{language}" if language else record[1]
    return url_for("feeds.about", kind=record[0], slug=slug, fmt=fmt)


def feed_links() -> list[tuple[str, str, str]]:
    """The feeds of the page being rendered, as (url, media type, title): the latest
    articles on the home page, a record's articles on its page."""
    record = _page_record()
    if record is False:
        return []
    name = _page_title(record, None)
    return [(feed_url(f, None, record), MEDIA[f], f"{name} ({TITLES[f]})") for f in MEDIA]


def language_feed_links() -> list[tuple[str, str, str, str]]:
    """The same feeds in each of the dataset's languages some article is written in, as
    (url, media type, title, hreflang): for `<link rel="alternate" hreflang=…>`, the
    record named in that language."""
    record = _page_record()
    if record is False:
        return []
    written = _written()
    return [
        (
            feed_url(f, language, record),
            MEDIA[f],
            f"{_page_title(record, language)} ({autonym(language)}, {TITLES[f]})",
            language,
        )
        for language in served().build.manifest["languages"]
        if any(within(tag, language) for tag in written)
        for f in MEDIA
    ]


def _page_record() -> tuple[str, str] | None | bool:
    """Whose feed the page being rendered has: None (the latest articles) on the home
    page, (kind, slug) on the page of a record that has one, False on other pages."""
    if request.path == "/":
        return None
    parts = request.path.split("/")
    if len(parts) == 4 and parts[1] == "doc" and parts[2] in KINDS:
        slug, _, extension = parts[3].partition(".")
        iri = f"{id_prefix(served().base)}{parts[2]}/{slug}"
        if extension in ("", "html") and served().lists.entry(iri) is not None:
            return parts[2], slug
    return False


def _page_title(record: tuple[str, str] | None, language: str | None) -> str:
    if record is None:
        return "Latest articles"
    iri = f"{id_prefix(served().base)}{record[0]}/{record[1]}"
    return f"Articles: {_name(iri, language)[1]}"


@blueprint.app_context_processor
def _globals():
    return {"feed_links": feed_links, "language_feed_links": language_feed_links}


# languages


def _offered(asked: str | None) -> str | None:
    """The dataset's language a feed's URL names (None: it names none); 404 for one the
    dataset does not have."""
    if asked is None:
        return None
    languages = served().build.manifest["languages"]
    language = chosen(asked, languages)
    if language is None:
        raise HttpError(404, f"No feed in `{asked[:20]}`; its languages: " + ", ".join(languages))
    return language


def _order(language: str | None) -> tuple[str, ...]:
    languages = served().build.manifest["languages"]
    return fallback(language or languages[0], languages)


def _title(language: str | None) -> str:
    """The dataset's title in `language`, falling back in its order."""
    manifest = served().build.manifest
    return pick(manifest["titles"].items(), _order(language)) or manifest["title"]


def _name(iri: str, language: str | None) -> tuple[str, str] | None:
    """(tag, name) of a record in `language` (None: the dataset's first), falling back
    in the dataset's order; the IRI itself for one outside the dataset; None for one of the
    dataset that is not there."""
    listed = served().lists.entry(iri)
    if listed is None:
        return None if iri.startswith(id_prefix(served().base)) else ("", iri)
    # lists.json has a record's labels by language when it has several, else its one label
    # and its language (unless it is the first)
    labels = labels_of(listed, served().build.manifest["languages"][0])
    found = best(labels.items(), _order(language))
    return ("", iri.rsplit("/", 1)[-1]) if found is None else found


def _language(iri: str) -> str:
    """An article's language (its inLanguage), from lists.json, which names it when it is
    not the dataset's first; "" for a record not listed."""
    entry = served().lists.entry(iri)
    first = served().build.manifest["languages"][0]
    return "" if entry is None else entry.get("language", first)


def _written() -> set[str]:
    """The languages some article is written in (read once per build)."""
    current = served()
    first = current.build.manifest["languages"][0]
    return current.memo(
        "feed-languages",
        lambda: {found or first for found in current.lists.distinct("article", "language")},
    )


def _articles(iri: str | None, language: str | None) -> list[dict]:
    """The newest FEED_SIZE articles (linked to the record `iri`), of `language` only when
    one is given. The search index knows no article's language (lists.json does): the
    newest are read in batches four times larger each time, until FEED_SIZE are in the
    language or none are left."""
    if language is None:
        return index().latest(iri, FEED_SIZE)
    limit = FEED_SIZE
    while True:
        newest = index().latest(iri, limit)
        found = [e for e in newest if within(_language(e["iri"]), language)]
        if len(found) >= FEED_SIZE or len(newest) < limit:
            return found[:FEED_SIZE]
        limit *= 4


def _feed(fmt: str, iri: str | None, language: str | None, about: tuple) -> Response:
    """The feed of the articles linked to `iri` (None: all), in `language` (None: all);
    `about`: its id, title and page (a URL from url_for)."""
    if fmt not in MEDIA:
        raise HttpError(404, "No feed format `." + fmt[:20] + "`; offered: .atom, .rss, .json")
    feed_id, title, page = about
    current = served()
    entries = _articles(iri, language)
    created = datetime.fromisoformat(current.build.manifest["created"])
    self_url = request.base_url
    # `page` comes from url_for, mount point included: only the scheme and host go before it
    page_url = request.host_url.rstrip("/") + page if page.startswith("/") else page
    updated = max((_when(e["modified"] or e["date"]) for e in entries), default=created)
    feed = {
        "id": feed_id,
        "title": title,
        "self": self_url,
        "page": page_url,
        # the language of the feed's own texts, and whether every entry is in it
        "language": language or current.build.manifest["languages"][0],
        "one language": language is not None,
        "updated": updated,
        "entries": [
            {
                "id": e["iri"],
                "title": e["title"],
                "language": _language(e["iri"]) or None,
                "link": request.host_url.rstrip("/")
                + (href(e["iri"], current.base, request.script_root) or ""),
                "published": _when(e["date"]),
                "updated": _when(e["modified"] or e["date"]),
                "authors": [_name(a, language) or ("", a) for a in e["authors"]],
                "categories": [(t, *(_name(t, language) or ("", t))) for t in e["topics"]],
                "summary": e["summary"],
            }
            for e in entries
        ],
        "author": _title(language),
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

    def lang(tag: str | None, outer: str) -> dict:
        """xml:lang for a text in `tag` inside an element in `outer`, when they differ."""
        return {XML_LANG: tag} if tag and tag.lower() != outer.lower() else {}

    root = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: feed["language"]})
    el(root, "id", feed["id"])
    el(root, "title", feed["title"])
    el(root, "updated", _rfc3339(feed["updated"]))
    el(root, "link", rel="self", href=feed["self"], type=MEDIA["atom"])
    el(root, "link", rel="alternate", href=feed["page"], type="text/html")
    el(el(root, "author"), "name", feed["author"])
    for entry in feed["entries"]:
        node = el(root, "entry")
        written = lang(entry["language"], feed["language"])  # the article's own texts
        el(node, "id", entry["id"])
        el(node, "title", entry["title"], **written)
        el(node, "link", rel="alternate", href=entry["link"], type="text/html")
        el(node, "published", _rfc3339(entry["published"]))
        el(node, "updated", _rfc3339(entry["updated"]))
        for tag, author in entry["authors"]:
            el(el(node, "author", **lang(tag, feed["language"])), "name", author)
        for term, tag, label in entry["categories"]:
            el(node, "category", term=term, label=label, **lang(tag, feed["language"]))
        if entry["summary"]:
            el(node, "summary", entry["summary"], type="text", **written)
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
    if feed["one language"]:  # RSS says one language a channel, none an item
        ET.SubElement(channel, "language").text = feed["language"]
    ET.SubElement(channel, "lastBuildDate").text = format_datetime(feed["updated"])
    for entry in feed["entries"]:
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = entry["title"]
        ET.SubElement(item, "link").text = entry["link"]
        ET.SubElement(item, "guid", isPermaLink="false").text = entry["id"]
        ET.SubElement(item, "pubDate").text = format_datetime(entry["published"])
        if entry["summary"]:
            ET.SubElement(item, "description").text = entry["summary"]
        for _, _, label in entry["categories"]:
            ET.SubElement(item, "category").text = label
        for _, author in entry["authors"]:  # RSS's <author> is an e-mail address
            ET.SubElement(item, "{http://purl.org/dc/elements/1.1/}creator").text = author
    ET.register_namespace("dc", "http://purl.org/dc/elements/1.1/")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _json(feed: dict) -> bytes:
    body = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed["title"],
        "language": feed["language"],
        "home_page_url": feed["page"],
        "feed_url": feed["self"],
        "authors": [{"name": feed["author"]}],
        "items": [
            {
                "id": entry["id"],
                "url": entry["link"],
                "title": entry["title"],
                **({"language": entry["language"]} if entry["language"] else {}),
                "summary": entry["summary"],
                "content_text": entry["summary"] or entry["title"],
                "date_published": _rfc3339(entry["published"]),
                "date_modified": _rfc3339(entry["updated"]),
                "authors": [{"name": a} for _, a in entry["authors"]],
                "tags": [label for _, _, label in entry["categories"]],
            }
            for entry in feed["entries"]
        ],
    }
    return json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8")
