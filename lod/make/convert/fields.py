"""Field kinds: how one source field becomes triples.

A kind module lists its fields; each field parses its raw value and adds triples about the
record's subject through a Context. A field that makes nested nodes names their IRI
fragment (`#role-1`, `#geo` …) so that validation results on those nodes can be traced back
to the field that made them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rdflib import Literal, URIRef

from ...triples import Triples
from ...vocab import DCTERMS, KINDS, OWL, RDF, SCHEMA, SDO, mint
from . import values
from .values import Invalid

ANY_KIND = tuple(KINDS)


class Unknown(Invalid):
    """A reference to a record that does not exist: `kind`/`slug`."""

    def __init__(self, kind: str, slug: str, hint: str = ""):
        super().__init__(f"no {kind} `{slug}`", hint)
        self.kind, self.slug = kind, slug


def _language_key(tag: str) -> str:
    """A language map's key, checked: the usual slip is a mapping that is not one."""
    try:
        return values.language(tag)
    except Invalid as bad:
        raise Invalid(bad.message, "a mapping here is a language map: {en: …, fr: …}") from None


@dataclass
class Context:
    """What a field needs while converting one record."""

    base: str
    triples: Triples
    index: dict[str, dict[str, Any]]
    language: str  # of a plain string: the record's inLanguage, else the dataset's first
    subtypes: Callable[[URIRef], set[URIRef]]
    default_language: str = ""  # the dataset's first language (a record's when it has none)
    # the records' IRIs by kind and slug, shared by a whole conversion: a link is the
    # same object as its target's subject, not one more copy of the IRI a link
    iris: dict[tuple[str, str], URIRef] = field(default_factory=dict)

    def add(self, subject, predicate, obj) -> None:
        self.triples.add((subject, predicate, obj))

    def tagged(self, raw: Any, tag: str | None = None) -> Literal:
        """Text as an rdf:langString: in `tag` (a language map's key), or in the record's
        language."""
        language = _language_key(tag) if tag else self.language
        try:
            return Literal(values.text(raw), lang=language)
        except Invalid as bad:
            if tag:
                bad.message = f"{tag}: {bad.message}"
            raise

    def language_of(self, kind: str, slug: str) -> str:
        """The language a record is written in (its inLanguage, else the dataset's)."""
        written = self.index[kind][slug].values.get("inLanguage")
        return written if isinstance(written, str) else self.default_language

    def ref(self, raw: str, kinds: tuple[str, ...]) -> URIRef:
        """Resolve `kind/slug` (or a bare slug where one kind only is admitted)."""
        raw = values.text(raw)
        if "/" in raw:
            kind, _, slug = raw.partition("/")
            if kind not in kinds:
                raise Invalid(
                    f"`{raw}`: a {kind} is not allowed here", "expected " + " or ".join(kinds)
                )
        elif len(kinds) == 1:
            kind, slug = kinds[0], raw
        else:
            raise Invalid(
                f"`{raw}` does not say its kind", "write kind/slug, e.g. " + f"{kinds[0]}/{raw}"
            )
        values.slug(slug)
        if slug not in self.index.get(kind, {}):
            close = difflib.get_close_matches(slug, self.index.get(kind, {}), n=1)
            raise Unknown(kind, slug, f"did you mean `{close[0]}`?" if close else "")
        return self.iris.get((kind, slug)) or mint(self.base, kind, slug)


class Field:
    """A source field: name, cardinality, and how it becomes triples."""

    fragment: str | None = None  # prefix of the hash IRIs this field mints

    def __init__(
        self,
        name: str,
        *,
        many: bool = False,
        required: bool = False,
        predicates: Iterable[URIRef] = (),
    ):
        self.name, self.many, self.required = name, many, required
        self.predicates = tuple(predicates)

    def items(self, raw: Any, from_csv: bool) -> list[Any]:
        if raw is None:
            return []
        if self.many:
            if isinstance(raw, list):
                return raw
            if from_csv and isinstance(raw, str):
                return [part for part in (p.strip() for p in raw.split(";")) if part]
            return [raw]
        if isinstance(raw, list):
            raise Invalid("takes one value, not a list")
        return [raw]

    def emit(self, ctx: Context, subject: URIRef, items: list[Any]) -> list[Invalid]:
        """Each item in turn; the fault of every bad item (not only the first), each naming
        the item (its position) it was found in."""
        faults = []
        for index, item in enumerate(items):
            try:
                self.emit_one(ctx, subject, item, index + 1)
            except Invalid as bad:
                bad.item = index if self.many else None
                faults.append(bad)
        return faults

    def emit_one(self, ctx: Context, subject: URIRef, item: Any, number: int) -> None:
        raise NotImplementedError


class Value(Field):
    """A typed literal: a date, a number, a language tag…"""

    def __init__(self, name: str, predicate: URIRef, parse: Callable[[Any], Any], **options):
        super().__init__(name, predicates=[predicate], **options)
        self.parse = parse

    def emit_one(self, ctx, subject, item, number):
        parsed = self.parse(item)
        obj = parsed if isinstance(parsed, Literal | URIRef) else Literal(parsed)
        ctx.add(subject, self.predicates[0], obj)


class Text(Field):
    """Text people read, in one language or several: a string (in the record's language),
    a language map `{en: …, fr: …}` (a list per language where the field takes many), or a
    `name@fr` key or CSV column. Each value an rdf:langString, on every predicate."""

    def __init__(self, name: str, *predicates: URIRef, **options):
        super().__init__(name, predicates=predicates, **options)

    def items(self, raw: Any, from_csv: bool) -> list[Any]:
        """(language or None, text, position) for each value; the position is the item
        (a list's, or a language map's key) a fault points at."""
        if not isinstance(raw, dict):
            many = super().items(raw, from_csv)
            return [(None, item, index if self.many else None) for index, item in enumerate(many)]
        found = []
        for index, (tag, value) in enumerate(raw.items()):
            try:
                found += [(tag, item, index) for item in super().items(value, from_csv)]
            except Invalid as bad:
                bad.item = index
                raise bad from None
        return found

    def emit(self, ctx: Context, subject: URIRef, items: list[Any]) -> list[Invalid]:
        faults = []
        for tag, item, position in items:
            try:
                literal = ctx.tagged(item, tag)
            except Invalid as bad:
                bad.item = position
                faults.append(bad)
                continue
            for predicate in self.predicates:
                ctx.add(subject, predicate, literal)
        return faults


class Link(Field):
    """A reference to other records; `inverse` materialises the other direction."""

    def __init__(
        self,
        name: str,
        predicate: URIRef,
        kinds: tuple[str, ...],
        *,
        inverse: URIRef | None = None,
        **options,
    ):
        super().__init__(name, predicates=[predicate], **options)
        self.kinds, self.inverse = kinds, inverse

    def emit_one(self, ctx, subject, item, number):
        target = ctx.ref(item, self.kinds)
        ctx.add(subject, self.predicates[0], target)
        if self.inverse is not None:
            ctx.add(target, self.inverse, subject)


class WebLink(Field):
    """An IRI outside the dataset (a page, an image, an equivalent resource)."""

    def __init__(self, name: str, *predicates: URIRef, web_only: bool = True, **options):
        super().__init__(name, predicates=predicates, **options)
        self.web_only = web_only

    def emit_one(self, ctx, subject, item, number):
        target = values.iri(item, web_only=self.web_only)
        for predicate in self.predicates:
            ctx.add(subject, predicate, target)


class Subtype(Field):
    """A schema.org subtype of the kind's class, such as NGO or Report."""

    def __init__(self, root: URIRef, *, elsewhere: dict[URIRef, str] | None = None):
        super().__init__("type", predicates=[RDF.type])
        self.root = root
        # classes (and their subclasses) whose records are another kind: {class: kind}
        self.elsewhere = elsewhere or {}

    def emit_one(self, ctx, subject, item, number):
        name = values.text(item)
        candidate = SCHEMA[name]
        allowed = ctx.subtypes(self.root)
        if candidate not in allowed:
            names = sorted(str(c).removeprefix(str(SCHEMA)) for c in allowed)
            close = difflib.get_close_matches(name, names, n=1)
            root = str(self.root).removeprefix(str(SCHEMA))
            raise Invalid(
                f"`{name}` is not a schema.org subtype of {root}",
                f"did you mean `{close[0]}`?" if close else "",
            )
        for cls, kind in self.elsewhere.items():
            if candidate in ctx.subtypes(cls):
                raise Invalid(
                    f"a {name} is an {kind} record, validated as one",
                    f"put it in data/{kind}s/ (or choose another type)",
                )
        ctx.add(subject, RDF.type, candidate)


class Contributors(Field):
    """Roles, schema.org's Role pattern: <s> contributor <#role-n> contributor <agent>."""

    fragment = "role"

    def __init__(self):
        super().__init__("contributors", many=True, predicates=[SDO.contributor])

    def emit_one(self, ctx, subject, item, number):
        if not isinstance(item, dict) or set(item) - {"ref", "role"} or "ref" not in item:
            raise Invalid("each contributor is a mapping {ref: person/slug, role: …}")
        agent = ctx.ref(item["ref"], ("person", "organisation"))
        role = URIRef(f"{subject}#{self.fragment}-{number}")
        ctx.add(subject, SDO.contributor, role)
        ctx.add(role, RDF.type, SDO.Role)
        ctx.add(role, SDO.contributor, agent)
        if item.get("role") is not None:
            names = item["role"] if isinstance(item["role"], dict) else {None: item["role"]}
            for tag, name in names.items():
                ctx.add(role, SDO.roleName, ctx.tagged(name, tag))


class Parts(Field):
    """Section titles of a document, as CreativeWork parts in their order."""

    fragment = "part"

    def __init__(self):
        super().__init__("hasPart", many=True, predicates=[SDO.hasPart])

    def emit_one(self, ctx, subject, item, number):
        part = URIRef(f"{subject}#{self.fragment}-{number}")
        ctx.add(subject, SDO.hasPart, part)
        ctx.add(part, SDO.isPartOf, subject)
        ctx.add(part, RDF.type, SDO.CreativeWork)
        ctx.add(part, SDO.name, ctx.tagged(item))
        ctx.add(part, SDO.position, Literal(number))


class Recording(Field):
    """recordedIn: a document of ours, or a URL that becomes a #recording CreativeWork."""

    fragment = "recording"

    def __init__(self):
        super().__init__("recordedIn", predicates=[SDO.recordedIn])

    def emit_one(self, ctx, subject, item, number):
        if ":" in str(item):
            target = URIRef(f"{subject}#{self.fragment}")
            ctx.add(target, RDF.type, SDO.CreativeWork)
            ctx.add(target, SDO.url, values.iri(item, web_only=True))
        else:
            target = ctx.ref(item, ("document",))
        ctx.add(subject, SDO.recordedIn, target)
        ctx.add(target, SDO.recordedAt, subject)


class VirtualLocation(Field):
    fragment = "virtual-location"

    def __init__(self):
        super().__init__("virtualLocation", predicates=[SDO.location])

    def emit_one(self, ctx, subject, item, number):
        node = URIRef(f"{subject}#{self.fragment}")
        ctx.add(subject, SDO.location, node)
        ctx.add(node, RDF.type, SDO.VirtualLocation)
        ctx.add(node, SDO.url, values.iri(item, web_only=True))


class AttendanceMode(Field):
    MODES = {
        "offline": SDO.OfflineEventAttendanceMode,
        "online": SDO.OnlineEventAttendanceMode,
        "mixed": SDO.MixedEventAttendanceMode,
    }

    def __init__(self):
        super().__init__("attendanceMode", predicates=[SDO.eventAttendanceMode])

    def emit_one(self, ctx, subject, item, number):
        mode = self.MODES.get(values.text(item).lower())
        if mode is None:
            raise Invalid(f"`{item}` is not an attendance mode", "offline, online or mixed")
        ctx.add(subject, SDO.eventAttendanceMode, mode)


class Coordinate(Field):
    """latitude or longitude, on the place's #geo GeoCoordinates node."""

    fragment = "geo"

    def __init__(self, name: str, predicate: URIRef, limit: float):
        super().__init__(name, predicates=[predicate])
        self.limit = limit

    def emit_one(self, ctx, subject, item, number):
        node = URIRef(f"{subject}#{self.fragment}")
        ctx.add(subject, SDO.geo, node)
        ctx.add(node, RDF.type, SDO.GeoCoordinates)
        ctx.add(node, self.predicates[0], values.decimal(item, -self.limit, self.limit))


class Translation(Link):
    """translationOf: the original this record translates (`schema:translationOfWork`, and
    `schema:workTranslation` back). Translations hang from their original, one level, so a
    group is the original and its translations; each in a language of its own."""

    def __init__(self, kind: str):
        super().__init__(
            "translationOf", SDO.translationOfWork, (kind,), inverse=SDO.workTranslation
        )

    def emit_one(self, ctx, subject, item, number):
        target = ctx.ref(item, self.kinds)
        kind, slug = self.kinds[0], str(target).rsplit("/", 1)[1]
        original = ctx.index[kind][slug]
        if target == subject:
            raise Invalid("a record cannot be a translation of itself")
        if original.values.get("translationOf") is not None:
            raise Invalid(
                f"`{kind}/{slug}` is itself a translation",
                f"name its original: translationOf: {original.values['translationOf']}",
            )
        if ctx.language_of(kind, slug) == ctx.language:
            raise Invalid(
                f"`{kind}/{slug}` is in {ctx.language} too",
                "a translation says its own language: set inLanguage",
            )
        super().emit_one(ctx, subject, item, number)


class FormerIds(Field):
    """Slugs the record was published under before (its file renamed): each old IRI
    `dcterms:isReplacedBy` this one, and the app answers 301 from it (lod.make.permanence)."""

    def __init__(self):
        super().__init__("formerIds", many=True, predicates=[DCTERMS.isReplacedBy])

    def emit_one(self, ctx, subject, item, number):
        kind = str(subject)[len(ctx.base) :].split("/")[1]  # {base}id/{kind}/{slug}
        old = mint(ctx.base, kind, values.slug(item))
        if old == subject:
            raise Invalid(f"`{item}` is this record's own id", "list only ids it had before")
        ctx.add(old, DCTERMS.isReplacedBy, subject)


def common_fields() -> list[Field]:
    """What every kind admits (DESIGN §3)."""
    return [
        WebLink("sameAs", SDO.sameAs, OWL.sameAs, web_only=False, many=True),
        WebLink("url", SDO.url),
        Text("description", SDO.description),
        FormerIds(),
    ]


DATE = values.date_or_datetime


@dataclass(frozen=True)
class Kind:
    """One kind of record: its classes, its fields, where a Markdown body goes."""

    name: str
    classes: tuple[URIRef, ...]
    fields: tuple[Field, ...]
    label: str = "name"
    body: URIRef = SDO.description

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)
