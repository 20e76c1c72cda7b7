"""Resources: /id (303), /doc (content negotiation), lists per kind, the home page, /healthz.

`*/*` and a missing Accept get Turtle: a client that names no type is a data client (curl,
a crawler library); browsers always ask for text/html, and get HTML. Pages a person reads
are in the reader's language (lod.web.reader), and name their other language versions
(lod.versions); the RDF formats carry every language, whatever the reader's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from urllib.parse import urlencode

import orjson
from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Request

from ..errors import NoBuild, NotPublished
from ..formats import Format, negotiate, serialize_triples
from ..languages import negotiate as negotiate_language
from ..languages import rank
from ..layout import VERSIONS
from ..serve.cache import document_key
from ..serve.current import Served
from ..serve.store import INCOMING_PAGE
from ..versions import DEFAULT, Versions
from ..vocab import KINDS, SLUG, dataset_iri, id_prefix
from . import moved
from .current import served
from .errors import HttpError
from .front import Named, keep, kept
from .pages import build_page, href
from .reader import PARAMETER, Reader, labels_of, menu_name, offered, reader, said

blueprint = Blueprint("resources", __name__)
OFFERED = [Format.TURTLE, Format.HTML, Format.JSONLD, Format.NTRIPLES, Format.RDFXML]
NEGOTIATED = ("Vary", "Content-Location")  # a negotiated document's own headers
LIST_PAGE = 50


@blueprint.get("/")
def home():
    build = served().build
    here = reader()
    latest = [labelled(entry, here) for entry in build.manifest["latest"]]
    response = Response(
        render_template(
            "home.html",
            manifest=build.manifest,
            kinds=KINDS,
            latest=latest,
            href=local_href,
            languages=_switcher(here, lambda tag: url_for("resources.home", lang=tag)),
            hreflang=_hreflang(here, build.base, ""),
        )
    )
    return conditional(said(response, here), f"home-{here.variant}")


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
    query = reader().query if fmt is Format.HTML else {}
    location = url_for("resources.document", kind=kind, name=f"{slug}.{fmt.extension}", **query)
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
    it), a page once per language; `location`, the format's own URL, when negotiated. A
    page's Vary is this request's: a page in a language negotiated among several varies
    by Accept-Language, one whose URL chose it does not."""
    offset = _number(request.args.get("offset", "0"), "offset")
    here = reader() if fmt is Format.HTML else None
    variant = here.variant if here else ""
    key = document_key(iri, fmt, offset, request.script_root, variant)
    response = kept(key)
    if response is None:
        response = _document(iri, fmt, offset, alternates, here)
        keep(key, per_request=NEGOTIATED if location is not None or here else ())
    negotiation = ("Accept",) if location is not None else ()
    if here is not None:
        said(response, here, *negotiation)
    elif location is not None:
        response.headers["Vary"] = "Accept"
    if location is not None:
        response.headers["Content-Location"] = location
    return response.make_conditional(request)


def _document(
    iri: str, fmt: Format, offset: int, alternates: list[tuple[str, str]], here: Reader | None
) -> Response:
    current = served()
    description = current.store.describe(iri, offset, INCOMING_PAGE)
    if not description.exists:
        raise HttpError(404, f"No resource <{iri}> in this dataset.")
    first = current.build.manifest["language"]  # the JSON-LD context's default language
    if here is not None:
        jsonld = script_json(serialize_triples(description.triples, Format.JSONLD, first))
        body = _page(description, here, offset, jsonld, alternates)
    else:
        body = serialize_triples(description.triples, fmt, first)
    response = Response(body, mimetype=fmt.media_type)
    if alternates:
        response.headers["Link"] = ", ".join(
            f'<{url}>; rel="alternate"; type="{media}"' for url, media in alternates
        )
    if here is not None:
        said(response, here)
        return tagged(response, f"{fmt.extension}-{offset}-{here.variant}")
    return tagged(response, f"{fmt.extension}-{offset}")


def _page(
    description, here: Reader, offset: int, jsonld: str, alternates: list[tuple[str, str]]
) -> str:
    """The resource's page in the reader's language: its translations ("also in"), the
    language switcher, and every language version as an hreflang alternate."""
    iri, base, root = description.iri, served().base, request.script_root
    known = versions()
    translations = sorted(known.translations(iri).items(), key=lambda t: rank(t[0], here.order))

    def in_language(work: str, tag: str) -> str | None:  # its page in `tag` if offered
        query = f"?{PARAMETER}={tag}" if tag in here.offered else here.url_query()
        return href(work, base, root, query)

    def switched(tag: str) -> str | None:  # this page, this page of links, in `tag`
        chosen = Reader(tag, here.offered, chosen=True)
        return href(iri, base, root, chosen.url_query(offset=offset or None))

    return render_template(
        "resource.html",
        page=build_page(description, base, here.order, INCOMING_PAGE, root, here.url_query()),
        jsonld=jsonld,
        alternates=alternates,
        translations=[(tag, menu_name(tag), in_language(work, tag)) for tag, work in translations],
        languages=_switcher(here, switched),
        hreflang=[(v.hreflang, _public(v.iri, base, v.lang)) for v in known.of(iri)],
    )


def versions() -> Versions:
    """The language versions of the pages of the build served (read once per build: from
    its versions.json, or from lists.json for a build made before it was kept)."""
    current = served()
    languages = offered(current.build.manifest)
    kept = current.build.path / VERSIONS

    def read() -> Versions:
        if kept.is_file():
            return Versions(languages, orjson.loads(kept.read_bytes()))
        works = {kind: list(current.lists.entries(kind)) for kind in ("article", "document")}
        return Versions.of_lists(works, languages)

    return current.memo("versions", read)


def _switcher(here: Reader, url: Callable[[str], str]) -> list[tuple[str, str, str]]:
    """The language switcher's links (tag, the language's own name, URL): plain links, no
    script; none when there is one language."""
    if len(here.offered) < 2:
        return []
    return [(tag, menu_name(tag), url(tag)) for tag in here.offered]


def _public(iri: str, base: str, lang: str | None) -> str:
    """A page's public URL (an hreflang alternate must be absolute): on the dataset's base,
    where its IRIs are served, so a kept page names no request's host."""
    return base + href(iri, base, "", f"?{PARAMETER}={lang}" if lang else "")[1:]


def _hreflang(here: Reader, base: str, path: str, **more) -> list[tuple[str, str]]:
    """A home or list page's versions: one per language, and `x-default`, as negotiated."""
    if len(here.offered) < 2:
        return []
    extra = {k: v for k, v in more.items() if v is not None}
    found = [(tag, f"{base}{path}?{urlencode({PARAMETER: tag, **extra})}") for tag in here.offered]
    return [*found, (DEFAULT, f"{base}{path}" + (f"?{urlencode(extra)}" if extra else ""))]


def named(asked: Request, current: Served) -> Named | None:
    """What names the document `GET /doc/<kind>/<slug>.<ext>` asks for, with no query
    string (or, for a page, `?lang=` and an offered tag alone), as document_response names
    it (lod.web.front looks it up before the app): a page's key has its language, and a
    negotiated one this request's Vary; None for any other request."""
    parts = asked.path.split("/")
    if asked.method != "GET" or len(parts) != 4:
        return None
    kind, (slug, _, extension) = parts[2], parts[3].partition(".")
    fmt = Format.from_extension(extension)
    if fmt is None or kind not in KINDS or not SLUG.fullmatch(slug):
        return None
    key = partial(
        document_key, f"{id_prefix(current.base)}{kind}/{slug}", fmt, 0, asked.script_root
    )
    if fmt is not Format.HTML:
        return None if asked.query_string else Named(key())
    languages = offered(current.build.manifest)
    if not asked.query_string:
        here = Reader(
            negotiate_language(asked.headers.get("Accept-Language"), languages), languages
        )
        return Named(key(here.variant), (("Vary", "Accept-Language"),) if here.varies else ())
    query = asked.query_string.decode("latin-1")
    if query.partition("=")[::2] not in ((PARAMETER, tag) for tag in languages):
        return None  # anything else (a tag in another case, ?offset=…): the app
    return Named(key(Reader(query.partition("=")[2], languages, chosen=True).variant))


@blueprint.get("/doc/<kind>/")
def listing(kind: str):
    if kind not in KINDS:
        raise HttpError(404, f"No kind `{kind}`; kinds: " + ", ".join(KINDS))
    lists = served().lists
    total = lists.count(kind)
    page = _number(request.args.get("page", "1"), "page")
    pages = max(1, -(-total // LIST_PAGE))
    if not 1 <= page <= pages:
        raise HttpError(404, f"No page {page}; there are {pages}.")
    shown = lists.page(kind, (page - 1) * LIST_PAGE, LIST_PAGE)
    fmt = negotiated([Format.HTML, Format.JSONLD])  # 406 naming them for anything else
    if fmt is Format.JSONLD:
        response = Response(
            _list_json(kind, shown, page, pages, total, offered(served().build.manifest)[0]),
            mimetype="application/json",
        )
        response.headers["Vary"] = "Accept"
        return conditional(response, f"list-{fmt.extension}-{page}")
    here = reader()
    number = page if page > 1 else None
    response = Response(
        render_template(
            "list.html",
            kind=kind,
            entries=[labelled(entry, here) for entry in shown],
            page=page,
            pages=pages,
            total=total,
            href=local_href,
            base=served().base,
            languages=_switcher(
                here, lambda tag: url_for("resources.listing", kind=kind, lang=tag, page=number)
            ),
            hreflang=_hreflang(here, served().base, f"doc/{kind}/", page=number),
        )
    )
    said(response, here, "Accept")
    return conditional(response, f"list-{fmt.extension}-{page}-{here.variant}")


def labelled(entry: dict, here: Reader) -> dict:
    """A lists.json entry with its label in the reader's language (`text`, `lang`)."""
    text, lang = here.pick(labels_of(entry, here.offered[0]).items())
    return {**entry, "text": text, "lang": lang}


def local_href(iri: str, base: str) -> str | None:
    """pages.href under the app's mount point (SCRIPT_NAME), the reader's choice of
    language kept."""
    query = reader().url_query() if "reader" in g else ""
    return href(iri, base, request.script_root, query)


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


def _list_json(kind, shown, page, pages, total, first: str) -> str:
    return json.dumps(
        {
            "kind": kind,
            "total": total,
            "page": page,
            "pages": pages,
            "items": [
                {
                    "@id": e["iri"],
                    "label": e["label"],
                    "labels": labels_of(e, first),
                    "date": e["date"] or None,
                }
                for e in shown
            ],
        }
    )
