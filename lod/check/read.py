"""What `lod check` reads in a server's answers: RDF in any format (parsed by pyoxigraph,
which never fetches a remote JSON-LD `@context`), graphs compared, the JSON-LD scripts and
the links of an HTML page, the URLs in a JSON document.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pyoxigraph as ox
from rdflib import Graph
from rdflib.compare import isomorphic as _isomorphic_graphs

from ..formats import Format


def parse(data: bytes, fmt: Format, base: str) -> list[ox.Triple]:
    """The triples of a document in `fmt` (relative IRIs against `base`)."""
    return [q.triple for q in ox.parse(data, format=fmt.oxigraph, base_iri=base)]


def graph(triples: list[ox.Triple]) -> Graph:
    """The triples as an rdflib graph, for its queries and its isomorphism."""
    found = Graph()
    if triples:
        found.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    return found


def isomorphic(a: list[ox.Triple], b: list[ox.Triple]) -> bool:
    """Whether two lists of triples are the same graph: the same triples, or (only when
    they hold blank nodes, whose labels differ between documents) isomorphic graphs."""
    if set(a) == set(b):
        return True
    blank = any(isinstance(term, ox.BlankNode) for t in (*a, *b) for term in t)
    return blank and _isomorphic_graphs(graph(a), graph(b))


class _Scripts(HTMLParser):
    """The text of every <script type="application/ld+json"> of a page."""

    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self._open = False

    def handle_starttag(self, tag, attrs):
        kind = (dict(attrs).get("type") or "").split(";")[0].strip().lower()
        if tag == "script" and kind == Format.JSONLD.media_type:
            self._open = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._open = False

    def handle_data(self, data):
        if self._open:
            self.scripts[-1] += data


class _Hrefs(HTMLParser):
    """The href of every <a> and <link> in a page."""

    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("a", "link"):
            self.hrefs += [value for name, value in attrs if name == "href" and value]


def hrefs(html: str) -> list[str]:
    """The href of every <a> and <link> of a page."""
    parser = _Hrefs()
    parser.feed(html)
    return parser.hrefs


def jsonld_scripts(html: str) -> list[str]:
    """The JSON-LD scripts of a page, each read as JSON first (ValueError)."""
    parser = _Scripts()
    parser.feed(html)
    parser.close()
    for script in parser.scripts:
        json.loads(script)  # a clear JSON error before the RDF parser's
    return parser.scripts


def json_urls(value, skip: set[str]) -> list[str]:
    """The http(s) URLs among a JSON value's strings, but for the `skip` fields (a
    vocabulary's namespace is another site's).

    >>> json_urls({"a": ["http://x/1", 2, {"b": "https://y/"}], "c": "z", "s": "http://s/"},
    ...            skip={"s"})
    ['http://x/1', 'https://y/']
    """
    if isinstance(value, dict):
        return [u for k, v in value.items() if k not in skip for u in json_urls(v, skip)]
    if isinstance(value, list):
        return [u for v in value for u in json_urls(v, skip)]
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return [value]
    return []
