"""The SPARQL endpoint over real HTTP (DESIGN §5), against the live `server` fixture.

1. The query cases of the W3C SPARQL 1.1 Protocol test suite (w3c/rdf-tests,
   sparql/sparql11/protocol/manifest.ttl), adapted to our data: the suite's data files are
   not ours, so each case asserts status, content type and parseable, correctly shaped
   results. Ids are the suite's test names.
2. A real client (SPARQLWrapper) pinned to answers from data/.
3. The service description and the query page.
4. Safety: SERVICE, FROM and LOAD refused before anything runs, with no outbound connection.
5. The time limit; 6. the concurrency bound (429 with Retry-After).
"""

from __future__ import annotations

import html
import io
import re
import select
import socket
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
import requests
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, XSD
from rdflib.query import Result
from SPARQLWrapper import JSON, JSONLD, POST, POSTDIRECTLY, RDFXML, XML, SPARQLWrapper

from .conftest import LiveServer, start_server, stop_server

BASE = "https://lod.example.org/"
SCHEMA = Namespace("https://schema.org/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
CSOCD59 = URIRef(BASE + "id/event/csocd59")
SIDE_EVENT = URIRef(BASE + "id/event/csocd59-migration-displacement-side-event")
CECILIE = URIRef(BASE + "id/person/cecilie-kern")
UNITED_NATIONS = URIRef(BASE + "id/organisation/united-nations")
WIKIDATA_UN = URIRef("http://www.wikidata.org/entity/Q1065")
TRIPLES = 499  # in the build of data/

# Graph IRIs the store does not hold (it holds only its default graph).
GRAPH_1 = "http://kasei.us/2009/09/sparql/data/data1.rdf"
GRAPH_2 = "http://kasei.us/2009/09/sparql/data/data2.rdf"
GRAPH_3 = "http://kasei.us/2009/09/sparql/data/data3.rdf"

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
RESULT_PARSERS = {  # media type -> rdflib result parser
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
GRAPH_PARSERS = {  # media type -> rdflib graph parser
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}

MODERATOR = f"""PREFIX schema: <https://schema.org/>
SELECT ?who WHERE {{
  <{SIDE_EVENT}> schema:contributor ?role .
  ?role schema:roleName "moderator"@en ; schema:contributor ?person .
  ?person schema:name ?who .
}}"""
SESSION = f"""PREFIX schema: <https://schema.org/>
SELECT ?name ?start WHERE {{ <{CSOCD59}> schema:name ?name ; schema:startDate ?start }}"""
START_DATES = """PREFIX schema: <https://schema.org/>
CONSTRUCT { ?event schema:startDate ?start } WHERE { ?event schema:startDate ?start }"""
UN_SAME_AS = f"ASK {{ <{UNITED_NATIONS}> <{OWL.sameAs}> <{WIKIDATA_UN}> }}"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SIMPLE = "ASK { ?s ?p ?o }"

# -- requests and what they answer ---------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request to /sparql: method, URL parameters (repeatable, in order), body, headers."""

    method: str = "GET"
    params: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def send(self, server: LiveServer, **options) -> requests.Response:
        return server.request(
            self.method,
            "/sparql",
            params=list(self.params),
            data=self.body,
            headers=dict(self.headers),
            **options,
        )


def get(query: str | None = None, *, accept: str | None = None, **params) -> Call:
    pairs = (("query", query),) if query is not None else ()
    return Call("GET", pairs + _pairs(params), headers=_accept(accept))


def post_form(query: str, *, accept: str | None = None, **params) -> Call:
    return Call(
        "POST", _pairs(params), _form(query=query), (("Content-Type", FORM), *_accept(accept))
    )


def post_direct(
    query: str | bytes, *, content_type: str | None = DIRECT, accept: str | None = None, **params
) -> Call:
    body = query.encode() if isinstance(query, str) else query
    headers = (("Content-Type", content_type),) if content_type else ()
    return Call("POST", _pairs(params), body, headers + _accept(accept))


def _form(**fields) -> bytes:
    """An application/x-www-form-urlencoded body (a list value repeats the field)."""
    return urlencode(_pairs(fields)).encode()


def _pairs(params: dict) -> tuple[tuple[str, str], ...]:
    """`default_graph_uri=[a, b]` -> (("default-graph-uri", a), ("default-graph-uri", b))."""
    pairs = []
    for name, values in params.items():
        for value in values if isinstance(values, list | tuple) else [values]:
            pairs.append((name.replace("_", "-"), value))
    return tuple(pairs)


def _accept(accept: str | None) -> tuple[tuple[str, str], ...]:
    return (("Accept", accept),) if accept else ()


def mimetype(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def results(response: requests.Response) -> Result:
    """SELECT/ASK results, parsed by rdflib per their content type."""
    assert mimetype(response) in RESULT_PARSERS, response.headers.get("Content-Type")
    return Result.parse(io.BytesIO(response.content), format=RESULT_PARSERS[mimetype(response)])


def graph(response: requests.Response) -> Graph:
    """A CONSTRUCT/DESCRIBE answer, parsed by rdflib per its content type."""
    assert mimetype(response) in GRAPH_PARSERS, response.headers.get("Content-Type")
    return Graph().parse(data=response.content, format=GRAPH_PARSERS[mimetype(response)])


def error_of(response: requests.Response) -> dict:
    """The endpoint's JSON error: {"error": {"status", "title", "message"}}."""
    assert mimetype(response) == "application/json", response.text[:300]
    error = response.json()["error"]
    assert error["status"] == response.status_code
    assert error["message"]
    return error


def ask(server: LiveServer, query: str = SIMPLE) -> bool:
    response = get(query).send(server)
    assert response.status_code == 200, response.text[:300]
    return results(response).askAnswer


# -- expectations --------------------------------------------------------------------------


def boolean(value: bool) -> Callable[[requests.Response], None]:
    def check(response):
        answer = results(response)
        assert answer.type == "ASK"
        assert answer.askAnswer is value

    return check


def named_graphs(*iris: str) -> Callable[[requests.Response], None]:
    """The answer to `SELECT ?g { GRAPH ?g {} }`: exactly these named graphs."""

    def check(response):
        answer = results(response)
        assert [str(v) for v in answer.vars] == ["g"]
        assert {str(row.g) for row in answer} == set(iris)

    return check


# -- 1. W3C SPARQL 1.1 Protocol: query cases -----------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    call: Call
    status: int
    check: Callable[[requests.Response], None] | None = None
    xfail: str | None = None
    says: str = ""  # a regular expression the error message must match

    def param(self):
        marks = [pytest.mark.xfail(strict=True, reason=self.xfail)] if self.xfail else []
        return pytest.param(self, id=self.id, marks=marks)


ASK_DATA = "ASK { ?s ?p ?o }"  # true on our default graph, false on an empty one
GRAPHS = "SELECT ?g WHERE { GRAPH ?g { } }"
GRAPHS_OF_EMPTY_DEFAULT = "SELECT ?g WHERE { GRAPH ?g { } FILTER NOT EXISTS { ?s ?p ?o } }"

QUERY_CASES = [
    Case("query_get", get("ASK {}"), 200, boolean(True)),
    Case("query_get-data", get(ASK_DATA), 200, boolean(True)),
    Case("query_post_form", post_form("ASK {}"), 200, boolean(True)),
    Case("query_post_form-data", post_form(ASK_DATA), 200, boolean(True)),
    Case("query_post_direct", post_direct("ASK {}"), 200, boolean(True)),
    Case("query_post_direct-data", post_direct(ASK_DATA), 200, boolean(True)),
    # the suite's query_get / query_post_form carry default-graph-uri=data0.rdf: a graph the
    # store does not hold names an empty default graph, so its data is not seen
    Case(
        "query_dataset_default_graph",
        get(ASK_DATA, default_graph_uri="http://kasei.us/2009/09/sparql/data/data0.rdf"),
        200,
        boolean(False),
    ),
    Case(
        "query_dataset_default_graph-post_form",
        post_form("ASK {}", default_graph_uri="http://kasei.us/2009/09/sparql/data/data0.rdf"),
        200,
        boolean(True),
    ),
    Case(
        "query_dataset_default_graphs_get",
        get(ASK_DATA, default_graph_uri=[GRAPH_1, GRAPH_2]),
        200,
        boolean(False),
    ),
    Case(
        "query_dataset_default_graphs_post",
        post_direct(ASK_DATA, default_graph_uri=[GRAPH_1, GRAPH_2]),
        200,
        boolean(False),
    ),
    Case(
        "query_dataset_named_graphs_post",
        post_direct(GRAPHS, named_graph_uri=[GRAPH_1, GRAPH_2]),
        200,
        named_graphs(GRAPH_1, GRAPH_2),
    ),
    Case(
        "query_dataset_named_graphs_get",
        get(GRAPHS, named_graph_uri=[GRAPH_1, GRAPH_2]),
        200,
        named_graphs(GRAPH_1, GRAPH_2),
    ),
    Case(
        "query_dataset_full",
        post_direct(
            GRAPHS_OF_EMPTY_DEFAULT, default_graph_uri=GRAPH_3, named_graph_uri=[GRAPH_1, GRAPH_2]
        ),
        200,
        named_graphs(GRAPH_1, GRAPH_2),
    ),
    # The suite expects the protocol's dataset to win over FROM; this endpoint refuses FROM of
    # a graph it does not hold before anything runs (DESIGN §5), which is its right.
    Case(
        "query_multiple_dataset",
        post_direct(
            f"ASK FROM <{GRAPH_3}> {{ GRAPH ?g1 {{ }} GRAPH ?g2 {{ }} }}",
            named_graph_uri=f"{GRAPH_1}&named-graph-uri={GRAPH_2}",
        ),
        400,
        says=r"FROM <http://kasei\.us/.*> is not allowed",
    ),
]


# QUERY_CASES run in tests/test_engines.py::test_w3c_protocol_query, on both engines.


SELECT_TYPES = [None, *RESULT_PARSERS]  # None: no Accept header, the endpoint chooses


@pytest.mark.parametrize("accept", SELECT_TYPES, ids=lambda a: a or "no-accept")
def test_w3c_query_content_type_select(server, accept):
    response = post_direct(SESSION, accept=accept).send(server)
    assert response.status_code == 200, response.text[:300]
    if accept:
        assert mimetype(response) == accept
    answer = results(response)
    assert answer.type == "SELECT"
    assert [str(v) for v in answer.vars] == ["name", "start"]
    [row] = list(answer)
    assert str(row.name) == "59th session of the Commission for Social Development (CSocD59)"
    assert str(row.start) == "2021-02-08"  # CSV carries no datatype; the others do
    if mimetype(response) != "text/csv":
        assert row.start == Literal("2021-02-08", datatype=XSD.date)


def test_w3c_query_content_type_select_no_solutions(server):
    """The suite's `SELECT (1 AS ?value) {}`, and a query with no solutions: heads intact."""
    answer = results(post_direct("SELECT (1 AS ?value) {}").send(server))
    assert [str(v) for v in answer.vars] == ["value"]
    assert [int(row.value) for row in answer] == [1]
    answer = results(post_direct("SELECT ?x WHERE { ?x a <http://example.org/None> }").send(server))
    assert [str(v) for v in answer.vars] == ["x"]
    assert list(answer) == []


@pytest.mark.parametrize(
    "accept", [None, "application/sparql-results+xml", "application/sparql-results+json"]
)
@pytest.mark.parametrize(
    "query, value",
    [("ASK {}", True), (UN_SAME_AS, True), (UN_SAME_AS.replace("Q1065", "Q1"), False)],
    ids=["empty", "un-same-as-q1065", "un-same-as-q1"],
)
def test_w3c_query_content_type_ask(server, accept, query, value):
    response = post_direct(query, accept=accept).send(server)
    assert response.status_code == 200, response.text[:300]
    if accept:
        assert mimetype(response) == accept
    boolean(value)(response)


GRAPH_TYPES = [None, *GRAPH_PARSERS]


@pytest.mark.parametrize("accept", GRAPH_TYPES, ids=lambda a: a or "no-accept")
def test_w3c_query_content_type_describe(server, accept):
    response = post_direct(f"DESCRIBE <{CECILIE}>", accept=accept).send(server)
    assert response.status_code == 200, response.text[:300]
    if accept:
        assert mimetype(response) == accept
    described = graph(response)
    assert described.value(CECILIE, SCHEMA.name) == Literal("Cecilie Kern", lang="en")
    assert set(described.subjects()) == {CECILIE}


def test_w3c_query_content_type_describe_unknown(server):
    """The suite's `DESCRIBE <http://example.org/>`: an IRI with no data, an empty graph."""
    response = post_direct("DESCRIBE <http://example.org/>").send(server)
    assert response.status_code == 200
    assert len(graph(response)) == 0


@pytest.mark.parametrize("accept", GRAPH_TYPES, ids=lambda a: a or "no-accept")
def test_w3c_query_content_type_construct(server, accept):
    response = post_direct(START_DATES, accept=accept).send(server)
    assert response.status_code == 200, response.text[:300]
    if accept:
        assert mimetype(response) == accept
    constructed = graph(response)
    assert constructed.value(CSOCD59, SCHEMA.startDate) == Literal("2021-02-08", datatype=XSD.date)
    assert set(constructed.predicates()) == {SCHEMA.startDate}


def test_w3c_query_content_type_construct_relative_iris(server):
    response = post_direct("CONSTRUCT { <s> <p> 1 } WHERE {}").send(server)
    assert response.status_code == 200, response.text[:300]
    assert len(graph(response)) == 1


# -- 1b. W3C negative cases ----------------------------------------------------------------


BAD_CASES = [
    Case(
        "bad_query_method",
        Call("PUT", (("query", "ASK {}"),), b"", (("Content-Type", FORM),)),
        405,
    ),
    Case("bad_query_method-delete", Call("DELETE", (("query", "ASK {}"),)), 405),
    Case(
        "bad_multiple_queries",
        Call("GET", (("query", "ASK {}"), ("query", "SELECT * {}"))),
        400,
        says="one `query`",
    ),
    Case(
        "bad_multiple_queries-post_form",
        Call(
            "POST", body=_form(query=["ASK {}", "SELECT * {}"]), headers=(("Content-Type", FORM),)
        ),
        400,
        says="one `query`",
    ),
    Case(
        "bad_multiple_queries-url_and_body",
        Call("POST", (("query", "SELECT * {}"),), b"ASK {}", (("Content-Type", DIRECT),)),
        400,
        says="both in the URL and in the body",
    ),
    Case(
        "bad_query_wrong_media_type",
        post_direct("ASK {}", content_type="text/plain"),
        415,
        says="text/plain",
    ),
    Case(
        "bad_query_missing_form_type",
        post_direct(_form(query="ASK {}"), content_type=None),
        415,
    ),
    Case("bad_query_missing_direct_type", post_direct("ASK {}", content_type=None), 415),
    Case(
        "bad_query_non_utf8",
        post_direct('ASK { FILTER("café" != "") }'.encode("latin-1")),
        400,
        says="UTF-8",
    ),
    Case(
        "bad_query_non_utf8-utf16",
        post_direct("ASK {}".encode("utf-16"), content_type=DIRECT + "; charset=UTF-16"),
        400,
        says="UTF-8",
    ),
    Case("bad_query_syntax", get("ASK {"), 400, says=r"line 1.*(Expected|expected)"),
    Case(
        "bad_query_syntax-post_direct",
        post_direct("SELECT ?x WHERE { ?x ?y }"),
        400,
        says=r"line 1.*(Expected|expected)",
    ),
    Case("bad_query_empty", get(""), 400, says="empty"),
    Case("bad_query_empty-post_direct", post_direct(""), 400, says="empty"),
    Case("bad_query_unknown_format", get("ASK {}", format="png"), 400, says="png"),
    Case("bad_query_not_acceptable", get("ASK {}", accept="image/png"), 406, says="Offered"),
    Case("bad_update_as_query", get("CLEAR ALL"), 400, says="read-only"),
    Case(
        "bad_update_as_query-insert",
        post_direct("INSERT DATA { <http://example.org/s> <http://example.org/p> 1 }"),
        400,
        says="read-only",
    ),
    Case(
        "bad_update_as_query-prologue",
        post_form("PREFIX ex: <http://example.org/>\nDELETE WHERE { ?s ?p ?o }"),
        400,
        says="read-only",
    ),
    Case("bad_update_get", get(update="CLEAR ALL"), 400, says="read-only"),
    Case(
        "update_post_form",
        Call("POST", body=_form(update="CLEAR ALL"), headers=(("Content-Type", FORM),)),
        400,
        says="read-only",
    ),
    Case(
        "update_post_direct",
        post_direct("CLEAR ALL", content_type=UPDATE),
        400,
        says="read-only",
    ),
    Case(
        "bad_multiple_updates",
        Call(
            "POST",
            body=_form(update=["CLEAR NAMED", "CLEAR DEFAULT"]),
            headers=(("Content-Type", FORM),),
        ),
        400,
    ),
    Case(
        "bad_update_wrong_media_type",
        post_direct("CLEAR NAMED", content_type="text/plain"),
        415,
    ),
    Case(
        "bad_update_missing_form_type",
        post_direct(_form(update="CLEAR NAMED"), content_type=None),
        415,
    ),
    Case(
        "bad_update_non_utf8",
        post_direct("CLEAR NAMED".encode("utf-16"), content_type=UPDATE + "; charset=UTF-16"),
        400,
    ),
    Case(
        "bad_update_syntax",
        Call("POST", body=_form(update="CLEAR XYZ"), headers=(("Content-Type", FORM),)),
        400,
    ),
    Case(
        "bad_update_dataset_conflict",
        post_direct(
            "WITH <http://example/addresses> DELETE { ?p <http://xmlns.com/foaf/0.1/givenName> "
            "'Bill' } WHERE { ?p <http://xmlns.com/foaf/0.1/givenName> 'Bill' }",
            content_type=UPDATE,
            using_named_graph_uri="http://example/people",
        ),
        400,
    ),
]


@pytest.mark.parametrize("case", [c.param() for c in BAD_CASES])
def test_w3c_protocol_bad_request(server, case: Case):
    response = case.call.send(server)
    assert response.status_code == case.status, response.text[:300]
    error = error_of(response)
    assert re.search(case.says, error["message"]), error
    if case.status == 405:
        assert {"GET", "POST"} <= set(re.split(r",\s*", response.headers["Allow"]))


def test_updates_changed_nothing(server):
    """After every refused update above (and in any order), the data is all there."""
    for case in BAD_CASES:
        case.call.send(server)
    count = results(get("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }").send(server))
    assert [int(row.n) for row in count] == [TRIPLES]


# -- 2. a real client ----------------------------------------------------------------------


@pytest.fixture
def client(server):
    def make(query: str, return_format: str = JSON, **options) -> SPARQLWrapper:
        wrapper = SPARQLWrapper(server.url + "/sparql", returnFormat=return_format)
        wrapper.setQuery(query)
        wrapper.setTimeout(30)
        for name, value in options.items():
            getattr(wrapper, "set" + name)(value)
        return wrapper

    return make


METHODS = {
    "get": {},
    "post_form": {"Method": POST},
    "post_direct": {"Method": POST, "RequestMethod": POSTDIRECTLY},
}


@pytest.mark.parametrize("method", METHODS)
def test_sparqlwrapper_select(client, method):
    answer = client(MODERATOR, **METHODS[method]).queryAndConvert()
    assert answer["head"]["vars"] == ["who"]
    assert [b["who"]["value"] for b in answer["results"]["bindings"]] == ["Cecilie Kern"]

    [row] = client(SESSION, **METHODS[method]).queryAndConvert()["results"]["bindings"]
    assert row["start"] == {"type": "literal", "value": "2021-02-08", "datatype": str(XSD.date)}


@pytest.mark.parametrize("method", METHODS)
def test_sparqlwrapper_ask(client, method):
    assert client(UN_SAME_AS, **METHODS[method]).queryAndConvert()["boolean"] is True
    elsewhere = UN_SAME_AS.replace("Q1065", "Q1")
    assert client(elsewhere, **METHODS[method]).queryAndConvert()["boolean"] is False


def _start_dates(wrapper: SPARQLWrapper) -> Graph:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # SPARQLWrapper's format notices
        constructed = wrapper.queryAndConvert()
    assert isinstance(constructed, Graph)
    return constructed


@pytest.mark.parametrize("return_format", [XML, RDFXML, JSONLD])
def test_sparqlwrapper_construct(client, return_format):
    """Content negotiation only (`onlyConneg`): CONSTRUCT arrives as an rdflib Graph."""
    constructed = _start_dates(client(START_DATES, return_format, OnlyConneg=True))
    assert constructed.value(CSOCD59, SCHEMA.startDate) == Literal("2021-02-08", datatype=XSD.date)


@pytest.mark.parametrize("return_format", [XML, RDFXML, JSONLD])
def test_sparqlwrapper_construct_default_settings(client, return_format):
    constructed = _start_dates(client(START_DATES, return_format))
    assert constructed.value(CSOCD59, SCHEMA.startDate) == Literal("2021-02-08", datatype=XSD.date)


# -- 3. service description and query page -------------------------------------------------

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("accept", GRAPH_PARSERS)
def test_service_description(server, accept):
    response = get(accept=accept).send(server)
    assert response.status_code == 200
    assert mimetype(response) == accept
    description = graph(response)
    service = URIRef(BASE + "sparql")
    assert (service, SD.endpoint, service) in description
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in description
    formats = {str(f).rsplit("/", 1)[1] for f in description.objects(service, SD.resultFormat)}
    assert {"SPARQL_Results_JSON", "SPARQL_Results_XML", "Turtle", "RDF_XML"} <= formats
    default = description.value(description.value(service, SD.defaultDataset), SD.defaultGraph)
    assert int(description.value(default, URIRef("http://rdfs.org/ns/void#triples"))) == TRIPLES


def test_service_description_uses_the_sd_prefix(server):
    text = get(accept="text/turtle").send(server).text
    assert "sd:endpoint" in text
    assert "sd:supportedLanguage sd:SPARQL11Query" in text


def test_query_page_for_browsers(server):
    from lod.web.sparql import EXAMPLES

    response = get(accept=BROWSER).send(server)
    assert response.status_code == 200
    assert mimetype(response) == "text/html"
    page = response.text
    forms = re.findall(r"<form\b[^>]*>.*?</form>", page, re.S)  # the site's search box too
    form = next((f for f in forms if 'action="/sparql"' in f), None)
    assert form and 'name="query"' in form
    text = html.unescape(page)
    for title, query in EXAMPLES:
        assert title in text
        assert query in text


def test_query_page_shows_results_as_a_table(server):
    response = get(MODERATOR, format="html").send(server)
    assert response.status_code == 200
    assert mimetype(response) == "text/html"
    table = re.search(r"<table\b.*?</table>", response.text, re.S)
    assert table, response.text[:500]
    assert "?who" in table.group(0)
    assert "Cecilie Kern" in table.group(0)


def test_query_page_shows_the_query_as_written(server):
    """The form holds the query as the client sent it (its escapes kept), not the text the
    engine is given."""
    query = r'SELECT ?x WHERE { BIND("caf\u00e9" AS ?x) }'
    response = get(query, format="html").send(server)
    assert response.status_code == 200
    textarea = re.search(r"<textarea\b[^>]*>(.*?)</textarea>", response.text, re.S)
    assert html.unescape(textarea.group(1)) == query
    assert "café" in re.search(r"<table\b.*?</table>", response.text, re.S).group(0)


def test_query_page_errors_are_html(server):
    response = get("ASK {", accept=BROWSER).send(server)
    assert response.status_code == 400
    assert mimetype(response) == "text/html"
    assert "line 1" in response.text


# -- 4. safety: nothing is fetched -----------------------------------------------------------


@pytest.fixture
def listener():
    """A socket listening on 127.0.0.1: the endpoint a refused query must never reach."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock


def connected(sock: socket.socket, within: float) -> bool:
    readable, _, _ = select.select([sock], [], [], within)
    return bool(readable)


@dataclass(frozen=True)
class Refused:
    id: str
    query: str  # ENDPOINT stands for the listener's URL
    says: str
    via: Callable[[str], Call] = get

    def call(self, endpoint: str) -> Call:
        return self.via(self.query.replace("ENDPOINT", endpoint))


def _update_form(text: str) -> Call:
    return Call("POST", body=_form(update=text), headers=(("Content-Type", FORM),))


def _update_direct(text: str) -> Call:
    return post_direct(text, content_type=UPDATE)


SERVICE = r"SERVICE is not allowed"
REFUSED = [
    Refused("service", "SELECT * WHERE { SERVICE <ENDPOINT> { ?s ?p ?o } }", SERVICE),
    Refused(
        "service-post_form",
        "SELECT * WHERE { SERVICE <ENDPOINT> { ?s ?p ?o } }",
        SERVICE,
        post_form,
    ),
    Refused(
        "service-post_direct",
        "SELECT * WHERE { SERVICE <ENDPOINT> { ?s ?p ?o } }",
        SERVICE,
        post_direct,
    ),
    Refused(
        "service_in_optional",
        "SELECT * WHERE { ?a ?b ?c OPTIONAL { SERVICE <ENDPOINT> { ?a ?p ?o } } }",
        SERVICE,
    ),
    Refused(
        "service_in_filter_exists",
        "SELECT * WHERE { ?a ?b ?c FILTER EXISTS { SERVICE <ENDPOINT> { ?a ?p ?o } } }",
        SERVICE,
    ),
    Refused(
        "service_in_filter_not_exists",
        "ASK { ?a ?b ?c FILTER NOT EXISTS { SERVICE <ENDPOINT> { ?a ?p ?o } } }",
        SERVICE,
    ),
    Refused(
        "service_in_subquery",
        "SELECT * WHERE { { SELECT ?s WHERE { SERVICE <ENDPOINT> { ?s ?p ?o } } } }",
        SERVICE,
    ),
    Refused(
        "service_in_union",
        "SELECT * WHERE { { ?s ?p ?o } UNION { SERVICE <ENDPOINT> { ?s ?p ?o } } }",
        SERVICE,
    ),
    Refused("service_silent", "SELECT * WHERE { SERVICE SILENT <ENDPOINT> { ?s ?p ?o } }", SERVICE),
    Refused(
        "service_variable",
        "SELECT * WHERE { VALUES ?e { <ENDPOINT> } SERVICE ?e { ?s ?p ?o } }",
        SERVICE,
    ),
    Refused(
        "service_prefixed_name",
        "PREFIX remote: <ENDPOINT#> SELECT * WHERE { SERVICE remote:x { ?s ?p ?o } }",
        SERVICE,
    ),
    Refused("service_lower_case", "select * where { service <ENDPOINT> { ?s ?p ?o } }", SERVICE),
    Refused(
        "service_unicode_escaped",
        r"SELECT * WHERE { \u0053ERVICE <ENDPOINT> { ?s ?p ?o } }",
        SERVICE,
    ),
    Refused(  # rdflib ends a comment only at LF, pyoxigraph at CR too
        "service_after_cr_in_comment",
        "SELECT * WHERE { ?s ?p ?o # note\rSERVICE <ENDPOINT> { ?s ?p ?o }\n}",
        SERVICE,
    ),
    Refused(
        "service_in_construct",
        "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <ENDPOINT> { ?s ?p ?o } }",
        SERVICE,
    ),
    Refused("service_in_ask", "ASK { SERVICE <ENDPOINT> { } }", SERVICE),
    Refused(
        "service_in_describe", "DESCRIBE ?s WHERE { SERVICE <ENDPOINT> { ?s ?p ?o } }", SERVICE
    ),
    Refused("from_http", "SELECT * FROM <ENDPOINT> WHERE { ?s ?p ?o }", r"FROM <http://127"),
    Refused(
        "from_file", "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", r"FROM <file:///"
    ),
    Refused(
        "from_file_relative_to_base",
        "BASE <file:///etc/> SELECT * FROM <passwd> WHERE { ?s ?p ?o }",
        r"FROM <file:///etc/passwd>",
    ),
    Refused(
        "from_prefixed_name",
        "PREFIX f: <file:///etc/> SELECT * FROM f:passwd WHERE { ?s ?p ?o }",
        r"FROM <file:///etc/passwd>",
    ),
    Refused(
        "from_named",
        "SELECT * FROM NAMED <ENDPOINT> WHERE { GRAPH ?g { ?s ?p ?o } }",
        r"FROM NAMED <http://127",
    ),
    Refused(
        "from_named_file",
        "SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }",
        r"FROM NAMED <file:///",
    ),
    Refused("from_in_ask", "ASK FROM <ENDPOINT> { ?s ?p ?o }", r"FROM <http://127"),
    Refused(
        "from_in_construct",
        "CONSTRUCT { ?s ?p ?o } FROM <ENDPOINT> WHERE { ?s ?p ?o }",
        r"FROM <http://127",
    ),
    Refused("from_in_describe", "DESCRIBE ?s FROM <ENDPOINT> WHERE { ?s ?p ?o }", r"FROM"),
    Refused("load", "LOAD <ENDPOINT>", r"LOAD .*read-only"),
    Refused(
        "load_silent_into_graph",
        "LOAD SILENT <ENDPOINT> INTO GRAPH <http://example.org/g>",
        r"LOAD .*read-only",
        post_direct,
    ),
    Refused("load-update_form", "LOAD <ENDPOINT>", r"read-only", _update_form),
    Refused("load-sparql_update", "LOAD <ENDPOINT>", r"read-only", _update_direct),
    Refused("load_file", "LOAD <file:///etc/passwd>", r"LOAD .*read-only"),
]


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.id)
def test_refused_before_anything_runs(server, listener, case: Refused):
    host, port = listener.getsockname()
    started = time.monotonic()
    response = case.call(f"http://{host}:{port}/sparql").send(server)
    took = time.monotonic() - started
    assert response.status_code == 400, response.text[:300]
    assert re.search(case.says, error_of(response)["message"]), response.text[:300]
    assert took < 5, f"refused only after {took:.1f} s"
    assert "root:" not in response.text
    assert not connected(listener, within=1.0), "the endpoint connected to the SERVICE/FROM IRI"


# -- 5. the time limit -----------------------------------------------------------------------


def _warm(server: LiveServer) -> None:
    """Start the query workers of every gunicorn worker (a cold one takes ~0.7 s to answer):
    sequential requests, then parallel ones, each on a new connection, so both workers get
    some. A 429 is fine here: a parallel burst may pass one worker's bound."""
    for _ in range(8):
        assert ask(server, "ASK {}") is True
    with ThreadPoolExecutor(8) as pool:
        burst = [pool.submit(get("ASK {}").send, server) for _ in range(8)]
        assert {f.result().status_code for f in burst} <= {200, 429}


def test_slow_query_stops_at_the_time_limit_while_others_are_served(server):
    _warm(server)
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        slow = pool.submit(get(SLOW).send, server, timeout=60)
        time.sleep(0.3)
        before = time.monotonic()
        quick = get(SIMPLE).send(server)
        quick_took = time.monotonic() - before
        assert quick.status_code == 200
        assert results(quick).askAnswer is True
        assert quick_took < 1.0, f"a simple query took {quick_took:.2f} s beside a slow one"
        assert not slow.done(), "the simple query should be answered while the slow one runs"
        response = slow.result(timeout=60)
        elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text[:300]
    error = error_of(response)
    assert re.search(r"time", error["title"] + error["message"], re.I)
    assert re.search(r"\b2(\.0+)? ?s\b|LOD_QUERY_TIMEOUT", error["message"])
    assert 1.5 < elapsed < 15, f"stopped after {elapsed:.1f} s with a 2 s limit"
    assert ask(server) is True  # the endpoint still answers
    assert results(get(SESSION).send(server)).bindings


@pytest.fixture
def own_server(built):
    """Start a private server with the given settings; stopped at the end of the test."""
    started: list[LiveServer] = []

    def start(**settings) -> LiveServer:
        live = start_server(built.path.parent.parent, **settings)
        started.append(live)
        return live

    yield start
    for live in started:
        stop_server(live)


def test_long_query_is_held_to_the_time_limit(own_server):
    live = own_server(workers=1, LOD_QUERY_TIMEOUT=2)
    values = ", ".join(f'"v{i}"' for i in range(30_000))
    query = f"SELECT ?s WHERE {{ ?s ?p ?o FILTER(?o IN ({values})) }}"
    started = time.monotonic()
    response = post_direct(query).send(live, timeout=10)
    assert response.status_code in (200, 503), response.text[:300]
    assert time.monotonic() - started < 10


def test_many_triple_patterns_are_answered(server):
    """100 patterns: past the default recursion limit of rdflib's parser (the check runs
    in the worker, with a high one), within what pyoxigraph plans in time (150 take 3.5 s)."""
    patterns = " . ".join(f"?s <http://example.org/p{i}> ?o{i}" for i in range(100))
    response = post_direct(f"SELECT ?s WHERE {{ {patterns} }}").send(server)
    assert response.status_code == 200, response.text[:300]
    assert list(results(response)) == []


# -- 6. the concurrency bound ----------------------------------------------------------------


def _refused_for_concurrency(live: LiveServer, pool: ThreadPoolExecutor) -> tuple:
    """Start the slow query and probe until the bound refuses a second one: (429, slow).

    A 200 means the slow query does not hold the slot yet; if the slow query itself was
    refused (a probe held the slot at that moment), it is started again."""
    slow: Future = pool.submit(get(SLOW).send, live, timeout=60)
    time.sleep(0.2)
    deadline = time.monotonic() + 4  # below LOD_QUERY_TIMEOUT=5: the slow one still runs
    probes = 0
    while time.monotonic() < deadline:
        if slow.done() and slow.result().status_code == 429:
            slow = pool.submit(get(SLOW).send, live, timeout=60)
            time.sleep(0.2)
        probes += 1  # a new text each time: a repeated one is answered from the result cache
        response = get(f"{SIMPLE} # probe {probes}").send(live)
        if response.status_code == 429:
            return response, slow
        assert response.status_code == 200, response.text[:300]
        time.sleep(0.05)
    pytest.fail("no 429 while a slow query held the only slot")


def test_concurrent_queries_past_the_bound_get_429(own_server):
    live = own_server(workers=1, LOD_QUERY_TIMEOUT=5, LOD_QUERY_CONCURRENCY=1)
    assert ask(live, "ASK {}") is True
    with ThreadPoolExecutor(1) as pool:
        refused, slow = _refused_for_concurrency(live, pool)
        error = error_of(refused)
        assert re.fullmatch(r"\d+", refused.headers["Retry-After"])
        assert "LOD_QUERY_CONCURRENCY" in error["message"]

        page = live.get("/doc/event/csocd59.ttl")
        assert page.status_code == 200
        assert mimetype(page) == "text/turtle"
        assert (
            CSOCD59,
            SCHEMA.startDate,
            Literal("2021-02-08", datatype=XSD.date),
        ) in Graph().parse(data=page.text, format="turtle")
        assert not slow.done(), "the resource page should be served while the query runs"

        assert slow.result(timeout=60).status_code == 503
    assert ask(live) is True  # the slot is free again
