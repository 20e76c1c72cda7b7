"""`lod build --watch` told of changes by the operating system (lod.make.watching): the
files named are those written, created, removed or moved, as inotify reports them; a
look at only those files finds what a look at every file finds (lod.make.sources.
refreshed); a Builder given them rebuilds as a fresh build would without looking at every
file; what cannot be taken file by file asks for the look at every file."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from watchdog.events import EventsLostEvent

from lod import Settings
from lod.errors import BuildFailed
from lod.make import builder as builder_module
from lod.make.builder import Builder
from lod.make.sources import files, refreshed
from lod.make.watching import Watch

from .test_rebuild import article, assert_same_as_fresh, edit


@pytest.fixture
def data(corpus_1k, tmp_path) -> Path:
    return Path(shutil.copytree(corpus_1k, tmp_path / "data"))


def told(watch: Watch, wanted, within: float = 10.0) -> set[str] | None:
    """What the watch has taken once `wanted` (a set of paths, or None) is in it."""
    taken: set[str] | None = set()
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        now = watch.take()
        taken = None if now is None or taken is None else taken | now
        if taken is None or wanted is not None and wanted <= taken:
            return taken
        time.sleep(0.05)
    return taken


def test_the_system_names_the_files_written_created_removed_and_moved(data):
    watch = Watch(data)
    try:
        assert watch.observer is not None, "no inotify here"
        assert watch.take() == set()
        edited, new = article(data, 3), data / "articles" / "0000" / "article-new.md"
        edit(edited, 'headline: "', 'headline: "Told: ')
        new.write_text(edited.read_text("utf-8"), "utf-8")
        assert told(watch, {str(edited), str(new)}) >= {str(edited), str(new)}
        gone, moved = article(data, 4), data / "articles" / "0000" / "article-moved.md"
        os.rename(article(data, 5), moved)
        gone.unlink()
        taken = told(watch, {str(gone), str(moved), str(article(data, 5))})
        assert taken >= {str(gone), str(moved), str(article(data, 5))}
        (data / "articles" / "0009").mkdir()  # a folder: every file must be looked at
        assert told(watch, None) is None
        assert watch.take() == set()  # and then no more than what comes next
    finally:
        watch.close()


def test_hidden_files_and_folders_are_no_changes_but_a_save_through_one_is(data):
    """A .git/ folder made and written, an editor's swap file: nothing; a save written to a
    hidden file then renamed over the article (as editors save): the article."""
    watch = Watch(data)
    try:
        (data / ".git" / "objects").mkdir(parents=True)
        (data / ".git" / "objects" / "ab").write_text("x")
        (data / "articles" / "0000" / ".article-3.md.swp").write_text("x")
        time.sleep(0.5)
        assert watch.take() == set()
        saved = article(data, 3)
        temporary = saved.with_name(".article-3.md.tmp")
        temporary.write_text(saved.read_text("utf-8").replace("Article 3", "Saved", 1))
        os.replace(temporary, saved)
        assert told(watch, {str(saved)}) == {str(saved)}
    finally:
        watch.close()


def test_events_the_system_dropped_ask_for_a_look_at_every_file(data):
    watch = Watch(data)
    try:
        watch.on_any_event(EventsLostEvent(str(data)))
        assert watch.take() is None
    finally:
        watch.close()


def test_a_look_at_the_files_named_finds_what_a_look_at_every_file_finds(data):
    found = files(data, [])
    edited = article(data, 7)
    edit(edited, 'headline: "', 'headline: "Looked at: ')
    (data / "articles" / "0000" / "article-0a.md").write_text(edited.read_text("utf-8"))
    (data / "articles" / "0000" / "zz.md").write_text(edited.read_text("utf-8"))
    article(data, 8).unlink()
    (data / "articles" / "0000" / ".article-7.md.swp").write_text("an editor's")
    named = [
        str(edited),
        str(data / "articles" / "0000" / "article-0a.md"),
        str(data / "articles" / "0000" / "zz.md"),
        str(article(data, 8)),
        str(data / "articles" / "0000" / ".article-7.md.swp"),
        str(data / "gone.yaml"),
    ]
    again = refreshed(found, data, named)
    assert again == files(data, [])
    assert list(again) == list(files(data, []))  # in load order too
    assert list(again) != list(found)


@pytest.mark.parametrize(
    "made",
    [
        "articles/0000/notes.txt",  # not a source's type: `files` reports it
        "notes.md",  # not in a folder of a known kind
        "articles/0000/link.md",  # a link
    ],
)
def test_a_file_that_is_not_plainly_a_source_asks_for_a_look_at_every_file(data, made):
    found = files(data, [])
    path = data / made
    if path.name == "link.md":
        path.symlink_to(article(data, 1))
    else:
        path.write_text("x", "utf-8")
    assert refreshed(found, data, [str(path)]) is None
    assert refreshed(found, data, [str(data / "notes.yaml")]) == found  # came and went
    (data / "dataset.yaml").unlink()
    assert refreshed(found, data, [str(data / "dataset.yaml")]) is None


def test_a_builder_told_what_changed_rebuilds_as_a_fresh_build_without_looking_at_every_file(
    data, tmp_path, monkeypatch
):
    builder = Builder(Settings(data=data, out=tmp_path / "out"))
    builder.build()
    looks = []
    look = builder_module.files
    monkeypatch.setattr(builder_module, "files", lambda *a: looks.append(1) or look(*a))
    edited = article(data, 3)
    edit(edited, 'headline: "', 'headline: "Told: ')
    new = data / "articles" / "0000" / "article-new.md"
    new.write_text(article(data, 5).read_text("utf-8").replace("Article 5", "Article new", 1))
    assert builder.changed({str(edited), str(new)})
    assert not builder.changed(set())
    built = builder.build({str(edited), str(new)})
    assert looks == [] and not builder.changed({str(edited)})  # as built
    assert_same_as_fresh(built, data, tmp_path)
    (data / "articles" / "0000" / "notes.txt").write_text("x")  # a fault: every file, then
    looks.clear()
    with pytest.raises(BuildFailed, match="unsupported file type"):
        builder.build({str(data / "articles" / "0000" / "notes.txt")})
    assert looks == [1]
    (data / "articles" / "0000" / "notes.txt").unlink()
    edit(edited, "Told: ", "Told again: ")
    built = builder.build({str(edited)})
    assert looks == [1, 1]  # the last look found faults: this one looks at every file
    assert_same_as_fresh(built, data, tmp_path)


def test_files_named_before_a_failed_build_are_read_again_by_the_next(data, tmp_path):
    """A bad edit named, the build fails; the file mended, another one named: the next
    build reads both (the files named since the last good build), as a fresh build does."""
    builder = Builder(Settings(data=data, out=tmp_path / "out"))
    builder.build()
    broken, other = article(data, 3), article(data, 6)
    edit(broken, "datePublished: ", "datePublished: never-")
    with pytest.raises(BuildFailed, match="datePublished"):
        builder.build({str(broken)})
    edit(broken, "datePublished: never-", "datePublished: ")
    edit(broken, 'headline: "', 'headline: "Mended: ')
    edit(other, 'headline: "', 'headline: "Other: ')
    built = builder.build({str(other)})  # the mend not named again
    assert_same_as_fresh(built, data, tmp_path)
