"""/ldes: the change stream between builds, a Linked Data Event Stream (W3C TREE): the
stream at /ldes, its pages at /ldes/{n} oldest first; TriG by default, N-Quads or
JSON-LD by Accept. A page before the last never changes: `Cache-Control: immutable`."""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, request, url_for
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from ..serve.ldes import FORMATS, History, page_quads, serialize, stream_quads
from .current import served
from .errors import HttpError

blueprint = Blueprint("ldes", __name__)
IMMUTABLE = "public, max-age=31536000, immutable"


def history() -> History:
    current = served()
    return current.memo("ldes", lambda: History(current.build.path))


def _format() -> ox.RdfFormat:
    """TriG unless Accept prefers N-Quads or JSON-LD; 406 when it accepts none of them."""
    accept = request.headers.get("Accept", "")
    if not accept.strip():
        return FORMATS[0]
    offered = [f.media_type for f in FORMATS] + ["application/json"]
    best = parse_accept_header(accept, MIMEAccept).best_match(offered)
    if best is None:
        raise HttpError(
            406,
            "Offered: " + ", ".join(f.media_type for f in FORMATS),
            headers={"Vary": "Accept"},
        )
    if best == "application/json":
        return ox.RdfFormat.JSON_LD
    return next(f for f in FORMATS if f.media_type == best)


def _stream_url() -> str:
    return url_for("ldes.stream", _external=True)


def _page_url(number: int) -> str:
    return url_for("ldes.page", number=number, _external=True)


def _respond(quads, fmt: ox.RdfFormat, etag: str, cache: str) -> Response:
    response = Response(serialize(quads, fmt), mimetype=fmt.media_type)
    response.headers["Vary"] = "Accept"
    response.set_etag(f"{etag}-{fmt.file_extension}")
    response.headers["Cache-Control"] = cache
    return response.make_conditional(request)


@blueprint.get("/ldes")
def stream():
    found = history()
    first = _page_url(1) if found.pages else None
    quads = stream_quads(_stream_url(), first)
    return _respond(quads, _format(), f"{served().etag}-ldes", "public, max-age=60")


@blueprint.get("/ldes/<int:number>")
def page(number: int):
    found = history()
    if not 1 <= number <= found.pages:
        raise HttpError(404, f"No page {number} of the change stream; it has {found.pages}.")
    quads = page_quads(found, number, _stream_url(), _page_url, served().base)
    if found.closed(number):
        first_build = found.index["builds"][0]["id"]  # a history started again differs
        return _respond(quads, _format(), f"ldes-{first_build}-{number}", IMMUTABLE)
    return _respond(quads, _format(), f"{served().etag}-ldes-{number}", "public, max-age=60")
