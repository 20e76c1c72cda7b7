"""`lod init`: a dataset of one's own in one command, which builds and serves at once; and
trial builds (`lod build --trial`), whose IRIs do not become permanent."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lod import Settings, build
from lod.cli import cli
from lod.errors import BuildFailed
from lod.layout import Output
from lod.web import create_app

from .conftest import ROOT

BASE = "https://news.example.org/"


def init(folder: Path, *options: str):
    return CliRunner().invoke(cli, ["init", str(folder), *options], catch_exceptions=False)


@pytest.fixture
def started(tmp_path):
    folder = tmp_path / "ocean-news"
    done = init(folder, "--base", BASE, "--publisher", "Océan Voices Network")
    assert done.exit_code == 0, done.output
    return folder


def test_init_writes_a_dataset_that_builds_and_serves(started):
    settings = Settings(data=started / "data", out=started / "dist")
    built = build(settings)
    assert built.manifest["counts"]["article"] == 1
    assert built.manifest["counts"]["organisation"] == 1
    client = create_app(settings).test_client()
    page = client.get("/doc/article/welcome", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Welcome to ocean news" in page.get_data(as_text=True)
    publisher = client.get("/doc/organisation/ocean-voices-network.ttl")
    assert publisher.status_code == 200 and "Océan Voices Network" in publisher.get_data(
        as_text=True
    )
    for name in ("EDITING.md", ".gitignore"):
        assert (started / name).is_file()


def test_init_names_what_it_made_and_what_to_do_next(tmp_path):
    done = init(tmp_path / "news", "--base", BASE, "--publisher", "X")
    assert "created" in done.output and "lod build" in done.output


def test_init_never_writes_over_a_dataset(started):
    dataset = started / "data" / "dataset.yaml"
    before = dataset.read_text("utf-8")
    (started / "EDITING.md").unlink()
    done = init(started, "--base", "https://other.example.org/", "--publisher", "Other")
    assert done.exit_code == 1
    assert "dataset.yaml" in done.output and "nothing written" in done.output
    assert dataset.read_text("utf-8") == before
    assert not (started / "EDITING.md").exists()  # not even the files that were free
    assert not (started / "data" / "organisations" / "other.yaml").exists()


@pytest.mark.parametrize(
    "options, message",
    [
        ([], "--base and --publisher needed"),
        (["--publisher", "X"], "--base needed"),
        (["--base", "ftp://example.org/", "--publisher", "X"], "not an http(s) URL"),
        (["--base", "https://example.org/data", "--publisher", "X"], "must end with `/`"),
        (["--base", BASE, "--publisher", "X", "--language", "English"], "BCP 47"),
        (["--base", BASE, "--publisher", "X", "--license", "CC-BY"], "--license"),
        (["--base", BASE, "--publisher", "  "], "--publisher"),
    ],
)
def test_init_refuses_what_the_build_would_refuse(tmp_path, options, message):
    folder = tmp_path / "news"
    done = init(folder, *options)
    assert done.exit_code == 2
    assert message in done.output
    assert not folder.exists()


def test_init_asks_on_a_terminal(tmp_path):
    """Run on a real pseudo-terminal: each question answered, a default taken (Enter)."""
    folder = tmp_path / "asked"
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "lod", "init", str(folder)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=ROOT,
    )
    os.close(follower)
    # each question, and the answer typed (Enter alone takes the default)
    questions = [
        ("Title", "Ocean News"),
        ("Base", BASE),
        ("Publisher", "Ocean Voices"),
        ("Lang", ""),
    ]
    seen, since = b"", b""
    deadline = time.monotonic() + 60
    try:
        while process.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            seen, since = seen + chunk, since + chunk
            asked = since.rstrip().endswith(b":")
            if questions and asked and questions[0][0].encode() in since:
                os.write(leader, (questions.pop(0)[1] + "\n").encode())
                since = b""
        process.wait(timeout=30)
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, seen.decode(errors="replace")
    dataset = (folder / "data" / "dataset.yaml").read_text("utf-8")
    assert "title: Ocean News" in dataset and f"base: {BASE}" in dataset
    assert "language: en" in dataset


def test_a_trial_build_does_not_make_its_iris_permanent(started):
    """The first hour: a trial under an example base, then the real one, then publishing."""
    data, out = started / "data", started / "dist"
    settings = Settings(data=data, out=out)
    trial = build(settings, trial=True)
    assert trial.trial and not Output(out).ledger.exists()
    dataset = data / "dataset.yaml"
    dataset.write_text(
        dataset.read_text("utf-8").replace(BASE, "https://data.ocean.example.org/"), "utf-8"
    )
    published = build(settings)  # fails if the trial's IRIs had entered the ledger
    assert not published.trial
    ledger = Output(out).ledger.read_text("utf-8")
    assert "https://data.ocean.example.org/id/article/welcome" in ledger
    assert BASE not in ledger


def test_a_trial_build_is_still_checked_against_published_iris(started):
    data, out = started / "data", started / "dist"
    settings = Settings(data=data, out=out)
    build(settings)  # published
    (data / "articles" / "welcome.md").unlink()
    with pytest.raises(BuildFailed, match="article/welcome"):
        build(settings, trial=True)


def test_a_record_tried_and_removed_needs_no_gone_entry(started):
    data, out = started / "data", started / "dist"
    settings = Settings(data=data, out=out)
    build(settings)
    test_record = data / "articles" / "test.md"
    test_record.write_text(
        "---\nheadline: Test\ndatePublished: 2026-01-01\n"
        "publisher: organisation/ocean-voices-network\n---\nA test.\n",
        "utf-8",
    )
    build(settings, trial=True)
    test_record.unlink()
    build(settings)
    assert "article/test" not in Output(out).ledger.read_text("utf-8")


def test_lod_build_trial_says_so(started):
    done = subprocess.run(
        [sys.executable, "-m", "lod", "build", "--trial", "--no-progress"],
        cwd=started,
        capture_output=True,
        text=True,
        env={**os.environ, "LOD_KEEP_IN_BACKGROUND": "0"},
    )
    assert done.returncode == 0, done.stderr
    assert "trial: its IRIs are not permanent" in done.stdout


def test_trial_and_publish_together_is_a_usage_error(started):
    done = CliRunner().invoke(cli, ["build", "--trial", "--publish", "--data", str(started)])
    assert done.exit_code == 2 and "--trial" in done.output


def test_a_trial_build_is_never_published_to_a_remote_store(started):
    """`lod build --trial && lod publish`: refused before anything is sent (its IRIs are
    not in the ledger, so a later build could drop them unnoticed)."""
    from lod.layout import open_build

    data, out = started / "data", started / "dist"
    build(Settings(data=data, out=out), trial=True)
    assert open_build(out).trial and open_build(out).manifest["trial"] is True
    nowhere = "http://127.0.0.1:9/sparql"  # nothing listens: nothing may be sent anyway
    done = CliRunner().invoke(
        cli,
        ["publish", "--out", str(out)],
        env={
            "LOD_SPARQL_ENDPOINT": nowhere,
            "LOD_SPARQL_UPDATE": nowhere,
            "LOD_SPARQL_GRAPH_STORE": nowhere,
        },
    )
    assert done.exit_code == 1 and "is a trial" in done.output, done.output
    build(Settings(data=data, out=out))
    assert not open_build(out).trial and "trial" not in open_build(out).manifest
