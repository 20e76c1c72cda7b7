"""Namespaces and the closed set of terms `lod` writes; `mint` makes every record IRI.

A term missing from these classes is an AttributeError at import or call time, so a
misspelt property can never reach published data (tests also check each term against the
published schema.org vocabulary).
"""

from __future__ import annotations

from functools import lru_cache

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
    url: URIRef
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
hierarchy shipped in shapes/ (an organisation's or document's `type`)."""

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


def mint(base: str, kind: str, slug: str) -> URIRef:
    """The IRI of a record: {base}id/{kind}/{slug}."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    return URIRef(f"{base}id/{kind}/{slug}")


def doc_iri(base: str, kind: str, slug: str) -> URIRef:
    """The IRI of a record's data document: {base}doc/{kind}/{slug}."""
    return URIRef(f"{base}doc/{kind}/{slug}")


def dataset_iri(base: str) -> URIRef:
    return URIRef(f"{base}id/dataset")


@lru_cache(maxsize=1)
def schema_classes() -> Graph:
    """schema.org's class hierarchy (rdfs:subClassOf axioms), shipped in shapes/."""
    graph = Graph()
    graph.parse(SHAPES_DIR / "schemaorg-classes.ttl", format="turtle")
    return graph


@lru_cache(maxsize=32)
def schema_subclasses(root: URIRef) -> frozenset[URIRef]:
    """root and every schema.org class below it."""
    graph = schema_classes()
    return frozenset(graph.transitive_subjects(RDFS.subClassOf, root))
