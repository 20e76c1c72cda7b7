"""Full-text search: /search?q= (an HTML page that needs no script, or JSON for
`Accept: application/json`), with facets that narrow it, and /opensearch.xml so that
browsers offer the site's search. A search counts against the SPARQL concurrency bound."""

from __future__ import annotations

from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from ..formats import Format, negotiate
from ..languages import chosen
from ..serve.search import FACETS, MAX_PAGE, SearchIndex
from .current import served
from .pages import href
from .reader import Reader, offered, page_reader, said
from .reader import reader as negotiated

blueprint = Blueprint("search", __name__)
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
OPENSEARCH_TYPE = "application/opensearchdescription+xml"


def index() -> SearchIndex:
    current = served()
    return current.memo("search", lambda: SearchIndex(current.build.path))


def label(iri: str) -> str:
    """A record's label (lists.json's), for facet values; the IRI for one not listed."""
    entry = served().lists.entry(iri)
    return entry["label"] if entry is not None else iri


@blueprint.get("/search")
def search():
    text = request.args.get("q", "")
    wants_json = (
        negotiate(request.headers.get("Accept"), [Format.HTML, Format.JSONLD], Format.HTML)
        is Format.JSONLD
    )
    filters = {facet: request.args.get(facet, "") for facet in FACETS}
    filters = {k: v[:2000] for k, v in filters.items() if v}
    reader = request.args.get("lang", "")[:100]  # the reader's language: its hits first
    # the page is in that language when the dataset offers it, else in the negotiated one
    offers = chosen(reader, offered(served().build.manifest)) if reader else None
    here = page_reader() if reader and offers is None else negotiated()
    language = reader or here.language
    raw_page = request.args.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and len(raw_page) < 6 else 0
    if not text.strip() and not wants_json:
        return _response(render_template("search.html", results=None, q=text, reader=reader), here)
    queries = current_app.extensions["lod.queries"]
    with queries.slot():
        results = index().search(
            text, filters, page if page else -1, timeout=queries.timeout, language=language
        )
    base = served().base

    def link(changes: dict) -> str:
        """This search's URL with `changes` to its arguments (an empty value drops one)."""
        args = {"q": results.query, "lang": reader, **results.filters, **changes}
        return url_for("search.search") + "?" + urlencode({k: v for k, v in args.items() if v})

    if wants_json:
        body = {
            "query": results.query,
            "total": results.total,
            "page": results.page,
            "pages": results.pages,
            "filters": results.filters,
            "lang": language,
            "results": [
                hit.as_json() | {"page": href(hit.iri, base, request.script_root)}
                for hit in results.hits
            ],
            "facets": {
                facet: [
                    {"value": value, "label": label(value), "count": count}
                    for value, count in values
                ]
                for facet, values in results.facets.items()
            },
        }
        return _response(jsonify(body), here)
    return _response(
        render_template(
            "search.html",
            results=results,
            q=results.query,
            reader=reader,
            label=label,
            href=lambda iri, base: href(iri, base, request.script_root),
            base=base,
            link=link,
            max_page=MAX_PAGE,
        ),
        here,
    )


def _response(response, here: Reader) -> Response:
    """The answer in its language (Vary: Accept-Language when negotiated), validated and
    kept a minute by shared caches."""
    if not isinstance(response, Response):
        response = Response(response)
    said(response, here, "Accept")
    response.set_etag(f"{served().etag}-search-{here.variant}")
    response.headers["Cache-Control"] = "public, max-age=60"
    return response.make_conditional(request)


@blueprint.get("/opensearch.xml")
def opensearch():
    """The OpenSearch 1.1 description: the HTML and JSON search URL templates."""
    ET.register_namespace("", OPENSEARCH)
    root = ET.Element(f"{{{OPENSEARCH}}}OpenSearchDescription")
    manifest = served().build.manifest
    ET.SubElement(root, f"{{{OPENSEARCH}}}ShortName").text = manifest["title"][:16]
    ET.SubElement(root, f"{{{OPENSEARCH}}}Description").text = f"Search {manifest['title']}"
    ET.SubElement(root, f"{{{OPENSEARCH}}}InputEncoding").text = "UTF-8"
    template = url_for("search.search", _external=True) + "?q={searchTerms}"
    for media_type in ("text/html", "application/json"):
        ET.SubElement(root, f"{{{OPENSEARCH}}}Url", type=media_type, template=template)
    ET.SubElement(
        root,
        f"{{{OPENSEARCH}}}Url",
        type=OPENSEARCH_TYPE,
        rel="self",
        template=url_for("search.opensearch", _external=True),
    )
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    response = Response(body, mimetype=OPENSEARCH_TYPE)
    response.set_etag(f"{served().etag}-opensearch")
    return response.make_conditional(request)
