"""The field reference (docs/fields.md), generated from the kind tables: each kind's fields,
their type, cardinality and what they become in RDF, with an example file.

    python -m lod.make.convert.reference > docs/fields.md

tests/test_docs.py regenerates it and fails when docs/fields.md differs, and builds the
examples, so neither can drift from the code.
"""

from __future__ import annotations

from rdflib import URIRef

from ...vocab import DCTERMS, KINDS, OWL, RDF, SDO, SKOS
from . import REGISTRY, fields
from .fields import Field, Kind

PREFIXES = {
    str(SDO._NS): "schema:",
    str(SKOS): "skos:",
    str(OWL): "owl:",
    str(RDF): "rdf:",
    str(DCTERMS): "dcterms:",
}
DATASET = """\
title: Example news
description: The examples of docs/fields.md.
license: https://creativecommons.org/licenses/by/4.0/
publisher: organisation/example-ngo
languages: [en, fr]
base: https://lod.example.org/
"""
# One example file per kind; together (with DATASET) a dataset that builds.
EXAMPLES = {
    "article": (
        "summit-opens.md",
        """\
---
headline: Climate summit opens in Geneva
datePublished: 2024-03-01
dateModified: 2024-03-02T09:30:00+01:00
publisher: example-ngo
author:
  - person/jane-doe
about:
  - event/climate-summit
mentions:
  - place/geneva
  - topic/climate
keywords: [climate, diplomacy]
image: https://news.example.org/img/summit.jpg
inLanguage: en
url: https://news.example.org/2024/summit-opens
formerIds: [summit-starts]
---
The summit opened on **Friday** with ...
""",
    ),
    "organisation": (
        "example-ngo.yaml",
        """\
name:
  en: Example NGO
  fr: ONG Exemple
type: NGO
alternateName: [ENGO]
location: geneva
foundingDate: 1999-05-01
logo: https://news.example.org/logo.png
sameAs:
  - http://www.wikidata.org/entity/Q1
url: https://ngo.example.org/
description: A fictitious organisation.
""",
    ),
    "event": (
        "climate-summit.yaml",
        """\
name: Climate summit
startDate: 2024-03-01
endDate: 2024-03-03
location: place/geneva
virtualLocation: https://stream.example.org/summit
attendanceMode: mixed
organizer:
  - organisation/example-ngo
about:
  - topic/climate
contributors:
  - ref: person/jane-doe
    role: moderator
recordedIn: summit-report
""",
    ),
    "person": (
        "jane-doe.yaml",
        """\
name: Jane Doe
jobTitle: Policy advocate
worksFor: example-ngo
affiliation: [example-ngo]
""",
    ),
    "place": (
        "places.csv",
        """\
id,name,name@fr,address,latitude,longitude,sameAs
geneva,Geneva,Genève,,46.2044,6.1432,http://www.wikidata.org/entity/Q71
""",
    ),
    "topic": (
        "topics.yaml",
        """\
- id: climate
  name: Climate
  altLabel: [climate change]
  definition: The long-term pattern of weather.
  exactMatch: [http://www.wikidata.org/entity/Q7937]
- id: climate-finance
  name: Climate finance
  broader: climate
""",
    ),
    "document": (
        "summit-report.yaml",
        """\
name: Summit report
type: Report
datePublished: 2024-04-01
author: [organisation/example-ngo]
about: [topic/climate]
hasPart:
  - Opening
  - Outcomes
contributors:
  - ref: organisation/example-ngo
    role: publisher
""",
    ),
}


def curie(iri: URIRef) -> str:
    for namespace, prefix in PREFIXES.items():
        if str(iri).startswith(namespace):
            return prefix + str(iri)[len(namespace) :]
    return f"<{iri}>"


# What the fields whose form is their own become: (the value written, the RDF made).
_FIXED = {
    fields.Translation: (
        "the original this record translates (`slug`)",
        "`schema:translationOfWork`; the inverse `schema:workTranslation`. The original is "
        "not itself a translation, and its `inLanguage` differs",
    ),
    fields.Contributors: (
        "list of `{ref: person/… or organisation/…, role: text}`",
        "`schema:contributor` to a `#role-n` `schema:Role` node with `schema:roleName` "
        "and `schema:contributor` the agent",
    ),
    fields.Parts: (
        "list of section titles (text)",
        "`schema:hasPart` `#part-n` `schema:CreativeWork` nodes (`schema:name`, "
        "`schema:position`, `schema:isPartOf`)",
    ),
    fields.Recording: (
        "a document (`slug`) or a URL",
        "`schema:recordedIn` (a URL becomes a `#recording` `schema:CreativeWork` with "
        "`schema:url`); the inverse `schema:recordedAt`",
    ),
    fields.VirtualLocation: (
        "http(s) URL",
        "`schema:location` a `#virtual-location` `schema:VirtualLocation`",
    ),
    fields.AttendanceMode: (
        "`offline`, `online` or `mixed`",
        "`schema:eventAttendanceMode` (an enumeration)",
    ),
    fields.FormerIds: (
        "list of slugs this record had before",
        "`<old IRI> dcterms:isReplacedBy <this>`; the old IRIs answer 301",
    ),
}


def describe(field: Field, kind: Kind) -> tuple[str, str]:
    """(the value a publisher writes, what it becomes in RDF): by the first class of
    DESCRIBED the field is (a subclass before its base), else by its predicates."""
    predicates = ", ".join(f"`{curie(p)}`" for p in field.predicates)
    for cls, described in DESCRIBED:
        if isinstance(field, cls):
            return described(field, kind, predicates)
    return "see lod/make/convert", predicates


def _link(field: fields.Link, kind: Kind, predicates: str) -> tuple[str, str]:
    """A reference: the kinds it may name (all of them: any), a slug alone when it may
    name one kind only."""
    refs = " or ".join(field.kinds) if len(field.kinds) < 7 else "any kind"
    form = "`slug`" if len(field.kinds) == 1 else "`kind/slug`"
    rdf = predicates + (f"; the inverse `{curie(field.inverse)}`" if field.inverse else "")
    return f"reference: {refs} ({form})", rdf


def _subtype(field: fields.Subtype, kind: Kind, predicates: str) -> tuple[str, str]:
    root = curie(field.root).removeprefix("schema:")
    return (
        f"a schema.org subtype of {root} (`NGO`, `Report` …)",
        f"`rdf:type` (besides `{curie(kind.classes[0])}`)",
    )


def _fixed(field: Field, kind: Kind, predicates: str) -> tuple[str, str]:
    """A field whose description is written out in _FIXED (the first class it is)."""
    return next(text for cls, text in _FIXED.items() if isinstance(field, cls))


def _coordinate(field: fields.Coordinate, kind: Kind, predicates: str) -> tuple[str, str]:
    return (
        f"decimal from -{field.limit} to {field.limit}",
        f"{predicates} (`xsd:decimal`) on the `#geo` `schema:GeoCoordinates` node",
    )


def _web_link(field: fields.WebLink, kind: Kind, predicates: str) -> tuple[str, str]:
    return ("http(s) URL" if field.web_only else "absolute IRI"), predicates


def _text(field: fields.Text, kind: Kind, predicates: str) -> tuple[str, str]:
    each = "" if field.many else ", one per language"
    return "text, or a language map", f"{predicates} (`rdf:langString`{each})"


def _value(field: fields.Value, kind: Kind, predicates: str) -> tuple[str, str]:
    """A typed value: a date or a language tag."""
    name = getattr(field.parse, "__name__", "")
    if name == "date_or_datetime":
        return (
            "date `2021-02-08` or date-time with offset",
            predicates + " (`xsd:date` or `xsd:dateTime`)",
        )
    if name == "language":
        return "language tag (BCP 47)", predicates
    return "see lod/make/convert", predicates


# How each class of field is described, tried in this order.
DESCRIBED = (
    (tuple(_FIXED), _fixed),
    (fields.Link, _link),
    (fields.Subtype, _subtype),
    (fields.Text, _text),
    (fields.Coordinate, _coordinate),
    (fields.WebLink, _web_link),
    (fields.Value, _value),
)


def markdown() -> str:
    lines = [
        "# Field reference",
        "",
        "<!-- Generated by `python -m lod.make.convert.reference > docs/fields.md` from the",
        "kind tables in lod/make/convert/; tests/test_docs.py fails when they differ. -->",
        "",
        "Every record is a mapping of fields (YAML, the front matter of a Markdown file, or a",
        "CSV row: `;` separates the values of a list in a cell). `id` is a slug",
        "(`[a-z0-9]+(-[a-z0-9]+)*`), unique within its kind; a file holding one record may",
        "leave it out (the file name is the id). A record of kind `k` is the IRI",
        "`{base}id/k/{id}`, described by the document `{base}doc/k/{id}`. *one* takes a single",
        "value, *list* a YAML list (or one value).",
        "",
        "Text fields (names, headlines, descriptions, bodies …) are in the record's",
        "language: an article's or document's `inLanguage`, else the dataset's first",
        "language. A text field may give one value per language instead, as a language map",
        "(`name: {en: United Nations, fr: Organisation des Nations Unies}`; a list per",
        "language where the field takes a list), or as `name@fr:` keys (in YAML and front",
        "matter) and `name@fr` columns (in CSV). Each language is a BCP 47 tag. Each value",
        "becomes an `rdf:langString`; a field that takes one value takes one per language.",
        "",
        "Kinds: " + ", ".join(f"[{name}](#{name})" for name in REGISTRY) + ".",
        "",
    ]
    for name, kind in REGISTRY.items():
        classes = ", ".join(f"`{curie(c)}`" for c in kind.classes)
        lines += [
            f"## {name}",
            "",
            f"Folder `data/{KINDS[name]}/`; each record is a {classes}.",
        ]
        if kind.body != SDO.description:
            lines.append(f"The Markdown body of a `.md` file becomes `{curie(kind.body)}`.")
        else:
            lines.append("The Markdown body of a `.md` file becomes `schema:description`.")
        lines += [
            "",
            "| field | required | cardinality | value | RDF |",
            "|---|---|---|---|---|",
        ]
        for field in kind.fields:
            value, rdf = describe(field, kind)
            lines.append(
                f"| `{field.name}` | {'yes' if field.required else ''} | "
                f"{'list' if field.many else 'one'} | {value} | {rdf} |"
            )
        file_name, text = EXAMPLES[name]
        fence = {"md": "markdown", "csv": "csv"}.get(file_name.rsplit(".", 1)[-1], "yaml")
        lines += [
            "",
            f"Example, `data/{KINDS[name]}/{file_name}`:",
            "",
            f"```{fence}",
            text.rstrip("\n"),
            "```",
            "",
        ]
    lines += [
        "## dataset.yaml",
        "",
        "`data/dataset.yaml` describes the dataset: `title`, `description` (text or a language",
        "map), `license` (an IRI), `publisher` (an organisation), `languages` (the languages",
        "it publishes in, BCP 47 tags in order: the first is every record's default and",
        "pages fall back in this order; `language: en` alone is `languages: [en]`) and `base`",
        "(the base IRI, ending in `/`; `LOD_BASE` overrides it). All are required.",
        "",
        "```yaml",
        DATASET.rstrip("\n"),
        "```",
        "",
        "## gone.yaml",
        "",
        "`data/gone.yaml` lists the records removed on purpose (see the README, *IRIs that",
        "last*): each `{id: kind/slug, reason: text, date: date}`; their IRIs answer 410 Gone.",
        "",
        "```yaml",
        "- id: article/retracted-story",
        "  reason: retracted at the request of the person named",
        "  date: 2024-05-01",
        "```",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
