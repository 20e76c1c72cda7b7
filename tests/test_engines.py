"""The same server on both engines (DESIGN §7): the app over the embedded Oxigraph store and
over a real Virtuoso (LOD_SPARQL_ENDPOINT), the same build in each, answers the same.

A representative subset of tests/test_server.py and tests/test_sparql.py runs here again,
against `server` parametrised over the engines (imported tests take this module's
fixtures); then what only a remote store needs: every resource document byte-identical on
both, the example queries' answers equal, no other graph of the store visible, and the
store's own extensions (Virtuoso's `bif:` procedures) refused before anything runs.

Where the engines may differ by the standard, the tests say so:
- DESCRIBE is the engine's to define (SPARQL 1.1 §16.4): Oxigraph gives the resource's own
  triples, Virtuoso adds the triples that point to it.
- `GRAPH ?g {}` over named graphs the store does not hold: Oxigraph lists the names the
  request gave (each is an empty graph), Virtuoso lists none.
"""

from __future__ import annotations

import re

import pytest
from rdflib import URIRef

from .test_server import (  # noqa: F401 - collected here, run against both engines
    test_404_in_every_format,
    test_bad_offset_is_400,
    test_document_holds_hash_nodes_labels_and_incoming_links,
    test_dumps_download_with_validators_and_ranges,
    test_etag_and_304,
    test_every_format_is_the_same_graph,
    test_following_id_with_turtle_gives_the_resource,
    test_healthz,
    test_home_page,
    test_html_embeds_the_same_data_as_json_ld,
    test_html_page_reads_well,
    test_id_redirects_303_to_its_document,
    test_kind_lists_and_their_pages,
    test_negotiation,
    test_unacceptable_type_is_406_with_the_offer,
    test_unknown_resource_is_404_at_once,
    test_void_describes_the_dataset,
)
from .test_sparql import (  # noqa: F401
    CECILIE,
    QUERY_CASES,
    SCHEMA,
    Case,
    client,
    error_of,
    get,
    graph,
    listener,
    post_direct,
    results,
    test_query_page_errors_are_html,
    test_query_page_shows_results_as_a_table,
    test_refused_before_anything_runs,
    test_service_description,
    test_slow_query_stops_at_the_time_limit_while_others_are_served,
    test_sparqlwrapper_ask,
    test_sparqlwrapper_construct,
    test_sparqlwrapper_select,
    test_updates_changed_nothing,
    test_w3c_protocol_bad_request,
    test_w3c_query_content_type_ask,
    test_w3c_query_content_type_construct,
    test_w3c_query_content_type_construct_relative_iris,
    test_w3c_query_content_type_describe_unknown,
    test_w3c_query_content_type_select,
    test_w3c_query_content_type_select_no_solutions,
)

ENGINES = ["embedded", "virtuoso"]
# the protocol cases whose answer lists empty named graphs (see the module docstring)
LISTS_EMPTY_GRAPHS = {
    "query_dataset_named_graphs_post",
    "query_dataset_named_graphs_get",
    "query_dataset_full",
}


@pytest.fixture(scope="module", params=ENGINES)
def engine(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def server(request, engine, server):
    """conftest's `server` (embedded), or the same build served from Virtuoso."""
    return server if engine == "embedded" else request.getfixturevalue("virtuoso_server")


@pytest.mark.parametrize("case", [c.param() for c in QUERY_CASES])
def test_w3c_protocol_query(server, engine, case: Case):
    response = case.call.send(server)
    assert response.status_code == case.status, response.text[:300]
    if case.status >= 400:
        assert re.search(case.says, error_of(response)["message"])
        return
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Accept" in response.headers.get("Vary", "")
    if engine == "virtuoso" and case.id in LISTS_EMPTY_GRAPHS:
        assert list(results(response)) == []
        return
    case.check(response)


@pytest.mark.slow
def test_many_triple_patterns_are_refused_by_virtuoso(request):
    """100 patterns pass the app's check (tests/test_sparql.py runs them on the embedded
    engine); Virtuoso 7 cannot compile them (its SQL would pass 10,000 lines), and says so:
    a 400 with its message, not a failure."""
    virtuoso = request.getfixturevalue("virtuoso_server")
    patterns = " . ".join(f"?s <http://example.org/p{i}> ?o{i}" for i in range(100))
    response = post_direct(f"SELECT ?s WHERE {{ {patterns} }}").send(virtuoso)
    assert response.status_code == 400, response.text[:300]
    error = error_of(response)
    assert error["title"] == "Store error"
    assert "Virtuoso" in error["message"] and "SPARQL query:" not in error["message"]


def test_describe(server, engine):
    response = post_direct(f"DESCRIBE <{CECILIE}>", accept="text/turtle").send(server)
    assert response.status_code == 200, response.text[:300]
    described = graph(response)
    own = {(p, o) for _, p, o in described.triples((CECILIE, None, None))}
    assert (SCHEMA.name, URIRef("Cecilie Kern")) not in own  # a literal, not an IRI
    assert described.value(CECILIE, SCHEMA.name).toPython() == "Cecilie Kern"
    assert len(own) == 4
    others = set(described.subjects()) - {CECILIE}
    if engine == "embedded":
        assert not others
    else:  # Virtuoso adds the links to the resource
        assert all((s, None, CECILIE) in described for s in others)
