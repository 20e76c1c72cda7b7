"""Incremental rebuilds (lod.make.builder.Builder): after each kind of change to a generated
corpus, the rebuild's files are byte for byte those of a fresh build of the same data, and
its store holds the same triples; a rebuild reads only the changed files; a failed rebuild
changes nothing."""

from __future__ import annotations

import gc
import gzip
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pyoxigraph
import pytest

from lod import Settings, build
from lod.errors import BuildFailed
from lod.make import Builder
from lod.make import builder as builder_module
from lod.make import steps as steps_module
from lod.make.convert import contribution, convert, index_records, subjects
from lod.make.sources import load

from .conftest import DATA, MULTILINGUAL

# Written the same by every build of the same data (validation.ttl's report nodes are
# blank nodes, manifest.json has the build's id and time: compared without them).
SAME_BYTES = [
    "dataset.nt.gz",
    "dataset.ttl.gz",
    "dataset.jsonld.gz",
    "void.ttl",
    "SHA256SUMS",
    "lists.json",
    "reconcile.json",
    "validation.txt",
    "answers.sqlite",
    "mixnmatch.tsv",
    "versions.json",
]


@pytest.fixture
def data(corpus_1k, tmp_path) -> Path:
    return Path(shutil.copytree(corpus_1k, tmp_path / "data"))


@pytest.fixture
def builder(data, tmp_path) -> Builder:
    builder = Builder(Settings(data=data, out=tmp_path / "out"))
    builder.build()
    return builder


def assert_same_as_fresh(built, data: Path, tmp_path: Path) -> None:
    fresh = build(Settings(data=data, out=tmp_path / f"fresh-{len(list(tmp_path.iterdir()))}"))
    for name in SAME_BYTES:
        assert (built.path / name).read_bytes() == (fresh.path / name).read_bytes(), name
    manifest = {k: v for k, v in built.manifest.items() if k not in ("id", "created")}
    assert manifest == {k: v for k, v in fresh.manifest.items() if k not in ("id", "created")}
    assert built.id.rsplit("-", 1)[1] == fresh.id.rsplit("-", 1)[1]  # the content hash
    assert _quads(built.store_path) == _quads(fresh.store_path)


def _quads(path: Path) -> set[str]:
    return {str(quad) for quad in pyoxigraph.Store.read_only(str(path))}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), "utf-8")


def article(data: Path, number: int) -> Path:
    return data / "articles" / f"{number // 1000:04d}" / f"article-{number}.md"


def test_edits_of_every_kind_rebuild_as_a_fresh_build_would(builder, data, tmp_path):
    first = builder.build()  # nothing changed: a new build of the same content
    assert first.id.rsplit("-", 1)[1] == builder.state.build.id.rsplit("-", 1)[1]

    edit(article(data, 3), 'headline: "', 'headline: "Edited: ')
    assert builder.changed()
    assert_same_as_fresh(builder.build(), data, tmp_path)
    assert not builder.changed()

    # an event leaves its super-event and joins another: inverse links follow
    events = data / "events" / "events.yaml"
    edit(events, "  superEvent: event-0\n", "")
    edit(events, "- id: event-2\n", "- id: event-2\n  superEvent: event-1\n")
    assert_same_as_fresh(builder.build(), data, tmp_path)

    # a new article, then an organisation's row changes
    text = article(data, 5).read_text("utf-8").replace("Article 5", "Article new", 1)
    (data / "articles" / "0000" / "article-new.md").write_text(text, "utf-8")
    assert_same_as_fresh(builder.build(), data, tmp_path)
    organisations = data / "organisations" / "organisations.csv"
    lines = organisations.read_text("utf-8").splitlines(keepends=True)
    organisations.write_text(lines[0] + lines[2] + lines[1] + "".join(lines[3:]), "utf-8")
    edit(organisations, "org-3,", "org-3,Renamed ")
    assert_same_as_fresh(builder.build(), data, tmp_path)

    # what a rebuild does in full: a record removed (on purpose, see lod.make.permanence),
    # dataset.yaml changed
    article(data, 7).unlink()
    builder.allow_removals = True
    assert_same_as_fresh(builder.build(), data, tmp_path)
    edit(data / "dataset.yaml", "title: Synthetic news", "title: Other news")
    assert_same_as_fresh(builder.build(), data, tmp_path)


def test_a_rebuild_reads_only_the_changed_files(builder, data, monkeypatch):
    read = []
    original = builder_module.read
    monkeypatch.setattr(
        builder_module, "read", lambda path, *a: read.append(path) or original(path, *a)
    )
    indexed = []  # the records of an edit in place are not indexed again
    original_index = builder_module.index_records
    monkeypatch.setattr(
        builder_module, "index_records", lambda *a: indexed.append(1) or original_index(*a)
    )
    edit(article(data, 11), 'headline: "', 'headline: "Changed: ')
    builder.build()
    assert read == [str(article(data, 11))]
    assert indexed == []
    (data / "articles" / "0000" / "article-new.md").write_text(
        article(data, 5).read_text("utf-8").replace("Article 5", "Article new", 1), "utf-8"
    )
    builder.build()  # a record comes: every record is indexed again
    assert indexed == [1]


def test_the_mixnmatch_catalogue_is_made_again_only_when_an_entry_of_it_changed(
    builder, data, tmp_path, monkeypatch
):
    """Articles are not in it: an article edited, the last build's catalogue is the new
    one's; an organisation renamed, it is made again. Either way, a fresh build's."""
    made = []
    original = steps_module.catalogue
    monkeypatch.setattr(steps_module, "catalogue", lambda *a: made.append(1) or original(*a))
    edit(article(data, 3), 'headline: "', 'headline: "Edited: ')
    assert_same_as_fresh(builder.build(), data, tmp_path)
    assert made == [1]  # the fresh build's, not the rebuild's
    made.clear()
    organisations = data / "organisations" / "organisations.csv"
    edit(organisations, "org-3,", "org-3,Renamed ")
    built = builder.build()
    assert made == [1] and "Renamed" in (built.path / "mixnmatch.tsv").read_text("utf-8")
    assert_same_as_fresh(built, data, tmp_path)
    # another process builds (and serves) a rename the Builder never sees, then undone:
    # the Builder's entries are as they were, but the served catalogue is not its own
    edit(organisations, "org-3,Renamed ", "org-3,Elsewhere ")
    build(Settings(data=data, out=tmp_path / "out", keep_state=0))
    edit(organisations, "org-3,Elsewhere ", "org-3,Renamed ")
    built = builder.build()
    assert "Elsewhere" not in (built.path / "mixnmatch.tsv").read_text("utf-8")
    assert_same_as_fresh(built, data, tmp_path)


def test_a_build_collects_only_the_young_generations_and_leaves_the_collector_as_it_was(
    data, tmp_path
):
    """A build defers full collections (they scan every object it keeps, for nothing), and
    gives the thresholds back after a good build and a failed one alike."""
    full: list[dict] = []

    def seen(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(info)

    before = gc.get_threshold()
    gc.set_threshold(50, 1, 1)  # a full collection as often as the collector allows
    gc.callbacks.append(seen)
    try:
        builder = Builder(Settings(data=data, out=tmp_path / "out"))
        builder.build()
        edit(article(data, 9), "datePublished: ", "datePublished: not-a-date-")
        with pytest.raises(BuildFailed):
            builder.build()
        after = gc.get_threshold()
    finally:
        gc.callbacks.remove(seen)
        gc.set_threshold(*before)
    assert full == [] and after == (50, 1, 1)


def test_a_failed_rebuild_changes_nothing(builder, data, tmp_path):
    served = builder.state.build
    current = (tmp_path / "out" / "current").resolve()
    events = data / "events" / "events.yaml"
    # a fault only validation sees: an event ending before it starts
    edit(events, "  endDate: 2015-05-31\n", "  endDate: 2015-05-01\n")
    with pytest.raises(BuildFailed, match="endDate|startDate"):
        builder.build()
    edit(article(data, 9), "datePublished: ", "datePublished: not-a-date-")
    with pytest.raises(BuildFailed):
        builder.build()
    assert (tmp_path / "out" / "current").resolve() == current
    assert builder.state.build == served
    edit(events, "  endDate: 2015-05-01\n", "  endDate: 2015-05-31\n")
    edit(article(data, 9), "datePublished: not-a-date-", "datePublished: ")
    edit(article(data, 12), 'headline: "', 'headline: "Fixed: ')
    assert_same_as_fresh(builder.build(), data, tmp_path)


@pytest.mark.parametrize("source", ["seed", "corpus"])
def test_every_triple_has_one_maker(source, corpus_1k):
    """What the rebuild relies on to drop the triples a changed record made: no two records
    make the same triple (no kind declares a link whose inverse another kind materialises)."""
    sources = load(DATA if source == "seed" else corpus_1k)
    index = index_records(sources.records, [])
    dataset = convert(sources).dataset
    makers: dict = {}
    for subject, record in subjects(index, dataset.base).items():
        for triple in contribution(record, dataset, index)[0]:
            assert triple not in makers, (triple, makers.get(triple), subject)
            makers[triple] = subject
    assert len(makers) > 300


def test_lod_build_watch_rebuilds_on_change_and_survives_bad_input(data, tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "lod", "build", "--watch", "--interval", "0.1"]
    command += ["--data", str(data), "--out", str(out), "--no-progress"]
    lines: queue.Queue[str] = queue.Queue()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()

    def next_line(prefix: str) -> str:
        while True:
            line = lines.get(timeout=120)
            if line.startswith(prefix):
                return line

    try:
        next_line("build ")
        first = (out / "current").resolve()
        edit(article(data, 4), 'headline: "', 'headline: "Watched: ')
        next_line("build ")
        second = (out / "current").resolve()
        assert second != first
        assert b"Watched: " in gzip.decompress((second / "dataset.nt.gz").read_bytes())
        edit(article(data, 4), "datePublished: ", "datePublished: never-")
        assert "datePublished" in next_line("error: ")
        assert (out / "current").resolve() == second
        edit(article(data, 4), "datePublished: never-", "datePublished: ")
        next_line("build ")
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


def test_a_shape_reading_linked_nodes_revalidates_what_links_to_a_change(data, tmp_path):
    """With a shape whose check reads the triples of the nodes a focus links to, editing
    one node can change the results of the nodes that link to it: the rebuild validates
    them too (here removing a contributor's role name changes only the #role hash node,
    and the event's result)."""
    shapes = Path(shutil.copytree(Settings().shapes, tmp_path / "shapes"))
    (shapes / "roles.ttl").write_text(
        """@prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix schema: <https://schema.org/> .
        <urn:test:NamedRoles> a sh:NodeShape ; sh:targetClass schema:Event ;
            sh:property [ sh:path schema:contributor ;
                sh:or ( [ sh:path schema:roleName ; sh:minCount 1 ] ) ;
                sh:message "a contributor's role is named" ; sh:severity sh:Warning ] .
        """,
        "utf-8",
    )
    builder = Builder(Settings(data=data, out=tmp_path / "out", shapes=shapes))
    builder.build()
    edit(data / "events" / "events.yaml", "      role: moderator\n", "")
    rebuilt = builder.build()
    assert "a contributor's role is named" in (rebuilt.path / "validation.txt").read_text()
    fresh = build(Settings(data=data, out=tmp_path / "fresh", shapes=shapes))
    for name in ("validation.txt", "manifest.json"):
        assert _without_id(rebuilt.path / name) == _without_id(fresh.path / name), name


def _without_id(path: Path) -> str:
    text = path.read_text("utf-8")
    return "\n".join(
        line for line in text.splitlines() if '"id"' not in line and '"created"' not in line
    )


def test_an_original_that_changes_language_has_its_translations_checked_again(tmp_path):
    data = Path(shutil.copytree(MULTILINGUAL, tmp_path / "d"))
    builder = Builder(Settings(data=data, out=tmp_path / "out"))
    builder.build()
    original = data / "articles" / "commission-examines-digital-technologies.md"
    edit(original, "Examines the Role", "Examines Again the Role")
    assert_same_as_fresh(builder.build(), data, tmp_path)
    edit(original, "inLanguage: en", "inLanguage: fr")  # now in its French translation's
    with pytest.raises(BuildFailed) as failed:
        builder.build()
    (error,) = failed.value.errors
    assert error.file.endswith("commission-examine-technologies-numeriques.md")
    assert error.field == "translationOf" and "is in fr too" in error.message
