"""Feeds: RSS 2.0, RSS 1.0 (RDF Site Summary) and 0.9, Atom 1.0 (RFC 4287) and JSON Feed 1.1.

Parsed here rather than by feedparser: feedparser reads the whole document into memory
and is lenient (it guesses at broken XML), where an import must stream (a large archive
feed, memory flat) and must refuse what is not well-formed, naming the place; the XML
formats share one safe streaming parser (xmlsafe) with the WordPress importer.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from html import unescape
from xml.etree.ElementTree import Element

from ..errors import ImportSourceError
from . import bylines, html, languages, slugs, xmlsafe
from .common import Agent, Publisher, RawItem, Term, agent_from_rss, entities
from .model import Event, Options, Site, fault

CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
MEDIA = "http://search.yahoo.com/mrss/"
ATOM = "http://www.w3.org/2005/Atom"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _media_image(element: Element) -> str:
    """An image from an enclosure or Media RSS (media:content, media:thumbnail, also
    nested in media:group)."""
    return _enclosure_image(element) or _media_rss_image(element)


_IMG = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
_NOT_A_PICTURE = re.compile(
    r"\.gif(?:$|\?)|icon|mime|smil(?:e|ey)|emoji|emoticon|spacer|pixel|/feeds?/|style_?images",
    re.IGNORECASE,
)


def body_image(markup: str) -> str:
    """The first image of an item's HTML that is a picture, not a file-type icon, a
    smiley, a spacer or an animated banner (a GIF): what an item without an enclosure
    or Media RSS image is shown with (Movable Type puts a zip icon first)."""
    for found in _IMG.finditer(markup or ""):
        url = unescape(found.group(1))
        if url.startswith(("http://", "https://")) and not _NOT_A_PICTURE.search(url):
            return url
    return ""


def _enclosure_image(element: Element) -> str:
    for enclosure in xmlsafe.children(element, "enclosure"):
        if (enclosure.get("type") or "").startswith("image/") and enclosure.get("url"):
            return enclosure.get("url")
    return ""


def _media_rss_image(element: Element) -> str:
    for sub in element.iter():
        if xmlsafe.namespace(sub.tag) == MEDIA and sub.get("url") and _shows_an_image(sub):
            return sub.get("url")
    return ""


def _shows_an_image(media: Element) -> bool:
    """A media:thumbnail always does; a media:content when its medium or its type says
    so (it may be a video or a podcast's audio)."""
    name = xmlsafe.local(media.tag)
    if name == "thumbnail":
        return True
    kind = media.get("type") or ""
    return name == "content" and (media.get("medium") == "image" or kind.startswith("image/"))


def _read_items(path: str, options: Options, tag: str, site_of, item_of) -> Iterator[Event]:
    """A feed whose site is described by its root element, before its items (RSS 2.0,
    Atom): the site (`site_of(path, root)`) and its publisher first, then each `tag`
    element's records (`item_of(path, element, position, site)`), one item at a time."""
    publisher = Publisher(options)
    root, site = None, None
    for event, element, position in xmlsafe.stream(path, {tag}, options.max_bytes):
        if event == "start":
            root = element
            continue
        if site is None:
            site = site_of(path, root)
            yield from publisher.site(site)
        if event == "item":
            yield from entities(item_of(path, element, position, site), publisher.slug, options)


def read_rss2(path: str, options: Options) -> Iterator[Event]:
    return _read_items(
        path,
        options,
        "item",
        _rss2_site,
        lambda path, element, position, site: _rss2_item(path, element, position, site.language),
    )


def _rss2_site(path: str, root: Element) -> Site:
    channel = xmlsafe.child(root, "channel")
    if channel is None:
        raise ImportSourceError(path, 0, "channel", "an RSS 2.0 feed needs a <channel>")
    return Site(
        html.to_text(xmlsafe.child_text(channel, "title")),
        xmlsafe.child_text(channel, "link", ""),
        languages.first(
            xmlsafe.child_text(channel, "language"),
            xmlsafe.child_text(channel, "language", DC),
            channel.get(XML_LANG),
            root.get(XML_LANG),
        ),
        html.to_text(xmlsafe.child_text(channel, "description")),
    )


def _item_language(element: Element, feed: str) -> str:
    """An item's own language (its xml:lang, its dc:language), else its feed's."""
    return languages.first(element.get(XML_LANG), xmlsafe.child_text(element, "language", DC), feed)


def _rss2_item(path: str, element: Element, position: int, language: str) -> RawItem:
    """Authors from dc:creator, else from RSS's own `author` (an e-mail address, with the
    name in brackets or none at all)."""
    creators = _dc_creators(element) or [
        Agent(name)
        for agent in map(
            agent_from_rss, (xmlsafe.text(x) for x in xmlsafe.children(element, "author"))
        )
        if agent
        for name in bylines.names(agent.name)
    ]
    body = xmlsafe.child_text(element, "encoded", CONTENT)
    summary = xmlsafe.child_text(element, "description", "")
    return RawItem(
        file=path,
        position=position,
        ident=xmlsafe.child_text(element, "guid"),
        link=xmlsafe.child_text(element, "link", ""),
        title=xmlsafe.child_text(element, "title", ""),
        html=body,
        summary=summary,
        published=xmlsafe.child_text(element, "pubDate") or xmlsafe.child_text(element, "date", DC),
        updated=xmlsafe.child_text(element, "updated", ATOM),
        authors=creators,
        terms=_named_terms(xmlsafe.children(element, "category", "")),
        image=_media_image(element) or body_image(body or summary),
        language=_item_language(element, language),
    )


def _dc_creators(element: Element) -> list[Agent]:
    """The people of dc:creator bylines, several in one cut apart (lod.ingest.bylines)."""
    return [
        Agent(name)
        for creator in xmlsafe.children(element, "creator", DC)
        for name in bylines.names(xmlsafe.text(creator))
    ]


def _named_terms(elements: list[Element]) -> list[Term]:
    """Topics from elements whose text is the term (RSS's category, Dublin Core's
    subject), the empty ones passed over."""
    return [Term(xmlsafe.text(e), xmlsafe.text(e)) for e in elements if xmlsafe.text(e)]


def read_rss1(path: str, options: Options) -> Iterator[Event]:
    """RSS 1.0: items are siblings of the channel under rdf:RDF, each with rdf:about; a
    feed whose items come before its channel (or that has none) is named after its file."""
    publisher = Publisher(options)
    site = Site(os.path.basename(path))
    for event, element, position in xmlsafe.stream(path, {"item", "channel"}, options.max_bytes):
        if event == "start":
            continue
        if event == "end":
            yield from publisher.site(site)
            break
        if xmlsafe.local(element.tag) == "channel":
            site = _rss1_site(element)
            yield from publisher.site(site)
            continue
        yield from publisher.site(site)
        item = _rss1_item(path, element, position, site)
        if not item.published:
            yield fault(path, item.label, "date", _undated(element))
            continue
        yield from entities(item, publisher.slug, options)


RSS090 = "http://my.netscape.com/rdf/simple/0.9/"


def _undated(item: Element) -> str:
    """Why an RSS 0.9/1.0 item has no date. The channel's own date, when it has one, is
    not taken for its items': it says when the feed was made, and would give every item
    the same publication date, which the dataset would then state as a fact."""
    if xmlsafe.namespace(item.tag) == RSS090:
        return (
            "missing: RSS 0.9 gives its items no date (the channel's is not theirs);"
            " import these articles from their pages or from a feed that dates them"
        )
    return "missing: no dc:date (the channel's date is not the item's)"


def _rss1_site(channel: Element) -> Site:
    return Site(
        xmlsafe.child_text(channel, "title"),
        xmlsafe.child_text(channel, "link"),
        languages.first(xmlsafe.child_text(channel, "language", DC), channel.get(XML_LANG)),
        html.to_text(xmlsafe.child_text(channel, "description")),
    )


def _rss1_item(path: str, element: Element, position: int, site: Site) -> RawItem:
    return RawItem(
        file=path,
        position=position,
        ident=element.get(f"{{{RDF}}}about") or "",
        link=xmlsafe.child_text(element, "link"),
        title=xmlsafe.child_text(element, "title"),
        html=xmlsafe.child_text(element, "encoded", CONTENT),
        summary=xmlsafe.child_text(element, "description"),
        published=xmlsafe.child_text(element, "date", DC),
        authors=_dc_creators(element),
        terms=_named_terms(xmlsafe.children(element, "subject", DC)),
        language=_item_language(element, site.language),
    )


def _atom_text(element: Element | None) -> tuple[str, bool]:
    """An Atom text construct: (its content, whether it is HTML)."""
    if element is None:
        return "", False
    kind = element.get("type", "text")
    if kind == "xhtml":
        div = xmlsafe.child(element, "div")
        from xml.etree.ElementTree import tostring

        inner = "".join(
            tostring(sub, encoding="unicode", default_namespace=None) for sub in (div or [])
        )
        inner = (div.text or "" if div is not None else "") + inner
        return inner.replace("html:", "").replace(' xmlns="http://www.w3.org/1999/xhtml"', ""), True
    return "".join(element.itertext()), kind == "html"


def _atom_link(element: Element, site: str = "") -> str:
    """The entry's page: its alternate link; for a link-blog entry, whose alternate link
    is the page it points to on another site (Daring Fireball), its `related` link on the
    feed's own site, when it has one: the post is the publisher's, the page it links to
    is not."""
    links = [
        (link.get("rel", "alternate"), link.get("href"))
        for link in xmlsafe.children(element, "link", ATOM)
        if link.get("href")
    ]
    alternate = next((href for rel, href in links if rel == "alternate"), "")
    own = slugs.host(site)
    if own and alternate and slugs.host(alternate) != own:
        related = (href for rel, href in links if rel == "related" and slugs.host(href) == own)
        return next(related, alternate)
    return alternate


def read_atom(path: str, options: Options) -> Iterator[Event]:
    return _read_items(
        path,
        options,
        "entry",
        _atom_site,
        lambda path, element, position, site: _atom_entry(
            path, element, position, site.language, site.url
        ),
    )


def _atom_site(path: str, root: Element) -> Site:
    return Site(
        html.to_text(_atom_text(xmlsafe.child(root, "title", ATOM))[0]),
        _atom_link(root),
        languages.tag(root.get(XML_LANG)),
        html.to_text(_atom_text(xmlsafe.child(root, "subtitle", ATOM))[0]),
    )


def _atom_entry(
    path: str, element: Element, position: int, language: str, site: str = ""
) -> RawItem:
    content, content_html = _atom_text(xmlsafe.child(element, "content", ATOM))
    summary, summary_html = _atom_text(xmlsafe.child(element, "summary", ATOM))
    title, title_html = _atom_text(xmlsafe.child(element, "title", ATOM))
    authors = [
        Agent(
            " ".join(xmlsafe.child_text(a, "name", ATOM).split()),
            xmlsafe.child_text(a, "uri", ATOM),
            xmlsafe.child_text(a, "uri", ATOM),
        )
        for a in xmlsafe.children(element, "author", ATOM)
        if not bylines.is_generic(xmlsafe.child_text(a, "name", ATOM))
    ]
    terms = [
        Term(c.get("term", ""), c.get("label") or c.get("term", ""))
        for c in xmlsafe.children(element, "category", ATOM)
        if c.get("term")
    ]
    return RawItem(
        file=path,
        position=position,
        ident=xmlsafe.child_text(element, "id", ATOM),
        link=_atom_link(element, site),
        title=title if title_html else as_html(title),
        html=content if content_html else _paragraphs(content),
        summary=summary if summary_html else as_html(summary),
        published=xmlsafe.child_text(element, "published", ATOM),
        updated=xmlsafe.child_text(element, "updated", ATOM),
        authors=authors,
        terms=terms,
        image=_media_image(element) or body_image(content if content_html else ""),
        language=_entry_language(element, language),
    )


def _entry_language(entry: Element, feed: str) -> str:
    """The language of an entry's text: its content's xml:lang (the body may be in another
    language than the entry's metadata), else the entry's, else the feed's."""
    content = xmlsafe.child(entry, "content", ATOM)
    return languages.first(
        content.get(XML_LANG) if content is not None else "", entry.get(XML_LANG), feed
    )


def html_escape(text: str) -> str:
    from html import escape

    return escape(text or "", quote=False)


def as_html(text: str) -> str:
    """Plain text (an Atom text construct, a JSON Feed title or summary) as HTML, its
    character references decoded first: Movable Type and others write `&nbsp;` and
    `&amp;` in text that is not HTML, where by the specification they would be shown as
    written; nobody means a literal `&nbsp;`."""
    from html import unescape

    return html_escape(unescape(text or ""))


def _paragraphs(text: str) -> str:
    if not text.strip():
        return ""
    return "".join(f"<p>{html_escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


JSON_ITEM = {  # RawItem's field: the JSON Feed item's keys for it, the first with a value
    "ident": ("id",),
    "link": ("url",),
    "html": ("content_html",),
    "text_body": ("content_text",),
    "published": ("date_published",),
    "updated": ("date_modified",),
    "image": ("image", "banner_image"),
}


def read_json_feed(path: str, options: Options) -> Iterator[Event]:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1): read whole (capped), it is
    JSON; `authors` (1.1) and `author` (1.0) both read."""
    feed = _json_feed(path, options)
    language = languages.tag(feed.get("language"))
    site = Site(
        _json_text(feed, "title"),
        _json_text(feed, "home_page_url"),
        language,
        _json_text(feed, "description"),
    )
    publisher = Publisher(options)
    yield from publisher.site(site)
    feed_authors = _json_authors(feed)
    for position, entry in enumerate(feed["items"], start=1):
        if not isinstance(entry, dict):
            yield fault(path, f"#{position}", "", "an item must be an object")
            continue
        item = RawItem(
            file=path,
            position=position,
            **{name: _json_text(entry, *keys) for name, keys in JSON_ITEM.items()},
            title=as_html(_json_text(entry, "title")),
            summary=as_html(_json_text(entry, "summary")),
            authors=_json_authors(entry) or feed_authors,
            terms=[Term(str(t), str(t)) for t in entry.get("tags") or [] if str(t).strip()],
            language=languages.first(entry.get("language"), language),
        )
        yield from entities(item, publisher.slug, options)


def _json_feed(path: str, options: Options) -> dict:
    """The feed object, or ImportSourceError for a file that is no JSON Feed."""
    xmlsafe.check_size(path, options.max_bytes)
    try:
        with open(path, "rb") as handle:
            feed = json.loads(handle.read().decode("utf-8-sig"))
    except UnicodeDecodeError as bad:
        raise ImportSourceError(path, 0, "", f"not UTF-8: {bad.reason}") from None
    except json.JSONDecodeError as bad:
        raise ImportSourceError(path, bad.lineno, "", f"not valid JSON: {bad.msg}") from None
    if not isinstance(feed, dict) or not isinstance(feed.get("items"), list):
        raise ImportSourceError(path, 0, "items", "a JSON Feed needs an `items` list")
    return feed


def _json_text(entry: dict, *keys: str, default="") -> str:
    """The value of the first key that has one, as text (JSON Feed's values may be of any
    type), else default."""
    return str(next((entry[key] for key in keys if entry.get(key)), default))


def _json_authors(entry: dict) -> list[Agent]:
    found = entry.get("authors") or ([entry["author"]] if entry.get("author") else [])
    return [
        Agent(" ".join(_json_text(a, "name").split()), _json_text(a, "url"), _json_text(a, "url"))
        for a in found
        if isinstance(a, dict) and a.get("name") and not bylines.is_generic(str(a["name"]))
    ]
