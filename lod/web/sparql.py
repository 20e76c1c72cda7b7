"""The SPARQL 1.1 Protocol endpoint at /sparql: query via GET, POST form and POST
application/sparql-query; results by Accept (or `format=`); the Service Description when
asked with no query; a query page for browsers.

Every query is read once (lod.serve.guard.read: updates and SERVICE refused, its form found)
and checked in full before it runs (lod.serve.guard.verify: no update, LOAD, SERVICE or FROM
of an outside graph), in a killable worker (or, with a remote store, in the store, asked to
stop at the limit) under a time limit and a bound on concurrent queries.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, render_template, request
from rdflib import Graph, Literal, URIRef

from ..errors import QueryRefused
from ..formats import Format, ResultFormat, negotiate, serialize
from ..serve.cache import result_key
from ..serve.guard import Query, read
from ..serve.pool import Answer
from ..vocab import RDF, SD, VOID, BadIri, checked_iri, sparql_iri
from .current import cache, served
from .errors import HttpError
from .pages import href
from .resources import negotiated

blueprint = Blueprint("sparql", __name__)
FORM = "application/x-www-form-urlencoded"
RESULT_FORMATS = list(ResultFormat)
GRAPH_FORMATS = Format.rdf()
FORMAT_NAMES = {
    # what clients put in `format=` (SPARQLWrapper sends `xml` or `json-ld` for graphs too)
    ResultFormat.JSON: {"json"},
    ResultFormat.XML: {"xml"},
    ResultFormat.CSV: {"csv"},
    ResultFormat.TSV: {"tsv"},
    Format.TURTLE: {"ttl", "turtle", "n3"},
    Format.JSONLD: {"jsonld", "json-ld", "json"},
    Format.NTRIPLES: {"nt", "ntriples", "n-triples"},
    Format.RDFXML: {"rdf", "xml", "rdf+xml", "rdfxml"},
}
EXAMPLES = [
    (
        "Events with their dates",
        """PREFIX schema: <https://schema.org/>
SELECT ?event ?name ?start ?end WHERE {
  ?event a schema:Event ; schema:name ?name .
  OPTIONAL { ?event schema:startDate ?start }
  OPTIONAL { ?event schema:endDate ?end }
} ORDER BY ?start""",
    ),
    (
        "Who had which role at which event",
        """PREFIX schema: <https://schema.org/>
SELECT ?event ?role ?who WHERE {
  ?event schema:contributor ?r .
  ?r schema:roleName ?role ; schema:contributor ?agent .
  ?agent schema:name ?who .
}""",
    ),
    (
        "Organisations an article mentions",
        """PREFIX schema: <https://schema.org/>
SELECT ?headline ?organisation WHERE {
  ?article schema:headline ?headline ; schema:mentions ?o .
  ?o a schema:Organization ; schema:name ?organisation .
}""",
    ),
    (
        "Links to Wikidata",
        """PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT ?resource ?wikidata WHERE {
  ?resource owl:sameAs ?wikidata .
  FILTER STRSTARTS(STR(?wikidata), "http://www.wikidata.org/")
}""",
    ),
    (
        "Resources per class",
        """SELECT ?class (COUNT(?s) AS ?n) WHERE {
  ?s a ?class .
} GROUP BY ?class ORDER BY DESC(?n)""",
    ),
]


@blueprint.route("/sparql", methods=["GET", "POST"])
def endpoint():
    text, default_graphs, named_graphs = _protocol_request()
    wants_html = _wants_html()
    if text is None:
        if wants_html:
            return _page()
        return _service_description()
    query = read(text, default_graphs, named_graphs or None)
    if wants_html:
        return _page(text, query)
    fmt = _requested_format(query.formats)
    answer = _run(query, fmt)
    response = Response(answer.body, mimetype=answer.media_type)
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = "no-store"
    return response


def _protocol_request() -> tuple[str | None, list[str], list[str]]:
    """The query and dataset parameters of a SPARQL 1.1 Protocol request (4xx otherwise)."""
    args = request.args
    if "update" in args or "update" in request.form:
        raise QueryRefused("updates are not accepted: this endpoint is read-only")
    default_graphs = args.getlist("default-graph-uri")
    named_graphs = args.getlist("named-graph-uri")
    if request.method == "GET":
        queries = args.getlist("query")
    elif request.mimetype == FORM:
        queries = request.form.getlist("query")
        default_graphs += request.form.getlist("default-graph-uri")
        named_graphs += request.form.getlist("named-graph-uri")
        if "query" in args:
            raise HttpError(400, "the query is given both in the URL and in the body")
    elif request.mimetype == "application/sparql-query":
        if "query" in args:
            raise HttpError(400, "the query is given both in the URL and in the body")
        try:
            queries = [request.get_data(cache=False).decode("utf-8")]
        except UnicodeDecodeError:
            raise HttpError(400, "the query is not UTF-8") from None
    elif request.mimetype == "application/sparql-update":
        raise QueryRefused("updates are not accepted: this endpoint is read-only")
    else:
        raise HttpError(
            415,
            "POST a query as application/x-www-form-urlencoded (query=…) or "
            f"as application/sparql-query, not `{request.mimetype or 'nothing'}`",
        )
    for graph in default_graphs + named_graphs:
        try:
            checked_iri(graph)
        except BadIri as bad:
            raise HttpError(400, f"default-graph-uri / named-graph-uri: {bad.message}") from None
    if len(queries) > 1:
        raise HttpError(400, "exactly one `query` parameter, please")
    if not queries:
        if request.method == "POST":
            raise HttpError(400, "no `query` in the request")
        return None, default_graphs, named_graphs
    if not queries[0].strip():
        raise HttpError(400, "the query is empty")
    return queries[0], default_graphs, named_graphs


def _wants_html() -> bool:
    if request.values.get("format"):
        return request.values["format"] == "html"
    accept = request.headers.get("Accept")
    return negotiate(accept, [Format.JSONLD, Format.HTML], default=Format.JSONLD) is Format.HTML


def _requested_format(offered: list):
    """`format=json` (as Fuseki and Virtuoso accept) or the Accept header."""
    name = request.values.get("format")
    if name:
        for fmt in offered:
            if name.lower() in FORMAT_NAMES[fmt] | {fmt.media_type}:
                return fmt
        raise HttpError(
            400,
            f"format `{name[:40]}` is not offered for this query; offered: "
            + ", ".join(f.extension for f in offered),
        )
    return negotiated(offered)


def _run(query: Query, fmt) -> Answer:
    """The query's answer: from the build's cache when the same query, dataset and format
    were answered from this build before (lod.serve.cache), else from the query service."""
    service = current_app.extensions["lod.queries"]
    current = served()
    base_iri = str(sparql_iri(current.base))

    def run() -> tuple[str, bytes]:
        answer = service.run(current.store, query, fmt, base_iri=base_iri)
        return answer.form, answer.body

    key = result_key(query.text, fmt.name, query.default_graphs, query.named_graphs, base_iri)
    form, body = cache().result(key, run)
    return Answer(form, body, fmt)


def _page(text: str | None = None, query: Query | None = None):
    """The query page: a form, examples, and results as an HTML table (no JavaScript)."""
    table = graph_text = boolean = None
    if query is not None:
        if query.is_graph:
            graph_text = _run(query, Format.TURTLE).body.decode()
        else:
            answer = json.loads(_run(query, ResultFormat.JSON).body)
            if "boolean" in answer:
                boolean = answer["boolean"]
            else:
                table = _table(answer)
    body = render_template(
        "sparql.html",
        query=text or EXAMPLES[0][1],
        examples=EXAMPLES,
        table=table,
        graph_text=graph_text,
        boolean=boolean,
        ran=query is not None,
    )
    response = Response(body, mimetype="text/html")
    response.headers["Vary"] = "Accept"
    return response


def _table(answer: dict) -> dict:
    names = answer["head"]["vars"]
    base, root = served().base, request.script_root
    rows = []
    for binding in answer["results"]["bindings"]:
        row = []
        for name in names:
            cell = binding.get(name)
            if cell is None:
                row.append(None)
            elif cell["type"] == "uri":
                row.append({"text": cell["value"], "href": href(cell["value"], base, root)})
            else:
                row.append({"text": cell["value"], "lang": cell.get("xml:lang")})
        rows.append(row)
    return {"names": names, "rows": rows}


def _service_description():
    """SPARQL 1.1 Service Description of this endpoint (its IRI is the published one)."""
    current = served()
    service = sparql_iri(current.base)
    dataset = URIRef(f"{service}#dataset")
    default = URIRef(f"{service}#default-graph")
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("void", VOID)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    for fmt in [*RESULT_FORMATS, *GRAPH_FORMATS]:
        graph.add((service, SD.resultFormat, URIRef(fmt.iri)))
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    graph.add((default, VOID.triples, Literal(current.build.manifest["triples"])))
    fmt = _requested_format(GRAPH_FORMATS)
    response = Response(serialize(graph, fmt), mimetype=fmt.media_type)
    response.headers["Vary"] = "Accept"
    return response
