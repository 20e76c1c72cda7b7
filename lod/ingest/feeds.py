"""Feeds: RSS 2.0, RSS 1.0 (RDF Site Summary), Atom 1.0 (RFC 4287) and JSON Feed 1.1.

Parsed here rather than by feedparser: feedparser reads the whole document into memory
and is lenient (it guesses at broken XML), where an import must stream (a large archive
feed, memory flat) and must refuse what is not well-formed, naming the place; the XML
formats share one safe streaming parser (xmlsafe) with the WordPress importer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from xml.etree.ElementTree import Element

from ..errors import ImportSourceError
from . import html, xmlsafe
from .common import Agent, RawItem, Term, agent_from_rss, entities, site_entity
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
    for enclosure in xmlsafe.children(element, "enclosure"):
        if (enclosure.get("type") or "").startswith("image/") and enclosure.get("url"):
            return enclosure.get("url")
    for sub in element.iter():
        if xmlsafe.namespace(sub.tag) != MEDIA:
            continue
        name = xmlsafe.local(sub.tag)
        if name == "content" and sub.get("url"):
            medium = sub.get("medium") or ""
            kind = sub.get("type") or ""
            if medium == "image" or kind.startswith("image/"):
                return sub.get("url")
        if name == "thumbnail" and sub.get("url"):
            return sub.get("url")
    return ""


class _Stream:
    """The site first (from the channel or feed element), then each item's records."""

    def __init__(self, path: str, options: Options):
        self.path, self.options = path, options
        self.publisher: str | None = None

    def site(self, site: Site) -> Iterator[Event]:
        if self.publisher is None:
            org = site_entity(site, self.options)
            self.publisher = org.slug
            yield site
            if not self.options.publisher:
                yield org


def read_rss2(path: str, options: Options) -> Iterator[Event]:
    state = _Stream(path, options)
    root = None
    language = ""
    for event, element, position in xmlsafe.stream(path, {"item"}, options.max_bytes):
        if event == "start":
            root = element
            continue
        if state.publisher is None:
            channel = xmlsafe.child(root, "channel")
            if channel is None:
                raise ImportSourceError(path, 0, "channel", "an RSS 2.0 feed needs a <channel>")
            language = xmlsafe.child_text(channel, "language")
            yield from state.site(
                Site(
                    html.to_text(xmlsafe.child_text(channel, "title")),
                    xmlsafe.child_text(channel, "link", ""),
                    language,
                    html.to_text(xmlsafe.child_text(channel, "description")),
                )
            )
        if event == "item":
            item = _rss2_item(path, element, position, language)
            yield from entities(item, state.publisher, options)


def _rss2_item(path: str, element: Element, position: int, language: str) -> RawItem:
    creators = [Agent(xmlsafe.text(c)) for c in xmlsafe.children(element, "creator", DC)]
    if not creators:
        creators = [
            a
            for a in map(
                agent_from_rss, (xmlsafe.text(x) for x in xmlsafe.children(element, "author"))
            )
            if a
        ]
    terms = [
        Term(xmlsafe.text(c), xmlsafe.text(c))
        for c in xmlsafe.children(element, "category", "")
        if xmlsafe.text(c)
    ]
    return RawItem(
        file=path,
        position=position,
        ident=xmlsafe.child_text(element, "guid"),
        link=xmlsafe.child_text(element, "link", ""),
        title=xmlsafe.child_text(element, "title", ""),
        html=xmlsafe.child_text(element, "encoded", CONTENT),
        summary=xmlsafe.child_text(element, "description", ""),
        published=xmlsafe.child_text(element, "pubDate") or xmlsafe.child_text(element, "date", DC),
        updated=xmlsafe.child_text(element, "updated", ATOM),
        authors=creators,
        terms=terms,
        image=_media_image(element),
        language=language,
    )


def read_rss1(path: str, options: Options) -> Iterator[Event]:
    """RSS 1.0: items are siblings of the channel under rdf:RDF, each with rdf:about."""
    state = _Stream(path, options)
    site: Site | None = None
    for event, element, position in xmlsafe.stream(path, {"item", "channel"}, options.max_bytes):
        if event == "start":
            continue
        if event == "end":
            yield from state.site(site or Site(os.path.basename(path)))
            break
        if xmlsafe.local(element.tag) == "channel":
            site = Site(
                xmlsafe.child_text(element, "title"),
                xmlsafe.child_text(element, "link"),
                xmlsafe.child_text(element, "language", DC),
                html.to_text(xmlsafe.child_text(element, "description")),
            )
            yield from state.site(site)
            continue
        yield from state.site(site or Site(os.path.basename(path)))
        item = RawItem(
            file=path,
            position=position,
            ident=element.get(f"{{{RDF}}}about") or "",
            link=xmlsafe.child_text(element, "link"),
            title=xmlsafe.child_text(element, "title"),
            html=xmlsafe.child_text(element, "encoded", CONTENT),
            summary=xmlsafe.child_text(element, "description"),
            published=xmlsafe.child_text(element, "date", DC),
            authors=[Agent(xmlsafe.text(c)) for c in xmlsafe.children(element, "creator", DC)],
            terms=[
                Term(xmlsafe.text(s), xmlsafe.text(s))
                for s in xmlsafe.children(element, "subject", DC)
                if xmlsafe.text(s)
            ],
            language=xmlsafe.child_text(element, "language", DC) or (site.language if site else ""),
        )
        yield from entities(item, state.publisher, options)


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


def _atom_link(element: Element) -> str:
    for link in xmlsafe.children(element, "link", ATOM):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href")
    return ""


def read_atom(path: str, options: Options) -> Iterator[Event]:
    state = _Stream(path, options)
    root = None
    language = ""
    for event, element, position in xmlsafe.stream(path, {"entry"}, options.max_bytes):
        if event == "start":
            root = element
            language = element.get(XML_LANG, "")
            continue
        if state.publisher is None:
            yield from state.site(
                Site(
                    html.to_text(_atom_text(xmlsafe.child(root, "title", ATOM))[0]),
                    _atom_link(root),
                    language,
                    html.to_text(_atom_text(xmlsafe.child(root, "subtitle", ATOM))[0]),
                )
            )
        if event == "item":
            item = _atom_entry(path, element, position, language)
            yield from entities(item, state.publisher, options)


def _atom_entry(path: str, element: Element, position: int, language: str) -> RawItem:
    content, content_html = _atom_text(xmlsafe.child(element, "content", ATOM))
    summary, summary_html = _atom_text(xmlsafe.child(element, "summary", ATOM))
    title, title_html = _atom_text(xmlsafe.child(element, "title", ATOM))
    authors = [
        Agent(
            xmlsafe.child_text(a, "name", ATOM),
            xmlsafe.child_text(a, "uri", ATOM),
            xmlsafe.child_text(a, "uri", ATOM),
        )
        for a in xmlsafe.children(element, "author", ATOM)
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
        link=_atom_link(element),
        title=title if title_html else html_escape(title),
        html=content if content_html else _paragraphs(content),
        summary=summary if summary_html else html_escape(summary),
        published=xmlsafe.child_text(element, "published", ATOM),
        updated=xmlsafe.child_text(element, "updated", ATOM),
        authors=authors,
        terms=terms,
        image=_media_image(element),
        language=element.get(XML_LANG, "") or language,
    )


def html_escape(text: str) -> str:
    from html import escape

    return escape(text or "", quote=False)


def _paragraphs(text: str) -> str:
    if not text.strip():
        return ""
    return "".join(f"<p>{html_escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


def read_json_feed(path: str, options: Options) -> Iterator[Event]:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1): read whole (capped), it is
    JSON; `authors` (1.1) and `author` (1.0) both read."""
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
    language = feed.get("language") or ""
    site = Site(
        str(feed.get("title") or ""),
        str(feed.get("home_page_url") or ""),
        language,
        str(feed.get("description") or ""),
    )
    state = _Stream(path, options)
    yield from state.site(site)
    feed_authors = _json_authors(feed)
    for position, entry in enumerate(feed["items"], start=1):
        if not isinstance(entry, dict):
            yield fault(path, f"#{position}", "", "an item must be an object")
            continue
        item = RawItem(
            file=path,
            position=position,
            ident=str(entry.get("id") or ""),
            link=str(entry.get("url") or ""),
            title=html_escape(str(entry.get("title") or "")),
            html=str(entry.get("content_html") or ""),
            text_body=str(entry.get("content_text") or ""),
            summary=html_escape(str(entry.get("summary") or "")),
            published=str(entry.get("date_published") or ""),
            updated=str(entry.get("date_modified") or ""),
            authors=_json_authors(entry) or feed_authors,
            terms=[Term(str(t), str(t)) for t in entry.get("tags") or [] if str(t).strip()],
            image=str(entry.get("image") or entry.get("banner_image") or ""),
            language=str(entry.get("language") or language),
        )
        yield from entities(item, state.publisher, options)


def _json_authors(entry: dict) -> list[Agent]:
    found = entry.get("authors") or ([entry["author"]] if entry.get("author") else [])
    return [
        Agent(str(a.get("name") or ""), str(a.get("url") or ""), str(a.get("url") or ""))
        for a in found
        if isinstance(a, dict) and a.get("name")
    ]
