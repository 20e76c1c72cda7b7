"""A resource's description as a page a person reads: labels instead of IRIs, readable
dates, nested nodes (roles, parts, coordinates) shown inside their record, the Markdown
body rendered safely. Pure: no Flask here, so it is tested without a server.

Labels are in the reader's language, falling back in the order lod.languages.rank gives
(the reader's, the dataset's languages in order, a text without one, any other by its
tag), never by chance; each text keeps its language tag, for the page's `lang` and `dir`.
The resource's own values are all shown, in every language, the reader's first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import nh3
import pyoxigraph as ox
from markdown_it import MarkdownIt

from ..languages import best, pick, rank
from ..serve.store import LABELS, TYPE, Description
from ..vocab import FOAF, OWL, SDO, id_prefix

MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False})
BODY = ox.NamedNode(str(SDO.articleBody))
ROLE = ox.NamedNode(str(SDO.Role))
ROLE_NAME = ox.NamedNode(str(SDO.roleName))
LABEL_IRIS = [label.value for label in LABELS]
ORDER = [
    str(p)
    for p in (
        SDO.headline,
        SDO.name,
        SDO.alternateName,
        SDO.datePublished,
        SDO.dateModified,
        SDO.startDate,
        SDO.endDate,
        SDO.jobTitle,
        SDO.worksFor,
        SDO.publisher,
        SDO.author,
        SDO.organizer,
        SDO.sponsor,
        SDO.location,
        SDO.about,
        SDO.mentions,
        SDO.description,
    )
]
HIDDEN = {TYPE.value, str(SDO.articleBody), str(OWL.sameAs)}
INVERSE_LABELS = {
    str(SDO.about): "subject of",
    str(SDO.mentions): "mentioned in",
    str(SDO.author): "author of",
    str(SDO.publisher): "publisher of",
    str(SDO.organizer): "organiser of",
    str(SDO.sponsor): "sponsor of",
    str(SDO.worksFor): "employs",
    str(SDO.affiliation): "affiliates",
    str(SDO.location): "location of",
    str(SDO.contributor): "contributor to",
}
NOT_SHOWN_INCOMING = {str(FOAF.primaryTopic)}


@dataclass
class Value:
    text: str
    href: str | None = None
    lang: str | None = None  # of the text (a literal's, or a linked resource's label's)
    node: Node | None = None  # a nested node shown in place (a role, a part …)


@dataclass
class Property:
    iri: str
    label: str
    values: list[Value]


@dataclass
class Node:
    iri: str
    label: str
    types: list[str]
    properties: list[Property] = field(default_factory=list)
    lang: str | None = None  # the label's


@dataclass
class Page:
    node: Node
    body_html: str | None
    incoming: list[Property]
    incoming_count: int
    offset: int
    page_size: int
    body_lang: str | None = None

    @property
    def next_offset(self) -> int | None:
        following = self.offset + self.page_size
        return following if following < self.incoming_count else None


class Labels:
    """The label and types of every IRI in a description, labels in the language of
    `order` (lod.languages.fallback)."""

    def __init__(self, triples: list[ox.Triple], order: Sequence[str]):
        named = [t for t in triples if isinstance(t.subject, ox.NamedNode)]
        self.types: dict[str, list[str]] = _types(named)
        self.labels: dict[str, ox.Literal] = _labels(named, order)
        for role, name in _roles(named, order).items():  # "moderator of <the event>"
            if role not in self.labels:
                owner = role.split("#", 1)[0]
                self.labels[role] = ox.Literal(f"{name or 'contributor'} of {self.of(owner)}")

    def of(self, iri: str) -> str:
        """Its label; a schema.org term (an enumeration value) by its name; else the IRI."""
        if iri in self.labels:
            return self.labels[iri].value
        if iri.startswith(str(SDO._NS)):
            return humanize(local_name(iri))
        return iri

    def language(self, iri: str) -> str | None:
        """The language of its label (None: none, or no label)."""
        label = self.labels.get(iri)
        return label.language if label is not None else None


def _types(triples: list[ox.Triple]) -> dict[str, list[str]]:
    """Each subject's types in words (`News article`), in the order of the triples."""
    types: dict[str, list[str]] = {}
    for t in triples:
        if t.predicate == TYPE and isinstance(t.object, ox.NamedNode):
            types.setdefault(t.subject.value, []).append(
                humanize(local_name(t.object.value)).capitalize()
            )
    return types


def _labels(triples: list[ox.Triple], order: Sequence[str]) -> dict[str, ox.Literal]:
    """Each subject's label: of the first predicate of LABEL_IRIS it has, in the language
    `order` ranks first (lod.languages.rank); by its text among equals, never by chance."""
    labels: dict[str, ox.Literal] = {}
    ranked: dict[str, tuple] = {}
    for t in triples:
        if t.predicate.value in LABEL_IRIS and isinstance(t.object, ox.Literal):
            subject = t.subject.value
            place = (
                LABEL_IRIS.index(t.predicate.value),
                rank(t.object.language, order),
                t.object.value,
            )
            if subject not in ranked or place < ranked[subject]:
                ranked[subject] = place
                labels[subject] = t.object
    return labels


def _roles(triples: list[ox.Triple], order: Sequence[str]) -> dict[str, str]:
    """The role nodes (a schema:Role, or a node with a roleName) and their role name in
    the language `order` ranks first, "" when they have none."""
    names: dict[str, list[ox.Literal]] = {}
    for t in triples:
        if t.predicate == ROLE_NAME and isinstance(t.object, ox.Literal):
            names.setdefault(t.subject.value, []).append(t.object)
        elif t.predicate == TYPE and t.object == ROLE:
            names.setdefault(t.subject.value, [])
    return {
        role: pick(((n.language, n.value) for n in found), order) or ""
        for role, found in names.items()
    }


def build_page(
    description: Description,
    base: str,
    order: Sequence[str],
    page_size: int,
    root: str = "",
    query: str = "",
) -> Page:
    """The page of a description in the language `order` ranks first (lod.languages.
    fallback); links to our resources go under `root`, the path the app is mounted at
    (SCRIPT_NAME), and end with `query` (`?lang=fr`, the reader's choice kept)."""
    iri = description.iri
    labels = Labels(description.triples, order)

    def link(target: str) -> str | None:
        return href(target, base, root, query)

    by_subject: dict[str, list[ox.Triple]] = {}
    incoming = []
    for t in description.triples:
        subject = t.subject.value if isinstance(t.subject, ox.NamedNode) else str(t.subject)
        if subject == iri or subject.startswith(iri + "#"):
            by_subject.setdefault(subject, []).append(t)
        elif t.object == ox.NamedNode(iri):
            incoming.append(t)
    nested = {s: _node(s, ts, labels, link, {}, order) for s, ts in by_subject.items() if s != iri}
    node = _node(iri, by_subject.get(iri, []), labels, link, nested, order)
    linked = {t.object for t in by_subject.get(iri, [])}
    incoming = [
        t
        for t in incoming
        if t.subject not in linked and t.predicate.value not in NOT_SHOWN_INCOMING
    ]
    bodies = [t.object for t in by_subject.get(iri, []) if t.predicate == BODY]
    body = best(((b.language, b.value) for b in bodies), order)
    return Page(
        node=node,
        body_html=render_markdown(body[1]) if body is not None else None,
        incoming=_incoming(incoming, labels, link, order),
        incoming_count=description.incoming,
        offset=description.offset,
        page_size=page_size,
        body_lang=body[0] if body is not None else None,
    )


def render_markdown(text: str) -> str:
    """CommonMark with raw HTML off, then sanitised: no script, no handlers, no javascript:."""
    return nh3.clean(
        MARKDOWN.render(text), url_schemes={"http", "https", "mailto"}, link_rel="noopener nofollow"
    )


LINKABLE = ("http://", "https://")
Link = Callable[[str], str | None]  # an IRI's local URL


def href(iri: str, base: str, root: str = "", query: str = "") -> str | None:
    """Where a link to `iri` goes from a page: our resources to their local page (under
    `root`, the app's mount point, `query` after it), other web IRIs as they are; None
    (shown as text, never a link) for any other scheme, so no `javascript:` or `data:` IRI
    in the data can become a live link."""
    if iri.startswith(f"{id_prefix(base)}dataset"):
        return f"{root}/.well-known/void"
    if iri.startswith(id_prefix(base)):
        path, mark, fragment = iri[len(base) + 3 :].partition("#")
        return f"{root}/doc/{path}{query}{mark}{fragment}"
    if iri.startswith(base):
        return f"{root}/" + iri[len(base) :]
    return iri if iri.lower().startswith(LINKABLE) else None


def local_name(iri: str) -> str:
    return re.split(r"[/#]", iri.rstrip("/#"))[-1]


def humanize(name: str) -> str:
    """`datePublished` -> `date published`."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower()


def readable(literal: ox.Literal) -> str:
    datatype = literal.datatype.value if literal.datatype else ""
    if datatype.endswith(("#date", "#dateTime")):
        return readable_date(literal.value)
    return literal.value


def readable_date(value: str) -> str:
    """`2021-02-08` -> `8 February 2021`; a date-time keeps its time and offset."""
    try:
        if "T" not in value:
            return f"{date.fromisoformat(value):%-d %B %Y}"
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    zone = moment.strftime(" %Z") if moment.tzinfo else ""
    return f"{moment:%-d %B %Y, %H:%M}{zone}"


def _node(
    iri: str,
    triples: list[ox.Triple],
    labels: Labels,
    link: Link,
    nested: dict[str, Node],
    order: Sequence[str],
) -> Node:
    title = labels.labels.get(iri)
    values: dict[str, list[Value]] = {}
    for t in triples:
        predicate = t.predicate.value
        if predicate in HIDDEN:
            continue
        if predicate in LABEL_IRIS and t.object == title:
            continue  # already the page's title
        values.setdefault(predicate, []).append(_value(t.object, labels, link, nested))
    properties = _properties(values, lambda p: humanize(local_name(p)), order)
    properties.sort(key=lambda p: (ORDER.index(p.iri) if p.iri in ORDER else len(ORDER), p.label))
    return Node(iri, labels.of(iri), labels.types.get(iri, []), properties, labels.language(iri))


def _properties(values: dict[str, list[Value]], label, order: Sequence[str]) -> list[Property]:
    """One row per label (schema:publisher and dcterms:publisher read the same), its texts
    in the reader's language first (lod.languages.rank), then by their text."""
    rows: dict[str, Property] = {}
    for predicate, found in values.items():
        name = label(predicate)
        row = rows.setdefault(name, Property(predicate, name, []))
        row.values.extend(v for v in found if v not in row.values)
    for row in rows.values():
        row.values.sort(key=lambda v: (_place(v, order), v.text.casefold()))
    return list(rows.values())


def _place(value: Value, order: Sequence[str]) -> tuple[int, str]:
    """A text's place among its property's values: the reader's language first (links go
    by their label alone)."""
    return (0, "") if value.href or value.node else rank(value.lang, order)


def _value(term, labels: Labels, link: Link, nested: dict[str, Node]) -> Value:
    if isinstance(term, ox.Literal):
        return Value(readable(term), lang=term.language)
    iri = term.value
    if iri in nested:
        node = nested[iri]
        return Value(node.label, link(iri), node.lang, node=node)
    return Value(labels.of(iri), link(iri), labels.language(iri))


def _incoming(
    triples: list[ox.Triple], labels: Labels, link: Link, order: Sequence[str]
) -> list[Property]:
    values: dict[str, list[Value]] = {}
    for t in triples:
        subject = t.subject.value
        found = Value(labels.of(subject), link(subject), labels.language(subject))
        values.setdefault(t.predicate.value, []).append(found)
    rows = _properties(
        values, lambda p: INVERSE_LABELS.get(p) or humanize(local_name(p)) + " of", order
    )
    return sorted(rows, key=lambda p: p.label)
