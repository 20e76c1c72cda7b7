"""Formats as enums: media type, file extension and engine names in one place; content
negotiation over them (Werkzeug's Accept parsing: q-values, parameters ignored); and the
serialisers that write a graph in each, byte-stable for the same graph.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from enum import Enum
from functools import cache
from itertools import groupby

import pyoxigraph
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from .triples import to_oxigraph
from .vocab import PREFIXES

W3C_FORMATS = "http://www.w3.org/ns/formats/"  # the W3C's IRIs for formats: {W3C_FORMATS}Turtle


class Format(Enum):
    """A representation of a resource or a graph."""

    # name: (media type, extension, rdflib serializer, pyoxigraph format, other media types,
    #        name in the W3C's format IRIs)
    HTML = ("text/html", "html", None, None, ("application/xhtml+xml",), None)
    TURTLE = (
        "text/turtle",
        "ttl",
        "turtle",
        pyoxigraph.RdfFormat.TURTLE,
        ("application/x-turtle",),
        "Turtle",
    )
    JSONLD = (
        "application/ld+json",
        "jsonld",
        "json-ld",
        pyoxigraph.RdfFormat.JSON_LD,
        ("application/json",),
        "JSON-LD",
    )
    NTRIPLES = (
        "application/n-triples",
        "nt",
        "nt",
        pyoxigraph.RdfFormat.N_TRIPLES,
        ("text/plain",),
        "N-Triples",
    )
    RDFXML = (
        "application/rdf+xml",
        "rdf",
        "xml",
        pyoxigraph.RdfFormat.RDF_XML,
        ("application/xml", "text/xml"),
        "RDF_XML",
    )

    def __init__(self, media_type, extension, rdflib_name, oxigraph, aliases, w3c_name):
        self.media_type = media_type
        self.extension = extension
        self.rdflib_name = rdflib_name
        self.oxigraph = oxigraph
        self.aliases = aliases
        self.iri = f"{W3C_FORMATS}{w3c_name}" if w3c_name else None

    def __reduce_ex__(self, protocol):
        """Pickled by name (a query worker is sent its format): the pyoxigraph value does not
        pickle."""
        return getattr, (type(self), self.name)

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
        "SPARQL_Results_JSON",
    )
    XML = (
        "application/sparql-results+xml",
        "xml",
        pyoxigraph.QueryResultsFormat.XML,
        ("application/xml", "text/xml"),
        "SPARQL_Results_XML",
    )
    CSV = ("text/csv", "csv", pyoxigraph.QueryResultsFormat.CSV, (), "SPARQL_Results_CSV")
    TSV = (
        "text/tab-separated-values",
        "tsv",
        pyoxigraph.QueryResultsFormat.TSV,
        (),
        "SPARQL_Results_TSV",
    )

    def __init__(self, media_type, extension, oxigraph, aliases, w3c_name):
        self.media_type = media_type
        self.extension = extension
        self.oxigraph = oxigraph
        self.aliases = aliases
        self.iri = f"{W3C_FORMATS}{w3c_name}"

    def __reduce_ex__(self, protocol):
        """Pickled by name, as Format is."""
        return getattr, (type(self), self.name)


PARAMETER_NAMES = {
    # what clients put in `format=` beside the media type (as Fuseki and Virtuoso accept;
    # SPARQLWrapper sends `xml` or `json-ld` for graphs too)
    ResultFormat.JSON: ("json",),
    ResultFormat.XML: ("xml",),
    ResultFormat.CSV: ("csv",),
    ResultFormat.TSV: ("tsv",),
    Format.TURTLE: ("ttl", "turtle", "n3"),
    Format.JSONLD: ("jsonld", "json-ld", "json"),
    Format.NTRIPLES: ("nt", "ntriples", "n-triples"),
    Format.RDFXML: ("rdf", "xml", "rdf+xml", "rdfxml"),
}


def by_name(name: str, offered: list):
    """The offered format `name` names (a `format=` parameter: a short name or the media
    type, in any case), or None.

    >>> by_name("JSON", list(ResultFormat)).name
    'JSON'
    >>> by_name("json", Format.rdf()).name
    'JSONLD'
    >>> by_name("png", Format.rdf()) is None
    True
    """
    name = name.lower()
    return next(
        (f for f in offered if name == f.media_type or name in PARAMETER_NAMES.get(f, ())),
        None,
    )


def negotiate(accept: str | None, offered: list, default=None):
    """The offered format the Accept header prefers most (q-values honoured, media-type
    parameters ignored); `default` when no header; None when nothing offered is acceptable.

    Exact media types beat their aliases, so `application/json` is only picked for a
    format when nothing else asks for it more precisely.

    >>> negotiate("text/html;q=0.5, text/turtle; charset=utf-8", Format.rdf() + [Format.HTML]).name
    'TURTLE'
    >>> negotiate("image/png", Format.rdf()) is None
    True
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


def jsonld_context(language: str | None = None) -> dict:
    """The inline @context of every JSON-LD document: prefixes, schema.org as @vocab, and
    the default `@language` when given (its texts are then plain strings, as search engines
    read them best)."""
    return {"@vocab": PREFIXES["schema"], **PREFIXES} | (
        {"@language": language} if language else {}
    )


def serialize(triples: Iterable, fmt: Format) -> bytes:
    """rdflib triples (a Graph, lod.triples.Triples) in one RDF format; byte-stable."""
    engine = (
        pyoxigraph.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)) for s, p, o in triples
    )
    return serialize_triples(engine, fmt)


def serialize_triples(
    triples: Iterable[pyoxigraph.Triple], fmt: Format, language: str | None = None
) -> bytes:
    """Engine triples (a resource's document, a CONSTRUCT, a dump) in one RDF format, in a
    stable order: N-Triples sorted, Turtle and RDF/XML by pyoxigraph with our prefixes,
    JSON-LD compacted with the inline context (`language` its default, when given)."""
    ntriples = pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES)
    ordered = b"".join(line + b"\n" for line in sorted(set(ntriples.splitlines())) if line)
    return from_ntriples(ordered, fmt, language)


def from_ntriples(ordered: bytes, fmt: Format, language: str | None = None) -> bytes:
    """Sorted N-Triples in `fmt`, in the same order (so as byte-stable as they are)."""
    if fmt is Format.NTRIPLES:
        return ordered
    parsed = pyoxigraph.parse(ordered, format=pyoxigraph.RdfFormat.N_TRIPLES)
    if fmt is Format.JSONLD:
        return write_jsonld(parsed, language)
    return pyoxigraph.serialize(parsed, format=fmt.oxigraph, prefixes=PREFIXES)


def write_jsonld(triples: Iterable[pyoxigraph.Triple], language: str | None = None) -> bytes:
    """Compact JSON-LD with the inline context, one node a line, keys and values sorted.

    Written directly rather than by a JSON-LD processor's compaction (rdflib takes minutes
    on a dump): with `@vocab` schema.org and our prefixes as the context, compaction is a
    renaming of keys, and triples sorted by subject arrive grouped (the dumps write each
    part's nodes with `jsonld_nodes`). The tests read the output back with rdflib and with
    jsonld.js."""
    head = JSONLD_HEAD if language is None else jsonld_head(language)
    return (head + ",\n".join(jsonld_nodes(triples, language)) + JSONLD_TAIL).encode("utf-8")


def jsonld_nodes(
    triples: Iterable[pyoxigraph.Triple], language: str | None = None
) -> Iterator[str]:
    """The node objects of a JSON-LD document, one line each, from triples grouped by
    subject (`language`: the context's default)."""
    for subject, group in groupby(triples, key=lambda t: t.subject):
        node: dict[str, list] = {}
        for triple in group:
            if triple.predicate.value == RDF_TYPE and isinstance(
                triple.object, pyoxigraph.NamedNode
            ):
                node.setdefault("@type", []).append(_compact(triple.object.value))
            else:
                key = _compact(triple.predicate.value)
                node.setdefault(key, []).append(_jsonld_value(triple.object, language))
        out = {"@id": _jsonld_id(subject)}
        for key, values in node.items():
            if len(values) == 1:
                out[key] = values[0]
            else:
                out[key] = sorted(values, key=lambda v: json.dumps(v, sort_keys=True))
        yield json.dumps(out, sort_keys=True, ensure_ascii=False)


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def jsonld_head(language: str | None = None) -> str:
    """A JSON-LD document's start: the inline context, then the graph's opening."""
    context = json.dumps(jsonld_context(language), sort_keys=True, indent=1)
    return '{"@context": ' + context + ',\n"@graph": [\n'


JSONLD_HEAD = jsonld_head()
JSONLD_TAIL = "\n]}\n"
_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NAMESPACES = sorted(
    ((ns, prefix) for prefix, ns in PREFIXES.items() if prefix != "schema"),
    key=lambda item: -len(item[0]),
)


@cache
def _compact(iri: str) -> str:
    """A key or type under our context: schema.org terms by name, others as prefix:name
    (remembered: a dump asks this of the same few predicates and types millions of times)."""
    schema = PREFIXES["schema"]
    if iri.startswith(schema) and _LOCAL.fullmatch(iri[len(schema) :]):
        return iri[len(schema) :]
    for namespace, prefix in _NAMESPACES:
        if iri.startswith(namespace) and _LOCAL.fullmatch(iri[len(namespace) :]):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def _jsonld_id(term) -> str:
    return term.value if isinstance(term, pyoxigraph.NamedNode) else f"_:{term.value}"


def _jsonld_value(term, language: str | None):
    """A value under a context whose default language is `language`: a text in it is a
    plain string, and a plain xsd:string a value object (else it would take the default)."""
    if not isinstance(term, pyoxigraph.Literal):
        return {"@id": _jsonld_id(term)}
    if term.language:
        if term.language == language:
            return term.value
        return {"@language": term.language, "@value": term.value}
    datatype = term.datatype.value
    if datatype in (XSD_STRING, LANG_STRING):
        return {"@value": term.value} if language else term.value
    return {"@type": _compact(datatype), "@value": term.value}
