"""The reconciliation service (/reconcile): OpenRefine's API 0.2 and the 1.0 draft's routes,
over a real server; and lod.link.reconcile.NameIndex on its own.

Every request these tests send and every JSON answer they get is validated against the
published JSON Schemas in ../shared/vocab/reconciliation-schemas (0.2 for the 0.2 routes,
1.0-draft for /reconcile/match), with `$ref`s between the files resolved by a registry
built from each folder; a request meant to be refused is checked to be invalid too where
a schema can tell.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from types import SimpleNamespace
from urllib.parse import quote, urlsplit

import orjson
import pytest
from jsonschema import Draft7Validator
from rdflib import Graph, Literal, URIRef
from referencing import Registry
from referencing.jsonschema import DRAFT7

from lod import Settings
from lod.link.reconcile import MATCH_MARGIN, SHORTLIST, Condition, NameIndex
from lod.make import validated
from lod.make.listings import (
    Ancestors,
    Indexed,
    Listings,
    Said,
    build_index,
    indexes,
    names_entry,
)
from lod.text import normalise, same_as_key
from lod.vocab import KINDS, OWL, RDF, SDO, SKOS

from .conftest import DATA, ROOT, VOCAB

SCHEMAS = VOCAB / "reconciliation-schemas"
V02, V10 = "0.2", "1.0-draft"
UN = "organisation/united-nations"
MIA_MGA = "organisation/mia-mga"
CSD = "organisation/commission-for-social-development"
WIKIDATA_UN = "http://www.wikidata.org/entity/Q1065"


# the schemas


@cache
def registry(version: str) -> Registry:
    """Each schema file of a version under its `$id` (draft 7: the files name no dialect
    the library knows, and use `definitions`)."""
    resources = []
    for path in sorted((SCHEMAS / version).glob("*.json")):
        contents = json.loads(path.read_text("utf-8"))
        resources.append((contents["$id"].rstrip("#"), DRAFT7.create_resource(contents)))
    return Registry().with_resources(resources)


@cache
def validator(version: str, name: str) -> Draft7Validator:
    schema = json.loads((SCHEMAS / version / f"{name}.json").read_text("utf-8"))
    return Draft7Validator(schema, registry=registry(version))


def errors(version: str, name: str, instance) -> list[str]:
    found = validator(version, name).iter_errors(instance)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


def conforms(version: str, name: str, instance) -> None:
    assert errors(version, name, instance) == [], f"not a valid {version} {name}"


# talking to the server, validating both ways


def reconcile(server, queries: dict, method: str = "POST") -> dict:
    """A 0.2 batch, POSTed as a form or sent in the query string: its answer."""
    conforms(V02, "reconciliation-query-batch", queries)
    if method == "POST":
        response = server.request("POST", "/reconcile", data={"queries": json.dumps(queries)})
    else:
        response = server.get("/reconcile", params={"queries": json.dumps(queries)})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    conforms(V02, "reconciliation-result-batch", body)
    assert set(body) == set(queries)
    return body


def match(server, queries: list[dict]) -> list[list[dict]]:
    """A 1.0-draft batch POSTed as JSON to /reconcile/match: each query's candidates."""
    batch = {"queries": queries}
    conforms(V10, "reconciliation-query-batch", batch)
    response = server.request("POST", "/reconcile/match", json=batch)
    assert response.status_code == 200, response.text
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    conforms(V10, "reconciliation-result-batch", body)
    assert len(body["results"]) == len(queries)
    return [result["candidates"] for result in body["results"]]


def one(server, **query) -> list[dict]:
    return reconcile(server, {"q0": query})["q0"]["result"]


def name(text: str) -> dict:
    return {"matchType": "name", "propertyValue": text}


def refused(response, status: int = 400) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    error = response.json()["error"]
    assert error["status"] == status and error["message"]
    assert "Traceback" not in response.text
    return error


# the manifest


def test_manifest(server, built):
    response = server.get("/reconcile")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["ETag"]
    manifest = response.json()
    conforms(V02, "manifest", manifest)
    base = built.base
    assert manifest["versions"] == ["0.2", "1.0-draft"]
    assert manifest["name"] == built.manifest["title"]
    assert manifest["identifierSpace"] == f"{base}id/"
    assert manifest["schemaSpace"] == "https://schema.org/"
    assert manifest["view"] == {"url": f"{base}doc/{{{{id}}}}"}
    assert [t["id"] for t in manifest["defaultTypes"]] == list(KINDS)
    assert {"id": "organisation", "name": "Organisation"} in manifest["defaultTypes"]
    preview = manifest["preview"]
    assert preview["url"] == f"{server.url}/reconcile/preview?id={{{{id}}}}"
    assert preview["width"] > 0 and preview["height"] > 0
    for what in ("entity", "type", "property"):
        service = manifest["suggest"][what]
        assert service == {
            "service_url": f"{server.url}/reconcile",
            "service_path": f"/suggest/{what}",
        }
    assert manifest["batchSize"] >= 50
    again = server.get("/reconcile", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_manifest_and_the_1_0_draft(server):
    """One manifest serves both versions. It is a valid 1.0-draft manifest but for
    `suggest`, where 0.2 (OpenRefine) needs service objects and the draft booleans; the
    draft's fixed routes are the same URLs those objects name."""
    manifest = server.get("/reconcile").json()
    assert all(e.startswith("suggest/") for e in errors(V10, "manifest", manifest))
    conforms(V10, "manifest", {**manifest, "suggest": dict.fromkeys(manifest["suggest"], True)})
    for what, service in manifest["suggest"].items():
        assert service["service_url"] + service["service_path"] == (
            f"{server.url}/reconcile/suggest/{what}"
        )


def test_view_url_opens_the_page(server, built):
    """OpenRefine fills {{id}} URL-encoded: kind%2Fslug must still reach the page."""
    manifest = server.get("/reconcile").json()
    view = manifest["view"]["url"].replace("{{id}}", quote(UN, safe=""))
    assert view == f"{built.base}doc/organisation%2Funited-nations"
    page = server.get(urlsplit(view).path, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "United Nations" in page.text


def test_manifest_jsonp(server):
    response = server.get("/reconcile", params={"callback": "jQuery_123.cb$"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/javascript")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    text = response.text
    assert text.startswith("/**/jQuery_123.cb$(") and text.endswith(");")
    manifest = json.loads(text.removeprefix("/**/jQuery_123.cb$(").removesuffix(");"))
    conforms(V02, "manifest", manifest)


@pytest.mark.parametrize(
    "callback",
    ["alert(1)", "a b", "1abc", "<script>", "cb;evil", "x" * 200, "", "cb\u2028"],
)
def test_jsonp_callback_must_be_a_name(server, callback):
    error = refused(server.get("/reconcile", params={"callback": callback}))
    assert "callback" in error["message"]


# matching


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("United Nations", UN),  # exact name
        ("UN", UN),  # alternate names
        ("MIA-MGA", MIA_MGA),
        ("Commission on Social Development", CSD),
        ("united natións!!", UN),  # accents, case, punctuation
        ("mia mga", MIA_MGA),
        ("  UNITED   NATIONS ", UN),
        ("Mercy International Association – Global Action", MIA_MGA),
        ("SDGs", "topic/sustainable-development-goals"),  # a topic's skos:altLabel
        (UN, UN),  # an entity id as the query
    ],
)
def test_exact_names_match(server, query, expected):
    result = one(server, query=query)
    assert result[0]["id"] == expected
    assert result[0]["match"] is True
    assert result[0]["score"] == max(c["score"] for c in result)
    assert all(not c["match"] for c in result[1:])
    assert all(0 <= c["score"] <= 100 for c in result)


def test_result_shape(server):
    top = one(server, query="Mercy International Association - Global Action")[0]
    assert top["id"] == MIA_MGA and top["name"] == "Mercy International Association - Global Action"
    assert top["type"][0] == {"id": "organisation", "name": "Organisation"}
    assert {"id": "NGO", "name": "NGO"} in top["type"]
    assert top["description"].startswith("Co-sponsored the side event")
    assert top["score"] == 100


def test_near_miss_is_a_candidate_not_a_match(server):
    result = one(server, query="Unitd Nations")
    assert result[0]["id"] == UN
    assert result[0]["match"] is False
    assert result[0]["score"] < 90


def test_ranking_exact_before_partial(server):
    result = one(server, query="United Nations")
    assert [c["id"] for c in result[:2]] == [UN, "place/united-nations-headquarters"]
    assert result[0]["score"] - result[1]["score"] >= MATCH_MARGIN


@pytest.mark.parametrize(
    ("type_id", "expected"),
    [
        ("event", {"event/csocd59", "event/csocd59-civil-society-forum"}),
        ("organisation", {CSD}),
        ("Organization", {CSD}),  # a schema.org class name
        ("https://schema.org/Event", {"event/csocd59", "event/csocd59-civil-society-forum"}),
    ],
)
def test_type_filter(server, type_id, expected):
    result = one(server, query="Commission", type=type_id)
    assert {c["id"] for c in result} == expected
    assert not any(c["match"] for c in result)  # a partial name decides nothing


def test_type_filter_excludes_an_exact_name(server):
    assert one(server, query="United Nations", type="event") == []
    ngo = one(server, query="Mercy International", type="NGO")
    assert {c["id"] for c in ngo} == {"organisation/mercy-international-association", MIA_MGA}


def test_type_list_and_strictness(server):
    either = one(server, query="Commission", type=["event", "organisation"], type_strict="any")
    assert {c["id"] for c in either} == {CSD, "event/csocd59", "event/csocd59-civil-society-forum"}
    # OpenRefine sends type_strict "should" with every typed query and means a filter
    should = one(server, query="Commission", type="organisation", type_strict="should")
    assert [c["id"] for c in should] == [CSD]
    assert one(server, query="Commission", type=["event", "organisation"], type_strict="all") == []


@pytest.mark.parametrize(
    ("pid", "value"),
    [
        ("sameAs", "Q1065"),
        ("sameAs", WIKIDATA_UN),
        ("owl:sameAs", WIKIDATA_UN),
        ("sameAs", "https://www.wikidata.org/wiki/Q1065"),
        ("exactMatch", "wd:Q1065"),
        ("sameAs", {"id": "Q1065", "name": "United Nations"}),
        ("sameAs", ["Q0", "Q1065"]),
    ],
)
def test_wikidata_same_as_reconciles(server, pid, value):
    with_name = one(server, query="U.N.", properties=[{"pid": pid, "v": value}])
    assert with_name[0]["id"] == UN and with_name[0]["match"] is True
    assert with_name[0]["score"] == 100
    alone = one(server, properties=[{"pid": pid, "v": value}])
    assert [(c["id"], c["match"]) for c in alone] == [(UN, True)]


def test_same_as_of_a_topic(server):
    result = one(
        server,
        query="no poverty goal",
        properties=[{"pid": "exactMatch", "v": "http://metadata.un.org/sdg/1"}],
    )
    assert result[0]["id"] == "topic/sdg-1" and result[0]["match"] is True


def test_conflicting_same_as_never_matches(server):
    """The query's entity is Q999 on Wikidata; our United Nations is Q1065."""
    result = one(server, query="United Nations", properties=[{"pid": "sameAs", "v": "Q999"}])
    assert not any(c["match"] for c in result)
    assert next(c for c in result if c["id"] == UN)["score"] < 50


def test_unknown_property_is_ignored(server):
    result = one(server, query="United Nations", properties=[{"pid": "country", "v": "US"}])
    assert result[0]["id"] == UN and result[0]["match"] is True


def test_nothing_matches(server):
    assert one(server, query="Xylophone quartet of Zanzibar") == []
    assert one(server, query="!!!") == []
    assert one(server, properties=[{"pid": "sameAs", "v": "Q42"}]) == []
    assert match(server, [{"conditions": [name("Xylophone quartet")]}]) == [[]]


def test_limit(server):
    result = one(server, query="Commission on Social Development", limit=2)
    assert len(result) == 2 and result[0]["id"] == CSD
    assert len(one(server, query="Commission on Social Development", limit=1.0)) == 1


def test_get_and_jsonp_queries(server):
    queries = {"a": {"query": "UN"}, "b": {"query": "MIA-MGA", "type": "organisation"}}
    body = reconcile(server, queries, method="GET")
    assert body["a"]["result"][0]["id"] == UN and body["b"]["result"][0]["id"] == MIA_MGA
    response = server.get("/reconcile", params={"queries": json.dumps(queries), "callback": "cb"})
    assert response.headers["Content-Type"].startswith("application/javascript")
    answer = json.loads(response.text.removeprefix("/**/cb(").removesuffix(");"))
    conforms(V02, "reconciliation-result-batch", answer)
    assert answer == body


def test_batch_of_50_in_one_request(server):
    names = ["United Nations", "UN", "MIA-MGA", "Commission", "Cecilie Kern", "New York"]
    queries = {f"q{i}": {"query": names[i % len(names)]} for i in range(50)}
    queries["q49"] = {"query": "Mercy", "type": "organisation", "limit": 3}
    queries["q48"] = {"properties": [{"pid": "sameAs", "v": "Q60"}]}
    body = reconcile(server, queries)
    assert sorted(body, key=lambda k: int(k[1:])) == [f"q{i}" for i in range(50)]
    assert body["q0"]["result"][0]["id"] == UN
    assert body["q4"]["result"][0]["id"] == "person/cecilie-kern"
    assert body["q48"]["result"][0]["id"] == "place/new-york-city"
    assert len(body["q49"]["result"]) <= 3


def test_readme_example(server):
    """The reference's curl example (docs/reconciliation.md) sends this batch and shows
    these candidates."""
    section = (ROOT / "docs" / "reconciliation.md").read_text("utf-8")
    queries = json.loads(section.split("--data-urlencode 'queries=", 1)[1].split("'\n", 1)[0])
    shown = section.split("```json", 1)[1].split("```", 1)[0]
    body = reconcile(server, queries)
    candidate = r'\{"id": "([^"]+)".*?"score": ([\d.]+), "match": (true|false)'
    expected = re.findall(candidate, shown, re.S)
    got = [
        (c["id"], str(c["score"]), json.dumps(c["match"]))
        for key in sorted(body)
        for c in body[key]["result"][: 2 if key == "q2" else 1]
    ]
    assert got == expected


# the 1.0 draft's /match


def test_match_1_0(server):
    results = match(
        server,
        [
            {"conditions": [name("United Nations")]},
            {"conditions": [name("Commission")], "type": "event", "limit": 5},
            {
                "conditions": [
                    {"matchType": "property", "propertyId": "sameAs", "propertyValue": "Q1065"}
                ]
            },
            {
                "conditions": [
                    name("U.N."),
                    {
                        "matchType": "property",
                        "propertyId": "owl:sameAs",
                        "propertyValue": [WIKIDATA_UN],
                        "required": True,
                    },
                ]
            },
            {"conditions": [{"matchType": "id", "propertyValue": MIA_MGA}]},
        ],
    )
    assert results[0][0]["id"] == UN and results[0][0]["match"] is True
    assert {c["id"] for c in results[1]} == {"event/csocd59", "event/csocd59-civil-society-forum"}
    assert [(c["id"], c["match"]) for c in results[2]] == [(UN, True)]
    assert [(c["id"], c["match"]) for c in results[3]] == [(UN, True)]
    assert results[4][0]["id"] == MIA_MGA and results[4][0]["match"] is True


def test_match_1_0_required_and_none(server):
    mercy = name("Mercy International")
    un = {"matchType": "property", "propertyId": "sameAs", "propertyValue": "Q1065"}
    required = match(server, [{"conditions": [mercy, {**un, "required": True}]}])
    assert [c["id"] for c in required[0]] == [UN]  # only what satisfies the condition
    unknown = {"matchType": "property", "propertyId": "founded", "propertyValue": "1945"}
    assert match(server, [{"conditions": [mercy, {**unknown, "required": True}]}]) == [[]]
    optional = match(server, [{"conditions": [mercy, unknown]}])
    assert optional[0][0]["id"] == "organisation/mercy-international-association"
    unless = {**un, "matchQuantifier": "none"}
    none = match(server, [{"conditions": [name("United Nations"), unless]}])
    assert none[0] and UN not in {c["id"] for c in none[0]}


def test_match_1_0_as_a_form_and_in_the_query_string(server):
    batch = {"queries": [{"conditions": [name("UN")]}]}
    conforms(V10, "reconciliation-query-batch", batch)
    for response in (
        server.request("POST", "/reconcile/match", data={"queries": json.dumps(batch)}),
        server.get("/reconcile/match", params={"queries": json.dumps(batch)}),
        server.request("POST", "/reconcile/reconcile", json=batch),
    ):
        assert response.status_code == 200, response.text
        conforms(V10, "reconciliation-result-batch", response.json())
        assert response.json()["results"][0]["candidates"][0]["id"] == UN


# suggest and preview


PLURAL = {"entity": "entities", "type": "types", "property": "properties"}


def suggest(server, what: str, **params) -> list[dict]:
    response = server.get(f"/reconcile/suggest/{what}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    for version in (V02, V10):  # the same route in both versions
        conforms(version, f"suggest-{PLURAL[what]}-response", body)
    return body["result"]


def test_suggest_entity(server):
    found = suggest(server, "entity", prefix="unit")
    assert [s["id"] for s in found[:2]] == [UN, "place/united-nations-headquarters"]
    assert found[0]["notable"][0] == {"id": "organisation", "name": "Organisation"}
    assert [
        s["id"] for s in suggest(server, "entity", prefix="Mercy Int", type="organisation")
    ] == [
        "organisation/mercy-international-association",
        MIA_MGA,
    ]
    assert [s["id"] for s in suggest(server, "entity", prefix="mia-m")] == [MIA_MGA]
    assert [s["id"] for s in suggest(server, "entity", prefix="natio")][0] == UN
    assert suggest(server, "entity", prefix="zzz") == []
    everything = suggest(server, "entity", prefix="", limit=100)
    assert len(everything) == sum(built_counts(server).values())
    page = suggest(server, "entity", prefix="", cursor=5, limit=5)
    assert page == everything[5:10]


def built_counts(server) -> dict[str, int]:
    return {
        t["id"]: len(suggest(server, "entity", prefix="", type=t["id"], limit=100))
        for t in server.get("/reconcile").json()["defaultTypes"]
    }


def test_suggest_type_and_property(server):
    types = suggest(server, "type", prefix="org")
    assert {"id": "organisation", "name": "Organisation"} in types
    assert {"id": "Organization", "name": "Organization"} in types
    assert [t["id"] for t in suggest(server, "type", prefix="")][:7] == list(KINDS)
    properties = suggest(server, "property", prefix="same")
    assert {p["id"] for p in properties} >= {"sameAs", "owl:sameAs"}
    assert [p["id"] for p in suggest(server, "property", prefix="exact")] == ["exactMatch"]


def test_suggest_jsonp(server):
    response = server.get("/reconcile/suggest/entity", params={"prefix": "un", "callback": "cb"})
    assert response.headers["Content-Type"].startswith("application/javascript")
    body = json.loads(response.text.removeprefix("/**/cb(").removesuffix(");"))
    conforms(V02, "suggest-entities-response", body)


def test_preview(server, built):
    response = server.get("/reconcile/preview", params={"id": MIA_MGA})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Frame-Options" not in response.headers  # it is shown in the client's iframe
    page = response.text
    assert ">Mercy International Association - Global Action</a>" in page
    assert f'href="{server.url}/doc/organisation/mia-mga"' in page
    assert "Organisation · NGO" in page
    assert "Migration, Displacement &amp; their" in page  # escaped
    assert f"{built.base}id/organisation/mia-mga" in page
    dated = server.get("/reconcile/preview", params={"id": "event/csocd59"}).text
    assert "8 February 2021" in dated


def test_preview_errors(server):
    refused(server.get("/reconcile/preview", params={"id": "organisation/nope"}), 404)
    refused(server.get("/reconcile/preview"))
    hostile = {"id": "<script>alert(1)</script>"}
    as_json = server.get("/reconcile/preview", params=hostile)
    assert as_json.headers["Content-Type"].startswith("application/json")
    as_html = server.get("/reconcile/preview", params=hostile, headers={"Accept": "text/html"})
    assert as_html.status_code == 404 and "<script>" not in as_html.text
    assert "&lt;script&gt;" in as_html.text


# CORS


@pytest.mark.parametrize(
    "path",
    [
        "/reconcile",
        "/reconcile/match",
        "/reconcile/reconcile",
        "/reconcile/suggest/entity",
        "/reconcile/suggest/type",
        "/reconcile/suggest/property",
        "/reconcile/preview",
    ],
)
def test_cors_preflight(server, path):
    response = server.request(
        "OPTIONS",
        path,
        headers={
            "Origin": "http://127.0.0.1:3333",
            "Access-Control-Request-Method": "POST" if "suggest" not in path else "GET",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()


# bad requests: 400 in the app's error shape, and invalid for the schema where it can tell

BAD_02 = [
    # (queries, the 0.2 schema also refuses it, a word of the message)
    ('{"q0": {"query": "UN"', None, "JSON"),
    ("[1, 2]", False, "object"),
    ('"UN"', False, "object"),
    ('{"q0": "UN"}', False, "object"),
    ('{"q0": {"query": 5}}', False, "string"),
    ('{"q0": {"query": "UN", "limit": "ten"}}', False, "limit"),
    ('{"q0": {"query": "UN", "limit": 2.5}}', True, "limit"),
    ('{"q0": {"query": "UN", "limit": 0}}', True, "limit"),
    ('{"q0": {"query": "UN", "limit": true}}', False, "limit"),
    ('{"q0": {"query": "UN", "limit": NaN}}', None, "JSON"),
    ('{"q0": {"query": "UN", "type": "Movie"}}', True, "unknown type"),
    ('{"q0": {"query": "UN", "type": ["event", "nope"]}}', True, "unknown type"),
    ('{"q0": {"query": "UN", "type": 3}}', False, "type"),
    ('{"q0": {"query": "UN", "type_strict": "maybe"}}', False, "type_strict"),
    ('{"q0": {"query": "UN", "properties": {"pid": "sameAs"}}}', False, "properties"),
    ('{"q0": {"query": "UN", "properties": [{"pid": "sameAs"}]}}', False, "pid"),
    ('{"q0": {"query": "UN", "properties": [{"pid": "sameAs", "v": null}]}}', False, "value"),
    (
        '{"q0": {"query": "UN", "properties": [{"pid": "sameAs", "v": {"name": "x"}}]}}',
        False,
        "value",
    ),
    ('{"q0": {"query": "UN", "nonsense": 1}}', False, "unknown field"),
    ('{"q0": {}}', False, "query"),
    ('{"q0": {"properties": []}}', False, "query"),
    ("[" * 100_000, None, "JSON"),
]


@pytest.mark.parametrize(("raw", "schema_valid", "word"), BAD_02)
def test_bad_0_2_batches(server, raw, schema_valid, word):
    if schema_valid is not None:
        instance = json.loads(raw)
        assert (errors(V02, "reconciliation-query-batch", instance) == []) is schema_valid
    error = refused(server.request("POST", "/reconcile", data={"queries": raw}))
    assert word.casefold() in error["message"].casefold()


BAD_10 = [
    # (body, the 1.0-draft schema also refuses it, a word of the message)
    ({"queries": {"q0": {}}}, False, "queries"),
    ({"q": []}, False, "queries"),
    ([], False, "queries"),
    ({"queries": [{"query": "UN"}]}, False, "unknown field"),
    ({"queries": [{"conditions": []}]}, False, "conditions"),
    ({"queries": [{"conditions": [{"matchType": "name"}]}]}, False, "propertyValue"),
    (
        {"queries": [{"conditions": [{"matchType": "title", "propertyValue": "UN"}]}]},
        False,
        "matchType",
    ),
    (
        {"queries": [{"conditions": [{"matchType": "property", "propertyValue": "Q1"}]}]},
        True,
        "propertyId",
    ),
    ({"queries": [{"conditions": [name("UN")], "type": ["event"]}]}, False, "type"),
    ({"queries": [{"conditions": [name("UN")], "type": "Movie"}]}, True, "unknown type"),
    ({"queries": [{"conditions": [name("UN")], "limit": "5"}]}, False, "limit"),
    ({"queries": [{"conditions": [{**name("UN"), "required": "yes"}]}]}, False, "required"),
    (
        {"queries": [{"conditions": [{**name("UN"), "matchQuantifier": "most"}]}]},
        False,
        "matchQuantifier",
    ),
]


@pytest.mark.parametrize(("body", "schema_valid", "word"), BAD_10)
def test_bad_1_0_batches(server, body, schema_valid, word):
    assert (errors(V10, "reconciliation-query-batch", body) == []) is schema_valid
    error = refused(server.request("POST", "/reconcile/match", json=body))
    assert word.casefold() in error["message"].casefold()


def test_bad_requests(server):
    refused(
        server.request(
            "POST",
            "/reconcile/match",
            data=b"{not json",
            headers={"Content-Type": "application/json"},
        )
    )
    refused(server.request("POST", "/reconcile/match"))
    refused(server.request("POST", "/reconcile"))  # POST with no queries
    refused(server.request("POST", "/reconcile", data={"extend": "{}"}))
    refused(server.get("/reconcile/suggest/entity", params={"prefix": "u", "cursor": "abc"}))
    refused(server.get("/reconcile/suggest/entity", params={"prefix": "u", "limit": "0"}))
    refused(server.get("/reconcile/suggest/entity", params={"prefix": "u", "type": "Movie"}))
    too_many = {f"q{i}": {"query": "UN"} for i in range(501)}
    conforms(V02, "reconciliation-query-batch", too_many)
    refused(server.request("POST", "/reconcile", data={"queries": json.dumps(too_many)}), 413)
    huge = "x" * 1_100_000
    assert server.request("POST", "/reconcile", data={"queries": huge}).status_code == 413


# NameIndex on its own


@pytest.fixture(scope="module")
def index(built) -> NameIndex:
    return NameIndex.load(built.path / "reconcile.json")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("United Natións!!", "united nations"),
        ("MIA-MGA", "mia mga"),
        ("  Straße  ", "strasse"),
        ("İstanbul", "istanbul"),
        ("Ｕｎｉｔｅｄ", "united"),  # full-width
        ("Migration, Displacement & their", "migration displacement their"),
        ("!!!", ""),
    ],
)
def test_normalise(text, expected):
    assert normalise(text) == expected


def test_normalise_takes_a_short_way_for_ascii_that_ends_where_the_long_one_does():
    """ASCII text skips Unicode decomposition (most names): every ASCII character, alone
    and between letters, normalises as the definition says."""

    def defined(text: str) -> str:
        folded = unicodedata.normalize("NFKD", text.casefold())
        kept = "".join(c if c.isalnum() else " " for c in folded if not unicodedata.combining(c))
        return " ".join(kept.split())

    for code in range(128):
        for text in (chr(code), f"Ab{chr(code)}Cd", f" {chr(code)}9 {chr(code)}"):
            assert normalise(text) == defined(text), repr(text)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("Q1065", WIKIDATA_UN),
        ("q1065", WIKIDATA_UN),
        ("wd:Q1065", WIKIDATA_UN),
        ("https://www.wikidata.org/wiki/Q1065", WIKIDATA_UN),
        ("https://www.wikidata.org/entity/Q1065", WIKIDATA_UN),
        (WIKIDATA_UN, WIKIDATA_UN),
        ("https://ror.org/02abc/", "http://ror.org/02abc"),
        ("United Nations", "United Nations"),
    ],
)
def test_same_as_key(value, key):
    assert same_as_key(value) == key


def test_index_is_written_by_the_build_and_deterministic(built):
    written = (built.path / "reconcile.json").read_bytes()
    checked = validated(Settings(data=DATA, out=built.path.parent.parent))
    data = json.loads(written)
    assert data == json.loads(json.dumps(build_index(checked.graph, checked.conversion)))
    assert [e["id"] for e in data["entries"]] == sorted(e["id"] for e in data["entries"])
    assert sum(built.manifest["counts"].values()) == len(data["entries"])


@pytest.mark.parametrize("records", ["none", "some"])
def test_the_index_written_in_pieces_is_what_orjson_writes_of_it(records):
    """reconcile.json is written in pieces, each entry's JSON as kept: the bytes orjson
    writes of the whole index, keys sorted, non-ASCII names and an empty index included."""
    names = ["Organisation des Nations unies", "联合国", "Ünïcode ‘quoted’"]
    entries = [
        {
            "id": f"organisation/o{i}",
            "name": name,
            "names": [normalise(name)],
            "alternates": [],
            "kind": "organisation",
            "types": ["Organization"],
            "classes": ["Organization", "Thing"],
            "sameAs": [],
            "values": {"name": [["str", name]]},
        }
        for i, name in enumerate(names if records == "some" else [])
    ]
    listings = Listings()
    listings.names = {URIRef(f"https://ü.example/{e['id']}"): Indexed.of(e) for e in entries}
    listings.languages = ("fr", "zh")
    pieces, _ = listings.serialised("https://ü.example/")
    written = b"".join(pieces)
    assert written == orjson.dumps(orjson.loads(written), option=orjson.OPT_SORT_KEYS)
    assert orjson.loads(written)["entries"] == [
        {k: v for k, v in e.items() if k != "values"} for e in entries
    ]


def written(listings: Listings, base: str) -> dict:
    """The index a build writes of the listings, read back."""
    return json.loads(b"".join(listings.serialised(base)[0]))


def test_kept_lookups_follow_edits_as_a_fresh_index_does(tmp_path):
    """A Listings patches its token and sameAs lookups when a record's names change (a
    rebuild), and makes them anew when a record comes: either way the index is the one
    made fresh of the same graph."""
    checked = validated(Settings(data=DATA, out=tmp_path))
    graph, conversion = checked.graph, checked.conversion
    base, languages = conversion.dataset.base, conversion.dataset.languages
    listings = Listings()
    listings.update(graph, conversion)
    written(listings, base)
    kept = listings.lookups

    def fresh() -> dict:
        ancestors = Ancestors()
        entries = [
            names_entry(Said.of(graph, s), s, r, base, ancestors, languages)
            for s, r in conversion.records.items()
        ]
        return indexes(entries, base, languages)[0]

    un = URIRef(f"{base}id/{UN}")
    name = graph.value(un, SDO.name)
    linked = [(un, p, o) for p, o in graph.by_subject[un] if o == URIRef(WIKIDATA_UN)]
    graph.remove([(un, SDO.name, name), *linked])
    graph.add((un, SDO.name, Literal("Zyzzyva Assembly")))
    graph.add((un, OWL.sameAs, URIRef("http://www.wikidata.org/entity/Q42")))
    listings.update(graph, conversion, {un})
    index = written(listings, base)
    assert listings.lookups is kept  # patched, not made again
    assert "zyzzyva" in index["tokens"] and "Q1065" not in json.dumps(index["sameAs"])
    assert index == fresh()

    newcomer = URIRef(f"{base}id/organisation/aaa-newcomer")
    graph.add((newcomer, SDO.name, Literal("Aaa Newcomer")))
    conversion.records[newcomer] = SimpleNamespace(kind="organisation")
    listings.update(graph, conversion, {newcomer})
    assert listings.lookups is None  # positions shift: made again
    assert written(listings, base) == fresh()


def test_index_match(index):
    top = index.match("United Nations")[0]
    assert (top.id, top.match, top.reason, top.score) == (UN, True, "name", 100)
    assert index.match("UN")[0].reason == "alternate"
    assert index.match(None, properties=[Condition("sameAs", ("Q1065",))])[0].reason == "sameAs"
    assert index.match("x", properties=[Condition("id", (UN,))])[0].id == UN
    assert index.match("United Nations", type="place")[0].id == "place/united-nations-headquarters"
    assert index.match("Commission", type="organisation", limit=1)[0].id == CSD
    assert index.entry(f"{index.base}id/{UN}")["name"] == "United Nations"
    assert index.candidate(UN).type_list() == [
        {"id": "organisation", "name": "Organisation"},
        {"id": "Organization", "name": "Organization"},
    ]


def synthetic(names: dict[str, list[str]], same_as: dict[str, str] | None = None) -> NameIndex:
    """An index over made-up people: slug -> [name, alternate names…]."""
    base = "https://example.org/"
    graph, records = Graph(), {}
    for slug, (label, *alternates) in names.items():
        subject = URIRef(f"{base}id/person/{slug}")
        records[subject] = SimpleNamespace(kind="person")
        graph.add((subject, RDF.type, SDO.Person))
        graph.add((subject, SDO.name, Literal(label)))
        for alternate in alternates:
            graph.add((subject, SDO.alternateName, Literal(alternate)))
        if same_as and slug in same_as:
            graph.add((subject, OWL.sameAs, URIRef(same_as[slug])))
    conversion = SimpleNamespace(
        dataset=SimpleNamespace(base=base, languages=("en",)), records=records
    )
    return NameIndex(json.loads(json.dumps(build_index(graph, conversion))))


def test_namesakes_never_match():
    index = synthetic({"john-smith": ["John Smith"], "john-smith-2": ["John Smith"]})
    found = index.match("John Smith")
    assert [c.score for c in found] == [100, 100]
    assert not any(c.match for c in found)
    decided = synthetic(
        {"john-smith": ["John Smith"], "john-smith-2": ["John Smith"]},
        {"john-smith-2": "http://www.wikidata.org/entity/Q5"},
    ).match("John Smith", properties=[Condition("sameAs", ("Q5",))])
    assert [(c.id, c.match) for c in decided][0] == ("person/john-smith-2", True)
    assert decided[1].score <= 100 - MATCH_MARGIN


def test_exact_name_and_alternate_of_another_is_ambiguous():
    index = synthetic({"a": ["Kim"], "b": ["Kim Lee", "Kim"]})
    found = index.match("Kim")
    assert [c.id for c in found] == ["person/a", "person/b"]
    assert not any(c.match for c in found)
    assert index.match("Kim Lee")[0].match is True


def test_skos_labels_are_names():
    base = "https://example.org/"
    graph, subject = Graph(), URIRef(f"{base}id/topic/sdg")
    graph.add((subject, SKOS.prefLabel, Literal("Sustainable Development Goals", lang="en")))
    graph.add((subject, SKOS.altLabel, Literal("Objectifs de développement durable", lang="fr")))
    conversion = SimpleNamespace(
        dataset=SimpleNamespace(base=base, languages=("en",)),
        records={subject: SimpleNamespace(kind="topic")},
    )
    index = NameIndex(build_index(graph, conversion))
    assert index.match("objectifs de developpement durable")[0].match is True


@pytest.mark.slow
def test_retrieval_never_scans_everything():
    """20,000 records sharing common words: a query looks at a shortlist, whatever the
    size of the index (its speed is bench/'s to measure, not a test's)."""
    words = ["global", "action", "network", "council", "of", "the", "for", "institute"]
    names = {
        f"org-{i}": [f"{words[i % 8].title()} {words[(i // 8) % 8]} Body {i} of the Society"]
        for i in range(20_000)
    }
    names["target"] = ["Zephyr Research Institute of the Society"]
    index = synthetic(names)
    assert len(index._retrieve(normalise("the society of the body").split(), None)) <= SHORTLIST
    found = index.match("Zephyr Research Institute of the Society")
    assert found[0].id == "person/target" and found[0].match is True
    assert index.match("Body 12345 of the Society")[0].id == "person/org-12345"


def test_suggest_unit(index):
    assert [c.id for c in index.suggest("unit")][:1] == [UN]
    assert index.suggest("UN", type="place")[0].id == "place/united-nations-headquarters"
    assert [t["id"] for t in index.suggest_types("ngo")] == ["NGO"]
    with pytest.raises(ValueError):
        index.suggest("x", type="Movie")
