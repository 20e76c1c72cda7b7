"""Records in several languages, as independent clients read the dumps: the test dataset in
the six official languages of the UN (tests/fixtures/languages/), read by rdflib, jsonld.js
and two SHACL engines besides lod's own."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS

from lod import Settings, build
from lod.config import SHAPES_DIR
from lod.errors import BuildFailed
from lod.formats import Format, serialize_triples, to_oxigraph
from lod.make.steps import validated
from lod.vocab import SDO

from .conftest import MULTILINGUAL, UN_NAMES
from .test_contract import assert_pyshacl_conforms, rdf_validate_shacl
from .test_interop import jsonld_js

ID = "https://lod.example.org/id/"
UN = URIRef(f"{ID}organisation/united-nations")
ORIGINAL = URIRef(f"{ID}article/commission-examines-digital-technologies")
FRENCH = URIRef(f"{ID}article/commission-examine-technologies-numeriques")
ARABIC = URIRef(f"{ID}article/lajna-tabhath-dawr-altiknulujiyat")


@pytest.fixture(scope="module")
def multilingual(tmp_path_factory):
    return build(Settings(data=MULTILINGUAL, out=tmp_path_factory.mktemp("dist")))


@pytest.fixture(scope="module")
def graph(multilingual) -> Graph:
    data = gzip.decompress(multilingual.dump(Format.NTRIPLES).read_bytes())
    return Graph().parse(data=data, format="nt")


def copy(target: Path) -> Path:
    shutil.copytree(MULTILINGUAL, target)
    return target


def test_a_language_map_gives_one_tagged_name_per_language(graph):
    names = {name.language: str(name) for name in graph.objects(UN, SDO.name)}
    assert names == UN_NAMES
    assert set(graph.objects(UN, SDO.alternateName)) == {
        Literal("UN", lang="en"),
        Literal("ONU", lang="fr"),
        Literal("ONU", lang="es"),
        Literal("ООН", lang="ru"),
    }


def test_csv_name_columns_give_a_name_per_language(graph):
    city = URIRef(f"{ID}place/new-york-city")
    assert Literal("Nueva York", lang="es") in set(graph.objects(city, SDO.name))
    assert Literal("纽约", lang="zh") in set(graph.objects(city, SDO.name))


def test_a_plain_string_is_in_the_datasets_first_language(graph):
    (name,) = graph.objects(URIRef(f"{ID}organisation/mia-mga"), SDO.name)
    assert name == Literal("Mercy International Association - Global Action", lang="en")


def test_the_dataset_is_described_in_its_languages(graph, multilingual):
    dataset = URIRef(f"{ID}dataset")
    titles = {title.language for title in graph.objects(dataset, DCTERMS.title)}
    assert titles == {"en", "fr", "ar"}
    languages = {str(tag).rsplit("/", 1)[1] for tag in graph.objects(dataset, DCTERMS.language)}
    assert languages == {"en", "fr", "es", "ar", "ru", "zh"}
    assert multilingual.manifest["languages"] == ["en", "fr", "es", "ar", "ru", "zh"]


def test_translations_are_linked_both_ways_each_in_its_language(graph):
    assert set(graph.objects(ORIGINAL, SDO.workTranslation)) == {FRENCH, ARABIC}
    assert set(graph.objects(FRENCH, SDO.translationOfWork)) == {ORIGINAL}
    assert set(graph.objects(ARABIC, SDO.translationOfWork)) == {ORIGINAL}
    languages = {a: str(next(graph.objects(a, SDO.inLanguage))) for a in (ORIGINAL, FRENCH, ARABIC)}
    assert languages == {ORIGINAL: "en", FRENCH: "fr", ARABIC: "ar"}
    (headline,) = graph.objects(ARABIC, SDO.headline)
    assert headline.language == "ar"
    (body,) = graph.objects(ARABIC, SDO.articleBody)
    assert body.language == "ar"


def test_every_article_says_its_language_even_when_its_file_does_not(tmp_path):
    data = copy(tmp_path / "data")
    article = data / "articles" / "commission-examines-digital-technologies.md"
    article.write_text(article.read_text("utf-8").replace("inLanguage: en\n", ""), "utf-8")
    checked = validated(Settings(data=data, out=tmp_path / "dist"))
    assert (ORIGINAL, SDO.inLanguage, Literal("en")) in checked.graph


def test_a_dataset_in_french_first_tags_plain_strings_french(tmp_path):
    data = copy(tmp_path / "data")
    dataset = data / "dataset.yaml"
    dataset.write_text(
        dataset.read_text("utf-8").replace("[en, fr, es, ar, ru, zh]", "[fr, en]"), "utf-8"
    )
    with pytest.raises(BuildFailed) as failed:  # places.csv's `name` is now French twice
        validated(Settings(data=data, out=tmp_path / "dist"))
    assert [(e.file.rsplit("/", 1)[1], e.line, e.field) for e in failed.value.errors] == [
        ("places.csv", 2, "name"),
        ("places.csv", 3, "name"),
    ]
    places = data / "places" / "places.csv"
    places.write_text(
        places.read_text("utf-8").replace("id,name,name@fr,", "id,name@en,name,"), "utf-8"
    )
    checked = validated(Settings(data=data, out=tmp_path / "dist"))
    mia = URIRef(f"{ID}organisation/mia-mga")
    assert set(checked.graph.objects(mia, SDO.name)) == {
        Literal("Mercy International Association - Global Action", lang="fr")
    }


def with_mia_line(tmp_path: Path, line: str) -> Path:
    """A copy of data/ whose NGOs (mia-mga and the association it acts for) have one line
    more."""
    data = copy(tmp_path / "data")
    organisations = data / "organisations" / "organisations.yaml"
    text = organisations.read_text("utf-8").replace("  type: NGO\n", f"  {line}\n  type: NGO\n")
    organisations.write_text(text, "utf-8")
    return data


def test_name_at_language_keys_in_yaml_join_the_map(tmp_path):
    data = with_mia_line(tmp_path, "name@fr: Association internationale de la Miséricorde")
    checked = validated(Settings(data=data, out=tmp_path / "dist"))
    names = set(checked.graph.objects(URIRef(f"{ID}organisation/mia-mga"), SDO.name))
    assert Literal("Association internationale de la Miséricorde", lang="fr") in names


def test_a_second_value_in_one_language_fails_at_its_file_and_field(tmp_path):
    data = with_mia_line(tmp_path, "name@en: MIA-MGA")
    with pytest.raises(BuildFailed) as failed:
        validated(Settings(data=data, out=tmp_path / "dist"))
    (error,) = failed.value.errors
    assert error.file.endswith("organisations.yaml") and error.field == "name"
    assert "one per language" in error.message


def test_pyshacl_finds_the_dump_conforming_with_the_shapes_alone(graph):
    assert_pyshacl_conforms(graph)


def test_rdf_validate_shacl_finds_two_names_in_one_language(multilingual, tmp_path):
    """Zazuko's engine agrees: the dump conforms, and a second French name does not."""
    dump = tmp_path / "dataset.nt"
    text = gzip.decompress(multilingual.dump(Format.NTRIPLES).read_bytes()).decode()
    dump.write_text(text, "utf-8")
    shapes = sorted(SHAPES_DIR.glob("*.ttl"))

    def violations() -> list[dict]:
        results = rdf_validate_shacl(dump, shapes)["results"]
        return [r for r in results if r["severity"].endswith("#Violation")]

    assert violations() == []
    dump.write_text(text + f'<{UN}> <{SDO.name}> "Nations Unies"@fr .\n', "utf-8")
    (found,) = violations()  # in its own words: 'Language "fr" has been used by 2 values'
    assert found["focus"] == str(UN) and '"fr"' in found["message"]


def test_jsonld_js_reads_every_language_of_the_jsonld_dump(multilingual, graph):
    read = jsonld_js(gzip.decompress(multilingual.dump(Format.JSONLD).read_bytes()))
    assert isomorphic(read, graph)
    assert Literal("الأمم المتحدة", lang="ar") in set(read.objects(UN, SDO.name))


def test_json_ld_with_a_default_language_keeps_every_literal_as_it_was(graph):
    """Texts in the context's `@language` are plain strings (as search engines read them
    best); others keep their tag; a plain xsd:string is a value object, not the default's."""
    triples = [
        pyoxigraph.Triple(*(to_oxigraph(term) for term in triple))
        for triple in graph.triples((None, None, None))
    ]
    document = serialize_triples(triples, Format.JSONLD, "en")
    read = Graph().parse(data=document, format="json-ld")
    assert isomorphic(read, graph)
    context_and_nodes = json.loads(document)
    assert context_and_nodes["@context"]["@language"] == "en"
    (un,) = [n for n in context_and_nodes["@graph"] if n["@id"] == str(UN)]
    assert "United Nations" in un["name"]
    assert {"@language": "fr", "@value": "Organisation des Nations Unies"} in un["name"]
    (original,) = [n for n in context_and_nodes["@graph"] if n["@id"] == str(ORIGINAL)]
    assert original["inLanguage"] == {"@value": "en"}
