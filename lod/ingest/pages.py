"""Saved web pages: the schema.org they embed, as JSON-LD, microdata or RDFa (Lite).

What Yoast and most news CMSs emit: a `NewsArticle`/`Article` (or `BlogPosting`) with its
author, publisher, about and mentions, and the `Organization`, `Person`, `Event` and
`Place` nodes they link, often in one `@graph` tied together by `@id`. Each page is one
item: a page with broken JSON-LD, or an article with no headline or date, is a fault of
that page (so `--skip-invalid` goes on with the other pages).

Microdata and RDFa are read here (on BeautifulSoup's tree, no network) rather than by
extruct, which would bring lxml, pyRdfa and a dozen more packages for what is, in the
pages news sites serve, a simple nesting of `itemscope`/`itemprop` or `typeof`/`property`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag

from ..vocab import SCHEMA, SDO, schema_subclasses
from . import html, slugs, xmlsafe
from .common import NO_HEADLINE, BadDate, article_dates, date, present, site_entity
from .model import Entity, Event, Options, Site, fault

ARTICLE = {"Article", "NewsArticle", "BlogPosting", "Report", "SocialMediaPosting"}
KIND_ROOTS = (
    ("article", SDO.Article),
    ("organisation", SDO.Organization),
    ("person", SDO.Person),
    ("event", SDO.Event),
    ("place", SDO.Place),
)
SCHEMA_PREFIXES = ("https://schema.org/", "http://schema.org/", "schema:")


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


def _url(value) -> str:
    for item in _as_list(value):
        if isinstance(item, dict):
            item = item.get("url") or item.get("contentUrl") or item.get("@id") or ""
        if isinstance(item, str) and item.strip().startswith(("http://", "https://")):
            return item.strip()
    return ""


# -- extraction --------------------------------------------------------------------------


def _json_ld(soup: BeautifulSoup, file: str) -> tuple[list[dict], list]:
    """The nodes of every JSON-LD block (each block's objects, or their @graph's), and a
    fault for each block that is not JSON."""
    nodes, faults = [], []
    for number, script in enumerate(soup.find_all("script", attrs={"type": _is_json_ld}), 1):
        try:
            data = json.loads(script.string or script.get_text() or "")
        except json.JSONDecodeError as bad:
            faults.append(
                fault(
                    file,
                    f"JSON-LD block {number}",
                    "",
                    f"broken JSON-LD: {bad.msg} (line {bad.lineno} of the block)",
                    line=getattr(script, "sourceline", 0) or 0,
                )
            )
            continue
        nodes.extend(_graph(data))
    return [n for n in nodes if isinstance(n, dict)], faults


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
            names = sub.get(self.prop)
            if names:
                names = names if isinstance(names, str) else " ".join(names)
                value = self.node(sub) if sub.has_attr(self.scope) else _prop_value(sub)
                for name in names.split():
                    name = name.rsplit("/", 1)[-1].split(":")[-1]
                    node.setdefault(name, []).append(value)
                if sub.has_attr(self.scope):
                    continue
            elif sub.has_attr(self.scope):
                continue  # a separate item
            self._walk(sub, node)


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
        self.page_url = _link(soup, "canonical") or _meta(soup, "og:url")
        self.site_name = _meta(soup, "og:site_name")
        self.language = (soup.html.get("lang", "") if soup.html else "") or ""

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
        """The article's linked records, then the article; or its faults."""
        label = node.get("@id") or _url(node.get("url")) or self.page_url or "the page"
        headline, dates, problems = self._checked(node, label)
        if problems:
            yield from problems
            return
        url = _url(node.get("url")) or _url(node.get("mainEntityOfPage")) or self.page_url
        fields = {
            "headline": headline,
            **dates,
            "publisher": self._publisher(node, url),
            **self._links(node),
            **present(
                keywords=_keywords(node.get("keywords")),
                image=_url(self.resolve(node.get("image")) or node.get("image")),
                inLanguage=_text(node.get("inLanguage")) or self.language,
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

    def _checked(self, node: dict, label: str) -> tuple[str, dict, list]:
        """(headline, dates, faults): an article needs a headline (or a name) and a
        publication date (or a creation date)."""
        headline = _text(node.get("headline")) or _text(node.get("name"))
        published = _text(node.get("datePublished")) or _text(node.get("dateCreated"))
        modified = _text(node.get("dateModified"))
        dates, problems = article_dates(
            self.file, label, published, modified, missing="datePublished"
        )
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
        """The articleBody (HTML or text), else the page's own: the element marked
        articleBody, else its <article>, less the <h1> that repeats the headline."""
        text = node.get("articleBody")
        if _text(text):
            text = text if isinstance(text, str) else _text(text)
            return html.to_markdown(text, url) if "<" in text else text.strip()
        container = self.soup.find(attrs={"itemprop": "articleBody"}) or self.soup.find("article")
        if container is None:
            return ""
        for heading in container.find_all("h1"):
            if " ".join(heading.get_text(" ").split()) == headline:
                heading.decompose()
        return html.to_markdown(str(container), url or None)


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


def _link(soup: BeautifulSoup, rel: str) -> str:
    tag = soup.find("link", rel=rel)
    return tag.get("href", "") if tag else ""


def _meta(soup: BeautifulSoup, name: str) -> str:
    tag = soup.find("meta", property=name)
    return tag.get("content", "") if tag else ""


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
    xmlsafe.check_size(path, options.max_item_bytes)
    with open(path, "rb") as handle:
        raw = handle.read()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(raw, "html.parser")
    if soup.original_encoding is None and raw and not _decodes(raw):
        yield fault(path, "the page", "", "unknown text encoding", hint="save it as UTF-8")
        return
    nodes, faults = _json_ld(soup, path)
    if faults:
        yield from faults
        return
    nodes += MICRODATA.items(soup) + RDFA.items(soup)
    page = _Page(path, soup, options, nodes)
    yield page.site()
    articles = [n for n in nodes if _kind_of(_types(n))[0] == "article"]
    page.add_linked(nodes)
    if not articles and not page.out:
        yield fault(path, "the page", "", "no schema.org found (JSON-LD, microdata or RDFa)")
        return
    yield from page.take()
    for node in articles:
        yield from page.article(node)


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False
