"""The native SHACL engine (lod.make.shacl) against pyshacl, component by component: the same
findings on data made to hit each component's edge cases, and shapes it does not support
left to pyshacl rather than skipped."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from lod.make.validate import find, plan
from lod.triples import Triples

PREFIXES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix ex: <http://example.org/> .
@prefix lods: <urn:lod:shapes:> .
"""

SHAPES = """
ex:ThingShape a sh:NodeShape ;
    sh:targetClass schema:CreativeWork ;
    sh:or ( [ sh:path schema:name ; sh:minCount 1 ] [ sh:path schema:url ; sh:minCount 1 ] ) ;
    sh:message "a name or a url" ;
    sh:property [ sh:path schema:name ; sh:maxCount 1 ; sh:datatype rdf:langString ;
                  sh:uniqueLang true ; sh:message "one name, tagged" ] ;
    sh:property [ sh:path schema:alternateName ; sh:datatype xsd:string ;
                  sh:message "plain text" ] ;
    sh:property [ sh:path schema:dateCreated ;
                  sh:or ( [ sh:datatype xsd:date ] [ sh:datatype xsd:dateTime ] ) ;
                  sh:lessThanOrEquals schema:dateModified ;
                  sh:message "a date, not after dateModified" ] ;
    sh:property [ sh:path schema:expires ; sh:datatype xsd:date ; sh:message "a real date" ] ;
    sh:property [ sh:path schema:author ; sh:nodeKind sh:IRI ;
                  sh:or ( [ sh:class schema:Person ] [ sh:class schema:Organization ] ) ;
                  sh:message "an agent" ] ;
    sh:property [ sh:path schema:position ; sh:datatype xsd:integer ;
                  sh:minInclusive 1 ; sh:maxInclusive 10 ; sh:message "1 to 10" ] ;
    sh:property [ sh:path schema:genre ;
                  sh:in ( ex:news ex:opinion ) ; sh:message "news or opinion" ] ;
    sh:property [ sh:path schema:image ; sh:minCount 1 ; sh:severity sh:Warning ;
                  sh:message "an image is recommended" ] .

ex:LinkShape a sh:NodeShape ;
    sh:targetSubjectsOf schema:sameAs ;
    sh:property [ sh:path schema:sameAs ; sh:nodeKind sh:IRI ; sh:message "an IRI" ] .

ex:LinkedShape a sh:NodeShape ;
    sh:targetObjectsOf schema:citation ;
    sh:class schema:CreativeWork ;
    sh:message "cites creative works" .

ex:NodeShape a sh:NodeShape ;
    sh:targetNode ex:lonely ;
    sh:property [ sh:path schema:name ; sh:minCount 2 ; sh:message "two names" ] .
"""

DATA = """
ex:good a schema:NewsArticle ; schema:name "Good"@en ; schema:image ex:img ;
    schema:alternateName "plain" ; schema:dateCreated "2020-01-01"^^xsd:date ;
    schema:dateModified "2020-01-02"^^xsd:date ; schema:author ex:person ;
    schema:position 3 ; schema:genre ex:news ; schema:citation ex:other .
ex:other a schema:CreativeWork ; schema:url ex:somewhere ; schema:image ex:img ;
    schema:dateCreated "2020-01-01T10:00:00"^^xsd:dateTime .
ex:person a schema:Person ; schema:sameAs ex:elsewhere .

ex:nameless a schema:CreativeWork ; schema:alternateName "tagged"@en ;
    schema:sameAs "not an IRI" .
ex:twice a schema:Report ; schema:name "One"@en, "Two"@EN, "Zwei"@de ;
    schema:alternateName 42 ; schema:image ex:img .
ex:dates a schema:CreativeWork ; schema:name "Dates"@en ; schema:image ex:img ;
    schema:dateCreated "2021-05-05"^^xsd:date, "soon" ; schema:expires "2020-13-45"^^xsd:date ;
    schema:dateModified "2020-06-01"^^xsd:date .
ex:authors a schema:CreativeWork ; schema:name "Authors"@en ; schema:image ex:img ;
    schema:author ex:untyped, ex:place, "Somebody", ex:org, _:someone .
ex:org a schema:NGO .
ex:place a schema:Place .
_:someone a schema:Person .
ex:ranges a schema:CreativeWork ; schema:name "Ranges"@en ; schema:image ex:img ;
    schema:position 0, 11, "5", 5.5, "7"^^xsd:integer, "x"^^xsd:integer ;
    schema:genre ex:news, ex:satire, "news" ;
    schema:citation ex:person, ex:other, "a literal" .
ex:lonely schema:name "Only one" .
"""


@pytest.fixture
def shapes_dir(tmp_path: Path) -> Path:
    (tmp_path / "test.ttl").write_text(PREFIXES + SHAPES, "utf-8")
    return tmp_path


def triples(text: str) -> Triples:
    return Triples(Graph().parse(data=PREFIXES + text, format="turtle"))


def test_every_component_reports_as_pyshacl_reports(shapes_dir):
    data = triples(DATA)
    assert plan(shapes_dir).pyshacl is None  # all native
    native = find(data, shapes_dir)
    reference = find(data, shapes_dir, engine="pyshacl", partitioned=False)
    assert native == reference
    reported = {(f.focus.rsplit("/", 1)[-1], f.message) for f in native}
    for expected in [
        ("nameless", "a name or a url"),
        ("nameless", "plain text"),
        ("nameless", "an image is recommended"),
        ("nameless", "an IRI"),
        ("twice", "one name, tagged"),
        ("twice", "plain text"),
        ("dates", "a date, not after dateModified"),
        ("dates", "a real date"),
        ("authors", "an agent"),
        ("ranges", "1 to 10"),
        ("ranges", "news or opinion"),
        ("person", "cites creative works"),
        ("lonely", "two names"),
    ]:
        assert expected in reported, expected
    clean = {"good", "other", "org", "place"}
    assert not {f.focus.rsplit("/", 1)[-1] for f in native} & clean
    assert {f.severity for f in native} == {"Violation", "Warning"}


def test_a_shape_the_engine_does_not_support_runs_on_pyshacl(shapes_dir):
    (shapes_dir / "more.ttl").write_text(
        PREFIXES
        + """
        ex:PatternShape a sh:NodeShape ;
            sh:targetClass schema:Thing ;
            sh:property [ sh:path schema:name ; sh:minCount 1 ;
                          sh:message "a thing needs a name" ] ;
            sh:property [ sh:path schema:identifier ; sh:pattern "^[a-z]+$" ;
                          sh:message "identifiers are lower-case letters" ] .
        ex:UnnamedShape a sh:NodeShape ;
            sh:targetClass schema:Thing ;
            sh:property [ sh:path schema:name ; sh:maxCount 0 ] .
        """,
        "utf-8",
    )
    split = plan(shapes_dir)
    assert {str(s.node) for s in split.native} == {
        "http://example.org/" + name
        for name in ("ThingShape", "LinkShape", "LinkedShape", "NodeShape")
    }
    assert split.pyshacl is not None
    data = triples(DATA + 'ex:coded a schema:Thing ; schema:identifier "ABC" .')
    native = find(data, shapes_dir)
    assert native == find(data, shapes_dir, engine="pyshacl", partitioned=False)
    reported = {(f.focus.rsplit("/", 1)[-1], f.message) for f in native}
    assert ("coded", "identifiers are lower-case letters") in reported
    assert ("coded", "a thing needs a name") in reported
    assert any(f.focus.endswith("/good") and f.path.endswith("/name") for f in native)


@pytest.mark.parametrize(
    "shapes, data, expected",
    [
        pytest.param(
            """ex:Named a sh:NodeShape, rdfs:Class ;
                sh:property [ sh:path schema:name ; sh:minCount 1 ;
                              sh:message "needs a name" ] .""",
            "ex:a a ex:Named .",
            "needs a name",
            id="implicit-class-target",
        ),
        pytest.param(
            """ex:S a sh:NodeShape ; sh:targetClass schema:Thing ;
                sh:or ( [ sh:path schema:name ; sh:minCount 1 ; sh:severity sh:Warning ] ) ;
                sh:message "needs a name" .
               ex:T a sh:NodeShape ; sh:targetClass schema:Thing ;
                sh:property [ sh:path schema:url ; sh:minCount 1 ; sh:message "needs a url" ] .""",
            "ex:a a schema:Thing .",
            "needs a url",
            id="warning-inside-or",
        ),
        pytest.param(
            """ex:MaxLength a sh:ConstraintComponent ;
                sh:parameter [ sh:path ex:maxLength ] ;
                sh:validator [ a sh:SPARQLAskValidator ; sh:message "too long" ;
                    sh:ask "ASK { FILTER (STRLEN(str($value)) <= $maxLength) }" ] .
               ex:S a sh:NodeShape ; sh:targetClass schema:Thing ;
                sh:property [ sh:path schema:name ; ex:maxLength 3 ;
                              sh:message "name too long" ] .""",
            'ex:a a schema:Thing ; schema:name "much too long" .',
            "too long",  # the validator's message
            id="declared-constraint-component",
        ),
    ],
)
def test_what_the_engine_cannot_evaluate_is_left_to_pyshacl(shapes, data, expected, tmp_path):
    (tmp_path / "s.ttl").write_text(
        PREFIXES + "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n" + shapes, "utf-8"
    )
    assert plan(tmp_path).pyshacl is not None
    found = find(triples(data), tmp_path)
    assert found == find(triples(data), tmp_path, engine="pyshacl", partitioned=False)
    assert [f.message for f in found] == [expected]
