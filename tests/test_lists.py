"""A build's lists as the app reads them (lod.lists): lists.sqlite holds what lists.json
holds, read a page or an entry at a time; a build made before lists.sqlite is read from
lists.json."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from rdflib import URIRef

from lod import Settings, build
from lod import lists as lists_module
from lod.layout import LISTS, LISTS_INDEX
from lod.lists import BATCH, Lists, write
from lod.make.builder import Builder
from lod.make.listings import Listings, lists_by_kind

from .test_rebuild import article


@pytest.fixture(params=["lists.sqlite", "lists.json only"])
def folder(built, tmp_path, request):
    copy = tmp_path / "build"
    copy.mkdir()
    shutil.copy(built.path / LISTS, copy / LISTS)
    if request.param == "lists.sqlite":
        shutil.copy(built.path / LISTS_INDEX, copy / LISTS_INDEX)
    return copy


def test_the_lists_read_as_lists_json_has_them(folder):
    whole = json.loads((folder / LISTS).read_text("utf-8"))
    lists = Lists(folder)
    assert set(whole) >= {"article", "organisation"} and whole["organisation"]
    for kind, entries in whole.items():
        assert lists.count(kind) == len(entries)
        assert list(lists.entries(kind)) == entries
        assert lists.page(kind, 1, 2) == entries[1:3]
        assert all(lists.entry(e["iri"]) == e for e in entries)
    assert lists.page("organisation", 10_000, 50) == [] and lists.count("nothing") == 0
    assert lists.entry("https://example.org/not-a-record") is None
    assert lists.distinct("article", "label") == {e["label"] for e in whole["article"]}


def test_a_kind_is_read_a_batch_at_a_time_in_order(tmp_path):
    entries = [
        {"iri": f"http://example.org/id/article/a{n:05}", "label": f"{n}"} for n in range(2500)
    ]
    write(tmp_path, {"article": entries, "topic": []})
    lists = Lists(tmp_path)
    assert BATCH < 2500 and list(lists.entries("article")) == entries
    assert lists.page("article", 2499, 50) == entries[2499:]


def rows(path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        found = db.execute("select * from entries order by kind, position").fetchall()
    db.close()
    return found


def test_a_rebuild_writes_again_only_the_entries_it_touched(corpus_1k, tmp_path, monkeypatch):
    """A label edited: the last build's lists.sqlite, that entry written again; a date
    edited (the order changes): written whole. Either way what a fresh build writes."""
    data = Path(shutil.copytree(corpus_1k, tmp_path / "data"))
    builder = Builder(Settings(data=data, out=tmp_path / "out"))
    builder.build()
    whole, compared = [], []
    fill, patched = lists_module._fill, lists_module._patched
    monkeypatch.setattr(lists_module, "_fill", lambda *a: whole.append(1) or fill(*a))
    monkeypatch.setattr(
        lists_module, "_patched", lambda *a: compared.append(not a[-1]) or patched(*a)
    )
    path = article(data, 3)
    # the same place in the lists (newest first, then by label)
    order = builder.state.listings.order
    path.write_text(path.read_text("utf-8").replace('"Article 3: ', '"Article 3: New: ', 1))
    done = builder.build()
    assert whole == [] and compared == [False]  # the Builder knows every record is in place
    assert builder.state.listings.order is order  # not sorted again
    fresh = build(Settings(data=data, out=tmp_path / "fresh", keep_state=0))
    assert rows(done.path / LISTS_INDEX) == rows(fresh.path / LISTS_INDEX)
    assert "New: " in json.dumps(Lists(done.path).entry(str(done.base) + "id/article/article-3"))
    text = re.sub(
        r"datePublished: .*", "datePublished: 2099-01-01", path.read_text("utf-8"), count=1
    )
    path.write_text(text)
    whole.clear()  # (the fresh build wrote its own whole)
    done = builder.build()
    assert whole == [1]
    assert builder.state.listings.order is order  # the article moved in it, not sorted again
    fresh = build(Settings(data=data, out=tmp_path / "fresh-2", keep_state=0))
    assert rows(done.path / LISTS_INDEX) == rows(fresh.path / LISTS_INDEX)
    # a build the Builder did not make is served: its lists are compared, not trusted
    build(Settings(data=data, out=tmp_path / "out", keep_state=0))
    compared.clear()
    path.write_text(path.read_text("utf-8").replace("New: ", "Newer: ", 1))
    done = builder.build()
    assert compared == [True]
    fresh = build(Settings(data=data, out=tmp_path / "fresh-3", keep_state=0))
    assert rows(done.path / LISTS_INDEX) == rows(fresh.path / LISTS_INDEX)


def test_a_build_in_a_folder_whose_name_a_uri_would_cut_is_read(tmp_path):
    """`#`, `?` and `%` in the path: the file is opened by its escaped URI."""
    folder = tmp_path / "dist #1 ?x=%20"
    folder.mkdir()
    write(folder, {"article": [{"iri": "http://example.org/id/article/a", "label": "A"}]})
    assert Lists(folder).count("article") == 1


def test_entries_of_the_same_date_and_label_are_in_the_order_of_their_iris():
    """Whatever order the records were read in (a rebuild keeps the order it sorted)."""
    listings = Listings()
    records = {}
    for name, date in (("c", "2024-01-01"), ("a", ""), ("b", "2024-01-01"), ("d", "2024-01-01")):
        subject = URIRef(f"http://example.org/id/article/{name}")
        label = "Later" if name == "d" else "Same"
        listings.lists[subject] = {"iri": str(subject), "label": label, "date": date}
        records[subject] = SimpleNamespace(kind="article")
    lists = lists_by_kind(listings, SimpleNamespace(records=records))
    assert [e["iri"].rsplit("/", 1)[1] for e in lists["article"]] == ["d", "b", "c", "a"]
