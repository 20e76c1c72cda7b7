"""A build's lists as the app reads them (lod.lists): lists.sqlite holds what lists.json
holds, read a page or an entry at a time; a build made before lists.sqlite is read from
lists.json."""

from __future__ import annotations

import json
import shutil

import pytest

from lod.layout import LISTS, LISTS_INDEX
from lod.lists import BATCH, Lists, write


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
