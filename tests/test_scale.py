"""Scale paths give the same answers as the simple ones, on a generated corpus with injected
faults: the native SHACL engine reports exactly what pyshacl reports, and partitioned,
parallel pyshacl validation exactly what one whole-graph pyshacl call reports; the
generated corpus itself passes validation."""

from __future__ import annotations

import pickle
import random
import zlib
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import BNode, Literal, URIRef

from lod import Settings, build
from lod.config import SHAPES_DIR
from lod.formats import Format
from lod.make import Builder
from lod.make import parts as parts_module
from lod.make.convert import convert
from lod.make.parts import LONGEST, UNREAD, Blocks, ReadBack
from lod.make.sources import load
from lod.make.validate import plan, validate
from lod.make.void import describe
from lod.serve.store import INCOMING_PAGE, EmbeddedStore
from lod.triples import Triples, to_oxigraph
from lod.vocab import RDF, SDO, XSD

from .conftest import ROOT

SHAPES = SHAPES_DIR
BASE = "https://bench.example.org/"


@pytest.fixture(scope="module")
def corpus(corpus_1k) -> Path:
    return corpus_1k


def converted(corpus: Path):
    conversion = convert(load(corpus))
    assert not conversion.errors, conversion.errors[:3]
    conversion.triples.update(
        describe(conversion.triples, conversion.dataset, list(conversion.records))
    )
    return conversion


def iri(path: str) -> URIRef:
    return URIRef(BASE + path)


def inject_faults(conversion) -> None:
    """Faults only SHACL sees (the converter stops the others), one of each kind of check:
    a linked resource's class, cardinality, value range, order of dates, nested nodes."""
    triples = conversion.triples
    publisher = triples.value(iri("id/article/article-0"), SDO.publisher)
    triples.by_subject[publisher] = {
        (p, o) for p, o in triples.by_subject[publisher] if p != RDF.type
    }  # no longer an Organization
    triples.add((iri("id/article/article-1"), SDO.headline, Literal("Second", lang="en")))
    triples.add((iri("id/event/event-3"), SDO.endDate, Literal("2000-01-01", datatype=XSD.date)))
    triples.add((iri("id/place/place-2#geo"), SDO.latitude, Literal("123.5", datatype=XSD.decimal)))
    role = iri("id/event/event-5#role-9")
    triples.add((iri("id/event/event-5"), SDO.contributor, role))
    triples.add((role, RDF.type, SDO.Role))  # a role naming nobody
    triples.add((iri("id/event/event-7"), SDO.location, iri("id/person/person-2")))
    triples.add(
        (
            iri("id/topic/topic-20"),
            URIRef("http://www.w3.org/2004/02/skos/core#broader"),
            iri("id/person/person-1"),
        )
    )
    article = iri("id/article/article-7")
    triples.by_subject[article] = {
        (p, o) for p, o in triples.by_subject[article] if p != SDO.image
    }  # a warning


def test_generated_corpus_passes_validation(corpus):
    conversion = converted(corpus)
    assert validate(conversion, SHAPES).conforms
    report = validate(conversion, SHAPES, engine="pyshacl", partitioned=True, workers=2)
    assert report.conforms, report.text()[:2000]


def test_the_native_engine_reports_what_pyshacl_reports(corpus):
    conversion = converted(corpus)
    inject_faults(conversion)
    assert plan(SHAPES).pyshacl is None  # every shape in shapes/ runs natively
    native = validate(conversion, SHAPES)
    reference = validate(conversion, SHAPES, engine="pyshacl", partitioned=False)
    assert len(native.findings) >= 8
    assert native.findings == reference.findings
    assert native.results == reference.results


def test_partitioned_validation_reports_what_whole_graph_validation_reports(corpus):
    conversion = converted(corpus)
    inject_faults(conversion)
    whole = validate(conversion, SHAPES, engine="pyshacl", partitioned=False)
    parts = validate(conversion, SHAPES, engine="pyshacl", partitioned=True, workers=2)
    assert not whole.conforms
    assert len(whole.findings) >= 8
    focused = {f.focus.rsplit("/", 1)[-1] for f in whole.findings}
    assert {"event-7", "article-0", "article-1", "place-2#geo"} <= focused
    assert parts.findings == whole.findings
    assert parts.results == whole.results
    severities = {f.severity for f in whole.findings}
    assert severities == {"Violation", "Warning"}


def test_a_rebuild_validates_only_the_chunks_that_changed(corpus, tmp_path):
    cache = tmp_path / "cache"
    conversion = converted(corpus)
    first = validate(conversion, SHAPES, engine="pyshacl", partitioned=True, workers=2, cache=cache)
    before = {p.stem for p in cache.glob("*.json")}
    assert len(before) > 4
    article = iri("id/article/article-3")
    conversion.triples.add((article, SDO.headline, Literal("Another headline", lang="en")))
    second = validate(
        conversion, SHAPES, engine="pyshacl", partitioned=True, workers=2, cache=cache
    )
    after = {p.stem for p in cache.glob("*.json")}
    assert len(after - before) == 1  # one chunk validated again, the others taken as they were
    fresh = validate(conversion, SHAPES, engine="pyshacl", partitioned=False)
    assert second.findings == fresh.findings != first.findings


def test_a_document_pages_and_counts_many_incoming_links(corpus, tmp_path):
    """The dataset has more links pointing to it (each data document's void:inDataset)
    than a page shows: the page holds the right slice of them, and the count (taken by
    the engine) is all of them."""
    built = build(Settings(data=corpus, out=tmp_path / "out"))
    store = EmbeddedStore(built.store_path)
    iri = pyoxigraph.NamedNode(f"{built.base}id/dataset")
    pointing = [q.triple for q in store.oxigraph.quads_for_pattern(None, None, iri)]
    total = len(pointing)
    assert total > 2 * INCOMING_PAGE
    own = {t for t in pointing if t.subject.value.startswith(iri.value + "#")}
    for offset in (0, INCOMING_PAGE, total - 5, total + 10):
        described = store.describe(iri.value, offset)
        assert described.incoming == total
        page = {t for t in described.triples if t.object == iri}
        assert page == set(pointing[offset : offset + INCOMING_PAGE]) | own


def test_dumps_are_parts_and_an_edit_changes_one(corpus):
    """The dumps are one gzip member per part, parts are bounded, and changing a subject
    changes the part it is in and no other (what lets a rebuild recompress one part)."""
    conversion = converted(corpus)
    blocks = Blocks.of(conversion.triples)
    parts = blocks.parts()
    assert len(parts) > 5
    subjects = [{line.split(b" ", 1)[0] for line in p.data.splitlines()} for p in parts]
    assert max(map(len, subjects)) <= LONGEST
    assert b"".join(p.data for p in parts).splitlines() == sorted(
        b"".join(p.data for p in parts).splitlines()
    )
    article = iri("id/article/article-3")
    conversion.triples.add((article, SDO.headline, Literal("Edited", lang="en")))
    blocks.replace(conversion.triples, [article])
    after = blocks.parts()
    changed = {p.digest for p in after} - {p.digest for p in parts}
    assert len(after) == len(parts) and len(changed) == 1


@pytest.mark.parametrize("seed", range(6))
def test_parts_cut_again_after_changes_are_a_fresh_cut(seed, monkeypatch):
    """After subjects come, go (run starts among them) or change, the parts cut again
    around them are those of a fresh cut of the same graph (cut small here, so that
    changes meet run starts and LONGEST cuts often); and a change cuts again its run only."""
    monkeypatch.setattr(parts_module, "CUT", 16)
    monkeypatch.setattr(parts_module, "LONGEST", 24)
    recut: list[int] = []
    cut = Blocks._cut
    monkeypatch.setattr(
        Blocks, "_cut", lambda self, keys, *a: recut.append(len(keys)) or cut(self, keys, *a)
    )
    rng = random.Random(seed)
    said = URIRef("http://x.example/said")

    def subject(number: int) -> URIRef:
        return URIRef(f"http://x.example/s{number}")

    triples = Triples((subject(n), said, Literal(n)) for n in range(800))
    blocks = Blocks.of(triples)
    assert blocks.parts()
    for _ in range(40):
        changed = set()
        for _ in range(rng.randint(1, 5)):
            action, existing = rng.random(), rng.choice(list(triples.by_subject))
            if action < 0.35:  # a subject comes
                new = subject(rng.randrange(10**6))
                triples.add((new, said, Literal("new")))
                changed.add(new)
            elif action < 0.7:  # one goes
                triples.put(existing, ())
                changed.add(existing)
            else:  # one changes
                triples.add((existing, said, Literal(rng.random())))
                changed.add(existing)
        blocks.replace(triples, changed)
        recut.clear()
        again = blocks.parts()
        assert sum(recut) < len(blocks.order) / 2, "a change cut every subject again"
        fresh = Blocks.of(triples).parts()
        assert [(p.keys, p.digest) for p in again] == [(p.keys, p.digest) for p in fresh]


def test_parts_kept_on_disk_are_joined_when_read(corpus):
    """A Blocks pickled (in a Builder's state) keeps its last parts' digests, not their
    data: the parts made after loading are the same, their lines joined from the blocks."""
    conversion = converted(corpus)
    blocks = Blocks.of(conversion.triples)
    parts = blocks.parts()
    loaded = pickle.loads(pickle.dumps(blocks))
    assert len(pickle.dumps(blocks)) < len(pickle.dumps(blocks.lines)) * 1.1
    article = iri("id/article/article-3")
    conversion.triples.add((article, SDO.headline, Literal("Edited", lang="en")))
    loaded.replace(conversion.triples, [article])
    blocks.replace(conversion.triples, [article])
    after, fresh = loaded.parts(), blocks.parts()
    assert [p.digest for p in after] == [p.digest for p in fresh]
    unchanged = [p for p in after if p.digest in {q.digest for q in parts}]
    assert len(unchanged) == len(after) - 1
    assert [p.data for p in after] == [p.data for p in fresh]
    assert [(p.lines, p.size) for p in after] == [(p.data.count(b"\n"), len(p.data)) for p in fresh]


@pytest.mark.parametrize("source", ["seed", "corpus"])
def test_blocks_are_what_pyoxigraph_writes(source, corpus):
    """The blocks are written term by term (each IRI once) rather than by
    pyoxigraph.serialize: they must be its lines, byte for byte, escapes, language tags,
    datatypes and blank nodes included; and an IRI pyoxigraph refuses is still refused."""
    triples = converted(corpus if source == "corpus" else ROOT / "data").triples
    awkward = iri("id/article/awkward")
    for literal in (
        Literal(
            'quote " backslash \\ newline \n return \r tab \t bell \x07 del \x7f', lang="en-GB"
        ),
        Literal("é ü 中文 \u2028 😀"),
        Literal("12", datatype=XSD.integer),
        Literal(""),
    ):
        triples.add((awkward, SDO.alternateName, literal))
    triples.add((awkward, SDO.about, BNode("b0")))
    lines = Blocks.of(triples).lines
    engine = pyoxigraph.serialize(
        (pyoxigraph.Triple(*map(to_oxigraph, t)) for t in triples),
        format=pyoxigraph.RdfFormat.N_TRIPLES,
    )
    assert b"".join(lines[key] for key in sorted(lines)) == b"".join(
        sorted(set(engine.splitlines(keepends=True)))
    )
    triples.add((awkward, SDO.sameAs, URIRef("http://example.org/a b")))
    with pytest.raises(ValueError):
        Blocks.of(triples)


@pytest.mark.parametrize("source", ["seed", "corpus"])
def test_a_graph_read_back_from_its_blocks_is_the_graph(source, corpus):
    """What a Builder's state keeps of its graph (the blocks) reads back as the same
    terms, language tags, datatypes and values included, each subject when first asked
    for; and it changes as the dict it stands for does."""
    triples = converted(corpus if source == "corpus" else ROOT / "data").triples
    graph = triples.by_subject
    read = ReadBack(list(graph), Blocks.of(triples).lines)
    some = next(iter(graph))
    assert read.get(some) == graph[some] and read.get(URIRef("urn:x:none")) is None
    assert sum(found is not UNREAD for found in read.pairs.values()) == 1
    assert list(read) == list(graph) and len(read) == len(graph)
    assert dict(read.items()) == graph
    for subject, pairs in graph.items():
        for (_, obj), (_, o2) in zip(sorted(pairs), sorted(read[subject]), strict=True):
            assert (type(obj), getattr(obj, "language", None), getattr(obj, "datatype", None)) == (
                type(o2),
                getattr(o2, "language", None),
                getattr(o2, "datatype", None),
            )
    read.setdefault(URIRef("urn:x:new"), set()).add((RDF.type, SDO.Article))
    del read[some]
    assert URIRef("urn:x:new") in read and some not in read and len(read) == len(graph)


def test_a_graph_read_back_is_read_without_being_kept_by_about(corpus):
    """Triples.about reads a subject read back from its lines without keeping its pairs
    (what a full pass, the search index's, must not hold), and gives the kept pairs of one
    already read, changed or not."""
    triples = converted(corpus).triples
    graph = dict(triples.by_subject)
    some, other = list(graph)[:2]
    triples.by_subject = ReadBack(list(graph), Blocks.of(triples).lines)
    assert triples.about(some) == graph[some]
    assert triples.about(URIRef("urn:x:none")) == set()
    assert all(found is UNREAD for found in triples.by_subject.pairs.values())
    triples.remove([(other, *next(iter(graph[other])))])  # read, kept and changed
    assert triples.about(other) == graph[other] - {next(iter(graph[other]))}


def test_a_full_build_lets_go_of_its_graph_once_written(corpus, tmp_path, monkeypatch):
    """A full build lets go of each subject's terms as its lines are made (none is left
    once they all are), then keeps its graph as those lines, read back when asked for, and
    nothing after (the search index of every record) reads it back for good: what the
    Builder holds is the lines, not the terms."""
    made, held = Blocks.of.__func__, []

    def of(cls, triples, spill=None, then=None):
        blocks = made(cls, triples, spill, then)
        held.append(sum(pairs is not None for pairs in triples.by_subject.values()))
        return blocks

    monkeypatch.setattr(Blocks, "of", classmethod(of))
    builder = Builder(Settings(data=corpus, out=tmp_path / "out", keep_state=False))
    builder.build()
    assert held == [0]
    checked = builder.state.validated
    assert isinstance(checked.graph.by_subject, ReadBack)
    assert checked.data.by_subject is checked.graph.by_subject
    assert all(found is UNREAD for found in checked.graph.by_subject.pairs.values())


def test_a_dump_is_a_series_of_gzip_members(corpus, tmp_path):
    built = build(Settings(data=corpus, out=tmp_path / "out"))
    data = built.dump(Format.NTRIPLES).read_bytes()
    members = 0
    while data:
        reader = zlib.decompressobj(wbits=31)  # one gzip member
        reader.decompress(data)
        data, members = reader.unused_data, members + 1
    assert members > 5
