"""The search index's size (lod.make.search_index): long texts kept zlib-compressed, the
links kept in their own order (no row ids), the free pages dropped after a full build;
none of it changes a result. Searches (words, phrases, prefixes, exclusions, filters, in
several languages) and the feeds' latest articles are the same on an index of the former
layout (every text plain, links with row ids: what builds made before), which is still
read, and a rebuild writes such an index again whole."""

from __future__ import annotations

import shutil
import sqlite3
import zlib
from pathlib import Path

import pytest

from lod import Settings, build
from lod.make import search_index
from lod.make.changes import Diff
from lod.serve.search import SearchIndex

from .conftest import copy_data
from .test_search import write_articles
from .test_search_languages import BASE, RECORDS, graph_of, vocabulary, written

QUERIES = [
    "sustainable",
    "développement",
    '"sustainable développement"',  # a phrase
    '"développement sustainable"',  # the words, not in that order: no match
    "photo*",  # a prefix
    "dévelop*",
    "sustainable -pacific",
    "hostile",
    "digital",
    "unesco",
    "развития",
    "联合国",
    "desarrollos",
    '"nations unies"',
]
LANGUAGES = [None, "en", "fr", "es", "ru"]


def as_layout_1(folder: Path) -> None:
    """The index in `folder` as builds wrote it before: texts plain, links a table with
    row ids and two indexes, each record's summary in records, no layout in meta."""
    index = SearchIndex(folder)
    summaries = [
        (index._summary(index._db(), record), record)
        for (record,) in index._db().execute("select id from records")
    ]
    index._db().close()
    db = sqlite3.connect(folder / "search.sqlite")
    db.execute("alter table records add column summary text not null default ''")
    db.executemany("update records set summary = ? where id = ?", summaries)
    rows = db.execute("select row, title, names, description, body from texts").fetchall()
    db.executemany(
        "update texts set title = ?, names = ?, description = ?, body = ? where row = ?",
        [(*map(search_index.unpack, columns), row) for row, *columns in rows],
    )
    db.executescript(
        """
        create table links1(id integer not null, term integer not null, role text not null,
            kind text not null, date text not null);
        insert into links1 select id, term, role, kind, date from links order by id, term;
        drop table links;
        alter table links1 rename to links;
        create index links_term on links(term, kind, date);
        create index links_id on links(id, term);
        delete from meta where key = 'layout';
        """
    )
    db.commit()
    assert not db.execute("select count(*) from texts where typeof(body) = 'blob'").fetchone()[0]
    db.close()


def answers(index: SearchIndex) -> list:
    """Everything a reader sees of the index: each query's results (hits with their
    titles, snippets and ranks, totals, facets) in each reader language and filtered, and
    the latest articles, overall and linked to each facet value."""
    found = []
    for query in QUERIES:
        for language in LANGUAGES:
            found.append(index.search(query, language=language))
        found.append(index.search(query, filters={"kind": "article"}))
    for _, (facet, value) in sorted(index._terms(index._db()).items()):
        if facet != "kind":
            found.append(index.latest(value))
    found.append(index.latest())
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The default dataset with test_search's articles, built: its build folder."""
    root = tmp_path_factory.mktemp("disk")
    data = copy_data(root / "data")
    write_articles(data)
    return build(Settings(data=data, out=root / "dist")).path


def test_the_former_layout_is_read_and_answers_the_same(built, tmp_path):
    shutil.copyfile(built / "search.sqlite", tmp_path / "search.sqlite")
    as_layout_1(tmp_path)
    now, before = answers(SearchIndex(built)), answers(SearchIndex(tmp_path))
    assert now == before
    searches = [found for found in now if not isinstance(found, list)]
    assert sum(bool(results.hits) for results in searches) > len(QUERIES)
    assert sum(bool(entries) for entries in now if isinstance(entries, list)) > 3


def test_the_former_layout_in_languages_answers_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(search_index, "PACKED", 1)  # these texts are short: pack them all
    index = written(tmp_path / "now")
    shutil.copytree(tmp_path / "now", tmp_path / "before")
    as_layout_1(tmp_path / "before")
    assert answers(index) == answers(SearchIndex(tmp_path / "before"))


def test_long_texts_are_kept_compressed_and_read_back_as_written(built):
    db = sqlite3.connect(built / "search.sqlite")
    try:
        kept = db.execute("select title, names, description, body from texts").fetchall()
    finally:
        db.close()
    for columns in kept:
        for value in columns:
            if isinstance(value, bytes):
                text = zlib.decompress(value).decode("utf-8")
                assert len(text.encode("utf-8")) >= search_index.PACKED
                assert search_index.unpack(value) == text
            else:  # short, or longer compressed
                data = value.encode("utf-8")
                assert len(data) < search_index.PACKED or len(zlib.compress(data, 6)) >= len(data)
    assert any(isinstance(value, bytes) for columns in kept for value in columns)


def test_a_full_build_leaves_no_free_pages(built):
    db = sqlite3.connect(built / "search.sqlite")
    try:
        assert db.execute("pragma freelist_count").fetchone() == (0,)
        assert dict(db.execute("select key, value from meta"))["layout"] == search_index.LAYOUT
    finally:
        db.close()


def test_a_rebuild_replaces_packed_rows_as_a_fresh_build_makes_them(tmp_path, monkeypatch):
    """Rows replaced in place when their texts are compressed: FTS5 forgets a row given
    the keys it was made of, read back from the compressed texts."""
    monkeypatch.setattr(search_index, "PACKED", 1)
    first = tmp_path / "first"
    written(first)
    changed = dict(RECORDS)
    changed["article/fr-unesco"] = RECORDS["article/es-desarrollo"]
    del changed["article/ru-razvitie"]
    second, fresh = tmp_path / "second", tmp_path / "fresh"
    second.mkdir()
    graph, kinds = graph_of(changed)
    iri = f"{BASE}id/"
    diff = Diff("first", set(), {iri + "article/fr-unesco"}, {iri + "article/ru-razvitie"})
    search_index.write(second, graph, kinds, BASE, "en", diff, first)
    assert vocabulary(second) == vocabulary(fresh_index(fresh, changed))
    for query in ["unesco", "desarrollo", "развития", '"el desarrollo"']:
        assert SearchIndex(second).search(query) == SearchIndex(fresh).search(query), query


def fresh_index(folder: Path, records: dict) -> Path:
    written(folder, records)
    return folder


def test_an_index_of_the_former_layout_is_written_again_whole(tmp_path, monkeypatch):
    """A rebuild after an upgrade: nothing changed, yet the index is written whole in the
    new layout (a copy would keep its plain texts and its links with row ids)."""
    monkeypatch.setattr(search_index, "PACKED", 1)
    first, second = tmp_path / "first", tmp_path / "second"
    written(first)
    as_layout_1(first)
    second.mkdir()
    graph, kinds = graph_of(RECORDS)
    search_index.write(second, graph, kinds, BASE, "en", Diff("first"), first)
    db = sqlite3.connect(second / "search.sqlite")
    try:
        meta = dict(db.execute("select key, value from meta"))
        assert meta["layout"] == search_index.LAYOUT
        assert db.execute("select count(*) from texts where typeof(body) = 'blob'").fetchone()[0]
        (links,) = db.execute("select sql from sqlite_schema where name = 'links'").fetchone()
        assert "without rowid" in links
    finally:
        db.close()


def test_rows_made_on_helper_processes_are_those_made_here(corpus_1k, tmp_path, monkeypatch):
    """From APART records on, each record's row, links and keys are made by helper
    processes sent its N-Triples lines (or its pairs, when the graph read it back): the
    index is the one made here, byte for byte."""
    from lod.make.builder import Builder
    from lod.make.parts import ReadBack

    builder = Builder(Settings(data=corpus_1k, out=tmp_path / "out", keep_state=0))
    builder.build()
    validated = builder.state.validated
    graph, records = validated.graph, validated.conversion.records
    assert isinstance(graph.by_subject, ReadBack)
    read_back = sorted(records, key=str)[7]
    assert graph.by_subject[read_back]  # its pairs kept in memory; the others' as lines
    written = {}
    for apart in (0, 1 << 40):
        monkeypatch.setattr(search_index, "APART", apart)
        folder = tmp_path / f"apart-{apart}"
        folder.mkdir()
        search_index.write(folder, graph, records, validated.conversion.dataset.base, "en")
        written[apart] = (folder / search_index.SEARCH_INDEX).read_bytes()
    assert written[0] == written[1 << 40]
