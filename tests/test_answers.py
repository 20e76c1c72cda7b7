"""Queries answered from a build's answers (lod.make.answers, lod.serve.rewrite) give what
the engine gives for the query as asked: the same rows, the same order of the keys sorted
on (only tied rows, whose order SPARQL leaves open, may come in another order)."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from lod import Settings, build
from lod.formats import ResultFormat
from lod.layout import ANSWERS
from lod.make.answers import Answers
from lod.make.builder import Builder
from lod.serve.guard import read, verify
from lod.serve.pool import _Job
from lod.serve.rewrite import AnswersFile, Given, Tally, answers_of, rewritten
from lod.serve.store import EmbeddedStore
from lod.triples import Triples
from lod.vocab import RDF, SDO, XSD

from .test_rebuild import article

P = "PREFIX schema: <https://schema.org/>\n"
GRAPH = "http://example.org/g"  # a graph a query may name (the store has none)
SLICE = re.compile(r"\s(LIMIT|OFFSET)\s+\d+", re.IGNORECASE)


@pytest.fixture(scope="module")
def store(corpus_1k, tmp_path_factory) -> EmbeddedStore:
    done = build(Settings(data=corpus_1k, out=tmp_path_factory.mktemp("answers"), keep_state=0))
    return EmbeddedStore(done.store_path)


def rows(store: EmbeddedStore, text: str) -> list[tuple]:
    return [tuple(str(value) for value in row) for row in store.query(text)]


def asked(store: EmbeddedStore, text: str) -> Given:
    """What the query workers give the engine for `text`."""
    answers, tree = answers_of(store.path), verify(read(text), frozenset([GRAPH]))
    return rewritten(text, tree, answers, lambda t: len(rows(store, t)))


def answered(store: EmbeddedStore, given: Given) -> list[tuple]:
    """The rows of what the engine was given, from the store it was given."""
    return rows(store if given.store is None else given.store, given.text)


LATEST = [  # (query, the columns its order is on)
    (
        "SELECT ?a ?h ?d WHERE { ?a a schema:NewsArticle ; schema:headline ?h ; "
        "schema:datePublished ?d } ORDER BY DESC(?d) LIMIT 10",
        [2],
    ),
    ("SELECT ?a ?d WHERE { ?a schema:datePublished ?d } ORDER BY ?d LIMIT 25 OFFSET 5", [1]),
    ("select ?d where { ?a schema:datePublished ?d } order by desc(?d) limit 3 offset 990", [0]),
    (
        "SELECT ?h ?d WHERE { ?a schema:headline ?h ; schema:datePublished ?d } "
        "ORDER BY DESC(?d) ?h LIMIT 10",
        [1, 0],
    ),
    (  # a rare topic: few articles, so the candidates grow until they fill the page
        "SELECT ?a ?d WHERE { ?a schema:datePublished ?d ; schema:about "
        "<https://bench.example.org/id/topic/topic-7> } ORDER BY DESC(?d) LIMIT 5",
        [1],
    ),
    ("SELECT DISTINCT ?d WHERE { ?a schema:datePublished ?d } ORDER BY DESC(?d) LIMIT 10", [0]),
    (
        "SELECT ?a ?d ?m WHERE { ?a schema:datePublished ?d "
        "OPTIONAL { ?a schema:mentions ?m } FILTER(?d < '2024-01-01'^^<http://www.w3.org/2001/"
        "XMLSchema#date>) } ORDER BY DESC(?d) ?a ?m LIMIT 30",
        [1, 0, 2],
    ),
    (  # more than every article: the whole order
        "SELECT ?a ?d WHERE { ?a schema:datePublished ?d } ORDER BY DESC(?d) LIMIT 5000",
        [1],
    ),
]


@pytest.mark.parametrize(("query", "keys"), LATEST)
def test_latest_first_is_answered_from_the_date_order(store, query, keys):
    text = P + query
    given = asked(store, text)
    assert given.store is None and "\nVALUES ?a {" in given.text
    expected, found = rows(store, text), answered(store, given)
    assert len(found) == len(expected)
    assert [[row[k] for k in keys] for row in found] == [[row[k] for k in keys] for row in expected]
    every = set(rows(store, SLICE.sub(" ", text)))  # each row is one of the query's
    assert set(found) <= every


COUNTS = [  # (query, whether ordered on every projected column)
    (
        "SELECT ?org (COUNT(?a) AS ?n) WHERE { ?a a schema:NewsArticle ; schema:publisher ?org }"
        " GROUP BY ?org",
        False,
    ),
    (
        "SELECT ?org (COUNT(*) AS ?n) WHERE { ?a schema:publisher ?org } GROUP BY ?org "
        "ORDER BY DESC(?n) ?org LIMIT 5",
        True,
    ),
    (
        "SELECT (COUNT(DISTINCT ?a) AS ?n) ?t WHERE { ?a schema:about ?t . ?a a "
        "schema:NewsArticle } GROUP BY ?t ORDER BY DESC(?n) ?t LIMIT 7 OFFSET 2",
        True,
    ),
    ("SELECT ?type (COUNT(?s) AS ?count) WHERE { ?s a ?type } GROUP BY ?type", False),
    (
        "SELECT DISTINCT ?n WHERE { { SELECT ?o (COUNT(?s) AS ?n) WHERE { ?s schema:mentions ?o }"
        " GROUP BY ?o } } ORDER BY ?n",
        None,  # a sub-query: asked as it is
    ),
]


@pytest.mark.parametrize(("query", "ordered"), COUNTS)
def test_counts_per_value_are_answered_from_the_counts(store, query, ordered):
    text = P + query
    given = asked(store, text)
    if ordered is None:
        assert given == Given(text)
        return
    assert isinstance(given.store, Tally) and "GROUP BY" not in given.text
    expected, found = rows(store, text), answered(store, given)
    assert found == expected if ordered else sorted(found) == sorted(expected)
    assert expected and all(row[0] for row in expected)


@pytest.mark.parametrize(
    "query",
    [
        # a count of another variable, HAVING, a second aggregate, a dataset, a graph
        "SELECT ?o (COUNT(?o) AS ?n) WHERE { ?s schema:about ?o } GROUP BY ?o",
        "SELECT ?o (COUNT(?s) AS ?n) WHERE { ?s schema:about ?o } GROUP BY ?o HAVING (?n > 3)",
        "SELECT ?o (COUNT(?s) AS ?n) (MIN(?s) AS ?m) WHERE { ?s schema:about ?o } GROUP BY ?o",
        f"SELECT ?o (COUNT(?s) AS ?n) FROM <{GRAPH}> WHERE {{ ?s schema:about ?o }} GROUP BY ?o",
        "SELECT ?a ?d WHERE { GRAPH ?g { ?a schema:datePublished ?d } } ORDER BY DESC(?d) LIMIT 3",
        # ordered by an expression, not sliced, a date bound only in OPTIONAL or a UNION
        "SELECT ?a ?d WHERE { ?a schema:datePublished ?d } ORDER BY DESC(STR(?d)) LIMIT 3",
        "SELECT ?a ?d WHERE { ?a schema:datePublished ?d } ORDER BY DESC(?d)",
        "SELECT ?a ?d WHERE { ?a a schema:NewsArticle OPTIONAL { ?a schema:datePublished ?d } }"
        " ORDER BY DESC(?d) LIMIT 3",
        "SELECT ?a ?d WHERE { { ?a schema:datePublished ?d } UNION { ?a schema:startDate ?d } }"
        " ORDER BY DESC(?d) LIMIT 3",
        # a property that is not a date's: its order is the engine's
        "SELECT ?a ?h WHERE { ?a schema:headline ?h } ORDER BY DESC(?h) LIMIT 3",
        # a trailing VALUES of its own
        "SELECT ?a ?d WHERE { ?a schema:datePublished ?d } ORDER BY DESC(?d) LIMIT 3 "
        "VALUES ?a { <https://bench.example.org/id/article/article-1> }",
    ],
)
def test_other_queries_go_to_the_engine_as_asked(store, query):
    assert asked(store, P + query) == Given(P + query)


def test_the_query_workers_give_the_engine_the_rewritten_text(store):
    text = P + LATEST[0][0]
    job = _Job(store.path, read(text), ResultFormat.JSON, frozenset(), 1 << 20, None)
    assert job.given(store, verify(job.query)) == asked(store, text) != Given(text)
    dataset = read(text, [GRAPH])  # default-graph-uri: its own dataset
    other = _Job(store.path, dataset, ResultFormat.JSON, frozenset(), 1 << 20, None)
    assert other.given(store, verify(other.query)) == Given(text)


def test_without_answers_or_with_damaged_ones_the_engine_answers(store, tmp_path):
    text = P + LATEST[0][0]
    assert rewritten(text, verify(read(text)), None, len) == Given(text)
    damaged = tmp_path / ANSWERS
    damaged.write_bytes(b"not an SQLite file at all" * 100)
    assert rewritten(text, verify(read(text)), AnswersFile(damaged), len) == Given(text)
    folder = tmp_path / "build"
    (folder / "store").mkdir(parents=True)
    assert answers_of(folder / "store") is None  # a build made before answers were kept


def test_what_the_build_keeps_follows_the_data():
    subject, other = URIRef("http://example.org/a"), URIRef("http://example.org/b")
    graph = Triples(
        [
            (subject, RDF.type, SDO.NewsArticle),
            (subject, SDO.datePublished, Literal("2024-01-02", datatype=XSD.date)),
            (subject, SDO.dateModified, Literal("2024-01-02T10:00:00Z", datatype=XSD.dateTime)),
            (other, SDO.dateModified, Literal("2024-01-02T12:00:00", datatype=XSD.dateTime)),
            (subject, SDO.startDate, Literal("2024-01-02", datatype=XSD.date)),
            (subject, SDO.startDate, Literal("2024-01-03", datatype=XSD.date)),
            (subject, SDO.about, other),
            (subject, SDO.mentions, other),
            (other, SDO.mentions, Literal("a name")),
        ]
    )
    kept = Answers()
    kept.update(graph)
    # two values of startDate for one subject; dateModified zoned and not: no order
    assert kept.ordered() == [str(SDO.datePublished)]
    assert kept.counts[(str(SDO.NewsArticle), str(SDO.about), str(other))] == 1
    before = {subject: frozenset(graph.by_subject[subject])}
    graph.put(subject, [(RDF.type, SDO.NewsArticle), (SDO.startDate, Literal("2024-01-02"))])
    kept.update(graph, before)
    assert kept.counts[(str(SDO.NewsArticle), str(SDO.about), str(other))] == 0
    # startDate is a plain string now; the dateModified left (other's) is of one kind
    assert kept.ordered() == [str(SDO.dateModified)]
    assert kept.dates[str(SDO.dateModified)] == {str(other): "2024-01-02T12:00:00.000000"}


def test_a_rebuild_keeps_the_answers_up_to_date(corpus_1k, tmp_path):
    data = Path(shutil.copytree(corpus_1k, tmp_path / "data"))
    builder = Builder(Settings(data=data, out=tmp_path / "out"))
    builder.build()
    text = article(data, 3).read_text("utf-8")
    text = re.sub(r"datePublished: .*", "datePublished: 2099-12-31", text, count=1)
    article(data, 3).write_text(re.sub(r"publisher: .*", "publisher: org-1", text, count=1))
    done = builder.build()
    store = EmbeddedStore(done.store_path)
    latest = P + "SELECT ?a WHERE { ?a schema:datePublished ?d } ORDER BY DESC(?d) LIMIT 1"
    assert answered(store, asked(store, latest)) == [
        ("<https://bench.example.org/id/article/article-3>",)
    ]
    per_org = P + "SELECT ?o (COUNT(?a) AS ?n) WHERE { ?a schema:publisher ?o } GROUP BY ?o"
    assert sorted(answered(store, asked(store, per_org))) == sorted(rows(store, per_org))
    with sqlite3.connect(done.path / ANSWERS) as db:
        assert db.execute("select count(*) from ordered").fetchone()[0] > 0
    # a headline is none of the answers': the next build links the file it has
    path = article(data, 4)
    path.write_text(path.read_text("utf-8").replace('headline: "', 'headline: "New: ', 1))
    again = builder.build()
    assert (again.path / ANSWERS).stat().st_ino == (done.path / ANSWERS).stat().st_ino


def test_only_properties_linking_many_subjects_to_an_object_are_counted():
    """An image or a document's topic is each one subject's: counting it would keep a row a
    triple. A publisher is shared: it is counted."""
    articles = [URIRef(f"http://example.org/a{n}") for n in range(4)]
    publisher = URIRef("http://example.org/org")
    graph = Triples(
        [(a, SDO.publisher, publisher) for a in articles]
        + [(a, SDO.image, URIRef(f"{a}.jpg")) for a in articles]
        + [(a, SDO.about, URIRef(f"http://example.org/t{n % 2}")) for n, a in enumerate(articles)]
    )
    kept = Answers()
    kept.update(graph)
    assert kept.counted() == [str(SDO.about), str(SDO.publisher)]
