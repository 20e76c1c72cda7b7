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
from .common import BadDate, date, site_entity
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
    nodes, faults = [], []
    for number, script in enumerate(
        soup.find_all("script", attrs={"type": lambda t: t and "ld+json" in t.lower()}), start=1
    ):
        text = script.string or script.get_text() or ""
        try:
            data = json.loads(text)
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
        for item in _as_list(data):
            if isinstance(item, dict):
                nodes.extend(_as_list(item.get("@graph")) if "@graph" in item else [item])
    return [n for n in nodes if isinstance(n, dict)], faults


_SRC = {"audio", "embed", "iframe", "img", "source", "track", "video"}
_HREF = {"a", "area", "link"}


def _prop_value(tag: Tag, content_attr: str = "content") -> str:
    if tag.has_attr(content_attr):
        return tag[content_attr]
    if tag.name in _SRC and tag.has_attr("src"):
        return tag["src"]
    if tag.name in _HREF and tag.has_attr("href"):
        return tag["href"]
    if tag.has_attr("resource"):
        return tag["resource"]
    if tag.name == "time" and tag.has_attr("datetime"):
        return tag["datetime"]
    if tag.name in ("data", "meter") and tag.has_attr("value"):
        return tag["value"]
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


class _Page:
    def __init__(self, file: str, soup: BeautifulSoup, options: Options):
        self.file, self.soup, self.options = file, soup, options
        self.by_id: dict[str, dict] = {}
        self.out: list[Event] = []
        self.refs: dict[int, str] = {}
        canonical = soup.find("link", rel="canonical")
        self.page_url = canonical.get("href", "") if canonical else ""
        og_url = soup.find("meta", property="og:url")
        if not self.page_url and og_url:
            self.page_url = og_url.get("content", "")
        og_site = soup.find("meta", property="og:site_name")
        self.site_name = og_site.get("content", "") if og_site else ""
        self.language = (soup.html.get("lang", "") if soup.html else "") or ""

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
        """The `kind/slug` of a linked node (its record added once), or None."""
        if isinstance(value, list):
            return next((r for r in (self.ref(v, kinds) for v in value) if r), None)
        node = self.resolve(value)
        if node is None:
            return None
        if id(node) in self.refs:
            return self.refs[id(node)]
        kind, subtype = _kind_of(_types(node))
        if kind is None or kind not in kinds or kind == "article":
            return None
        self.refs[id(node)] = ""  # a cycle stops here
        entity = getattr(self, f"_{kind}")(node, subtype)
        if entity is None:
            return None
        self.refs[id(node)] = entity.ref
        self.out.append(entity)
        return entity.ref

    def refs_of(self, value, kinds) -> list[str]:
        found = []
        for item in _as_list(value):
            ref = self.ref(item, kinds)
            if ref and ref not in found:
                found.append(ref)
        return found

    def _common(self, node: dict, fields: dict) -> dict:
        same = [u for u in (_url(s) for s in _as_list(node.get("sameAs"))) if u]
        if same:
            fields["sameAs"] = sorted(set(same))
        url = _url(node.get("url"))
        if url:
            fields["url"] = url
        description = _text(node.get("description"))
        if description:
            fields["description"] = description
        return fields

    def _named(self, kind: str, node: dict) -> tuple[str, str] | None:
        name = _text(node.get("name")) or _text(node.get("legalName"))
        if not name:
            return None
        return slugs.slug_for(name, node.get("@id"), fallback=kind), name

    def _organisation(self, node, subtype):
        named = self._named("organisation", node)
        if named is None:
            return None
        fields: dict = {"name": named[1]}
        if subtype:
            fields["type"] = subtype
        alternates = [_text(a) for a in _as_list(node.get("alternateName")) if _text(a)]
        if alternates:
            fields["alternateName"] = alternates
        parent = self.ref(node.get("parentOrganization"), ("organisation",))
        if parent:
            fields["parentOrganization"] = parent.split("/", 1)[1]
        logo = _url(node.get("logo"))
        if logo:
            fields["logo"] = logo
        return Entity(
            "organisation",
            named[0],
            self._common(node, fields),
            identity=node.get("@id") or named[1],
        )

    def _person(self, node, subtype):
        named = self._named("person", node)
        if named is None:
            return None
        fields: dict = {"name": named[1]}
        job = _text(node.get("jobTitle"))
        if job:
            fields["jobTitle"] = job
        works = self.refs_of(node.get("worksFor"), ("organisation",))
        if works:
            fields["worksFor"] = works[0].split("/", 1)[1]
        affiliation = self.refs_of(node.get("affiliation"), ("organisation",))
        if affiliation:
            fields["affiliation"] = [a.split("/", 1)[1] for a in affiliation]
        return Entity(
            "person", named[0], self._common(node, fields), identity=node.get("@id") or named[1]
        )

    def _place(self, node, subtype):
        named = self._named("place", node)
        if named is None:
            return None
        fields: dict = {"name": named[1]}
        address = node.get("address")
        if isinstance(address, dict):
            parts = [
                _text(address.get(k))
                for k in (
                    "streetAddress",
                    "postalCode",
                    "addressLocality",
                    "addressRegion",
                    "addressCountry",
                )
            ]
            address = ", ".join(p for p in parts if p)
        if _text(address):
            fields["address"] = _text(address)
        geo = node.get("geo") if isinstance(node.get("geo"), dict) else {}
        for name in ("latitude", "longitude"):
            value = _text(node.get(name) or geo.get(name))
            if value:
                fields[name] = value
        within = self.ref(node.get("containedInPlace"), ("place",))
        if within:
            fields["containedInPlace"] = within.split("/", 1)[1]
        return Entity(
            "place", named[0], self._common(node, fields), identity=node.get("@id") or named[1]
        )

    def _event(self, node, subtype):
        named = self._named("event", node)
        if named is None:
            return None
        fields: dict = {"name": named[1]}
        for name in ("startDate", "endDate"):
            if _text(node.get(name)):
                try:
                    fields[name] = date(_text(node.get(name)))
                except BadDate:
                    pass
        for location in _as_list(node.get("location")):
            resolved = self.resolve(location) or {}
            if "VirtualLocation" in _types(resolved) and _url(resolved):
                fields["virtualLocation"] = _url(resolved)
                continue
            place = self.ref(location, ("place",))
            if place:
                fields["location"] = place.split("/", 1)[1]
                break
        mode = _text(node.get("eventAttendanceMode")).rsplit("/", 1)[-1]
        modes = {
            "OfflineEventAttendanceMode": "offline",
            "OnlineEventAttendanceMode": "online",
            "MixedEventAttendanceMode": "mixed",
        }
        if mode in modes:
            fields["attendanceMode"] = modes[mode]
        organizers = self.refs_of(node.get("organizer"), ("organisation", "person"))
        if organizers:
            fields["organizer"] = organizers
        parent = self.ref(node.get("superEvent"), ("event",))
        if parent:
            fields["superEvent"] = parent.split("/", 1)[1]
        return Entity(
            "event", named[0], self._common(node, fields), identity=node.get("@id") or named[1]
        )

    def article(self, node: dict) -> Iterator[Event]:
        label = node.get("@id") or _url(node.get("url")) or self.page_url or "the page"
        headline = _text(node.get("headline")) or _text(node.get("name"))
        problems = []
        if not headline:
            problems.append(fault(self.file, label, "headline", "missing: every article needs one"))
        published = _text(node.get("datePublished")) or _text(node.get("dateCreated"))
        dates = {}
        if not published:
            problems.append(
                fault(self.file, label, "datePublished", "missing: no publication date")
            )
        for name, raw in (
            ("datePublished", published),
            ("dateModified", _text(node.get("dateModified"))),
        ):
            if raw:
                try:
                    dates[name] = date(raw)
                except BadDate as bad:
                    problems.append(fault(self.file, label, name, f"not a date: {bad}"))
        if problems:
            yield from problems
            return
        if dates.get("dateModified") == dates["datePublished"]:
            del dates["dateModified"]
        url = _url(node.get("url")) or _url(node.get("mainEntityOfPage")) or self.page_url
        publisher = self.options.publisher or self.ref(node.get("publisher"), ("organisation",))
        if publisher is None:
            site = Site(self.site_name or slugs.host(url) or "site", url)
            org = site_entity(site, self.options)
            self.out.append(org)
            publisher = org.ref
        publisher = publisher.split("/", 1)[-1]
        fields: dict = {"headline": headline, **dates, "publisher": publisher}
        authors = self.refs_of(node.get("author"), ("person", "organisation"))
        if authors:
            fields["author"] = authors
        about = self.refs_of(node.get("about"), ("organisation", "person", "event", "place"))
        about += [
            self._topic(t)
            for t in _as_list(node.get("about"))
            if isinstance(t, str) and t not in self.by_id
        ]
        if about:
            fields["about"] = about
        mentions = self.refs_of(node.get("mentions"), ("organisation", "person", "event", "place"))
        if mentions:
            fields["mentions"] = mentions
        keywords = node.get("keywords")
        if isinstance(keywords, str):
            keywords = [k.strip() for k in keywords.split(",")]
        keywords = [_text(k) for k in _as_list(keywords) if _text(k)]
        if keywords:
            fields["keywords"] = keywords
        image = _url(self.resolve(node.get("image")) or node.get("image"))
        if image:
            fields["image"] = image
        language = _text(node.get("inLanguage")) or self.language
        if language:
            fields["inLanguage"] = language
        description = _text(node.get("description"))
        if description:
            fields["description"] = description
        if url:
            fields["url"] = url
        body = ""
        if _text(node.get("articleBody")):
            text = node.get("articleBody")
            text = text if isinstance(text, str) else _text(text)
            body = html.to_markdown(text, url) if "<" in text else text.strip()
        else:
            container = self.soup.find(attrs={"itemprop": "articleBody"}) or self.soup.find(
                "article"
            )
            if container is not None:
                for heading in container.find_all("h1"):
                    if " ".join(heading.get_text(" ").split()) == headline:
                        heading.decompose()
                body = html.to_markdown(str(container), url or None)
        yield from self.out
        self.out = []
        slug = slugs.slug_for(
            slugs.from_url(url),
            node.get("@id")
            if isinstance(node.get("@id"), str) and "/" not in node.get("@id", "")
            else "",
            headline,
            fallback="article",
        )
        yield Entity(
            "article",
            slug,
            fields,
            body=body,
            identity=url or node.get("@id") or headline,
            origin=f"{self.file}: {label}",
        )

    def _topic(self, name: str) -> str:
        entity = Entity(
            "topic", slugs.slug_for(name, fallback="topic"), {"name": name}, identity=name
        )
        self.out.append(entity)
        return entity.ref


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
    page = _Page(path, soup, options)
    yield Site(page.site_name or slugs.host(page.page_url) or "", page.page_url, page.language)
    for node in nodes:
        if isinstance(node.get("@id"), str):
            page.by_id.setdefault(node["@id"], node)
    articles = [n for n in nodes if _kind_of(_types(n))[0] == "article"]
    for node in nodes:
        kind, _ = _kind_of(_types(node))
        if kind and kind != "article":
            page.ref(node, (kind,))
    if not articles and not page.out:
        yield fault(path, "the page", "", "no schema.org found (JSON-LD, microdata or RDFa)")
        return
    yield from page.out
    page.out = []
    for node in articles:
        yield from page.article(node)


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False
