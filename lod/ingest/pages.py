"""Saved web pages: the schema.org they embed, as JSON-LD, microdata or RDFa (Lite).

What Yoast and most news CMSs emit: a `NewsArticle`/`Article` (or `BlogPosting`) with its
author, publisher, about and mentions, and the `Organization`, `Person`, `Event` and
`Place` nodes they link, often in one `@graph` tied together by `@id`. Each page is one
item with one article, its main one (main_article): the other Article nodes on it
(related-stories teasers, the same article marked up twice) are noted, not imported. What
that article leaves out, the page's meta tags and text give (lod.ingest.pagemeta). JSON-LD
is read as themes write it (lod.ingest.lenient); a block that still cannot be read is a
note when the rest of the page gives records, and the page's fault when nothing does. An
article with no headline or date, or a page with nothing lod imports (saying what it
carries instead), is a fault of that page (so `--skip-invalid` goes on with the others).

Microdata and RDFa are read here (on BeautifulSoup's tree, no network) rather than by
extruct, which would bring lxml, pyRdfa and a dozen more packages for what is, in the
pages news sites serve, a simple nesting of `itemscope`/`itemprop` or `typeof`/`property`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag

from ..vocab import SCHEMA, SDO, schema_subclasses
from . import html, languages, lenient, pagemeta, slugs, xmlsafe
from .common import NO_HEADLINE, BadDate, article_dates, date, present, site_entity
from .model import Entity, Event, Options, Site, Skipped, fault

ARTICLE = {"Article", "NewsArticle", "BlogPosting", "Report", "SocialMediaPosting"}
KIND_ROOTS = (
    ("article", SDO.Article),
    ("organisation", SDO.Organization),
    ("person", SDO.Person),
    ("event", SDO.Event),
    ("place", SDO.Place),
)
SCHEMA_PREFIXES = ("https://schema.org/", "http://schema.org/", "schema:")
PAGE_TEXT = 0.8  # of a plain-text articleBody's length, that the page's text must have
NO_DATE = (
    "missing: no publication date (none in its schema.org, nor in the page's"
    " article:published_time or other date meta tags)"
)


def _kind_of(types: list[str]) -> tuple[str | None, str | None]:
    """(kind, the most specific schema.org subtype worth keeping) of a node's types."""
    found_kind, found_subtype = None, None
    for name in types:
        for kind, root in KIND_ROOTS:
            if SCHEMA[name] in schema_subclasses(root):
                subtype = name if SCHEMA[name] != root else None
                if found_kind is None or (found_kind == kind and subtype and not found_subtype):
                    found_kind, found_subtype = kind, subtype
    return found_kind, found_subtype


def _types(node: dict) -> list[str]:
    raw = node.get("@type") or []
    raw = raw if isinstance(raw, list) else [raw]
    out = []
    for name in raw:
        name = str(name)
        for prefix in SCHEMA_PREFIXES:
            name = name.removeprefix(prefix)
        out.append(name)
    return out


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value) -> str:
    """The first text of a value (a string, {"@value": …}, a list)."""
    for item in _as_list(value):
        if isinstance(item, dict):
            item = item.get("@value") or item.get("name") or item.get("url") or ""
        if isinstance(item, str | int | float) and str(item).strip():
            return html.to_text(str(item))
    return ""


def page_language(soup: BeautifulSoup) -> str:
    """The page's language: its `<html lang>` (or `xml:lang`), else what its meta tags say
    (og:locale's `fr_FR`, Content-Language, Dublin Core)."""
    root = soup.html
    return languages.first(
        root.get("lang") if root else "",
        root.get("xml:lang") if root else "",
        pagemeta.meta(soup, "og:locale", "content-language", "dc.language", "dcterms.language"),
    )


def _language_values(node: dict) -> list:
    """What a node's inLanguage may hold: a tag, or a schema:Language (`alternateName`
    its code, `name` maybe one too)."""
    found = []
    for item in _as_list(node.get("inLanguage")):
        if isinstance(item, dict):
            found += [item.get("alternateName"), item.get("@value"), item.get("name")]
        else:
            found.append(item)
    return found


def _url(value) -> str:
    for item in _as_list(value):
        if isinstance(item, dict):
            item = item.get("url") or item.get("contentUrl") or item.get("@id") or ""
        if isinstance(item, str) and item.strip().startswith(("http://", "https://")):
            return _untracked(item.strip())
    return ""


def _untracked(url: str) -> str:
    """A web address without its `utm_*` campaign parameters (songkick's links carry
    them): they say where a visitor came from, not what the page is."""
    if "utm_" not in url:
        return url
    parts = urlsplit(url)
    kept = [p for p in parts.query.split("&") if p and not p.lower().startswith("utm_")]
    return urlunsplit(parts._replace(query="&".join(kept)))


# -- extraction --------------------------------------------------------------------------


@dataclass
class Unread:
    """A JSON-LD block from which nothing could be read."""

    number: int
    line: int  # of the <script> in the page
    message: str

    def label(self) -> str:
        return f"JSON-LD block {self.number}"

    def reason(self) -> str:
        return f"broken JSON-LD: {self.message}"


def _json_ld(soup: BeautifulSoup) -> tuple[list[dict], list[Unread]]:
    """The nodes of every JSON-LD block (each block's objects, or their @graph's), read
    leniently (lod.ingest.lenient), and the blocks that could not be read at all."""
    nodes, unread = [], []
    for number, script in enumerate(soup.find_all("script", attrs={"type": _is_json_ld}), 1):
        try:
            data, _ = lenient.loads(script.string or script.get_text() or "")
        except lenient.Unreadable as bad:
            line = getattr(script, "sourceline", 0) or 0
            unread.append(Unread(number, line, f"{bad.message} (line {bad.line} of the block)"))
            continue
        nodes.extend(_graph(data))
    return [n for n in nodes if isinstance(n, dict)], unread


def _is_json_ld(media_type: str | None) -> bool:
    return bool(media_type) and "ld+json" in media_type.lower()


def _graph(data) -> list:
    """A JSON-LD document's top-level objects, each replaced by its @graph when it has one."""
    nodes = []
    for item in _as_list(data):
        if isinstance(item, dict):
            nodes.extend(_as_list(item.get("@graph")) if "@graph" in item else [item])
    return nodes


VALUE_ATTRIBUTES = (  # (attribute, the elements it holds the value of; None: any)
    ("content", None),
    ("src", {"audio", "embed", "iframe", "img", "source", "track", "video"}),
    ("href", {"a", "area", "link"}),
    ("resource", None),
    ("datetime", {"time"}),
    ("value", {"data", "meter"}),
)


def _prop_value(tag: Tag) -> str:
    """A property's value as microdata and RDFa define it: the first of VALUE_ATTRIBUTES
    the element has, else its text."""
    for attribute, names in VALUE_ATTRIBUTES:
        if (names is None or tag.name in names) and tag.has_attr(attribute):
            return tag[attribute]
    return " ".join(tag.get_text(" ").split())


class _Embedded:
    """Microdata (itemscope/itemtype/itemprop/itemid) or RDFa Lite (typeof/property/
    resource), read as JSON-LD-like nodes."""

    def __init__(self, scope: str, kind: str, prop: str, ident: tuple[str, ...]):
        self.scope, self.kind, self.prop, self.ident = scope, kind, prop, ident

    def items(self, soup: BeautifulSoup) -> list[dict]:
        found = []
        for tag in soup.find_all(attrs={self.scope: True}):
            if not tag.has_attr(self.prop):
                found.append(self.node(tag))
        return found

    def node(self, tag: Tag) -> dict:
        types = tag.get(self.kind) or ""
        types = types if isinstance(types, str) else " ".join(types)
        node: dict[str, Any] = {
            "@type": [t.rsplit("/", 1)[-1].split(":")[-1] for t in types.split()]
        }
        for attr in self.ident:
            if tag.has_attr(attr):
                node["@id"] = tag[attr]
                break
        self._walk(tag, node)
        return node

    def _walk(self, tag: Tag, node: dict) -> None:
        for sub in tag.find_all(True, recursive=False):
            names = self._names(sub)
            if names:
                value = self._value(sub, names)
                for name in names:
                    values = node.setdefault(name, [])
                    values.extend(value) if isinstance(value, list) else values.append(value)
                if sub.has_attr(self.scope):
                    continue
            elif sub.has_attr(self.scope):
                continue  # a separate item
            self._walk(sub, node)

    def _names(self, tag: Tag) -> list[str]:
        names = tag.get(self.prop)
        if not names:
            return []
        names = names if isinstance(names, str) else " ".join(names)
        return [name.rsplit("/", 1)[-1].split(":")[-1] for name in names.split()]

    def _value(self, tag: Tag, names: list[str]):
        """A nested item's node; an articleBody's HTML (its paragraphs and links are
        the article's); else the property's value as text."""
        if tag.has_attr(self.scope):
            return self.node(tag)
        plain = not any(tag.has_attr(a) for a, _ in VALUE_ATTRIBUTES)
        if "articleBody" in names and plain:
            return pagemeta.inner_html(pagemeta.narrow(tag))
        if "keywords" in names and plain and tag.find("a"):
            # a list of tag links (TYPO3: `Themen:` and a link per topic): one each
            return [" ".join(a.get_text(" ").split()) for a in tag.find_all("a")]
        return _prop_value(tag)


MICRODATA = _Embedded("itemscope", "itemtype", "itemprop", ("itemid",))
RDFA = _Embedded("typeof", "typeof", "property", ("resource", "about"))


# -- nodes -> records --------------------------------------------------------------------


LINKED = ("organisation", "person", "event", "place")  # what an article is about or mentions
ATTENDANCE = {
    "OfflineEventAttendanceMode": "offline",
    "OnlineEventAttendanceMode": "online",
    "MixedEventAttendanceMode": "mixed",
}
ADDRESS = ("streetAddress", "postalCode", "addressLocality", "addressRegion", "addressCountry")


class _Page:
    """One page's nodes made records: the nodes they link (by @id or nested) each become a
    record once, in the order met, held in `out` until the record that links them is
    yielded."""

    def __init__(self, file: str, soup: BeautifulSoup, options: Options, nodes: list[dict]):
        self.file, self.soup, self.options = file, soup, options
        self.by_id: dict[str, dict] = {}
        for node in nodes:
            if isinstance(node.get("@id"), str):
                self.by_id.setdefault(node["@id"], node)
        self.out: list[Event] = []
        self.refs: dict[int, str] = {}
        self.page_url = pagemeta.page_url(soup)
        self.site_name = pagemeta.meta(soup, "og:site_name")
        self.language = page_language(soup)

    def site(self) -> Site:
        return Site(self.site_name or slugs.host(self.page_url) or "", self.page_url, self.language)

    def take(self) -> list[Event]:
        """The records added since the last take, in the order added."""
        out, self.out = self.out, []
        return out

    def resolve(self, value) -> dict | None:
        if isinstance(value, list):
            return next((r for r in map(self.resolve, value) if r is not None), None)
        if isinstance(value, dict):
            if isinstance(value.get("@id"), str) and value["@id"] in self.by_id:
                return self.by_id[value["@id"]]
            return value
        if isinstance(value, str) and value in self.by_id:
            return self.by_id[value]
        return None

    def ref(self, value, kinds: tuple[str, ...]) -> str | None:
        """The `kind/slug` of a linked node of one of kinds (its record added once), or None;
        '' for a node met again while its record is being made, or without a name."""
        if isinstance(value, list):
            return next((r for r in (self.ref(v, kinds) for v in value) if r), None)
        node = self.resolve(value)
        if node is None:
            return None
        if id(node) in self.refs:
            return self.refs[id(node)]
        kind, subtype = _kind_of(_types(node))
        if kind not in kinds or kind == "article":
            return None
        self.refs[id(node)] = ""  # met again while being made (a cycle), or without a name
        entity = self._record(node, kind, subtype)
        if entity is None:
            return None
        self.refs[id(node)] = entity.ref
        self.out.append(entity)
        return entity.ref

    def _record(self, node: dict, kind: str, subtype: str | None) -> Entity | None:
        """A linked node's record: its name, its kind's fields, then those every kind has;
        None for a node without a name."""
        name = _text(node.get("name")) or _text(node.get("legalName"))
        if not name:
            return None
        fields = {"name": name, **getattr(self, f"_{kind}")(node, subtype)}
        return Entity(
            kind,
            slugs.slug_for(name, node.get("@id"), fallback=kind),
            _common(node, fields),
            identity=node.get("@id") or name,
        )

    def add_linked(self, nodes: list[dict]) -> None:
        """A record for every node that is not an article, linked or not: a page may be
        only about an event, a person, a place."""
        for node in nodes:
            kind, _ = _kind_of(_types(node))
            if kind and kind != "article":
                self.ref(node, (kind,))

    def refs_of(self, value, kinds) -> list[str]:
        found = []
        for item in _as_list(value):
            ref = self.ref(item, kinds)
            if ref and ref not in found:
                found.append(ref)
        return found

    def slug_of(self, value, kinds) -> str:
        """The slug of a linked node's record, or ''."""
        ref = self.ref(value, kinds)
        return _slug(ref) if ref else ""

    # the fields of each kind of linked record, after its name and before _common's

    def _organisation(self, node: dict, subtype: str | None) -> dict:
        return present(
            type=subtype,
            alternateName=[_text(a) for a in _as_list(node.get("alternateName")) if _text(a)],
            parentOrganization=self.slug_of(node.get("parentOrganization"), ("organisation",)),
            logo=_url(node.get("logo")),
        )

    def _person(self, node: dict, subtype: str | None) -> dict:
        works = self.refs_of(node.get("worksFor"), ("organisation",))
        affiliation = self.refs_of(node.get("affiliation"), ("organisation",))
        return present(
            jobTitle=_text(node.get("jobTitle")),
            worksFor=_slug(works[0]) if works else "",
            affiliation=[_slug(a) for a in affiliation],
        )

    def _place(self, node: dict, subtype: str | None) -> dict:
        geo = node.get("geo") if isinstance(node.get("geo"), dict) else {}
        return present(
            address=_address(node.get("address")),
            latitude=_text(node.get("latitude") or geo.get("latitude")),
            longitude=_text(node.get("longitude") or geo.get("longitude")),
            containedInPlace=self.slug_of(node.get("containedInPlace"), ("place",)),
        )

    def _event(self, node: dict, subtype: str | None) -> dict:
        return {
            **present(
                startDate=_optional_date(node.get("startDate")),
                endDate=_optional_date(node.get("endDate")),
            ),
            **self._locations(node),
            **present(
                attendanceMode=ATTENDANCE.get(
                    _text(node.get("eventAttendanceMode")).rsplit("/", 1)[-1], ""
                ),
                organizer=self.refs_of(node.get("organizer"), ("organisation", "person")),
                superEvent=self.slug_of(node.get("superEvent"), ("event",)),
            ),
        }

    def _locations(self, node: dict) -> dict:
        """Where an event happens: the URL of a VirtualLocation (the last before the place),
        and the first Place that makes a record."""
        fields = {}
        for location in _as_list(node.get("location")):
            resolved = self.resolve(location) or {}
            if "VirtualLocation" in _types(resolved) and _url(resolved):
                fields["virtualLocation"] = _url(resolved)
                continue
            place = self.slug_of(location, ("place",))
            if place:
                fields["location"] = place
                break
        return fields

    # the article

    def article(self, node: dict) -> Iterator[Event]:
        """The article's linked records, then the article; or its faults. What it leaves
        out, the page's meta tags may give (lod.ingest.pagemeta)."""
        node = {**pagemeta.page_node(self.soup), **{k: v for k, v in node.items() if _given(v)}}
        url = self.url_of(node)
        label = url or node.get("@id") or "the page"
        headline, dates, problems = self._checked(node, label)
        if problems:
            yield from problems
            return
        fields = {
            "headline": headline,
            **dates,
            "publisher": self._publisher(node, url),
            **self._links(node),
            **present(
                keywords=_keywords(node.get("keywords")),
                image=_url(self.resolve(node.get("image")) or node.get("image")),
                inLanguage=languages.first(*_language_values(node), self.language),
                description=_text(node.get("description")),
                url=url,
            ),
        }
        body = self._body(node, headline, url)
        yield from self.take()
        yield Entity(
            "article",
            _article_slug(node, url, headline),
            fields,
            body=body,
            identity=url or node.get("@id") or headline,
            origin=f"{self.file}: {label}",
        )

    def url_of(self, node: dict) -> str:
        """The article's address: its own `url`, else the page's (canonical link, og:url),
        else its mainEntityOfPage's (the WebPage node's `url` in a Yoast graph, never its
        `@id`, which is the page's address with `#webpage` after it)."""
        own = self.absolute(_url(node.get("url")) or _text(node.get("url")))
        if own or self.page_url:
            return own or self.page_url
        for value in _as_list(node.get("mainEntityOfPage")):
            page = self.resolve(value)
            found = _url((page or {}).get("url")) if page else _url(value)
            if found or page:
                return (found or _url(page.get("@id"))).split("#", 1)[0]
        return ""

    def absolute(self, url: str) -> str:
        """A web address, made absolute against the page's own; '' for anything else."""
        url = (url or "").strip()
        if url and self.page_url and "://" not in url:
            url = urljoin(self.page_url, url)
        return url if url.startswith(("http://", "https://")) and " " not in url else ""

    def _checked(self, node: dict, label: str) -> tuple[str, dict, list]:
        """(headline, dates, faults): an article needs a headline (or a name) and a
        publication date (or a creation date)."""
        headline = _text(node.get("headline")) or _text(node.get("name"))
        published = _text(node.get("datePublished")) or _text(node.get("dateCreated"))
        modified = _text(node.get("dateModified"))
        dates, problems = article_dates(
            self.file, label, published, modified, missing="datePublished"
        )
        if not published:  # article_dates' first fault: say where it was looked for
            problems[0] = fault(self.file, label, "datePublished", NO_DATE)
        if not headline:
            problems.insert(0, fault(self.file, label, "headline", NO_HEADLINE))
        return headline, dates, problems

    def _publisher(self, node: dict, url: str) -> str:
        """The publisher's slug: the one asked for, else the organisation the article
        names, else one made for the site (named by og:site_name, else by its host)."""
        publisher = self.options.publisher or self.ref(node.get("publisher"), ("organisation",))
        if publisher is None:
            site = Site(self.site_name or slugs.host(url) or "site", url)
            org = site_entity(site, self.options)
            self.out.append(org)
            publisher = org.ref
        return publisher.split("/", 1)[-1]

    def _links(self, node: dict) -> dict:
        """author, about and mentions, as references to their records; an `about` that is
        only a name (no node has it as @id) becomes a topic."""
        author = self.refs_of(node.get("author"), ("person", "organisation"))
        about = self.refs_of(node.get("about"), LINKED)
        about += [
            self._topic(t)
            for t in _as_list(node.get("about"))
            if isinstance(t, str) and t not in self.by_id
        ]
        mentions = self.refs_of(node.get("mentions"), LINKED)
        return present(author=author, about=about, mentions=mentions)

    def _topic(self, name: str) -> str:
        entity = Entity(
            "topic", slugs.slug_for(name, fallback="topic"), {"name": name}, identity=name
        )
        self.out.append(entity)
        return entity.ref

    def _body(self, node: dict, headline: str, url: str) -> str:
        """The articleBody (HTML, HTML escaped once more, or text), else the page's own
        text (lod.ingest.pagemeta.text_container) less the <h1> that repeats the
        headline. An articleBody in plain text gives way to the page's text when that is
        about as long or longer: the same text with its paragraphs and links, or the
        whole of an articleBody cut short (l'Express writes only its first lines)."""
        text = next((t for t in _as_list(node.get("articleBody")) if isinstance(t, str)), "")
        body = _body_text(text, url) if text.strip() else ""
        if body and "<" in text:
            return body
        page = self._page_text(headline, url)
        return page if len(page) >= PAGE_TEXT * len(body) else body

    def _page_text(self, headline: str, url: str) -> str:
        container = pagemeta.text_container(self.soup)
        if container is None:
            return ""
        for heading in container.find_all("h1"):
            if " ".join(heading.get_text(" ").split()) == headline:
                heading.decompose()
        return html.to_markdown(pagemeta.inner_html(container), url or None)


def _body_text(text: str, url: str) -> str:
    """An articleBody as Markdown: HTML converted (also when it was escaped twice, as
    `&lt;p&gt;`), plain text kept with a paragraph for each of its lines."""
    if "<" not in text and re.search(r"&lt;/?(?:p|div|h\d|br|a)\b", text):
        text = unescape(text)
    if "<" in text:
        return html.to_markdown(text, url or None)
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


def _given(value) -> bool:
    """A field that says something: not None, not empty, not a list of empty strings."""
    if isinstance(value, list):
        return any(_given(v) for v in value)
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None


def _common(node: dict, fields: dict) -> dict:
    """The fields with what every kind of record may have: sameAs, url, description."""
    same = [u for u in (_url(s) for s in _as_list(node.get("sameAs"))) if u]
    return {
        **fields,
        **present(
            sameAs=sorted(set(same)),
            url=_url(node.get("url")),
            description=_text(node.get("description")),
        ),
    }


def _slug(ref: str) -> str:
    """`kind/slug` -> `slug`: how a record names another of a known kind."""
    return ref.split("/", 1)[1]


def _address(value) -> str:
    """A PostalAddress as one line, its parts in postal order; or an address as text."""
    if isinstance(value, dict):
        value = ", ".join(p for p in (_text(value.get(k)) for k in ADDRESS) if p)
    return _text(value)


def _optional_date(value) -> str:
    """An event's date as ISO 8601, or '' for none or one that is no date (the event is
    kept without it: its dates are not what the page is about)."""
    try:
        return date(_text(value))
    except BadDate:
        return ""


def _keywords(value) -> list[str]:
    """keywords as a list (schema.org also allows one text, its keywords comma-separated)."""
    if isinstance(value, str):
        value = [k.strip() for k in value.split(",")]
    return [_text(k) for k in _as_list(value) if _text(k)]


def _article_slug(node: dict, url: str, headline: str) -> str:
    """From the article's URL, else its @id when that is a plain name (not a URL), else its
    headline."""
    ident = node.get("@id")
    plain = ident if isinstance(ident, str) and "/" not in ident else ""
    return slugs.slug_for(slugs.from_url(url), plain, headline, fallback="article")


def read(path: str, options: Options) -> Iterator[Event]:
    """The page's records: its main article (lod.ingest.pages.main_article) with what it
    links, and every other node of a kind lod imports; a note (Skipped) for each JSON-LD
    block that could not be read and for the other articles on the page; a fault of the
    page when nothing in it can be imported, saying why."""
    soup = yield from _soup(path, options)
    if soup is None:
        return
    nodes, unread = _json_ld(soup)
    nodes += MICRODATA.items(soup) + RDFA.items(soup)
    page = _Page(path, soup, options, nodes)
    yield page.site()
    articles = [n for n in nodes if _kind_of(_types(n))[0] == "article"]
    main, others = main_article(articles, page)
    page.add_linked(nodes)
    linked = page.take()
    if main is None and not linked:
        yield from _refused(path, soup, nodes, articles, unread)
        return
    yield from linked
    for block in unread:
        yield Skipped(path, block.label(), f"{block.reason()}; the rest of the page was read")
    if others:
        yield Skipped(path, "the page", _others(others))
    if main is None:
        yield Skipped(path, "the page", _why_no_article(soup, nodes, articles))
    else:
        yield from page.article(main)


def _soup(path: str, options: Options):
    """The page parsed (a generator: it yields the fault of a page in no known encoding,
    and returns None then)."""
    xmlsafe.check_size(path, options.max_item_bytes)
    with open(path, "rb") as handle:
        raw = handle.read()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(raw, "html.parser")
    if soup.original_encoding is None and raw and not _decodes(raw):
        yield fault(path, "the page", "", "unknown text encoding", hint="save it as UTF-8")
        return None
    return soup


# -- which article is the page's ---------------------------------------------------------


def main_article(articles: list[dict], page: _Page) -> tuple[dict | None, list[dict]]:
    """(the page's own article, the other article nodes): a page is one article, and the
    other Article nodes on it are "related stories" teasers, ItemList members or the same
    article marked up twice. The page's own is the only one, else the one that is best
    tied to the page (own_score): its address is the page's, it names the page as its
    mainEntityOfPage, its headline is the page's title, it has an articleBody; the
    largest body settles a tie. When none is tied to the page, none is its own; a page
    that says it is an article (og:type) is then described by its meta tags, if they
    give a headline."""
    if len(articles) == 1:
        return articles[0], []
    scored = [
        (own_score(n, page), len(_text(n.get("articleBody"))), -i) for i, n in enumerate(articles)
    ]
    if articles:
        best = max(range(len(articles)), key=lambda i: scored[i])
        if scored[best][0] > 0:
            return articles[best], articles[:best] + articles[best + 1 :]
    if pagemeta.is_article(page.soup) and pagemeta.title(page.soup):
        return {"@type": "Article"}, articles
    return None, articles


def own_score(node: dict, page: _Page) -> int:
    """How surely an article node is the page's own (see main_article)."""
    score = 0
    if page.page_url and _same_page(page.page_url, _addresses(node, page)):
        score += 8
    if _given(node.get("mainEntityOfPage")):
        score += 4
    if _same_title(_text(node.get("headline")) or _text(node.get("name")), page.soup):
        score += 4
    if _text(node.get("articleBody")):
        score += 2
    return score


def _addresses(node: dict, page: _Page) -> list[str]:
    """Every address an article node gives itself: url, @id, mainEntityOfPage."""
    found = [_text(node.get("url")), node.get("@id")]
    for value in _as_list(node.get("mainEntityOfPage")):
        found.append(value.get("@id") or value.get("url") if isinstance(value, dict) else value)
    return [page.absolute(u) for u in found if isinstance(u, str) and u]


def _same_page(url: str, others: list[str]) -> bool:
    key = _page_key(url)
    return any(_page_key(other) == key for other in others if other)


def _page_key(url: str) -> str:
    """An address compared as a page: scheme, `www.`, fragment and final slash ignored."""
    url = url.split("#", 1)[0].split("://", 1)[-1].removeprefix("www.")
    return url.rstrip("/").lower()


def _same_title(headline: str, soup: BeautifulSoup) -> bool:
    """The headline is the page's title (og:title, <title>), or a part of it: sites add
    their name to titles, and kickers to headlines."""
    headline = " ".join(headline.casefold().split())
    if len(headline) < 10:
        return False
    for title in (pagemeta.title(soup), soup.title.string if soup.title else ""):
        title = " ".join((title or "").casefold().split())
        if len(title) >= 10 and (headline in title or title in headline):
            return True
    return False


def _others(others: list[dict]) -> str:
    count = len(others)
    return (
        f"{count} other Article node{'s' if count != 1 else ''} on the page (teasers,"
        " related stories or the same article marked up twice): not imported"
    )


# -- why nothing was imported ------------------------------------------------------------

STRUCTURE = {
    "BreadcrumbList",
    "Breadcrumb",
    "ListItem",
    "ItemList",
    "WebPage",
    "WebSite",
    "ImageObject",
    "Image",
    "SiteNavigationElement",
    "WPHeader",
    "WPFooter",
    "WPSideBar",
    "SearchAction",
    "Comment",
    "Item",
    "Document",
}
"""schema.org types (and Drupal's RDFa Item/Document) that describe a page's structure,
not something a newsroom publishes."""


def _refused(path, soup, nodes, articles, unread) -> Iterator[Event]:
    """The fault of a page from which nothing can be imported: its unreadable JSON-LD
    blocks when it has any, else why it holds no article."""
    if unread:
        for block in unread:
            yield fault(path, block.label(), "", block.reason(), line=block.line)
        return
    yield fault(path, "the page", "", _why_no_article(soup, nodes, articles))


def _why_no_article(soup, nodes: list[dict], articles: list[dict]) -> str:
    if articles:
        count = len(articles)
        return (
            f"no article of its own: the {count} Article node{'s' if count != 1 else ''} on"
            " it are teasers of other pages (none has the page's address or title)"
        )
    others = _foreign_types(nodes)
    if others:
        listed = ", ".join(others[:5]) + (" …" if len(others) > 5 else "")
        return (
            f"carries schema.org {listed}, which lod does not import (it imports articles,"
            " organisations, people, events and places)"
        )
    kinds = [n for n in nodes if _kind_of(_types(n))[0] is not None]
    listed = ", ".join(sorted({t for n in (kinds or nodes) for t in _types(n) if t}))
    if kinds:
        return f"no article: its schema.org is only {listed}, imported as such"
    if nodes:
        return f"carries only page structure (schema.org {listed or 'nodes'}), no article"
    return "no schema.org found (JSON-LD, microdata or RDFa)"


def _foreign_types(nodes: list[dict]) -> list[str]:
    """The types of the page's nodes that are neither of a kind lod imports nor page
    structure, in the order met."""
    found: list[str] = []
    for node in nodes:
        types = _types(node)
        if _kind_of(types)[0] is not None:
            continue
        for name in types:
            if name and name not in STRUCTURE and name not in found:
                found.append(name)
    return found


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False
