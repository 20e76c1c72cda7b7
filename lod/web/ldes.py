"""/ldes: the change stream between builds, a Linked Data Event Stream (W3C TREE): the
stream at /ldes, its pages at /ldes/{n} oldest first; TriG by default, N-Quads or
JSON-LD by Accept, and a page to read for a browser (text/html). A page before the last
never changes: `Cache-Control: immutable`. A page whose file cannot be read back (a
damaged build) is a 500 that says so, logged with the file."""

from __future__ import annotations

import logging
from functools import partial

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request, url_for
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from ..serve.ldes import (
    FORMATS,
    DamagedHistory,
    History,
    page_quads,
    serialize,
    stream_quads,
    version_iri,
)
from .current import served
from .errors import HttpError
from .resources import local_href

log = logging.getLogger(__name__)
blueprint = Blueprint("ldes", __name__)
IMMUTABLE = "public, max-age=31536000, immutable"


def history() -> History:
    current = served()
    return current.memo("ldes", lambda: History(current.build.path))


HTML = "text/html"


def _format() -> ox.RdfFormat | None:
    """TriG unless Accept prefers N-Quads, JSON-LD or HTML (None: a page to read); 406
    when it accepts none of them."""
    accept = request.headers.get("Accept", "")
    if not accept.strip():
        return FORMATS[0]
    offered = [f.media_type for f in FORMATS] + ["application/json", HTML]
    best = parse_accept_header(accept, MIMEAccept).best_match(offered)
    if best is None:
        raise HttpError(
            406,
            "Offered: " + ", ".join([f.media_type for f in FORMATS] + [HTML]),
            headers={"Vary": "Accept"},
        )
    if best == HTML:
        return None
    if best == "application/json":
        return ox.RdfFormat.JSON_LD
    return next(f for f in FORMATS if f.media_type == best)


def _stream_url() -> str:
    return url_for("ldes.stream", _external=True)


def _page_url(number: int) -> str:
    return url_for("ldes.page", number=number, _external=True)


def _respond(make_quads, fmt: ox.RdfFormat | None, page, etag: str, cache: str) -> Response:
    """The stream or a page in `fmt` (`make_quads()`), or, for a browser, `page()`."""
    if fmt is None:
        response = Response(page(), mimetype=HTML)
        variant = "html"
    else:
        response = Response(serialize(make_quads(), fmt), mimetype=fmt.media_type)
        variant = fmt.file_extension
    response.headers["Vary"] = "Accept"
    response.set_etag(f"{etag}-{variant}")
    response.headers["Cache-Control"] = cache
    return response.make_conditional(request)


def _chosen(extension: str | None) -> ox.RdfFormat | None:
    """The format a URL's extension names (404 for another), else the negotiated one."""
    if extension is None:
        return _format()
    for fmt in FORMATS:
        if fmt.file_extension == extension:
            return fmt
    offered = ", ".join(f".{f.file_extension}" for f in FORMATS)
    raise HttpError(404, f"No such format; offered: {offered}")


def _formats(endpoint: str, **values) -> list[tuple[str, str]]:
    """A stream URL's machine formats, for a page's links: (its URL in it, the name)."""
    return [(url_for(endpoint, extension=f.file_extension, **values), f.name) for f in FORMATS]


@blueprint.get("/ldes")
@blueprint.get("/ldes.<extension>")
def stream(extension: str | None = None):
    found = history()
    first = _page_url(1) if found.pages else None

    def page() -> str:
        builds = list(reversed(found.index["builds"]))
        return render_template(
            "ldes.html", builds=builds, pages=found.pages, formats=_formats("ldes.stream")
        )

    return _respond(
        partial(stream_quads, _stream_url(), first),
        _chosen(extension),
        page,
        f"{served().etag}-ldes",
        "public, max-age=60",
    )


@blueprint.get("/ldes/<int:number>")
@blueprint.get("/ldes/<int:number>.<extension>")
def page(number: int, extension: str | None = None):
    found = history()
    if not 1 <= number <= found.pages:
        raise HttpError(404, f"No page {number} of the change stream; it has {found.pages}.")
    base = served().base

    def html() -> str:
        members = [
            {**m, "href": local_href(m["of"], base), "version": version_iri(base, m)}
            for m in found.members(number)
        ]
        return render_template(
            "ldes_page.html",
            number=number,
            pages=found.pages,
            members=members,
            formats=_formats("ldes.page", number=number),
        )

    quads = partial(page_quads, found, number, _stream_url(), _page_url, base)
    fmt = _chosen(extension)
    try:
        if found.closed(number) and fmt is not None:  # the page to read names the page count
            first_build = found.index["builds"][0]["id"]  # a history started again differs
            return _respond(quads, fmt, html, f"ldes-{first_build}-{number}", IMMUTABLE)
        return _respond(quads, fmt, html, f"{served().etag}-ldes-{number}", "public, max-age=60")
    except DamagedHistory as error:
        log.error("%s", error)
        raise HttpError(
            500, f"Page {number} of the change stream cannot be read: its build is damaged."
        ) from None
