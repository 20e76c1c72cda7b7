"""The build of data/: dumps, determinism, vocabulary, the answers the seed must give."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import OWL, RDF, RDFS, SKOS, VOID

from lod import Settings, build
from lod.config import SHAPES_DIR
from lod.formats import Format
from lod.layout import DUMP_FORMATS, dump_name

from .conftest import DATA, ROOT

BASE = "https://lod.example.org/"
SDO = "https://schema.org/"


def dump_graph(built, fmt: Format, engine: str) -> Graph:
    data = gzip.decompress(built.dump(fmt).read_bytes())
    if engine == "rdflib":
        return Graph().parse(data=data, format=fmt.rdflib_name)
    graph = Graph()
    nt = ox.serialize(ox.parse(data, format=fmt.oxigraph), format=ox.RdfFormat.N_TRIPLES)
    return graph.parse(data=nt, format="nt")


def test_build_writes_every_artefact(built):
    names = {p.name for p in built.path.iterdir()}
    assert {
        "dataset.nt.gz",
        "dataset.ttl.gz",
        "dataset.jsonld.gz",
        "void.ttl",
        "SHA256SUMS",
        "manifest.json",
        "lists.json",
        "validation.txt",
        "store",
    } <= names
    sums = dict(
        line.split("  ")[::-1] for line in (built.path / "SHA256SUMS").read_text().splitlines()
    )
    assert set(sums) == {*(dump_name(f) for f in DUMP_FORMATS), "void.ttl", "mixnmatch.tsv"}


@pytest.mark.parametrize("fmt", DUMP_FORMATS, ids=lambda f: f.extension)
@pytest.mark.parametrize("engine", ["rdflib", "pyoxigraph"])
def test_every_dump_is_the_same_graph(built, fmt, engine):
    reference = dump_graph(built, Format.NTRIPLES, "rdflib")
    assert isomorphic(dump_graph(built, fmt, engine), reference)


def test_store_holds_the_dump(built):
    store = ox.Store.read_only(str(built.store_path))
    nt = ox.serialize(store, format=ox.RdfFormat.N_QUADS)
    assert isomorphic(
        Graph().parse(data=nt, format="nt"), dump_graph(built, Format.NTRIPLES, "rdflib")
    )


def test_jsonld_has_an_inline_context_and_no_remote_one(built):
    document = json.loads(gzip.decompress(built.dump(Format.JSONLD).read_bytes()))
    context = document["@context"]
    assert isinstance(context, dict)
    assert context["@vocab"] == SDO
    assert all(
        not str(value).startswith("http") or key != "@import" for key, value in context.items()
    )


def test_ntriples_dump_is_sorted_and_counted(built):
    lines = gzip.decompress(built.dump(Format.NTRIPLES).read_bytes()).decode().splitlines()
    assert lines == sorted(lines)
    graph = Graph().parse(data="\n".join(lines), format="nt")
    triples = graph.value(URIRef(BASE + "id/dataset"), VOID.triples)
    assert int(triples) == len(lines) == built.manifest["triples"]


def test_two_builds_of_the_same_sources_are_byte_identical(built, tmp_path):
    # another process, another hash seed: nothing may depend on set or dict order
    code = (
        "import sys; from lod import Settings, build; "
        "build(Settings(data=sys.argv[1], out=sys.argv[2]))"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(DATA), str(tmp_path)],
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    second = tmp_path / "current"
    files = [*(dump_name(f) for f in DUMP_FORMATS), "void.ttl", "SHA256SUMS"]
    files += ["validation.txt", "validation.ttl", "lists.json", "reconcile.json"]
    for name in files:
        assert (second / name).read_bytes() == (built.path / name).read_bytes(), name


def test_a_second_build_switches_current_and_keeps_the_first(tmp_path):
    first = build(Settings(data=DATA, out=tmp_path))
    second = build(Settings(data=DATA, out=tmp_path))
    assert first.id != second.id
    assert (tmp_path / "current").resolve() == second.path
    assert first.path.exists()


def test_every_schema_org_term_exists(built, schema_vocab):
    schema = Graph().parse(schema_vocab)
    known = set(schema.subjects())
    graph = dump_graph(built, Format.NTRIPLES, "rdflib")
    used = {
        term
        for triple in graph
        for term in triple
        if isinstance(term, URIRef) and str(term).startswith(SDO) and str(term) != SDO
    }
    missing = sorted(str(t) for t in used - known)
    assert not missing, f"not in schema.org v30: {missing}"


def test_no_blank_nodes(built):
    graph = dump_graph(built, Format.NTRIPLES, "rdflib")
    assert not [t for t in graph if any(type(x).__name__ == "BNode" for x in t)]


def test_the_graph_matches_the_golden_file(built):
    """Compared as graphs; a failure prints the triples only one side has."""
    graph = dump_graph(built, Format.NTRIPLES, "rdflib")
    golden = Graph().parse(ROOT / "tests" / "golden" / "data.ttl")
    if not isomorphic(graph, golden):
        _, only_built, only_golden = graph_diff(to_isomorphic(graph), to_isomorphic(golden))
        pytest.fail(
            "graph differs from tests/golden/data.ttl\n"
            f"only in the build:\n{only_built.serialize(format='nt')}\n"
            f"only in the golden file:\n{only_golden.serialize(format='nt')}"
        )


def test_subtypes_and_inverses(built):
    graph = dump_graph(built, Format.NTRIPLES, "rdflib")
    mia = URIRef(BASE + "id/organisation/mia-mga")
    session = URIRef(BASE + "id/event/csocd59")
    side = URIRef(BASE + "id/event/csocd59-migration-displacement-side-event")
    assert (mia, RDF.type, URIRef(SDO + "NGO")) in graph
    assert (side, URIRef(SDO + "superEvent"), session) in graph
    assert (session, URIRef(SDO + "subEvent"), side) in graph
    declaration = URIRef(BASE + "id/document/civil-society-declaration")
    parts = list(graph.objects(declaration, URIRef(SDO + "hasPart")))
    assert len(parts) == 3
    assert all((p, URIRef(SDO + "isPartOf"), declaration) in graph for p in parts)


def test_sameas_links_and_linksets(built):
    graph = dump_graph(built, Format.NTRIPLES, "rdflib")
    un = URIRef(BASE + "id/organisation/united-nations")
    wikidata = URIRef("http://www.wikidata.org/entity/Q1065")
    assert (un, OWL.sameAs, wikidata) in graph
    assert (un, URIRef(SDO + "sameAs"), wikidata) in graph
    sdg10 = URIRef(BASE + "id/topic/sdg-10")
    assert (sdg10, SKOS.exactMatch, URIRef("http://metadata.un.org/sdg/10")) in graph
    linksets = {
        graph.value(ls, VOID.objectsTarget): int(graph.value(ls, VOID.triples))
        for ls in graph.subjects(RDF.type, VOID.Linkset)
        if graph.value(ls, VOID.linkPredicate) == OWL.sameAs
    }
    targets = {str(graph.value(t, VOID.uriSpace)): n for t, n in linksets.items()}
    wikidata_links = sum(
        1 for o in graph.objects(None, OWL.sameAs) if str(o).startswith("http://www.wikidata.org/")
    )
    assert targets["http://www.wikidata.org/"] == wikidata_links == 4


def test_shipped_class_hierarchy_is_schema_orgs(schema_vocab):
    schema = Graph().parse(schema_vocab)
    expected = Graph()
    for c, p in schema.subject_objects(RDFS.subClassOf):
        if str(c).startswith(SDO) and str(p).startswith(SDO):
            expected.add((c, RDFS.subClassOf, p))
    shipped = Graph().parse(SHAPES_DIR / "schemaorg-classes.ttl")
    assert isomorphic(shipped, expected)


def run_query(built, sparql: str) -> list[dict]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "lod",
            "query",
            "--out",
            str(built.path.parent.parent),
            "--format",
            "json",
            sparql,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = json.loads(out)["results"]["bindings"]
    return [{k: v["value"] for k, v in row.items()} for row in rows]


def test_query_events_with_their_dates(built):
    rows = run_query(
        built,
        """PREFIX schema: <https://schema.org/>
        SELECT ?e ?start ?end WHERE { ?e a schema:Event .
          OPTIONAL { ?e schema:startDate ?start } OPTIONAL { ?e schema:endDate ?end } }""",
    )
    by_event = {row["e"].rsplit("/", 1)[-1]: row for row in rows}
    assert set(by_event) == {
        "csocd59",
        "csocd59-migration-displacement-side-event",
        "csocd59-civil-society-forum",
    }
    assert by_event["csocd59"]["start"] == "2021-02-08"
    assert by_event["csocd59"]["end"] == "2021-02-17"


def test_query_who_moderated_the_side_event(built):
    rows = run_query(
        built,
        """PREFIX schema: <https://schema.org/>
        SELECT ?name WHERE {
          ?e schema:name ?title ; schema:contributor ?role .
          FILTER CONTAINS(?title, "Migration, Displacement")
          ?role schema:roleName "moderator"@en ; schema:contributor ?who .
          ?who schema:name ?name }""",
    )
    assert rows == [{"name": "Cecilie Kern"}]


def test_query_organisations_the_article_mentions(built):
    rows = run_query(
        built,
        """PREFIX schema: <https://schema.org/>
        SELECT ?name WHERE { ?a a schema:NewsArticle ; schema:mentions ?o .
          ?o a schema:Organization ; schema:name ?name } ORDER BY ?name""",
    )
    assert [row["name"] for row in rows] == [
        "Commission for Social Development",
        "Mercy International Association",
        "Mercy International Association - Global Action",
        "UNANIMA International",
        "United Nations",
    ]
