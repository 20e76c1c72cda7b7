"""The SPARQL 1.1 Protocol endpoint at /sparql: query via GET, POST form and POST
application/sparql-query; results by Accept (or `format=`); the Service Description when
asked with no query; a query page for browsers.

One path for a query: the request is read once (`asked`: the query read and refused if it
is an update or calls SERVICE, lod.serve.guard.read; its dataset; the format of its answer),
by lod.web.front when it can name the request, else by the route, which uses what the front
read. The answer is looked up, or run once in a killable query worker (or, with a remote
store, by the store, asked to stop at the limit) under a time limit and a bound on
concurrent queries, after the worker's full check (lod.serve.guard.verify: no update, LOAD,
SERVICE or FROM of an outside graph); the front keeps it once (lod.serve.cache).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from flask import Blueprint, Response, current_app, render_template, request
from rdflib import Graph, Literal, URIRef
from werkzeug.wrappers import Request

from ..errors import QueryRefused
from ..formats import Format, ResultFormat, by_name, negotiate, serialize
from ..serve.cache import Key, query_key
from ..serve.current import Served
from ..serve.guard import Query, read
from ..serve.pool import Answer
from ..vocab import RDF, SD, VOID, BadIri, checked_iri, sparql_iri
from .current import served
from .errors import HttpError
from .front import keep, kept
from .pages import href
from .resources import negotiated

blueprint = Blueprint("sparql", __name__)
FORM = "application/x-www-form-urlencoded"
RESULT_FORMATS = list(ResultFormat)
GRAPH_FORMATS = Format.rdf()
ASKED = "lod.asked"  # environ: the request as `asked` read it, or what reading it raised
READ_ONLY = "updates are not accepted: this endpoint is read-only"
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


@dataclass(frozen=True)
class Asked:
    """A request to /sparql, read once: the query (None: none asked), as the client wrote
    it and as read, and the format of the answer (HTML: the query page)."""

    text: str | None
    query: Query | None
    fmt: Format | ResultFormat


def asked(http: Request) -> Asked:
    """What the request `http` (Werkzeug's, in front of the app, or Flask's) asks, read
    once: the first reading is kept in its environ, with the error it raised, if any."""
    reading = http.environ.get(ASKED)
    if reading is None:
        try:
            reading = _read(http)
        except Exception as error:  # raised again by the route, and answered as an error
            reading = error
        http.environ[ASKED] = reading
    if isinstance(reading, Exception):
        raise reading
    return reading


def named(http: Request, current: Served) -> Key | None:
    """The key of a query's answer (lod.web.front looks it up before the app), or None: no
    query, or one the app must refuse."""
    if http.path != "/sparql":
        return None
    try:
        reading = asked(http)
    except Exception:
        return None
    if reading.query is None:
        return None
    return query_key(reading.query, reading.fmt, http.script_root)


@blueprint.route("/sparql", methods=["GET", "POST"])
def endpoint():
    reading = asked(request)
    if reading.query is None:
        return _page() if reading.fmt is Format.HTML else _service_description(reading.fmt)
    key = query_key(reading.query, reading.fmt, request.script_root)
    response = kept(key)
    if response is None:
        if reading.fmt is Format.HTML:
            response = _page(reading.text, reading.query)
        else:
            answer = _run(reading.query, reading.fmt)
            response = Response(answer.body, mimetype=answer.media_type)
            response.headers["Vary"] = "Accept"
            response.headers["Cache-Control"] = "no-store"
        keep(key)
    return response


def _read(http: Request) -> Asked:
    text, default_graphs, named_graphs = _protocol_request(http)
    html = _wants_html(http)
    if text is None:
        return Asked(None, None, Format.HTML if html else _requested_format(http, GRAPH_FORMATS))
    query = read(text, default_graphs, named_graphs or None)
    return Asked(text, query, Format.HTML if html else _requested_format(http, query.formats))


def _protocol_request(http: Request) -> tuple[str | None, list[str], list[str]]:
    """The query and dataset parameters of a SPARQL 1.1 Protocol request (4xx otherwise)."""
    if "update" in http.args or "update" in http.form:
        raise QueryRefused(READ_ONLY)
    queries = _queries(http)
    default_graphs = http.args.getlist("default-graph-uri")
    named_graphs = http.args.getlist("named-graph-uri")
    if http.method == "POST" and http.mimetype == FORM:
        default_graphs += http.form.getlist("default-graph-uri")
        named_graphs += http.form.getlist("named-graph-uri")
    for graph in default_graphs + named_graphs:
        try:
            checked_iri(graph)
        except BadIri as bad:
            raise HttpError(400, f"default-graph-uri / named-graph-uri: {bad.message}") from None
    if len(queries) > 1:
        raise HttpError(400, "exactly one `query` parameter, please")
    if not queries:
        if http.method == "POST":
            raise HttpError(400, "no `query` in the request")
        return None, default_graphs, named_graphs
    if not queries[0].strip():
        raise HttpError(400, "the query is empty")
    return queries[0], default_graphs, named_graphs


def _queries(http: Request) -> list[str]:
    """The `query` parameters, from the URL (GET) or the body (POST)."""
    if http.method == "GET":
        return http.args.getlist("query")
    if http.mimetype == "application/sparql-update":
        raise QueryRefused(READ_ONLY)
    if http.mimetype not in (FORM, "application/sparql-query"):
        raise HttpError(
            415,
            "POST a query as application/x-www-form-urlencoded (query=…) or "
            f"as application/sparql-query, not `{http.mimetype or 'nothing'}`",
        )
    if "query" in http.args:
        raise HttpError(400, "the query is given both in the URL and in the body")
    if http.mimetype == FORM:
        return http.form.getlist("query")
    try:
        return [http.get_data(cache=False).decode("utf-8")]
    except UnicodeDecodeError:
        raise HttpError(400, "the query is not UTF-8") from None


def _wants_html(http: Request) -> bool:
    if http.values.get("format"):
        return http.values["format"] == "html"
    accept = http.headers.get("Accept")
    return negotiate(accept, [Format.JSONLD, Format.HTML], default=Format.JSONLD) is Format.HTML


def _requested_format(http: Request, offered: list):
    """`format=json` (as Fuseki and Virtuoso accept) or the Accept header."""
    name = http.values.get("format")
    if not name:
        return negotiated(offered, http)
    fmt = by_name(name, offered)
    if fmt is None:
        raise HttpError(
            400,
            f"format `{name[:40]}` is not offered for this query; offered: "
            + ", ".join(f.extension for f in offered),
        )
    return fmt


def _run(query: Query, fmt: Format | ResultFormat) -> Answer:
    """The query's answer in `fmt`, from the query service, on the build served."""
    current = served()
    service = current_app.extensions["lod.queries"]
    return service.run(current.store, query, fmt, base_iri=str(sparql_iri(current.base)))


def _page(text: str | None = None, query: Query | None = None) -> Response:
    """The query page: a form, examples, and results as an HTML table (no JavaScript)."""
    table = graph_text = boolean = None
    if query is not None:
        answer = _run(query, Format.TURTLE if query.is_graph else ResultFormat.JSON)
        if query.is_graph:
            graph_text = answer.body.decode()
        else:
            table, boolean = _table(answer)
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


def _table(answer: Answer) -> tuple[dict | None, bool | None]:
    """The results of a SELECT as the page's table (or an ASK's boolean), read from the
    answer's JSON (the engine answers in bytes: the one parse the page costs)."""
    results = orjson.loads(answer.body)
    if "boolean" in results:
        return None, results["boolean"]
    names = results["head"]["vars"]
    base, root = served().base, request.script_root
    rows = []
    for binding in results["results"]["bindings"]:
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
    return {"names": names, "rows": rows}, None


def _service_description(fmt: Format) -> Response:
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
    for offered in [*RESULT_FORMATS, *GRAPH_FORMATS]:
        graph.add((service, SD.resultFormat, URIRef(offered.iri)))
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    graph.add((default, VOID.triples, Literal(current.build.manifest["triples"])))
    response = Response(serialize(graph, fmt), mimetype=fmt.media_type)
    response.headers["Vary"] = "Accept"
    return response
