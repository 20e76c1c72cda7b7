"""Records -> one RDF graph. The registry of kinds lives here; each kind is its own module.

Conversion never stops at the first fault: every field of every record is tried, and the
faults come back together as SourceErrors pinned to file, line and field.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Literal, URIRef

from ...errors import SourceError, UnknownReference
from ...triples import Triples
from ...vocab import FOAF, KINDS, RDF, SDO, VOID, dataset_iri, doc_iri, mint, schema_subclasses
from ..sources import FOLDER_KINDS, Record, Sources
from . import article, document, event, organisation, person, place, topic, values
from . import services as link_services
from .fields import Context, Invalid, Kind, Text, Unknown

REGISTRY: dict[str, Kind] = {
    module.KIND.name: module.KIND
    for module in (article, organisation, event, person, place, topic, document)
}


@dataclass(frozen=True)
class DatasetInfo:
    """data/dataset.yaml, checked."""

    titles: dict[str, str]  # {language: text}, in the order written
    descriptions: dict[str, str]
    license: URIRef
    publisher: URIRef
    languages: tuple[str, ...]  # the default first, then the fallback order
    base: str
    modified: Literal | None = None
    link_services: tuple[link_services.LinkService, ...] = ()  # `linkServices`

    @property
    def language(self) -> str:
        """The dataset's first language: a plain string's, a record's by default."""
        return self.languages[0]

    @property
    def title(self) -> str:
        return _first(self.titles, self.languages)

    @property
    def description(self) -> str:
        return _first(self.descriptions, self.languages)


def _first(texts: dict[str, str], languages: tuple[str, ...]) -> str:
    """The text in the first of `languages` it is written in, else the first written."""
    return next((texts[tag] for tag in languages if tag in texts), next(iter(texts.values())))


@dataclass
class Conversion:
    triples: Triples
    dataset: DatasetInfo | None
    records: dict[URIRef, Record] = field(default_factory=dict)
    errors: list[SourceError] = field(default_factory=list)
    index: dict[str, dict[str, Record]] = field(default_factory=dict)  # index_records'


DATASET_FIELDS = ("title", "description", "license", "publisher", "languages", "base")
OPTIONAL_DATASET_FIELDS = ("linkServices",)


def convert(sources: Sources, base: str | None = None) -> Conversion:
    """All records into one graph; base overrides dataset.yaml's (LOD_BASE)."""
    errors = list(sources.errors)
    index = index_records(sources.records, errors)
    dataset = _dataset(sources.dataset, base, index, errors)
    graph = Triples()
    conversion = Conversion(graph, dataset, errors=errors, index=index)
    if dataset is None:
        return conversion
    conversion.records = subjects(index, dataset.base)
    slugs = [(kind, slug) for kind, records in index.items() for slug in records]  # its order
    iris = dict(zip(slugs, conversion.records, strict=True))
    for (_, slug), (subject, record) in zip(slugs, conversion.records.items(), strict=True):
        _convert_record(record, slug, subject, dataset, index, graph, errors, iris)
    return conversion


def index_records(records: list[Record], errors: list[SourceError]) -> dict[str, dict[str, Record]]:
    """Each kind's records by slug, in source order (a missing, bad or duplicate id is an
    error)."""
    index: dict[str, dict[str, Record]] = {kind: {} for kind in REGISTRY}
    for record in records:
        if record.id is None:
            errors.append(
                SourceError(
                    record.file, record.line, "id", "missing: each record of a list needs an id"
                )
            )
            continue
        try:
            slug = values.slug(record.id)
        except Invalid as bad:
            errors.append(
                SourceError(record.file, record.line_of("id"), "id", bad.message, bad.hint)
            )
            continue
        first = index[record.kind].get(slug)
        if first is not None:
            errors.append(
                SourceError(
                    record.file,
                    record.line_of("id"),
                    "id",
                    f"duplicate {record.kind} id `{slug}`",
                    f"first defined at {first.file}:{first.line_of('id')}",
                )
            )
            continue
        index[record.kind][slug] = record
    return index


def _dataset(record, base_override, index, errors) -> DatasetInfo | None:
    """dataset.yaml read and checked (every fault reported), or None when it is missing or
    wrong: the build then fails with the faults."""
    if record is None:
        return None
    before = len(errors)

    def fault(name: str, message: str, hint: str = "") -> None:
        errors.append(SourceError(record.file, record.line_of(name), name, message, hint))

    known = DATASET_FIELDS + OPTIONAL_DATASET_FIELDS + ("language",)
    for name in record.values:
        if name not in known:
            fault(name, "unknown field", _did_you_mean(name, known))
    services = _link_services(record, errors) if "linkServices" in record.values else None
    if record.id is not None and record.id != "dataset":
        fault("id", "dataset.yaml takes no id")
    found = _dataset_fields(record, base_override, errors, fault)
    if services is not None:
        found["link_services"] = services
    if len(errors) > before:
        return None
    kind, slug = found["publisher"]
    if slug not in index[kind]:
        fault("publisher", f"no organisation `{slug}`")
        return None
    found["publisher"] = mint(found["base"], kind, slug)
    return DatasetInfo(**found)


def _dataset_fields(record, base_override, errors, fault) -> dict[str, object]:
    """The required fields read (`LOD_BASE`, when set, over `base`); a bad `LOD_BASE` is
    the setting's fault, not dataset.yaml's. `language: en` is `languages: [en]`."""
    found: dict[str, object] = {}
    given = dict(record.values)
    named = {name: name for name in DATASET_FIELDS}
    if "language" in given:
        if "languages" in given:
            fault("language", "given besides `languages`", "keep `languages`, the list of all")
        else:
            given["languages"], named["languages"] = given.pop("language"), "language"
    for name in sorted(DATASET_FIELDS, key=lambda name: name != "languages"):  # it first
        overridden = name == "base" and bool(base_override)
        raw = base_override if overridden else given.get(name)
        if raw is None:
            fault(named[name], "missing: a required field")
            continue
        try:
            if name in ("title", "description"):
                found[name + "s"] = _texts(raw, found.get("languages", ("en",)))
            else:
                found[name] = _DATASET_READERS.get(name, values.text)(raw)
        except Invalid as bad:
            if overridden:
                errors.append(SourceError("LOD_BASE", 0, "", bad.message, bad.hint))
            else:
                fault(named[name], bad.message, bad.hint)
    return found


def _languages(raw) -> tuple[str, ...]:
    """An ordered list of BCP 47 tags (one tag alone is a list of one), none twice."""
    tags = tuple(values.language(tag) for tag in (raw if isinstance(raw, list) else [raw]))
    if not tags:
        raise Invalid("is empty", "list the languages, the default first: [en, fr]")
    twice = sorted({tag for tag in tags if tags.count(tag) > 1})
    if twice:
        raise Invalid(f"`{twice[0]}` is listed twice")
    return tags


def _texts(raw, languages: tuple[str, ...]) -> dict[str, str]:
    """A text or a language map {fr: …}: the text in each language."""
    if not isinstance(raw, dict):
        return {languages[0]: values.text(raw)}
    if not raw:
        raise Invalid("is empty")
    return {values.language(tag): values.text(text) for tag, text in raw.items()}


def _link_services(record, errors) -> tuple[link_services.LinkService, ...]:
    """dataset.yaml's linkServices, each fault pointed at its item and field."""

    def service_fault(item, name, message):
        line = record.line_of("linkServices", item)
        where = "linkServices" if item is None else f"linkServices[{item}]"
        where += f".{name}" if name else ""
        errors.append(SourceError(record.file, line, where, message))

    return link_services.parse(record.values["linkServices"], service_fault)


def subjects(index: dict[str, dict[str, Record]], base: str) -> dict[URIRef, Record]:
    """Each record's IRI, in the order a build converts them."""
    return {
        mint(base, kind, slug): record
        for kind, records in index.items()
        for slug, record in records.items()
    }


def contribution(
    record: Record, dataset: DatasetInfo, index: dict[str, dict[str, Record]]
) -> tuple[Triples, list[SourceError]]:
    """The triples converting one record adds to the graph (its own, its hash nodes' and
    data document's, and the inverse links it makes on other records), and its faults."""
    triples: Triples = Triples()
    errors: list[SourceError] = []
    slug = values.slug(record.id)
    subject = mint(dataset.base, record.kind, slug)
    _convert_record(record, slug, subject, dataset, index, triples, errors, {})
    return triples, errors


# How each required field of dataset.yaml is read (its text, once checked as text).
_DATASET_READERS = {
    "license": lambda raw: values.iri(values.text(raw)),
    "languages": _languages,
    "base": lambda raw: values.base(values.text(raw)),
    "publisher": lambda raw: (
        "organisation",
        values.slug(values.text(raw).removeprefix("organisation/")),
    ),
}


def _unread(referrer: str, kind: str, slug: str) -> str:
    """When a missing record's own file is there (so it could not be read, and its error
    is listed first), a hint that says so: the reference is a consequence, not a cause."""
    for folder in Path(referrer).parents:
        if folder.name in FOLDER_KINDS:
            for suffix in (".yaml", ".yml", ".md", ".csv"):
                own = folder.parent / KINDS[kind] / f"{slug}{suffix}"
                if own.is_file():
                    return f"{own} could not be read: see its error"
            break
    return ""


def _convert_record(record, slug, subject, dataset, index, graph, errors, iris) -> None:
    """The record's triples into `graph` (`iris`: the records' IRIs by kind and slug, to
    link to; those missing are made for each link)."""
    kind = REGISTRY[record.kind]

    def fault(name: str, bad: Invalid) -> None:
        line = record.line_of(name, bad.item)
        if isinstance(bad, Unknown):
            hint = _unread(record.file, bad.kind, bad.slug) or bad.hint
            errors.append(UnknownReference(record.file, line, name, bad.message, hint))
        else:
            errors.append(SourceError(record.file, line, name, bad.message, bad.hint))

    language = dataset.language
    if "inLanguage" in record.values and kind.field("inLanguage"):
        try:
            language = values.language(record.values["inLanguage"])
        except Invalid:
            pass  # reported with the other fields below
    elif kind.field("inLanguage"):  # a work always says its language
        graph.add((subject, SDO.inLanguage, Literal(language)))
    ctx = Context(dataset.base, graph, index, language, schema_subclasses, dataset.language, iris)

    for cls in kind.classes:
        graph.add((subject, RDF.type, cls))
    document = doc_iri(dataset.base, record.kind, slug)
    graph.add((document, RDF.type, FOAF.Document))
    graph.add((document, FOAF.primaryTopic, subject))
    graph.add((document, VOID.inDataset, dataset_iri(dataset.base)))

    for name, raw in record.values.items():
        spec, raw = _field(kind, name, raw)
        if spec is None:
            _unknown_field(record, kind, name, errors)
            continue
        try:
            faults = spec.emit(ctx, subject, spec.items(raw, record.from_csv))
        except Invalid as bad:  # the value as a whole (a list where one is allowed …)
            faults = [bad]
        for bad in faults:
            fault(name, bad)
    given = {_field(kind, name, raw)[0] for name, raw in record.values.items() if raw}
    for spec in kind.fields:
        if spec.required and spec not in given:
            errors.append(
                SourceError(
                    record.file,
                    record.line_of(spec.name),
                    spec.name,
                    f"missing: every {record.kind} needs a {spec.name}",
                )
            )
    if record.body:
        _body(record, kind, ctx, subject, errors)


def _field(kind: Kind, name: str, raw):
    """The field a key names, and its value: `name@fr: …` is `name: {fr: …}` (a text field
    only); (None, raw) when the kind has no such field."""
    spec = kind.field(name)
    if spec is None and "@" in name:
        field_name, _, tag = name.partition("@")
        spec = kind.field(field_name)
        if isinstance(spec, Text) and tag:
            return spec, {tag: raw}
        return None, raw
    return spec, raw


def _unknown_field(record: Record, kind: Kind, name: str, errors: list[SourceError]) -> None:
    """A field the kind does not have, with the closest one it has; a CSV column is
    reported once, at its header."""
    hint = _did_you_mean(name, [f.name for f in kind.fields])
    field_name = name.partition("@")[0]
    if field_name != name and kind.field(field_name) is not None:
        hint = f"`{field_name}` takes no language: only text fields do"
    if not record.header_line:
        errors.append(
            SourceError(
                record.file, record.line_of(name), name, f"unknown {record.kind} field", hint
            )
        )
        return
    error = SourceError(
        record.file, record.header_line, name, f"unknown {record.kind} column", hint
    )
    if error not in errors:
        errors.append(error)


def _body(record: Record, kind: Kind, ctx: Context, subject, errors: list[SourceError]) -> None:
    """The Markdown body: the kind's body field (the description where it has none)."""
    if kind.body == kind.field("description").predicates[0] and "description" in record.values:
        errors.append(
            SourceError(
                record.file,
                record.body_line,
                "description",
                "given twice: in the front matter and as the body",
            )
        )
        return
    try:
        ctx.add(subject, kind.body, ctx.tagged(record.body))
    except Invalid as bad:
        errors.append(SourceError(record.file, record.body_line, "body", bad.message))


def _did_you_mean(name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"did you mean `{close[0]}`?" if close else "allowed: " + ", ".join(choices)


def field_of(record: Record, predicate: URIRef, fragment: str | None) -> str:
    """The source field behind a triple of the record (or of its hash node `fragment`)."""
    kind = REGISTRY[record.kind]
    if fragment:
        prefix = fragment.split("-")[0] if fragment[-1].isdigit() else fragment
        for spec in kind.fields:
            if spec.fragment == prefix:
                return spec.name
    if predicate == kind.body and record.body:
        return "body"
    for spec in kind.fields:
        if predicate in spec.predicates:
            return spec.name
    return ""
