"""The URL reference (docs/urls.md), generated from the app's url_map: every route, its
methods and what it answers. A route without a line in ROUTES fails the generation, and
tests/test_docs.py fails when docs/urls.md differs.

    python -m lod.web.reference > docs/urls.md
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from flask import Flask

from ..config import Settings

# Each rule of the url_map (Flask's syntax) -> what it answers.
ROUTES = {
    "/": "the home page: title, counts per kind, latest articles, links to dumps, SPARQL, VoID; "
    "in the reader's language (`?lang=`, else `Accept-Language`: "
    "[Pages in the reader's language](reader-language.md))",
    "/id/<kind>/<slug>": "`303 See Other` to `/doc/{kind}/{slug}`; `404` at once for an unknown "
    "resource; `301 Moved Permanently` to the record's IRI now for a former slug; `410 Gone`, "
    "with the reason and date `data/gone.yaml` gives, for a removed record "
    "([IRIs that last](permanence.md))",
    "/id/dataset": "`303 See Other` to the dataset's description, `/.well-known/void`",
    "/doc/<kind>/<name>": "the resource's document, negotiated (HTML, Turtle, JSON-LD, "
    "N-Triples, RDF/XML), or one format by its suffix (`{slug}.html`, `.ttl`, `.jsonld`, `.nt`, "
    "`.rdf`: no negotiation); `?offset=` pages the links pointing to it; a former slug `301` "
    "to the document now (every suffix form too), a removed record `410`, as under `/id/`; "
    "the HTML page in the reader's language (`?lang=`, else `Accept-Language`), the other "
    "formats in every language",
    "/doc/<kind>/": "the records of a kind, newest first where dated, 50 a page (`?page=`), "
    "named in the reader's language (`?lang=`); JSON for `Accept: application/json`",
    "/sparql": "the SPARQL 1.1 Protocol (`GET ?query=`, a `POST` form, `POST "
    "application/sparql-query`); the query page for browsers; the service description with no "
    "query ([Serving](serving.md))",
    "/dumps/": "the downloads page: the dumps, their sizes and checksums",
    "/dumps/<path:name>": "a dump (`dataset.nt.gz`, `.ttl.gz`, `.jsonld.gz`), `SHA256SUMS`, or "
    "`mixnmatch.tsv` (the Mix'n'match catalogue), with `ETag`, `Last-Modified`, "
    "`Content-Length`, ranges and 304; only the files the build's manifest lists",
    "/.well-known/void": "the dataset description (VoID + DCAT), negotiated like a resource",
    "/shapes": "the SHACL shapes the data conforms to (`lod/shapes/` as one graph), negotiated "
    "like a resource; VoID names it with `dcterms:conformsTo`",
    "/shapes.<extension>": "the shapes in one format: `ttl`, `jsonld`, `nt`, `rdf`",
    "/healthz": '`{"status": "ok", "build": …, "triples": …}`; 503 when the store is down',
    "/reconcile": "the W3C reconciliation service for OpenRefine: the manifest, a 0.2 batch "
    "(`queries=`), 0.2 data extension (`extend=`); every route answers in the language "
    "`lang=` or `Accept-Language` asks for ([Reconciliation](reconciliation.md#languages))",
    "/reconcile/match": 'a 1.0-draft batch (`{"queries": […]}`)',
    "/reconcile/reconcile": "the same as `/reconcile/match` (the draft's text names this route)",
    "/reconcile/extend": "1.0-draft data extension",
    "/reconcile/extend/propose": "the properties to offer for a type (`?type=`), most common first",
    "/reconcile/preview": "a small HTML card of a record (`?id=kind/slug`) for the client's iframe",
    "/reconcile/suggest/entity": "auto-completion of records (`prefix=`, `type=`, `cursor=`, "
    "`limit=`)",
    "/reconcile/suggest/type": "auto-completion of types",
    "/reconcile/suggest/property": "auto-completion of properties",
    "/sitemap.xml": "every resource page with its `lastmod`, and its language versions with "
    "`xhtml:link hreflang`; past 50,000 pages an index of `/sitemap-{n}.xml`",
    "/sitemap-<int:number>.xml": "one part of a large sitemap",
    "/robots.txt": "names the sitemap; keeps crawlers off `/sparql` and `/search`",
    "/search": "full-text search (`?q=`) in every language: an HTML page (no script needed), "
    "JSON for `Accept: application/json`; `&lang=` the reader's language, whose results come "
    "first; facets `&kind=`, `&language=`, `&topic=`, `&organisation=`, `&person=`, `&event=`, "
    "`&year=`; `&page=` ([Search, feeds and the change stream](search.md))",
    "/opensearch.xml": 'the OpenSearch description every page links (`<link rel="search">`), '
    "so browsers offer the site's search",
    "/feeds/articles.<fmt>": "the 50 latest articles: `atom` (Atom 1.0), `rss` (RSS 2.0), "
    "`json` (JSON Feed 1.1); `articles.{language}.{fmt}` (`articles.fr.atom`) those in one of "
    "the dataset's languages ([Feeds](search.md#feeds))",
    "/feeds/<kind>/<slug>.<fmt>": "the latest articles about, mentioning or by a topic, "
    "organisation, person or event, in the same formats; `{slug}.{language}.{fmt}` those in "
    "one of the dataset's languages",
    "/ldes": "the change stream between builds: a Linked Data Event Stream (W3C TREE) in TriG, "
    "N-Quads or JSON-LD, negotiated",
    "/ldes.<extension>": "the stream in one format: `trig`, `nq`, `jsonld`",
    "/ldes/<int:number>": "one page of the stream (250 members); every page before the last is "
    "final and cached for a year",
    "/ldes/<int:number>.<extension>": "one page in one format",
    "/static/<path:filename>": "the style sheet and scripts of the pages",
}


def rules(app: Flask) -> list[tuple[str, str]]:
    """Each rule of the app with its methods (`GET, POST`), sorted by path."""
    found = {}
    for rule in app.url_map.iter_rules():
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        found[rule.rule] = ", ".join(methods)
    return sorted(found.items())


def shown(rule: str) -> str:
    """A rule as the docs write a URL: `/doc/<kind>/<name>` -> `/doc/{kind}/{name}`."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def markdown(app: Flask | None = None) -> str:
    """The URL reference of `app` (by default one made for the purpose)."""
    if app is None:
        from . import create_app

        with tempfile.TemporaryDirectory() as empty:
            app = create_app(Settings(data=Path(empty), out=Path(empty)))
    lines = [
        "<!-- Generated by `python -m lod.web.reference > docs/urls.md` from the app's url_map",
        "and lod/web/reference.py; tests/test_docs.py fails when they differ. -->",
        "# URLs",
        "",
        "Every URL the app answers, from its routes. Paths are under the mount point",
        "([Deploy](deploy.md)); `{…}` is a part of the path. Every response carries",
        "`Access-Control-Allow-Origin: *`; how documents are negotiated, cached and refused is",
        "in [Serving](serving.md).",
        "",
        "| path | methods | answers |",
        "|---|---|---|",
    ]
    for rule, methods in rules(app):
        if rule not in ROUTES:
            raise KeyError(f"{rule}: a route without a line in lod.web.reference.ROUTES")
        lines.append(f"| `{shown(rule)}` | {methods} | {ROUTES[rule]} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
