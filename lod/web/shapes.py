"""/shapes: the SHACL shapes the data conforms to (shapes/, the class hierarchy included),
as one graph, negotiated like a resource (Turtle when nothing is asked for), and
/shapes.{ttl,jsonld,nt,rdf}. The dataset's VoID names it with dcterms:conformsTo."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app
from rdflib import Graph

from ..formats import Format, serialize
from .current import served
from .errors import HttpError
from .resources import conditional, negotiated

blueprint = Blueprint("shapes", __name__)
OFFERED = [Format.TURTLE, Format.JSONLD, Format.NTRIPLES, Format.RDFXML]


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
    body = served().memo(key, lambda: serialize(graph, fmt))
    return conditional(Response(body, mimetype=fmt.media_type), key)
