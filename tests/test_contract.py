"""The contract as an outside check reads it: defects found by validating the dump with other
engines, reading VoID against the dump, and reading the pages and errors a user meets."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pyshacl import validate as pyshacl_validate
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF, SH, VOID

from lod import Settings, build
from lod.config import SHAPES_DIR
from lod.errors import BuildFailed
from lod.make.steps import validated
from lod.vocab import FOAF, SCHEMA, SDO
from lod.web import create_app

from .conftest import DATA, ROOT, copy_data, require

SHAPES = SHAPES_DIR
NODE_MODULES = Path(os.environ.get("LOD_NODE_MODULES", ROOT / ".ci" / "node" / "node_modules"))
BASE = "https://lod.example.org/"
SIDE_EVENT = f"{BASE}id/event/csocd59-migration-displacement-side-event"


@pytest.fixture(scope="module")
def dump(built) -> Graph:
    graph = Graph()
    graph.parse(data=gzip.decompress((built.path / "dataset.nt.gz").read_bytes()), format="nt")
    return graph


def _add(data: Path, relative: str, text: str) -> None:
    (data / relative).write_text(text, "utf-8")


def test_a_document_of_type_report_is_not_checked_as_an_article(tmp_path):
    data = copy_data(tmp_path / "data")
    _add(data, "documents/annual-report.yaml", "name: Annual report\ntype: Report\n")
    checked = validated(Settings(data=data, out=tmp_path / "dist"))
    report = URIRef(f"{BASE}id/document/annual-report")
    assert (report, RDF.type, SCHEMA.Report) in checked.graph
    assert not checked.report.violations


def test_a_document_typed_as_a_news_article_is_sent_to_articles(tmp_path):
    data = copy_data(tmp_path / "data")
    _add(data, "documents/story.yaml", "name: A story\ntype: AnalysisNewsArticle\n")
    with pytest.raises(BuildFailed) as failed:
        validated(Settings(data=data, out=tmp_path / "dist"))
    (error,) = failed.value.errors
    assert error.field == "type" and "article record" in error.message
    assert "data/articles/" in error.hint


def assert_pyshacl_conforms(data: Graph) -> None:
    """pyshacl, the reference engine, finds `data` conforming to lod/shapes/ alone (no
    inference: the shapes must hold on the data as published)."""
    shapes = Graph()
    for path in sorted(SHAPES.glob("*.ttl")):
        shapes.parse(path, format="turtle")
    conforms, _, text = pyshacl_validate(
        data, shacl_graph=shapes, inference="none", allow_warnings=True
    )
    assert conforms, text


def test_pyshacl_validates_the_dump_with_shapes_alone(dump):
    assert_pyshacl_conforms(dump)


VALIDATE_JS = """
const [modules, data, ...shapeFiles] = process.argv.slice(1);
const load = (name) => import(`${modules}/${name}/index.js`);
const { default: rdf } = await load('rdf-ext');
const { default: ParserN3 } = await load('@rdfjs/parser-n3');
const { default: SHACLValidator } = await load('rdf-validate-shacl');
const fs = await import('node:fs');
const { Readable } = await import('node:stream');
async function read(file) {
  const text = fs.readFileSync(file, 'utf8');
  const quads = new ParserN3({ factory: rdf }).import(Readable.from([text]));
  return rdf.dataset().import(quads);
}
const shapes = rdf.dataset();
for (const file of shapeFiles) shapes.addAll(await read(file));
const report = await new SHACLValidator(shapes).validate(await read(data));
console.log(JSON.stringify({ conforms: report.conforms, results: report.results.map(r => ({
  severity: r.severity && r.severity.value, focus: r.focusNode && r.focusNode.value,
  message: r.message.map(m => m.value).join(' ') })) }));
"""


def rdf_validate_shacl(data: Path, shapes: list[Path]) -> dict:
    """rdf-validate-shacl (Zazuko's SHACL engine for JavaScript) on data and shapes files."""
    require(
        shutil.which("node") is not None and (NODE_MODULES / "rdf-validate-shacl").is_dir(),
        "node with rdf-validate-shacl (.ci/run: npm install rdf-validate-shacl)",
    )
    done = subprocess.run(
        ["node", "--input-type=module", "-e", VALIDATE_JS, str(NODE_MODULES), str(data)]
        + [str(p) for p in shapes],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def test_rdf_validate_shacl_validates_the_dump_with_shapes_alone(built, tmp_path):
    dump = tmp_path / "dataset.nt"
    dump.write_bytes(gzip.decompress((built.path / "dataset.nt.gz").read_bytes()))
    report = rdf_validate_shacl(dump, sorted(SHAPES.glob("*.ttl")))
    violations = [
        r for r in report["results"] if r["severity"] == "http://www.w3.org/ns/shacl#Violation"
    ]
    assert violations == []
    warnings = sorted((r["focus"], r["message"]) for r in report["results"])
    assert warnings == sorted((w.focus, w.message) for w in built.warnings)  # as lod's own


def test_the_independent_engine_finds_a_fault(built, tmp_path):
    """The engine runs for real: an author that is a topic is a violation there too."""
    dump = tmp_path / "dataset.nt"
    text = gzip.decompress((built.path / "dataset.nt.gz").read_bytes()).decode()
    article = (
        f"{BASE}id/article/commission-on-social-development-examines-role-of-digital-technologies"
    )
    text += f"<{article}> <{SDO.author}> <{BASE}id/topic/privacy> .\n"
    dump.write_text(text, "utf-8")
    report = rdf_validate_shacl(dump, sorted(SHAPES.glob("*.ttl")))
    assert not report["conforms"]
    assert {r["message"] for r in report["results"]} >= {"an author is a person or an organisation"}


def test_class_partitions_count_every_instance_in_the_dump(dump):
    dataset = URIRef(f"{BASE}id/dataset")
    partitions = {
        dump.value(p, VOID["class"]): int(dump.value(p, VOID.entities))
        for p in dump.objects(dataset, VOID.classPartition)
    }
    for cls in (SDO.CreativeWork, SDO.Role, FOAF.Document, SDO.Event):
        instances = set(dump.subjects(RDF.type, cls))
        assert partitions[cls] == len(instances), cls
    assert partitions[SDO.CreativeWork] > 2


@pytest.fixture(scope="module")
def client(built):
    app = create_app(Settings(data=DATA, out=built.path.parent.parent))
    return app.test_client()


@pytest.mark.parametrize("suffix", ["ttl", "nt", "jsonld"])
def test_a_data_document_says_its_dataset(client, suffix):
    response = client.get(f"/doc/event/csocd59-migration-displacement-side-event.{suffix}")
    graph = Graph().parse(
        data=response.data, format={"ttl": "turtle", "jsonld": "json-ld"}.get(suffix, suffix)
    )
    document = URIRef(f"{BASE}doc/event/csocd59-migration-displacement-side-event")
    assert (document, VOID.inDataset, URIRef(f"{BASE}id/dataset")) in graph
    assert (document, FOAF.primaryTopic, URIRef(SIDE_EVENT)) in graph
    assert (document, RDF.type, FOAF.Document) in graph


def test_a_role_is_shown_by_its_name_not_its_iri(client):
    person = client.get("/doc/person/cecilie-kern.html").get_data(as_text=True)
    assert f">{SIDE_EVENT}#role-1<" not in person
    assert "moderator of Migration, Displacement" in person
    event = client.get("/doc/event/csocd59-migration-displacement-side-event.html").get_data(
        as_text=True
    )
    assert f">{SIDE_EVENT}#role-1<" not in event


def test_an_unknown_csv_column_is_reported_at_the_header(tmp_path):
    data = copy_data(tmp_path / "data")
    _add(
        data,
        "places/places.csv",
        "id,name,population\nparis,Paris,2100000\nlyon,Lyon,500000\n",
    )
    with pytest.raises(BuildFailed) as failed:
        build(Settings(data=data, out=tmp_path / "dist"))
    unknown = [e for e in failed.value.errors if e.field == "population"]
    assert len(unknown) == 1  # once for the column, not once per row
    assert unknown[0].line == 1 and "unknown place column" in unknown[0].message


def test_void_names_the_shapes_the_data_conforms_to(dump):
    assert (URIRef(f"{BASE}id/dataset"), DCTERMS.conformsTo, URIRef(f"{BASE}shapes")) in dump


@pytest.mark.parametrize(
    ("path", "accept", "media_type", "rdf_format"),
    [
        ("/shapes", None, "text/turtle", "turtle"),
        ("/shapes", "*/*", "text/turtle", "turtle"),  # a browser gets a page: test_browsers
        ("/shapes", "application/ld+json", "application/ld+json", "json-ld"),
        ("/shapes.nt", None, "application/n-triples", "nt"),
        ("/shapes.rdf", None, "application/rdf+xml", "xml"),
    ],
)
def test_the_shapes_are_served(client, path, accept, media_type, rdf_format):
    response = client.get(path, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == media_type
    served_shapes = Graph().parse(data=response.data, format=rdf_format)
    assert (URIRef("urn:lod:shapes:ArticleShape"), SH.targetClass, SDO.NewsArticle) in (
        served_shapes
    )
    local = Graph()
    for file in SHAPES.glob("*.ttl"):
        local.parse(file, format="turtle")
    assert len(served_shapes) == len(local)


def test_the_served_shapes_validate_the_dump(client, dump):
    shapes = Graph().parse(data=client.get("/shapes").data, format="turtle")
    conforms, _, text = pyshacl_validate(dump, shacl_graph=shapes, allow_warnings=True)
    assert conforms, text


def test_an_unknown_shapes_format_is_404(client):
    assert client.get("/shapes.csv").status_code == 404
