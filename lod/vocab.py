"""Namespaces and the closed set of terms `lod` writes; `mint` makes every record IRI.

A term missing from these classes is an AttributeError at import or call time, so a
misspelt property can never reach published data (tests also check each term against the
published schema.org vocabulary).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

from rdflib import Graph, URIRef
from rdflib.namespace import (
    DCTERMS,
    FOAF,
    OWL,
    PROV,
    RDF,
    RDFS,
    SKOS,
    VOID,
    XSD,
    DefinedNamespace,
    Namespace,
)

from .config import SHAPES_DIR

__all__ = [
    "DCAT",
    "DCTERMS",
    "FOAF",
    "KINDS",
    "OWL",
    "PROV",
    "RDF",
    "RDFS",
    "SDO",
    "SKOS",
    "VOID",
    "XSD",
    "SCHEMA",
    "PREFIXES",
    "mint",
    "doc_iri",
    "dataset_iri",
    "schema_subclasses",
    "LABELS",
    "ALTERNATE_NAMES",
    "SAME_AS",
    "LISTING_DATES",
    "DESCRIPTIVE_DATES",
    "MODIFICATION_DATES",
    "NOT_IN_IRI",
]


class SDO(DefinedNamespace):
    """The schema.org terms `lod` uses (https, as schema.org publishes them)."""

    _NS = Namespace("https://schema.org/")
    _fail = True

    # classes
    Article: URIRef
    CreativeWork: URIRef
    DefinedTerm: URIRef
    Event: URIRef
    GeoCoordinates: URIRef
    NewsArticle: URIRef
    Organization: URIRef
    Person: URIRef
    Place: URIRef
    Role: URIRef
    VirtualLocation: URIRef
    MixedEventAttendanceMode: URIRef
    OfflineEventAttendanceMode: URIRef
    OnlineEventAttendanceMode: URIRef
    # properties
    about: URIRef
    address: URIRef
    affiliation: URIRef
    alternateName: URIRef
    articleBody: URIRef
    author: URIRef
    containedInPlace: URIRef
    containsPlace: URIRef
    contributor: URIRef
    dateModified: URIRef
    datePublished: URIRef
    description: URIRef
    endDate: URIRef
    eventAttendanceMode: URIRef
    foundingDate: URIRef
    geo: URIRef
    hasPart: URIRef
    headline: URIRef
    image: URIRef
    inLanguage: URIRef
    isPartOf: URIRef
    jobTitle: URIRef
    keywords: URIRef
    latitude: URIRef
    location: URIRef
    logo: URIRef
    longitude: URIRef
    member: URIRef
    memberOf: URIRef
    mentions: URIRef
    name: URIRef
    organizer: URIRef
    parentOrganization: URIRef
    position: URIRef
    publisher: URIRef
    recordedAt: URIRef
    recordedIn: URIRef
    roleName: URIRef
    sameAs: URIRef
    sponsor: URIRef
    startDate: URIRef
    subEvent: URIRef
    subOrganization: URIRef
    superEvent: URIRef
    translationOfWork: URIRef
    url: URIRef
    workTranslation: URIRef
    worksFor: URIRef


class DCAT(DefinedNamespace):
    """The DCAT 3 terms `lod` uses."""

    _NS = Namespace("http://www.w3.org/ns/dcat#")
    _fail = True

    Dataset: URIRef
    Distribution: URIRef
    accessURL: URIRef
    distribution: URIRef
    downloadURL: URIRef
    mediaType: URIRef
    compressFormat: URIRef


class SD(DefinedNamespace):
    """The SPARQL 1.1 Service Description terms `lod` uses."""

    _NS = Namespace("http://www.w3.org/ns/sparql-service-description#")
    _fail = True

    Dataset: URIRef
    Graph: URIRef
    SPARQL11Query: URIRef
    Service: URIRef
    defaultDataset: URIRef
    defaultGraph: URIRef
    endpoint: URIRef
    resultFormat: URIRef
    supportedLanguage: URIRef


SCHEMA = Namespace("https://schema.org/")
"""The open schema.org namespace, only for user-chosen subtypes checked against the class
hierarchy shipped in lod/shapes/ (an organisation's or document's `type`)."""

KINDS: dict[str, str] = {
    "article": "articles",
    "organisation": "organisations",
    "event": "events",
    "person": "people",
    "place": "places",
    "topic": "topics",
    "document": "documents",
}
"""Each kind of record and the data/ folder that holds it."""

PREFIXES: dict[str, str] = {
    "schema": str(SDO._NS),
    "skos": str(SKOS),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
    "foaf": str(FOAF),
    "void": str(VOID),
    "dcat": str(DCAT._NS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "sd": str(SD._NS),
}


LABELS = (SDO.name, SDO.headline, SKOS.prefLabel, DCTERMS.title)
"""What labels a resource for people, most preferred first (a record has one of them; the
dataset has its dcterms:title)."""

ALTERNATE_NAMES = (SDO.alternateName, SKOS.altLabel)
"""Other names a record is known by."""

SAME_AS = (SDO.sameAs, OWL.sameAs, SKOS.exactMatch)
"""Links to the same thing elsewhere (Wikidata, ROR …)."""

LISTING_DATES = (SDO.datePublished, SDO.startDate)
"""The date a record is listed by, newest first: when it appeared or took place."""

DESCRIPTIVE_DATES = (SDO.datePublished, SDO.startDate, SDO.foundingDate)
"""The date that places a record in time, for people telling records apart."""

MODIFICATION_DATES = (SDO.dateModified, SDO.datePublished)
"""Dates of content changes: the newest is the dataset's dcterms:modified."""

NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\\x7f]')
"""Characters an IRI may not hold (RFC 3987 and SPARQL's IRIREF)."""

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
"""A record's id, the last segment of its IRI (DESIGN §3)."""

SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*")
ACTIVE_SCHEMES = {"javascript", "vbscript", "data", "file", "blob", "about"}


class BadIri(ValueError):
    """Text that cannot be published as an IRI: what is wrong, and a hint."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint


def checked_iri(value: str, web_only: bool = False) -> str:
    """`value` if it is an absolute IRI of a resource (no script or data: IRIs); with
    `web_only`, an http(s) URL with a host. BadIri says what is wrong otherwise.

    >>> checked_iri("http://www.wikidata.org/entity/Q1065")
    'http://www.wikidata.org/entity/Q1065'
    >>> checked_iri("javascript:alert(1)")
    Traceback (most recent call last):
    lod.vocab.BadIri: `javascript:alert(1)`: a javascript: IRI names no resource of the web
    """
    if NOT_IN_IRI.search(value):
        raise BadIri(f'`{value}` is not a valid IRI (spaces or <>"{{}}|\\^` are not allowed)')
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise BadIri(f"`{value}` is not a valid IRI ({exc})") from None
    if not parts.scheme or not SCHEME.fullmatch(parts.scheme) or ":" not in value:
        raise BadIri(f"`{value}` is not an absolute IRI", "write it with its scheme, e.g. https://")
    if parts.scheme.lower() in ACTIVE_SCHEMES:
        raise BadIri(
            f"`{value[:60]}`: a {parts.scheme}: IRI names no resource of the web",
            "use an http(s) IRI, or a URN",
        )
    if parts.scheme in ("http", "https") and not parts.netloc:
        raise BadIri(f"`{value}` has no host")
    if web_only and parts.scheme not in ("http", "https"):
        raise BadIri(f"`{value}` is not an http(s) URL")
    return value


def mint(base: str, kind: str, slug: str) -> URIRef:
    """The IRI of a record: {base}id/{kind}/{slug}.

    >>> str(mint("https://lod.example.org/", "event", "csocd59"))
    'https://lod.example.org/id/event/csocd59'
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    return URIRef(f"{id_prefix(base)}{kind}/{slug}")


def doc_iri(base: str, kind: str, slug: str) -> URIRef:
    """The IRI of a record's data document: {base}doc/{kind}/{slug}."""
    return URIRef(f"{doc_prefix(base)}{kind}/{slug}")


def dataset_iri(base: str) -> URIRef:
    """The IRI of the dataset itself: {base}id/dataset."""
    return URIRef(f"{id_prefix(base)}dataset")


def id_prefix(base: str) -> str:
    """Where record IRIs start: {base}id/ (VoID's uriSpace)."""
    return f"{base}id/"


def doc_prefix(base: str) -> str:
    """Where data documents' IRIs start: {base}doc/."""
    return f"{base}doc/"


def sparql_iri(base: str) -> URIRef:
    """The SPARQL endpoint's published IRI: {base}sparql."""
    return URIRef(f"{base}sparql")


def shapes_iri(base: str) -> URIRef:
    """The published SHACL shapes the data conforms to: {base}shapes."""
    return URIRef(f"{base}shapes")


def dump_iri(base: str, file_name: str) -> URIRef:
    """A dump's published IRI: {base}dumps/{file_name}."""
    return URIRef(f"{base}dumps/{file_name}")


def kind_and_slug(base: str, iri: str) -> tuple[str, str] | None:
    """(kind, slug) of a record IRI under `base`; None for any other IRI.

    >>> kind_and_slug("https://lod.example.org/", "https://lod.example.org/id/person/ann")
    ('person', 'ann')
    >>> kind_and_slug("https://lod.example.org/", "https://lod.example.org/id/event/x#role-1")
    """
    rest = iri.removeprefix(id_prefix(base))
    kind, _, slug = rest.partition("/")
    if rest == iri or kind not in KINDS or not slug or "/" in slug or "#" in slug:
        return None
    return kind, slug


@lru_cache(maxsize=1)
def schema_classes() -> Graph:
    """schema.org's class hierarchy (rdfs:subClassOf axioms), shipped in lod/shapes/."""
    graph = Graph()
    graph.parse(SHAPES_DIR / "schemaorg-classes.ttl", format="turtle")
    return graph


@lru_cache(maxsize=32)
def schema_subclasses(root: URIRef) -> frozenset[URIRef]:
    """root and every schema.org class below it."""
    graph = schema_classes()
    return frozenset(graph.transitive_subjects(RDFS.subClassOf, root))
