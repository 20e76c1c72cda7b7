"""Cold incremental builds (lod.make.state): `lod build` in a new process rebuilds from the
state the last build left in dist/cache/, reading only the changed files, and writes what a
fresh build writes, byte for byte; a damaged, stale or foreign state is ignored (a full
build), never trusted."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from lod import Settings, build, layout, open_build
from lod.errors import PublishError
from lod.layout import Output
from lod.make import apart, parts
from lod.make import builder as builder_module
from lod.make import state as state_module
from lod.make.parts import Lines

from .conftest import wait_for_lock
from .test_rebuild import article, assert_same_as_fresh, edit

AN_HOUR = 3600 * 10**9


@pytest.fixture
def data(corpus_1k, tmp_path) -> Path:
    """The corpus, its files last modified an hour ago (older than RACY_NS before any
    build here: their stamps can be trusted)."""
    data = Path(shutil.copytree(corpus_1k, tmp_path / "data"))
    for file in data.rglob("*"):
        age(file)
    return data


def age(file: Path) -> None:
    """Date a file's last change an hour back, out of RACY_NS of any build's scan."""
    then = time.time_ns() - AN_HOUR
    os.utime(file, ns=(then, then))


@pytest.fixture
def settings(data, tmp_path) -> Settings:
    settings = Settings(data=data, out=tmp_path / "out")
    build(settings)
    return settings


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The source files the builds read, in order."""
    read: list[str] = []
    original = builder_module.read
    monkeypatch.setattr(
        builder_module, "read", lambda path, *a: read.append(path) or original(path, *a)
    )
    return read


def assert_rebuilt_in_full(settings, data: Path, tmp_path: Path, reads: list[str]) -> None:
    """An edit, then a build that reads every source again (the state not used), and
    makes what a fresh build makes."""
    edit(article(data, 2), 'headline: "', 'headline: "After the state: ')
    rebuilt = build(settings)
    assert len(reads) > 1000  # read in full
    assert_same_as_fresh(rebuilt, data, tmp_path)


def test_lod_build_in_a_new_process_rebuilds_from_the_last_state(settings, data, tmp_path):
    edit(article(data, 3), 'headline: "', 'headline: "Cold: ')
    # An unchanged file made unreadable behind an unchanged stamp: a build that read it
    # would fail, one that takes its records from the state does not.
    hidden = article(data, 4)
    original, stamp = hidden.read_bytes(), hidden.stat()
    hidden.write_bytes(b"\0" * len(original))
    os.utime(hidden, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    command = [sys.executable, "-m", "lod", "build", "--progress"]
    command += ["--data", str(data), "--out", str(settings.out)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "  resume: " in done.stderr and "  keep: " in done.stderr
    hidden.write_bytes(original)
    assert_same_as_fresh(open_build(settings.out), data, tmp_path)


def test_a_cold_rebuild_reads_only_the_changed_files(settings, data, tmp_path, reads):
    edit(article(data, 11), 'headline: "', 'headline: "Changed: ')
    rebuilt = build(settings)
    assert reads == [str(article(data, 11))]
    assert_same_as_fresh(rebuilt, data, tmp_path)


def test_cold_rebuilds_of_every_kind_equal_fresh_builds(settings, data, tmp_path):
    # an event leaves its super-event and joins another
    events = data / "events" / "events.yaml"
    edit(events, "  superEvent: event-0\n", "")
    edit(events, "- id: event-2\n", "- id: event-2\n  superEvent: event-1\n")
    assert_same_as_fresh(build(settings), data, tmp_path)
    # a new article
    text = article(data, 5).read_text("utf-8").replace("Article 5", "Article new", 1)
    (data / "articles" / "0000" / "article-new.md").write_text(text, "utf-8")
    assert_same_as_fresh(build(settings), data, tmp_path)
    # dataset.yaml changed: in full, from the records kept
    edit(data / "dataset.yaml", "title: Synthetic news", "title: Other news")
    assert_same_as_fresh(build(settings), data, tmp_path)


def test_a_failed_cold_rebuild_keeps_the_state_for_the_next(settings, data, tmp_path, reads):
    served = (Path(settings.out) / "current").resolve()
    edit(article(data, 9), "datePublished: ", "datePublished: not-a-date-")
    with pytest.raises(Exception, match="datePublished"):
        build(settings)
    assert (Path(settings.out) / "current").resolve() == served
    edit(article(data, 9), "datePublished: not-a-date-", "datePublished: ")
    reads.clear()
    rebuilt = build(settings)
    assert reads == [str(article(data, 9))]
    assert_same_as_fresh(rebuilt, data, tmp_path)


@pytest.mark.parametrize("header", [b'{"other": 1}', b"[1, 2]", b'{"valid_for": 3}', b"not json"])
def test_an_intact_file_with_a_header_of_another_layout_is_ignored(settings, header):
    """A file another layout of the state wrote (its hash matches, its header does not)."""
    file = state_module.path(settings)
    body = file.read_bytes()
    start = body.index(b"\n", len(state_module.MAGIC)) + 1
    rest = body[start : -state_module.DIGEST]
    whole = state_module.MAGIC + header + b"\n" + rest
    file.write_bytes(whole + hashlib.sha256(whole).digest())
    with pytest.raises(state_module.StateIgnored, match="another layout of the state"):
        state_module.load_state(settings)


@pytest.mark.parametrize(
    "damage", ["a flipped byte", "truncated", "empty", "not a state", "a header without end"]
)
def test_a_damaged_state_is_ignored(settings, data, tmp_path, reads, damage):
    file = state_module.path(settings)
    body = bytearray(file.read_bytes())
    if damage == "a header without end":  # its hash matching
        body[len(state_module.MAGIC) :] = b"{" * (state_module.HEADER + 1)
        body += hashlib.sha256(body).digest()
    elif damage == "a flipped byte":
        body[len(body) // 2] ^= 0x01
    elif damage == "truncated":
        del body[len(body) // 2 :]
    elif damage == "empty":
        body.clear()
    else:
        body[:5] = b"junk!"
    file.write_bytes(bytes(body))
    with pytest.raises(state_module.StateIgnored, match="damaged|could not be read"):
        state_module.load_state(settings)
    assert_rebuilt_in_full(settings, data, tmp_path, reads)


def _mapped_file_mb() -> int:
    """The file pages this process maps (RssFile), in MB."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("RssFile:")[1].split()[0]) // 1024


def test_a_state_is_read_as_a_stream_not_mapped_into_memory(settings, monkeypatch):
    """A mapped file's pages count in the process's memory once read (the state's 5.6 GB
    at a million articles, beside the objects it makes): the snapshot is read through a
    buffer. Measured as the pickle ends, where a mapped file was still mapped."""
    size = state_module.path(settings).stat().st_size >> 20
    assert size >= 4
    before, at_the_end = _mapped_file_mb(), []
    freeze = state_module.gc.freeze
    monkeypatch.setattr(
        state_module.gc, "freeze", lambda: (at_the_end.append(_mapped_file_mb()), freeze())
    )
    assert state_module.load_state(settings) is not None
    assert at_the_end[0] - before < size // 2


def test_each_process_adds_a_step_replayed_by_the_next_until_a_new_snapshot(
    settings, data, tmp_path, reads
):
    snapshot = state_module.path(settings)
    steps = lambda: sorted(p.name for p in snapshot.parent.glob("builder.state.*"))  # noqa: E731
    for number in range(1, state_module.MAX_STEPS + 1):
        edit(article(data, 20 + number), 'headline: "', f'headline: "Step {number}: ')
        age(article(data, 20 + number))  # else read again by the next build too (racy)
        reads.clear()
        rebuilt = build(settings)  # a new Builder: the snapshot and the steps replayed
        assert reads == [str(article(data, 20 + number))]
        assert steps() == [f"builder.state.{n}" for n in range(1, number + 1)]
    assert_same_as_fresh(rebuilt, data, tmp_path)
    edit(article(data, 40), 'headline: "', 'headline: "After the steps: ')
    rebuilt = build(settings)
    assert steps() == []  # too many steps to replay: a new snapshot
    assert state_module.load_state(settings)[0].build == rebuilt
    assert_same_as_fresh(rebuilt, data, tmp_path)


@pytest.mark.parametrize("fault", ["missing", "damaged", "from another out folder"])
def test_a_journal_that_does_not_lead_to_the_current_build_is_ignored(
    settings, data, tmp_path, reads, fault
):
    other = Settings(data=data, out=tmp_path / "other")
    shutil.copytree(settings.out, other.out, symlinks=True)  # the same history up to here
    edit(article(data, 6), 'headline: "', 'headline: "Newer: ')
    build(settings)
    step = state_module.path(settings).with_name("builder.state.1")
    assert state_module.load_state(settings) is not None
    if fault == "missing":
        step.unlink()
    elif fault == "damaged":
        body = bytearray(step.read_bytes())
        body[-100] ^= 0x01
        step.write_bytes(bytes(body))
    else:  # an intact step after the same snapshot, to another build
        edit(article(data, 6), 'headline: "Newer: ', 'headline: "Other: ')
        build(other)
        shutil.copy(state_module.path(other).with_name("builder.state.1"), step)
    with pytest.raises(state_module.StateIgnored, match="damaged|another layout|leads to build"):
        state_module.load_state(settings)
    reads.clear()
    assert_rebuilt_in_full(settings, data, tmp_path, reads)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("code", "another version of lod's code"),
        ("base", "another base IRI"),
        ("shapes", "other shapes"),
        ("data path", "another data folder"),
    ],
)
def test_a_state_made_for_other_code_or_settings_is_ignored(
    settings, data, tmp_path, monkeypatch, change, said
):
    assert state_module.load_state(settings) is not None
    if change == "code":
        monkeypatch.setattr(state_module, "_code_digest", lambda: "other code")
    elif change == "base":
        settings = Settings(data=data, out=settings.out, base="https://other.example/")
    elif change == "shapes":
        shapes = Path(shutil.copytree(settings.shapes, tmp_path / "shapes"))
        (shapes / "extra.ttl").write_text("# a new shapes file\n", "utf-8")
        settings = Settings(data=data, out=settings.out, shapes=shapes)
    else:
        moved = Path(shutil.copytree(data, tmp_path / "moved"))
        settings = Settings(data=moved, out=settings.out)
    with pytest.raises(state_module.StateIgnored, match=f"it was made for {said}"):
        state_module.load_state(settings)


def test_the_same_settings_written_another_way_keep_the_state(
    settings, data, tmp_path, reads, monkeypatch
):
    """LOD_BASE given as dataset.yaml has it, or the data folder named by another path:
    the same build, so the state is used: after an edit, only the file edited is read
    again (each file is known by its path as this build writes it), an error names the
    file that way, and the build is a fresh build's."""
    monkeypatch.chdir(data.parent)
    same = Settings(data=Path(data.name), out=settings.out, base="https://bench.example.org/")
    assert state_module.load_state(same) is not None
    relative = article(Path(data.name), 12)
    edit(relative, "datePublished: ", "datePublished: not-a-date-")
    with pytest.raises(Exception, match=f"^{relative}:"):
        build(same)
    assert reads == [str(relative)]
    edit(relative, "datePublished: not-a-date-", "datePublished: ")
    age(relative)
    reads.clear()
    build(same)  # its step, after the snapshot, names the files as `same` does
    assert reads == [str(relative)]
    edit(article(data, 13), 'headline: "', 'headline: "Back to the absolute path: ')
    reads.clear()
    rebuilt = build(settings)  # the step replayed on the snapshot
    assert reads == [str(article(data, 13))]
    assert_same_as_fresh(rebuilt, data, tmp_path)


def test_lod_build_says_why_a_kept_state_was_not_used(settings, data, tmp_path):
    moved = shutil.copytree(data, tmp_path / "moved")  # the same files, another folder
    command = [sys.executable, "-m", "lod", "build", "--no-progress"]
    command += ["--data", str(moved), "--out", str(settings.out)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (
        f"a full build: the state kept in {settings.out / 'cache'}/ was not used: it was "
        "made for another data folder"
    ) in done.stderr
    again = subprocess.run(command, capture_output=True, text=True)
    assert again.returncode == 0 and "a full build" not in again.stderr  # its own state


def test_a_file_changed_without_a_new_stamp_is_read_again_when_racy(data, tmp_path, reads):
    """A file edited within RACY_NS of the state's scan, same size, its time put back (a
    coarse clock): its stamp says nothing changed, but it is read again."""
    settings = Settings(data=data, out=tmp_path / "out")
    target = article(data, 8)
    now = time.time_ns()
    os.utime(target, ns=(now, now))
    before = target.stat()
    build(settings)
    edit(target, "Article 8", "Racy!!! 8")  # same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size
    reads.clear()
    rebuilt = build(settings)
    assert str(target) in reads and len(reads) < 10  # the racy files only
    assert_same_as_fresh(rebuilt, data, tmp_path)


def test_a_state_that_cannot_be_written_does_not_fail_the_build(data, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "cache").write_text("a file where the cache folder goes", "utf-8")
    built = build(Settings(data=data, out=out))
    assert (out / "current").resolve() == built.path
    assert not state_module.path(Settings(data=data, out=out)).exists()


def test_a_full_disk_while_the_lines_are_written_fails_the_build_and_changes_nothing(
    settings, data, monkeypatch
):
    """The graph is let go of as its lines are written (lod.make.builder): when they cannot
    be (a full disk, which cannot be made here: the write fails as it would), the build
    fails naming the file, and the last build is still served, whole."""
    served = build(settings)
    edit(article(data, 3), 'headline: "', 'headline: "Edited ')
    written = Lines.flush

    def full(self):
        if len(self.pending) > 1000:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))
        written(self)

    monkeypatch.setattr(Lines, "flush", full)
    (Path(settings.out) / "cache").joinpath("builder.state").unlink(missing_ok=True)
    kept = _lines_files(settings)
    with pytest.raises(PublishError) as failed:
        build(settings)
    assert _lines_files(settings) == kept  # the failed build's lines removed
    assert Path(failed.value.path).parent == Path(settings.out) / "cache"
    assert failed.value.reason == os.strerror(errno.ENOSPC)
    assert open_build(settings.out).id == served.id
    assert (Path(settings.out) / "current").resolve() == served.path


def test_lod_build_watch_resumes_and_keeps_its_steps_when_stopped(settings, data, tmp_path, reads):
    command = [sys.executable, "-m", "lod", "build", "--watch", "--interval", "0.1"]
    command += ["--data", str(data), "--out", str(settings.out), "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        watching = (line for line in process.stdout if line.startswith("watching"))
        next(watching)  # built, from the state the fixture's build left
        edit(article(data, 30), 'headline: "', 'headline: "Watched: ')
        age(article(data, 30))
        next(watching)  # built again
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=120)[0]
    finally:
        process.kill()
    assert "keeping the last build's state" in output
    assert state_module.path(settings).with_name("builder.state.2").is_file()  # two steps
    edit(article(data, 31), 'headline: "', 'headline: "After watching: ')
    rebuilt = build(settings)
    assert reads == [str(article(data, 31))]
    assert_same_as_fresh(rebuilt, data, tmp_path)


def test_lod_keep_state_0_keeps_nothing_and_builds_in_full(data, tmp_path, reads):
    settings = Settings.from_env({"LOD_KEEP_STATE": "0"}, data=data, out=tmp_path / "out")
    build(settings)
    assert not state_module.path(settings).exists()
    edit(article(data, 3), 'headline: "', 'headline: "Unkept: ')
    reads.clear()
    build(settings)
    assert len(reads) > 1000


# `lod build`, its snapshot writer made to wait until a gate file exists (at most a minute).
GATED_LOD = """
import os, sys, time
from pathlib import Path
from lod.make import builder, parts
from lod.cli import main
save_state, gate = builder.save_state, Path(os.environ["GATE"])
parts.APART_BYTES = int(os.environ.get("APART_BYTES", parts.APART_BYTES))  # 0: helpers always
def gated(*args):
    deadline = time.monotonic() + 60
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return save_state(*args)
builder.save_state = gated
sys.argv[0] = "lod"
main()
"""


def held(out: Path) -> bool:
    """Whether a process holds the build lock of `out`."""
    with open(Path(out) / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        return False  # released as the file closes


def gated_lod_build(data: Path, out: Path, gate: Path, **environ) -> None:
    command = [sys.executable, "-c", GATED_LOD, "build", "--no-progress"]
    command += ["--data", str(data), "--out", str(out)]
    done = subprocess.run(
        command, capture_output=True, text=True, env=os.environ | environ | {"GATE": str(gate)}
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("build ")  # its summary, written out before it exits


@pytest.mark.parametrize("helpers", ["without", "with"])
def test_lod_build_returns_before_its_snapshot_is_written_which_holds_the_lock(
    data, tmp_path, helpers
):
    """A full build's snapshot is left to a detached writer: `lod build` returns with the
    build served and the snapshot not yet written; the writer holds the lock meanwhile (a
    next build waits), then the state it wrote is the build's. With the dumps compressed by
    helper processes too: none may keep the command's output open while the writer runs
    (a forkserver's did)."""
    settings, gate = Settings(data=data, out=tmp_path / "out"), tmp_path / "gate"
    gated_lod_build(data, settings.out, gate, **({"APART_BYTES": "0"} if helpers == "with" else {}))
    assert open_build(settings.out).id  # served
    assert not state_module.path(settings).exists() and held(settings.out)
    gate.touch()
    wait_for_lock(settings.out)
    assert state_module.load_state(settings)[0].build == open_build(settings.out)


def test_lod_keep_in_background_0_writes_the_snapshot_before_lod_build_returns(data, tmp_path):
    settings, gate = Settings(data=data, out=tmp_path / "out"), tmp_path / "gate"
    gate.touch()
    gated_lod_build(data, settings.out, gate, LOD_KEEP_IN_BACKGROUND="0")
    assert not held(settings.out)
    assert state_module.load_state(settings)[0].build == open_build(settings.out)


def test_steps_are_written_before_the_snapshot_is_left_to_the_writer(
    settings, data, tmp_path, reads, monkeypatch
):
    """In the background, every build writes its step (even one past MAX_STEPS) before the
    due snapshot is left to the writer: a writer that dies writes nothing and loses
    nothing, the next process replays one step more."""
    snapshot = state_module.path(settings)
    steps = lambda: sorted(p.name for p in snapshot.parent.glob("builder.state.*"))  # noqa: E731
    with monkeypatch.context() as patched:
        patched.setattr(builder_module, "save_state", lambda *_: os._exit(1))  # it dies
        for number in range(1, state_module.MAX_STEPS + 2):
            edit(article(data, 50 + number), 'headline: "', f'headline: "Step {number}: ')
            age(article(data, 50 + number))
            builder = builder_module.Builder(settings)
            builder.build()
            builder.save(in_background=True)
            assert builder.shared_with_writer == (number > state_module.MAX_STEPS)
            wait_for_lock(settings.out)
            assert steps() == [f"builder.state.{n}" for n in range(1, number + 1)]
    edit(article(data, 60), 'headline: "', 'headline: "After the writer died: ')
    reads.clear()
    rebuilt = build(settings)  # the old snapshot and every step replayed
    assert reads == [str(article(data, 60))]
    assert steps() == []  # then a snapshot, written before build() returned
    assert state_module.load_state(settings)[0].build == rebuilt
    assert_same_as_fresh(rebuilt, data, tmp_path)


@pytest.mark.parametrize("helpers", ["without", "with"])
def test_a_snapshot_no_process_could_be_made_for_is_written_by_the_build(
    data, tmp_path, monkeypatch, helpers
):
    """When fork fails (a process limit reached), the due snapshot of a full build is
    written before save returns, and the state is not left shared: nothing is lost, only
    the time. The dumps helper processes would compress are compressed in this process."""
    settings = Settings(data=data, out=tmp_path / "out")

    def no_fork(*_, **__):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    if helpers == "with":
        monkeypatch.setattr(parts, "APART_BYTES", 0)
        monkeypatch.setattr(apart, "_start", lambda *_: False)
    builder = builder_module.Builder(settings)
    built = builder.build()
    builder.save(in_background=True)
    assert not builder.shared_with_writer
    assert builder.on_disk == (0, built.id) and builder.journal == []
    assert state_module.load_state(settings)[0].build == built


def _lines_files(settings: Settings) -> list[Path]:
    return sorted(Output(settings.out).cache.glob(f"{layout.LINES}.*"))


@pytest.mark.parametrize("damage", ["a flipped byte", "truncated", "missing"])
def test_a_state_whose_lines_are_damaged_is_ignored(settings, data, tmp_path, reads, damage):
    """The snapshot keeps the graph's N-Triples lines in a file of their own (not in the
    pickle); that file damaged, the state is not used."""
    (lines,) = _lines_files(settings)
    body = bytearray(lines.read_bytes())
    if damage == "a flipped byte":
        body[len(body) // 2] ^= 0x01
        lines.write_bytes(bytes(body))
    elif damage == "truncated":
        lines.write_bytes(bytes(body[: len(body) // 2]))
    else:
        lines.unlink()
    with pytest.raises(state_module.StateIgnored, match="N-Triples lines"):
        state_module.load_state(settings)
    assert_rebuilt_in_full(settings, data, tmp_path, reads)


def test_the_state_keeps_one_file_of_lines_and_no_state_none(settings, data, tmp_path):
    (first,) = _lines_files(settings)
    state, _ = state_module.load_state(settings)
    assert isinstance(state.blocks.lines, Lines) and state.blocks.lines.path == first
    build(settings, allow_removals=False)  # a rebuild adds to the same file
    assert _lines_files(settings) == [first]
    (data / "articles" / "0000" / "article-5.md").unlink()  # a record gone: a full build
    build(settings, allow_removals=True)
    (second,) = _lines_files(settings)  # its own file; the last one's removed
    assert second != first
    kept_nothing = replace(settings, out=tmp_path / "nothing", keep_state=0)
    build(kept_nothing)
    assert _lines_files(kept_nothing) == []
