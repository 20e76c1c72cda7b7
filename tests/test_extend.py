"""Data extension of the reconciliation service (API 0.2's `extend=` and property
proposals; the 1.0 draft's /reconcile/extend and /reconcile/extend/propose), and the
Mix'n'match catalogue (/dumps/mixnmatch.tsv, `lod export mixnmatch`).

Every extension request and answer is validated against the published JSON Schemas in
../shared/vocab/reconciliation-schemas (0.2 and 1.0-draft), as tests/test_reconcile.py does.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import subprocess
import sys

import pytest
from rdflib import Graph, URIRef

from lod.make.convert import convert
from lod.make.mixnmatch import COLUMNS, WIKIDATA_TYPES, catalogue
from lod.make.sources import load
from lod.vocab import LABELS, SDO

from .conftest import DATA, ROOT, copy_data
from .test_reconcile import CSD, UN, V02, V10, WIKIDATA_UN, conforms, errors

EVENT = "event/csocd59"


def extend_02(server, query: dict, method: str = "POST") -> dict:
    conforms(V02, "data-extension-query", query)
    if method == "POST":
        response = server.request("POST", "/reconcile", data={"extend": json.dumps(query)})
    else:
        response = server.get("/reconcile", params={"extend": json.dumps(query)})
    assert response.status_code == 200, response.text
    answer = response.json()
    conforms(V02, "data-extension-response", answer)
    return answer


def extend_10(server, query: dict) -> dict:
    conforms(V10, "data-extension-query", query)
    response = server.request("POST", "/reconcile/extend", json=query)
    assert response.status_code == 200, response.text
    answer = response.json()
    conforms(V10, "data-extension-response", answer)
    return answer


def test_manifest_offers_extension(server):
    manifest = server.get("/reconcile").json()
    conforms(V02, "manifest", manifest)
    assert not [e for e in errors(V10, "manifest", manifest) if e.startswith("extend")]
    propose = manifest["extend"]["propose_properties"]
    assert propose == {"service_url": f"{server.url}/reconcile", "service_path": "/extend/propose"}
    assert manifest["extend"]["proposeProperties"] is True


@pytest.mark.parametrize("version", [V02, V10])
def test_property_proposals(server, version):
    response = server.get("/reconcile/extend/propose", params={"type": "organisation"})
    assert response.status_code == 200
    answer = response.json()
    conforms(version, "data-extension-property-proposal", answer)
    assert answer["type"] == "organisation"
    ids = [p["id"] for p in answer["properties"]]
    assert ids[0] == "name"  # every organisation has one
    assert {"parentOrganization", "sameAs", "alternateName", "description"} <= set(ids)
    assert "startDate" not in ids  # no organisation has one
    events = server.get("/reconcile/extend/propose", params={"type": "Event"}).json()
    assert "startDate" in [p["id"] for p in events["properties"]]
    limited = server.get("/reconcile/extend/propose?type=organisation&limit=2").json()
    assert len(limited["properties"]) == 2


QUERY = {
    "ids": [CSD, EVENT, UN, "organisation/no-such-thing"],
    "properties": [
        {"id": "parentOrganization"},
        {"id": "startDate"},
        {"id": "sameAs"},
        {"id": "name"},
        {"id": "https://schema.org/location"},
    ],
}


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_extend_0_2(server, method):
    answer = extend_02(server, QUERY, method)
    meta = {m["id"]: m for m in answer["meta"]}
    assert list(meta) == [p["id"] for p in QUERY["properties"]]
    assert meta["parentOrganization"]["type"] == {"id": "organisation", "name": "Organisation"}
    rows = answer["rows"]
    assert set(rows) == set(QUERY["ids"])
    assert rows[CSD]["parentOrganization"] == [{"id": UN, "name": "United Nations"}]
    assert rows[CSD]["name"] == [{"str": "Commission for Social Development"}]
    assert rows[UN]["sameAs"] == [{"str": WIKIDATA_UN}]
    assert rows[EVENT]["startDate"] == [{"date": "2021-02-08T00:00:00Z"}]
    assert rows[EVENT]["https://schema.org/location"] == [
        {"id": "place/united-nations-headquarters", "name": "United Nations Headquarters"}
    ]
    assert rows["organisation/no-such-thing"] == {p["id"]: [] for p in QUERY["properties"]}


def test_extend_1_0(server):
    answer = extend_10(server, QUERY)
    rows = {row["id"]: {p["id"]: p["values"] for p in row["properties"]} for row in answer["rows"]}
    assert [row["id"] for row in answer["rows"]] == QUERY["ids"]
    un = {"id": UN, "name": "United Nations", "lang": "en", "dir": "ltr"}  # the draft's fields
    assert rows[CSD]["parentOrganization"] == [un]
    assert rows[EVENT]["startDate"] == [{"date": "2021-02-08T00:00:00Z"}]
    # the same answer as a form field
    form = server.request("POST", "/reconcile/extend", data={"extend": json.dumps(QUERY)})
    assert form.json() == answer


def test_extend_takes_iris_and_matched_ids(server, built):
    """What OpenRefine does: reconcile a column, then add columns from the matched ids."""
    matched = server.request(
        "POST",
        "/reconcile",
        data={"queries": json.dumps({"q0": {"query": "Commission for Social Development"}})},
    ).json()["q0"]["result"][0]["id"]
    iri = f"{built.base}id/{matched}"
    answer = extend_02(server, {"ids": [iri], "properties": [{"id": "alternateName"}]})
    assert answer["rows"][iri]["alternateName"] == [{"str": "Commission on Social Development"}]


@pytest.mark.parametrize(
    ("path", "body", "status", "word"),
    [
        ("/reconcile", {"extend": "{not json"}, 400, "not valid JSON"),
        ("/reconcile", {"extend": '{"ids": "x", "properties": []}'}, 400, "ids"),
        ("/reconcile", {"extend": '{"ids": [1], "properties": []}'}, 400, "entity ids"),
        ("/reconcile", {"extend": '{"ids": ["a"], "properties": ["x"]}'}, 400, "properties"),
        (
            "/reconcile",
            {"extend": json.dumps({"ids": ["a"] * 501, "properties": [{"id": "name"}]})},
            413,
            "at most",
        ),
        ("/reconcile/extend", {}, 400, "JSON body"),
    ],
)
def test_bad_extension_queries(server, path, body, status, word):
    if "extend" in body:
        try:
            instance = json.loads(body["extend"])
        except ValueError:
            instance = None
        if instance is not None and status == 400:
            assert errors(V02, "data-extension-query", instance)
    response = server.request("POST", path, data=body)
    assert response.status_code == status
    assert word in response.json()["error"]["message"]


def test_bad_proposal_requests(server):
    assert server.get("/reconcile/extend/propose?type=Nonsense").status_code == 400
    assert server.get("/reconcile/extend/propose?limit=0").status_code == 400
    every = server.get("/reconcile/extend/propose").json()
    assert "type" not in every and every["properties"]


# Mix'n'match


def read_tsv(data: bytes) -> list[dict]:
    text = data.decode("utf-8")
    assert "\r" not in text and text.endswith("\n")
    rows = list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
    assert rows[0] == list(COLUMNS)
    assert all(len(row) == len(COLUMNS) for row in rows)
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]


def test_mixnmatch_dump_parses_back_and_agrees_with_the_dump(server, built):
    response = server.get("/dumps/mixnmatch.tsv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/tab-separated-values")
    rows = read_tsv(response.content)
    sums = (built.path / "SHA256SUMS").read_text()
    assert f"{hashlib.sha256(response.content).hexdigest()}  mixnmatch.tsv" in sums

    graph = Graph()
    graph.parse(data=gzip.decompress((built.path / "dataset.nt.gz").read_bytes()), format="nt")
    base = built.base
    expected = {}
    for subject in set(graph.subjects()):
        iri = str(subject)
        if not iri.startswith(f"{base}id/") or "#" in iri:
            continue
        entity = iri.removeprefix(f"{base}id/")
        kind = entity.split("/")[0]
        if kind in WIKIDATA_TYPES:
            label = next(str(v) for p in LABELS for v in graph.objects(subject, p))
            expected[entity] = (label, WIKIDATA_TYPES[kind], iri)
    assert {r["id"]: (r["name"], r["type"], r["url"]) for r in rows} == expected
    assert [r["id"] for r in rows] == sorted(expected)
    un = next(r for r in rows if r["id"] == "organisation/commission-for-social-development")
    assert un["description"] == str(graph.value(URIRef(f"{base}id/{un['id']}"), SDO.description))
    assert {r["id"].split("/")[0] for r in rows} == set(WIKIDATA_TYPES)  # no articles, documents


def test_mixnmatch_cells_are_one_line():
    entries = [
        {"id": "person/a", "kind": "person", "name": "A\tB", "description": "one\ntwo  three"},
        {"id": "document/d", "kind": "document", "name": "D"},
    ]
    rows = read_tsv(catalogue(entries, "https://x.example/"))
    assert rows == [
        {
            "id": "person/a",
            "name": "A B",
            "description": "one two three",
            "type": "Q5",
            "url": "https://x.example/id/person/a",
        }
    ]


@pytest.mark.slow
def test_export_mixnmatch_is_the_builds_file(built, tmp_path):
    target = tmp_path / "catalogue.tsv"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lod",
            "export",
            "mixnmatch",
            "--data",
            str(DATA),
            "--out",
            str(target),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == (built.path / "mixnmatch.tsv").read_bytes()
    to_stdout = subprocess.run(
        [sys.executable, "-m", "lod", "export", "mixnmatch", "--data", str(DATA)],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
    )
    assert to_stdout.stdout == target.read_bytes()


# linkServices in dataset.yaml


@pytest.mark.parametrize(
    ("services", "expected"),
    [
        ("linkServices: {label: x}\n", ":13: linkServices: must be a list"),
        ("linkServices:\n  - label: W\n", ":14: linkServices[0].manifest: missing"),
        (
            "linkServices:\n  - {label: W, manifest: 'https://w.example/api', ids: 'https://w.example/{x}'}\n",
            ":14: linkServices[0].ids: `https://w.example/{x}` must hold `{id}` once",
        ),
        (
            "linkServices:\n  - {label: W, manifest: 'not a url', ids: 'https://w.example/{id}'}\n",
            ":14: linkServices[0].manifest:",
        ),
        (
            "linkServices:\n  - {label: W, manifest: 'https://w.example/', ids: 'https://w/{id}',"
            " types: {organization: Q43229}}\n",
            ":14: linkServices[0].types: `organization` is not a kind",
        ),
        (
            "linkServices:\n  - {label: W, manifest: 'https://w.example/', ids: 'https://w/{id}',"
            " colour: red}\n",
            ":14: linkServices[0].colour: unknown field",
        ),
        (
            "linkServices:\n  - {label: W, manifest: 'https://a/', ids: 'https://a/{id}'}\n"
            "  - {label: W, manifest: 'https://b/', ids: 'https://b/{id}'}\n",
            ":15: linkServices[1].label: a second service labelled `W`",
        ),
    ],
)
def test_link_services_are_checked(tmp_path, services, expected):
    data = copy_data(tmp_path / "data")
    dataset = data / "dataset.yaml"
    assert dataset.read_text().count("\n") == 12
    dataset.write_text(dataset.read_text() + services)
    conversion = convert(load(data))
    messages = [str(e) for e in conversion.errors]
    assert any(f"{dataset}{expected}" in m for m in messages), messages


def test_link_services_parsed(tmp_path):
    data = copy_data(tmp_path / "data")
    dataset = data / "dataset.yaml"
    dataset.write_text(
        dataset.read_text()
        + "linkServices:\n  - label: Wikidata\n    manifest: https://wikidata.reconci.link/en/api\n"
        "    ids: http://www.wikidata.org/entity/{id}\n    types: {organisation: Q43229}\n"
        "    properties: {url: P856}\n"
    )
    conversion = convert(load(data))
    assert conversion.errors == []
    (service,) = conversion.dataset.link_services
    assert service.label == "Wikidata" and service.type_of("organisation") == "Q43229"
    assert service.iri("Q1065") == "http://www.wikidata.org/entity/Q1065"
    assert service.host == "www.wikidata.org" and service.properties == (("url", "P856"),)


def test_the_test_benchs_expectations(server):
    """The reconciliation test bench picks a property by auto-completion, GETs
    `?extend=` and reads rows[entity id][property id]."""
    found = server.get("/reconcile/suggest/property", params={"prefix": "parent"}).json()
    conforms(V02, "suggest-properties-response", found)
    assert "parentOrganization" in [p["id"] for p in found["result"]]
    same = server.get("/reconcile/suggest/property", params={"prefix": "same"}).json()
    assert [p["id"] for p in same["result"]].count("sameAs") == 1
    answer = extend_02(server, {"ids": [CSD], "properties": [{"id": "parentOrganization"}]}, "GET")
    assert isinstance(answer["rows"][CSD]["parentOrganization"], list)


def test_values_are_kept_out_of_the_index(built):
    """Each app process holds reconcile.json in memory: the values are in extend.jsonl,
    one line per record in the index's order, read by offset."""
    index = json.loads((built.path / "reconcile.json").read_bytes())
    values = (built.path / "extend.jsonl").read_bytes()
    offsets = index["extend"]["offsets"]
    assert all("values" not in entry for entry in index["entries"])
    assert len(offsets) == len(index["entries"]) + 1 and offsets[-1] == len(values)
    position = [e["id"] for e in index["entries"]].index(CSD)
    row = json.loads(values[offsets[position] : offsets[position + 1]])
    assert row["parentOrganization"] == [["ref", UN]]
    assert index["extend"]["properties"]["organisation"]["name"] == 5


def test_a_build_without_values_answers_none(built, tmp_path):
    from lod.link.extend import Extension
    from lod.link.reconcile import NameIndex

    data = json.loads((built.path / "reconcile.json").read_bytes())
    del data["extend"]  # a build made before data extension
    extension = Extension(NameIndex(data), tmp_path / "missing.jsonl")
    assert extension.values(CSD, "parentOrganization") == []
    assert extension.propose("organisation") == []
    assert extension.values(CSD, "description")  # from the index itself
