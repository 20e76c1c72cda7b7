"""What every source format shares: an item as read (RawItem), dates as written, and the
records one item becomes (the article, its authors, its topics, its publisher)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from . import html, slugs
from .dates import written_out
from .model import Entity, Event, Fault, Options, Site, fault

ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?",
    re.IGNORECASE,
)
EMAIL_NAME = re.compile(r"^\s*\S+@\S+\s*\((.+)\)\s*$")
NO_HEADLINE = "missing: every article needs one"


class BadDate(ValueError):
    pass


def date(raw: str) -> str:
    """An ISO 8601 date or date-time as the build reads it, the offset kept: from ISO 8601
    / RFC 3339 (Atom, JSON Feed, Dublin Core) or RFC 822 (RSS 2.0's pubDate)."""
    raw = (raw or "").strip()
    if not raw:
        raise BadDate("empty")
    match = ISO.fullmatch(raw)
    return _from_iso(match, raw) if match else _from_rfc822(raw)


def _from_iso(match: re.Match, raw: str) -> str:
    """The date as written, checked for a real day (and time): `2024-02-30` is refused."""
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        datetime(int(year), int(month), int(day))
    except ValueError:
        raise BadDate(f"`{raw}` is not a real date") from None
    if hour is None:
        return f"{year}-{month}-{day}"
    value = f"{year}-{month}-{day}T{hour}:{minute}:{second or '00'}{fraction or ''}{_zone(zone)}"
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadDate(f"`{raw}` is not a real date and time") from None
    return value


def _zone(zone: str | None) -> str:
    """`Z`, an offset as ISO 8601 writes it (`+0100` gets its colon), or '' for none."""
    zone = (zone or "").upper()
    if zone and zone != "Z" and ":" not in zone:
        return f"{zone[:3]}:{zone[3:]}"
    return zone


def _from_rfc822(raw: str) -> str:
    try:
        parsed = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is None:
        return _written_out(raw)
    return _iso(parsed)


def _written_out(raw: str) -> str:
    """A date written out in English (`24 September 2019`): lod.ingest.dates."""
    found = written_out(raw)
    if found is None:
        raise BadDate(f"`{raw}` is neither ISO 8601 nor RFC 822")
    moment, timed = found
    return _iso(moment) if timed else moment.strftime("%Y-%m-%d")


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    offset = moment.utcoffset() or timedelta(0)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if offset == timedelta(0):
        return text + "Z"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def local_with_offset(local_text: str, utc_text: str) -> str:
    """WordPress's post_date (site time, no offset) with the offset its post_date_gmt
    implies: `2021-02-20 10:00:00` and `2021-02-20 09:00:00` -> `2021-02-20T10:00:00+01:00`."""
    local = datetime.fromisoformat(local_text.strip())
    try:
        utc = datetime.fromisoformat(utc_text.strip())
    except ValueError:
        return _iso(local)
    offset = local - utc
    if abs(offset) > timedelta(hours=14):
        return _iso(local)
    minutes = round(offset.total_seconds() / 900) * 15
    return _iso(local.replace(tzinfo=timezone(timedelta(minutes=minutes))))


def article_dates(
    file: str, label: str, published: str, modified: str, *, missing: str
) -> tuple[dict[str, str], list[Fault]]:
    """An article's datePublished and dateModified as ISO 8601, the second only when it
    differs (an edit on the day of publication is no news); or a fault for each date that
    is unreadable, and one, in the field `missing`, when there is no publication date: an
    article that cannot be placed in time is not imported."""
    faults = [] if published else [fault(file, label, missing, "missing: no publication date")]
    dates = {}
    for name, raw in (("datePublished", published), ("dateModified", modified)):
        if raw:
            try:
                dates[name] = date(raw)
            except BadDate as bad:
                faults.append(fault(file, label, name, f"not a date: {bad}"))
    if dates.get("dateModified") == dates.get("datePublished"):
        dates.pop("dateModified", None)
    return dates, faults


@dataclass
class Agent:
    name: str
    url: str = ""
    key: str = ""  # the source's own identifier (a login, a URI)


@dataclass
class Term:
    slug_source: str  # the term's own identifier (a nicename, a term)
    label: str
    broader: str = ""  # the parent's slug source
    labels: dict[str, str] = field(default_factory=dict)  # {tag: label}: translated terms


@dataclass
class RawItem:
    """One item of a source as read, before it becomes records."""

    file: str
    position: int
    ident: str = ""  # GUID, Atom id, JSON Feed id
    link: str = ""
    slug_source: str = ""  # a permalink slug given by the source (WordPress post_name)
    title: str = ""  # plain text
    html: str = ""  # the body, HTML
    text_body: str = ""  # the body, plain text (JSON Feed content_text)
    summary: str = ""  # HTML
    published: str = ""
    updated: str = ""
    authors: list[Agent] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)
    image: str = ""
    language: str = ""  # a BCP 47 tag (lod.ingest.languages), '' when unknown
    kind: str = "article"  # or "document" (a WordPress page)
    translation_of: str = ""  # the slug of the record (of the same kind) it translates

    @property
    def label(self) -> str:
        """How a message names the item: its GUID, else its link, else its position."""
        return self.ident or self.link or f"#{self.position}"


def site_entity(site: Site, options: Options) -> Entity:
    slug = options.publisher or slugs.slug_for(site.title, slugs.host(site.url), fallback="site")
    fields = {"name": site.title or slugs.host(site.url) or slug}
    if site.url and site.url.startswith(("http://", "https://")):
        fields["url"] = site.url
    if site.description:
        fields["description"] = site.description
    return Entity("organisation", slug, fields, identity=site.url or site.title)


class Publisher:
    """The organisation a source's articles are published under, from the site the source
    names (its channel or feed element): the site and its organisation are yielded once,
    before the first item's records; the organisation not at all when --publisher names
    one of the dataset's own."""

    def __init__(self, options: Options):
        self.options = options
        self.slug: str | None = None  # None until the site is known

    def site(self, site: Site) -> Iterator[Event]:
        if self.slug is None:
            org = site_entity(site, self.options)
            self.slug = org.slug
            yield site
            if not self.options.publisher:
                yield org


def person(agent: Agent) -> Entity:
    slug = slugs.slug_for(agent.name, agent.key, fallback="person")
    fields = {"name": agent.name}
    if agent.url.startswith(("http://", "https://")):
        fields["url"] = agent.url
    return Entity("person", slug, fields, identity=agent.key or agent.name)


def topic_slug(term: Term) -> str:
    return slugs.slug_for(term.slug_source, term.label, fallback="topic")


def present(**fields) -> dict:
    """The fields that have a value, in the order given: a record never holds an empty
    field."""
    return {name: value for name, value in fields.items() if value}


def entities(item: RawItem, publisher: str, options: Options) -> Iterator[Event]:
    """The records of one item (its authors and topics first), or its faults."""
    title = html.to_text(item.title)
    dates, faults = article_dates(
        item.file, item.label, item.published or item.updated, item.updated, missing="date"
    )
    if not title:
        faults.insert(0, fault(item.file, item.label, "title", NO_HEADLINE))
    faults += _too_large(item, options)
    if faults:
        yield from faults
        return
    people = [person(agent) for agent in item.authors if agent.name.strip()]
    yield from people
    topics = [topic_entity(t) for t in item.terms if html.to_text(t.label or t.slug_source)]
    yield from topics
    yield _record(item, title, dates, publisher, people, topics)


def _record(item: RawItem, title: str, dates: dict, publisher: str, people, topics) -> Entity:
    """The item's own record: an article, or a document (a WordPress page: no publisher,
    image or description; no dateModified). A translation names its original."""
    body, summary = _body(item)
    credits = present(
        author=[p.ref for p in _unique(people)], about=[t.ref for t in _unique(topics)]
    )
    language = present(
        inLanguage=item.language,
        translationOf=f"{item.kind}/{item.translation_of}" if item.translation_of else "",
    )
    if item.kind == "document":
        fields = {"name": title, "datePublished": dates["datePublished"], **credits, **language}
    else:
        fields = {
            "headline": title,
            **dates,
            "publisher": publisher,
            **credits,
            **present(
                image=_web(item.image, item.link or None) or _first_image(body),
                **language,
                description=summary,
            ),
        }
    return Entity(
        item.kind,
        record_slug(item),
        {**fields, **present(url=_web(item.link, None))},
        body=body,
        identity=item.ident or item.link or title,
        origin=f"{item.file}: item {item.label}",
    )


def _too_large(item: RawItem, options: Options) -> list[Fault]:
    size = len(item.html) + len(item.text_body) + len(item.summary)
    if size > options.max_item_bytes:
        return [fault(item.file, item.label, "content", f"too large ({size} characters)")]
    return []


def _body(item: RawItem) -> tuple[str, str]:
    """(the body as Markdown, the summary as plain text): the HTML body, else the plain
    one (JSON Feed's content_text), else the summary, which is then the body and no longer
    a description of it."""
    base = item.link or None
    body = html.to_markdown(item.html, base) or item.text_body.strip()
    if body or not item.summary:
        return body, html.to_text(item.summary)
    return html.to_markdown(item.summary, base), ""


def record_slug(item: RawItem) -> str:
    """The slug of the item's own record: from the source's own permalink slug, else its
    link, else its identifier (the path of one that is a URL), else its title."""
    ident = slugs.from_url(item.ident) if "/" in item.ident else item.ident
    return slugs.slug_for(
        item.slug_source,
        slugs.from_url(item.link),
        ident,
        html.to_text(item.title),
        fallback=item.kind,
    )


_IMAGE = re.compile(r"!\[[^\]]*\]\((https?://[^)\s]+)")


def _first_image(markdown: str) -> str:
    """The first image of the body: what WordPress themes show when a post has no
    featured image (whose attachment may come anywhere in the export)."""
    found = _IMAGE.search(markdown or "")
    return found.group(1) if found else ""


def topic_entity(term: Term) -> Entity:
    """A topic's record: its name, or its name in each language a translated term has
    (`name@fr`)."""
    if term.labels:
        fields = {f"name@{tag}": html.to_text(label) for tag, label in term.labels.items()}
    else:
        fields = {"name": html.to_text(term.label) or term.slug_source}
    if term.broader:
        fields["broader"] = slugs.slug_for(term.broader, fallback="topic")
    return Entity("topic", topic_slug(term), fields, identity=term.slug_source)


def _unique(entities: list[Entity]) -> list[Entity]:
    seen: dict[str, Entity] = {}
    for entity in entities:
        seen.setdefault(entity.ref, entity)
    return list(seen.values())


def _web(url: str, base: str | None) -> str:
    from urllib.parse import urljoin

    url = (url or "").strip()
    if not url:
        return ""
    if base and "://" not in url:
        url = urljoin(base, url)
    return url if url.startswith(("http://", "https://")) and " " not in url else ""


def agent_from_rss(raw: str) -> Agent | None:
    """RSS 2.0's `author` is an e-mail address, often with the name in brackets: the name
    is kept, the address never published."""
    raw = raw.strip()
    found = EMAIL_NAME.match(raw)
    if found:
        return Agent(found.group(1).strip())
    if "@" in raw or not raw:
        return None
    return Agent(raw)
