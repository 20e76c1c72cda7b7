"""Formats as enums: media type, file extension and engine names in one place; content
negotiation over them (Werkzeug's Accept parsing: q-values, parameters ignored); and the
serialisers that write a graph in each, byte-stable for the same graph.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from enum import Enum

import pyoxigraph
from rdflib import Graph
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from .vocab import PREFIXES


class Format(Enum):
    """A representation of a resource or a graph."""

    # name: (media type, extension, rdflib serializer, pyoxigraph format, other media types)
    HTML = ("text/html", "html", None, None, ("application/xhtml+xml",))
    TURTLE = (
        "text/turtle",
        "ttl",
        "turtle",
        pyoxigraph.RdfFormat.TURTLE,
        ("application/x-turtle",),
    )
    JSONLD = (
        "application/ld+json",
        "jsonld",
        "json-ld",
        pyoxigraph.RdfFormat.JSON_LD,
        ("application/json",),
    )
    NTRIPLES = (
        "application/n-triples",
        "nt",
        "nt",
        pyoxigraph.RdfFormat.N_TRIPLES,
        ("text/plain",),
    )
    RDFXML = (
        "application/rdf+xml",
        "rdf",
        "xml",
        pyoxigraph.RdfFormat.RDF_XML,
        ("application/xml", "text/xml"),
    )

    def __init__(self, media_type, extension, rdflib_name, oxigraph, aliases):
        self.media_type = media_type
        self.extension = extension
        self.rdflib_name = rdflib_name
        self.oxigraph = oxigraph
        self.aliases = aliases

    @property
    def title(self) -> str:
        """The format's name for people."""
        return {
            "ttl": "Turtle",
            "jsonld": "JSON-LD",
            "nt": "N-Triples",
            "rdf": "RDF/XML",
            "html": "HTML",
        }[self.extension]

    @property
    def is_rdf(self) -> bool:
        return self.rdflib_name is not None

    @classmethod
    def from_extension(cls, extension: str) -> Format | None:
        return next((f for f in cls if f.extension == extension), None)

    @classmethod
    def rdf(cls) -> list[Format]:
        return [f for f in cls if f.is_rdf]


class ResultFormat(Enum):
    """A serialisation of SPARQL SELECT/ASK results."""

    JSON = (
        "application/sparql-results+json",
        "json",
        pyoxigraph.QueryResultsFormat.JSON,
        ("application/json",),
    )
    XML = (
        "application/sparql-results+xml",
        "xml",
        pyoxigraph.QueryResultsFormat.XML,
        ("application/xml", "text/xml"),
    )
    CSV = ("text/csv", "csv", pyoxigraph.QueryResultsFormat.CSV, ())
    TSV = ("text/tab-separated-values", "tsv", pyoxigraph.QueryResultsFormat.TSV, ())

    def __init__(self, media_type, extension, oxigraph, aliases):
        self.media_type = media_type
        self.extension = extension
        self.oxigraph = oxigraph
        self.aliases = aliases


def negotiate(accept: str | None, offered: list, default=None):
    """The offered format the Accept header prefers most (q-values honoured, media-type
    parameters ignored); `default` when no header; None when nothing offered is acceptable.

    Exact media types beat their aliases, so `application/json` is only picked for a
    format when nothing else asks for it more precisely.
    """
    if not accept or not accept.strip():
        return default if default is not None else offered[0]
    parsed = parse_accept_header(_without_parameters(accept), MIMEAccept)
    best, best_key = None, None
    for position, fmt in enumerate(offered):
        for rank, media_type in enumerate((fmt.media_type, *fmt.aliases)):
            quality = parsed.quality(media_type)
            if quality <= 0:
                continue
            specific = _specificity(parsed, media_type)
            key = (quality, specific, -rank, -position)
            if best_key is None or key > best_key:
                best, best_key = fmt, key
    return best


def _without_parameters(accept: str) -> str:
    """`text/turtle; charset=utf-8; q=0.5` -> `text/turtle;q=0.5`: only q counts."""
    items = []
    for item in accept.split(","):
        media_type, *parameters = (part.strip() for part in item.split(";"))
        quality = [p for p in parameters if p.replace(" ", "").lower().startswith("q=")]
        items.append(";".join([media_type, *quality[:1]]))
    return ",".join(items)


def _specificity(parsed: MIMEAccept, media_type: str) -> int:
    """3 for an exact match in the header, 2 for type/*, 1 for */*."""
    main = media_type.split("/")[0]
    values = {value.split(";")[0].strip().lower() for value, _ in parsed}
    if media_type in values:
        return 3
    if f"{main}/*" in values:
        return 2
    return 1


def serialize_ntriples(graph: Graph) -> bytes:
    """Sorted N-Triples: the canonical, byte-stable dump."""
    lines = graph.serialize(format="nt", encoding="utf-8").splitlines()
    return b"".join(line + b"\n" for line in sorted(set(lines)) if line.strip())


def jsonld_context() -> dict:
    """The inline @context of every JSON-LD document: prefixes, schema.org as @vocab."""
    return {"@vocab": PREFIXES["schema"], **PREFIXES}


def serialize(graph: Graph, fmt: Format) -> bytes:
    """A graph in one RDF format, prefixes bound, JSON-LD compacted with the inline context."""
    if fmt is Format.NTRIPLES:
        return serialize_ntriples(graph)
    out = Graph()
    for prefix, namespace in PREFIXES.items():
        out.bind(prefix, namespace, override=True, replace=True)
    for triple in sorted(graph):
        out.add(triple)
    if fmt is Format.JSONLD:
        document = json.loads(out.serialize(format="json-ld", context=jsonld_context()))
        return json.dumps(
            _canonical(document), indent=1, sort_keys=True, ensure_ascii=False
        ).encode("utf-8")
    return out.serialize(format=fmt.rdflib_name, encoding="utf-8")


def _canonical(node):
    """JSON-LD with its unordered parts sorted (nodes by @id, values by their JSON), so the
    same graph always gives the same bytes; lists (@list) keep their order."""
    if isinstance(node, dict):
        return {key: value if key == "@list" else _canonical(value) for key, value in node.items()}
    if isinstance(node, list):
        items = [_canonical(item) for item in node]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return node


def serialize_triples(triples: Iterable[pyoxigraph.Triple], fmt: Format) -> bytes:
    """Engine triples (a resource's document, a CONSTRUCT): pyoxigraph writes them, except
    JSON-LD, which rdflib compacts with the inline context."""
    if fmt is Format.JSONLD:
        graph = Graph()
        graph.parse(
            data=pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES), format="nt"
        )
        return serialize(graph, fmt)
    return pyoxigraph.serialize(triples, format=fmt.oxigraph, prefixes=PREFIXES)
