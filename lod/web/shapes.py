"""/shapes: the SHACL shapes the data conforms to (lod/shapes/, the class hierarchy included),
as one graph, negotiated like a resource (Turtle when nothing is asked for, a page to
read for a browser), and /shapes.{ttl,jsonld,nt,rdf,html}. The dataset's VoID names it
with dcterms:conformsTo."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, url_for
from rdflib import RDF, SH, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import NamespaceManager

from ..formats import Format, serialize
from .current import served
from .errors import HttpError
from .resources import conditional, negotiated

blueprint = Blueprint("shapes", __name__)
KINDS = (SH.datatype, SH["class"], SH.nodeKind)  # what a value must be
OFFERED = [Format.TURTLE, Format.JSONLD, Format.NTRIPLES, Format.RDFXML, Format.HTML]


def _shapes() -> Graph:
    return served().memo("shapes", lambda: _graph(current_app.config["LOD_SETTINGS"].shapes))


def _graph(folder: Path) -> Graph:
    graph = Graph()
    for path in sorted(Path(folder).glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


@blueprint.get("/shapes")
def shapes():
    fmt = negotiated(OFFERED)
    response = _answer(fmt)
    response.headers["Vary"] = "Accept"
    return response


@blueprint.get("/shapes.<extension>")
def shapes_as(extension: str):
    fmt = Format.from_extension(extension)
    if fmt not in OFFERED:
        raise HttpError(
            404, "No such format; offered: " + ", ".join(f"/shapes.{f.extension}" for f in OFFERED)
        )
    return _answer(fmt)


def _answer(fmt: Format) -> Response:
    key = f"shapes-{fmt.extension}"
    graph = _shapes()  # (memo's lock is not re-entrant: not made inside the next make)
    render = _page if fmt is Format.HTML else serialize
    body = served().memo(key, lambda: render(graph, fmt))
    return conditional(Response(body, mimetype=fmt.media_type), key)


def _page(graph: Graph, fmt: Format) -> str:
    """The shapes as a person reads them: each class and what its resources must have."""
    names = NamespaceManager(graph)
    machine = [
        (url_for("shapes.shapes_as", extension=f.extension), f.title)
        for f in OFFERED
        if f is not Format.HTML
    ]
    return render_template(
        "shapes.html", shapes=_summary(graph, names.normalizeUri), formats=machine
    )


def _summary(graph: Graph, short) -> list[dict]:
    """Each node shape: its name, target classes and property constraints, sorted."""
    return [
        {
            "name": short(shape) if isinstance(shape, URIRef) else "(unnamed)",
            "targets": [short(c) for c in sorted(graph.objects(shape, SH.targetClass))],
            "properties": sorted(_properties(graph, shape, short), key=lambda p: p["path"]),
        }
        for shape in sorted(set(graph.subjects(RDF.type, SH.NodeShape)), key=str)
    ]


def _properties(graph: Graph, shape, short) -> list[dict]:
    """A shape's property constraints on a plain path (sequence and inverse paths are
    left to the Turtle): the path, how many values, what each must be, and what a value
    that does not conform is (its severity and message)."""
    properties = []
    for node in graph.objects(shape, SH.property):
        path = graph.value(node, SH.path)
        if not isinstance(path, URIRef):
            continue
        low, high = graph.value(node, SH.minCount), graph.value(node, SH.maxCount)
        properties.append(
            {
                "path": short(path),
                "count": f"{low or 0}..{high if high is not None else '*'}",
                "value": ", ".join(_kinds(graph, node, short)),
                "severity": short(graph.value(node, SH.severity) or SH.Violation),
                "message": str(graph.value(node, SH.message) or ""),
            }
        )
    return properties


def _kinds(graph: Graph, node, short) -> list[str]:
    """What a value must be, each as a reader reads it: a datatype, class or node kind, and
    the choices of an sh:or ( [ sh:datatype xsd:date ] [ … ] ) as one `a or b` (a literal,
    which is no IRI, as it is written)."""
    found = (graph.value(node, p) for p in KINDS)
    kinds = [str(k) if isinstance(k, Literal) else short(k) for k in found if k is not None]
    choices = graph.value(node, SH["or"])
    if choices is not None:
        either = [graph.value(c, p) for c in Collection(graph, choices) for p in KINDS]
        kinds.append(" or ".join(short(k) for k in either if k is not None))
    return kinds
