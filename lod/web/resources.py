"""Resources: /id (303), /doc (content negotiation), lists per kind, the home page, /healthz.

`*/*` and a missing Accept get Turtle: a client that names no type is a data client (curl,
a crawler library); browsers always ask for text/html, and get HTML.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Request

from ..errors import NoBuild, NotPublished
from ..formats import Format, negotiate, serialize_triples
from ..serve.cache import Key, document_key
from ..serve.current import Served
from ..serve.store import INCOMING_PAGE
from ..vocab import KINDS, SLUG, dataset_iri, id_prefix
from . import moved
from .current import served
from .errors import HttpError
from .front import keep, kept
from .pages import build_page, href

blueprint = Blueprint("resources", __name__)
OFFERED = [Format.TURTLE, Format.HTML, Format.JSONLD, Format.NTRIPLES, Format.RDFXML]
NEGOTIATED = ("Vary", "Content-Location")  # a negotiated document's own headers
LIST_PAGE = 50


@blueprint.get("/")
def home():
    build = served().build
    response = Response(
        render_template("home.html", manifest=build.manifest, kinds=KINDS, href=local_href)
    )
    return conditional(response, "home")


@blueprint.get("/healthz")
def healthz():
    """200 with the build served when the store answers; 503 otherwise (Retry-After when
    a remote store is down)."""
    try:
        current = served()
    except (NoBuild, NotPublished) as missing:
        raise HttpError(503, str(missing)) from None
    manifest = current.build.manifest
    if not current.store.exists(dataset_iri(current.base)):
        raise HttpError(503, f"the store does not hold build {manifest['id']}")
    return {"status": "ok", "build": manifest["id"], "triples": manifest["triples"]}


@blueprint.get("/id/dataset")
def dataset():
    return redirect(url_for("dumps.void"), 303)


@blueprint.get("/id/<kind>/<slug>")
def identify(kind: str, slug: str):
    """The thing itself cannot be sent: 303 to the document about it (httpRange-14)."""
    moved.check(kind, slug, "resources.identify")
    iri = _iri(kind, slug)
    if not served().store.exists(iri):
        raise HttpError(404, f"No {kind} `{slug}` in this dataset.")
    response = redirect(url_for("resources.document", kind=kind, name=slug), 303)
    response.headers["Vary"] = "Accept"
    return response


@blueprint.get("/doc/<kind>/<name>")
def document(kind: str, name: str):
    slug, _, extension = name.partition(".")
    moved.check(kind, slug, "resources.document", name=name)
    iri = _iri(kind, slug)
    if extension:
        fmt = Format.from_extension(extension)
        if fmt is None:
            raise HttpError(
                404,
                f"No format `.{extension}`; offered: "
                + ", ".join(f".{f.extension}" for f in OFFERED),
            )
        return document_response(iri, fmt, _alternates(kind, slug))
    fmt = negotiated(OFFERED)
    location = url_for("resources.document", kind=kind, name=f"{slug}.{fmt.extension}")
    return document_response(iri, fmt, _alternates(kind, slug), location)


def negotiated(offered: list, asked: Request | None = None):
    """The format the Accept header of `asked` (or of the request) prefers, or 406 naming
    what is offered."""
    fmt = negotiate((asked or request).headers.get("Accept"), offered)
    if fmt is None:
        raise HttpError(
            406,
            "None of the requested types is offered. Offered: "
            + ", ".join(f.media_type for f in offered),
            headers={"Vary": "Accept"},
        )
    return fmt


def document_response(
    iri: str, fmt: Format, alternates: list[tuple[str, str]], location: str | None = None
) -> Response:
    """A resource's document in one format, rendered once per build (lod.web.front keeps
    it); `location`, the format's own URL, when negotiated."""
    offset = _number(request.args.get("offset", "0"), "offset")
    key = document_key(iri, fmt, offset, request.script_root)
    response = kept(key)
    if response is None:
        response = _document(iri, fmt, offset, alternates)
        keep(key, per_request=NEGOTIATED if location is not None else ())
    if location is not None:
        response.headers["Vary"] = "Accept"
        response.headers["Content-Location"] = location
    return response.make_conditional(request)


def _document(iri: str, fmt: Format, offset: int, alternates: list[tuple[str, str]]) -> Response:
    current = served()
    description = current.store.describe(iri, offset, INCOMING_PAGE)
    if not description.exists:
        raise HttpError(404, f"No resource <{iri}> in this dataset.")
    if fmt is Format.HTML:
        page = build_page(
            description,
            current.base,
            current.build.manifest["language"],
            INCOMING_PAGE,
            request.script_root,
        )
        jsonld = script_json(serialize_triples(description.triples, Format.JSONLD))
        body = render_template("resource.html", page=page, jsonld=jsonld, alternates=alternates)
    else:
        body = serialize_triples(description.triples, fmt)
    response = Response(body, mimetype=fmt.media_type)
    if alternates:
        response.headers["Link"] = ", ".join(
            f'<{url}>; rel="alternate"; type="{media}"' for url, media in alternates
        )
    return tagged(response, f"{fmt.extension}-{offset}")


def named(asked: Request, current: Served) -> Key | None:
    """The key of the document `GET /doc/<kind>/<slug>.<ext>` with no query string names,
    as document_response makes it (lod.web.front looks it up before the app); None for any
    other request."""
    parts = asked.path.split("/")
    if asked.method != "GET" or asked.query_string or len(parts) != 4:
        return None
    kind, (slug, _, extension) = parts[2], parts[3].partition(".")
    fmt = Format.from_extension(extension)
    if fmt is None or kind not in KINDS or not SLUG.fullmatch(slug):
        return None
    return document_key(f"{id_prefix(current.base)}{kind}/{slug}", fmt, 0, asked.script_root)


@blueprint.get("/doc/<kind>/")
def listing(kind: str):
    if kind not in KINDS:
        raise HttpError(404, f"No kind `{kind}`; kinds: " + ", ".join(KINDS))
    entries = served().lists.get(kind, [])
    page = _number(request.args.get("page", "1"), "page")
    pages = max(1, -(-len(entries) // LIST_PAGE))
    if not 1 <= page <= pages:
        raise HttpError(404, f"No page {page}; there are {pages}.")
    shown = entries[(page - 1) * LIST_PAGE : page * LIST_PAGE]
    fmt = negotiated([Format.HTML, Format.JSONLD])  # 406 naming them for anything else
    if fmt is Format.JSONLD:
        response = Response(
            _list_json(kind, shown, page, pages, len(entries)), mimetype="application/json"
        )
    else:
        response = Response(
            render_template(
                "list.html",
                kind=kind,
                entries=shown,
                page=page,
                pages=pages,
                total=len(entries),
                href=local_href,
                base=served().base,
            )
        )
    response.headers["Vary"] = "Accept"
    return conditional(response, f"list-{fmt.extension}-{page}")


def local_href(iri: str, base: str) -> str | None:
    """pages.href under the app's mount point (SCRIPT_NAME)."""
    return href(iri, base, request.script_root)


def conditional(response: Response, variant: str) -> Response:
    """ETag from the build (and the representation): 304 on If-None-Match."""
    return tagged(response, variant).make_conditional(request)


def tagged(response: Response, variant: str) -> Response:
    """The response with its ETag (the build's id and `variant`) and Cache-Control."""
    response.set_etag(f"{served().etag}-{variant}")
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def script_json(data: bytes) -> str:
    """JSON safe inside <script>: `</script>`, `<!--` and `&` cannot break out."""
    text = data.decode("utf-8")
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _iri(kind: str, slug: str) -> str:
    if kind not in KINDS:
        raise HttpError(404, f"No kind `{kind}`; kinds: " + ", ".join(KINDS))
    if not SLUG.fullmatch(slug):  # no record has it, and it may not even make an IRI
        raise HttpError(404, f"No {kind} `{slug[:80]}` in this dataset.")
    return f"{id_prefix(served().base)}{kind}/{slug}"


def _alternates(kind: str, slug: str) -> list[tuple[str, str]]:
    """The URL of each format's document: one url_for, the extension swapped (a slug and an
    extension need no quoting; url_for is a tenth of a cached document's cost)."""
    first = url_for("resources.document", kind=kind, name=f"{slug}.{OFFERED[0].extension}")
    stem = first[: -len(OFFERED[0].extension)]
    return [(stem + f.extension, f.media_type) for f in OFFERED]


def _number(raw: str, name: str) -> int:
    if not raw.isdigit() or len(raw) > 9:
        raise HttpError(400, f"`{name}` must be a whole number, not `{raw[:40]}`")
    return int(raw)


def _list_json(kind, shown, page, pages, total) -> str:
    return json.dumps(
        {
            "kind": kind,
            "total": total,
            "page": page,
            "pages": pages,
            "items": [
                {"@id": e["iri"], "label": e["label"], "date": e["date"] or None} for e in shown
            ],
        }
    )
