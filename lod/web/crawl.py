"""For crawlers: /sitemap.xml (every resource page) and /robots.txt (naming it).

Sitemap URLs are the pages on the host serving the request (`request.host_url`), not the
dataset's IRIs: the sitemaps protocol only admits URLs on the sitemap's own host, and the
base IRI may name another host (or none yet). Behind a proxy, have it pass the public host
(`X-Forwarded-Host`, `X-Forwarded-Proto` with Werkzeug's ProxyFix) or the URLs name the
internal one.

Past SITEMAP_SIZE pages (the protocol's limit, 50,000 URLs a file; each language version's
link counted as one) /sitemap.xml becomes a sitemap index of /sitemap-1.xml, /sitemap-2.xml
…; the `LOD_SITEMAP_SIZE` app setting overrides the size (tests use a small one).
Everything comes from the build's lists.json: no query per request. `lastmod` is the
record's dateModified, else its datePublished or startDate, and is left out where the record
has no date (or one in the future).

A dataset in several languages, or a work with translations, lists each language version of
a page as well (`?lang=fr`, lod.versions), each with `xhtml:link rel="alternate"
hreflang` naming every version of its cluster and itself, as search engines read them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, current_app, request, url_for

from ..vocab import KINDS, id_prefix
from .current import served
from .errors import HttpError
from .reader import PARAMETER
from .resources import conditional, versions

blueprint = Blueprint("crawl", __name__)
SITEMAP_SIZE = 50_000
NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML = "http://www.w3.org/1999/xhtml"
XML = "application/xml"
# W3C Datetime as sitemaps accept it: a date, or a date-time with its offset.
W3C_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?")


@blueprint.get("/sitemap.xml")
def sitemap():
    pages, today = _pages()
    size = _part_size(pages)
    if len(pages) <= size:
        return _xml(_urlset(pages), f"sitemap-{today}")
    index = ET.Element("sitemapindex", xmlns=NS)
    for number, start in enumerate(range(0, len(pages), size), start=1):
        entry = ET.SubElement(index, "sitemap")
        ET.SubElement(entry, "loc").text = url_for("crawl.part", number=number, _external=True)
        lastmod = max((m for _, m, _ in pages[start : start + size] if m), default=None)
        if lastmod:
            ET.SubElement(entry, "lastmod").text = lastmod
    return _xml(index, f"sitemap-index-{today}")


@blueprint.get("/sitemap-<int:number>.xml")
def part(number: int):
    pages, today = _pages()
    size = _part_size(pages)
    parts = -(-len(pages) // size)
    if len(pages) <= size or not 1 <= number <= parts:
        raise HttpError(404, f"No sitemap {number}; see /sitemap.xml")
    return _xml(_urlset(pages[(number - 1) * size : number * size]), f"sitemap-{number}-{today}")


@blueprint.get("/robots.txt")
def robots():
    lines = [
        "User-agent: *",
        "Disallow: /sparql",  # query answers are not pages, and each costs a query
        "Disallow: /search",  # nor are searches: facet links combine without end
        f"Sitemap: {url_for('crawl.sitemap', _external=True)}",
    ]
    text = "\n".join(lines) + "\n"
    return conditional(Response(text, mimetype="text/plain"), "robots")


def _part_size(pages: list[Page]) -> int:
    """URLs a file: the protocol's 50,000 (or LOD_SITEMAP_SIZE), each `xhtml:link` counted
    as one too, so that a file of pages in six languages, each naming seven versions, stays
    as far under the protocol's 50 MB as one without."""
    size = int(current_app.config.get("LOD_SITEMAP_SIZE", SITEMAP_SIZE))
    return max(1, size // (1 + max((len(links) for _, _, links in pages), default=0)))


Links = tuple[tuple[str, str], ...]  # (hreflang, URL) of every version of a page
Page = tuple[str, str | None, Links]  # its URL, lastmod or None, versions


def _pages() -> tuple[list[Page], str]:
    """Each record's page, then its versions in the dataset's languages, kind by kind in
    the lists' order; and today's date, which decides which dates are still to come (so
    it is in the ETag)."""
    current = served()
    prefix = id_prefix(current.base)
    root = request.host_url.rstrip("/") + request.script_root
    known = versions()
    today = datetime.now(UTC).date().isoformat()

    def url(iri: str, lang: str | None = None) -> str:
        return f"{root}/doc/{iri[len(prefix) :]}" + (f"?{PARAMETER}={lang}" if lang else "")

    pages: list[Page] = []
    for kind in KINDS:
        for entry in current.lists.entries(kind):
            iri = entry["iri"]
            if not iri.startswith(prefix):
                continue
            lastmod = _lastmod(entry, today)
            found = known.of(iri)
            links = tuple((v.hreflang, url(v.iri, v.lang)) for v in found)
            own = [v for v in found if v.iri == iri]
            default = not found or any(v.lang is None for v in own)  # its page as negotiated
            pages.append((url(iri), lastmod, links if default else ()))
            pages += [(url(iri, v.lang), lastmod, links) for v in own if v.lang is not None]
    return pages, today


def _lastmod(entry: dict, today: str) -> str | None:
    """The entry's date as W3C Datetime: a date-time without an offset keeps its date only;
    nothing for no date, or a date still to come (an event's startDate)."""
    value = entry.get("modified") or ""
    if not W3C_DATETIME.fullmatch(value):
        value = value[:10]
        if not W3C_DATETIME.fullmatch(value):
            return None
    return value if value[:10] <= today else None


def _urlset(pages: list[Page]) -> ET.Element:
    urlset = ET.Element("urlset", xmlns=NS)
    if any(links for _, _, links in pages):
        urlset.set("xmlns:xhtml", XHTML)
    for loc, lastmod, links in pages:
        url = ET.SubElement(urlset, "url")
        ET.SubElement(url, "loc").text = loc
        if lastmod:
            ET.SubElement(url, "lastmod").text = lastmod
        for hreflang, href in links:
            ET.SubElement(url, "xhtml:link", rel="alternate", hreflang=hreflang, href=href)
    return urlset


def _xml(root: ET.Element, variant: str) -> Response:
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return conditional(Response(body, mimetype=XML), variant)
