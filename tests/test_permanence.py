"""IRIs that last: a renamed record answers 301 from its old IRIs, a removed one 410, and a
build that would drop a published IRI without saying so fails and changes nothing."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS

from lod import Settings, build
from lod.errors import BuildFailed
from lod.layout import Output, open_build
from lod.web import create_app

from .conftest import ROOT, copy_data

BASE = "https://lod.example.org/"
OLD = "commission-on-social-development-examines-role-of-digital-technologies"
NEW = "digital-technologies-and-well-being"
ARTICLE = Path("articles") / f"{OLD}.md"


def rename(data: Path, former: bool) -> None:
    """The article's file and id renamed, listing the old id in formerIds when `former`."""
    text = (data / ARTICLE).read_text("utf-8").replace(f"id: {OLD}\n", f"id: {NEW}\n", 1)
    if former:
        text = text.replace(f"id: {NEW}\n", f"id: {NEW}\nformerIds: [{OLD}]\n", 1)
    (data / ARTICLE).unlink()
    (data / "articles" / f"{NEW}.md").write_text(text, "utf-8")


def remove_person(data: Path) -> None:
    """cecilie-kern removed, with the references to her."""
    (data / "people" / "cecilie-kern.yaml").unlink()
    event = data / "events" / "csocd59-migration-displacement-side-event.yaml"
    event.write_text(
        event.read_text("utf-8").replace(
            "contributors:\n  - ref: person/cecilie-kern\n    role: moderator\n", ""
        ),
        "utf-8",
    )
    article = data / ARTICLE
    article.write_text(
        "".join(
            line
            for line in article.read_text("utf-8").splitlines(keepends=True)
            if "person/cecilie-kern" not in line
        ),
        "utf-8",
    )


@pytest.fixture
def workspace(tmp_path):
    """data/ copied and built once: the published IRIs are known."""
    data = copy_data(tmp_path / "data")
    out = tmp_path / "dist"
    first = build(Settings(data=data, out=out))
    return data, out, first


def snapshot(out: Path) -> tuple[str, str]:
    return (open_build(out).id, Output(out).ledger.read_text("utf-8"))


def test_each_build_keeps_the_ledger_of_published_iris(workspace):
    _, out, first = workspace
    lines = Output(out).ledger.read_text("utf-8").splitlines()
    assert lines == sorted(lines)
    assert f"{BASE}id/article/{OLD}" in lines
    assert f"{BASE}id/person/cecilie-kern" in lines
    assert len(lines) == sum(first.manifest["counts"].values())


def test_the_ledger_is_kept_apart_from_builds_and_caches(workspace):
    _, out, _ = workspace
    ledger = Output(out).ledger
    assert ledger.parent.name == "ledger" and ledger.parent.parent == out
    assert not (out / "published-iris.txt").exists()


def test_a_ledger_where_older_versions_kept_it_is_honoured_and_moved(workspace):
    """Before 0.2 the ledger was dist/published-iris.txt: an upgraded deployment's build
    still refuses to drop what it lists, and the next good build moves it."""
    data, out, _ = workspace
    output = Output(out)
    output.ledger.rename(output.former_ledger)
    shutil.rmtree(output.ledger.parent)
    remove_person(data)
    with pytest.raises(BuildFailed, match="person/cecilie-kern"):
        build(Settings(data=data, out=out))
    assert output.former_ledger.exists() and not output.ledger.exists()
    (data / "gone.yaml").write_text(GONE, "utf-8")
    build(Settings(data=data, out=out))
    assert f"{BASE}id/person/cecilie-kern" in output.ledger.read_text("utf-8")
    assert not output.former_ledger.exists()


def test_a_rename_without_formerids_fails_naming_it_and_changes_nothing(workspace):
    data, out, _ = workspace
    before = snapshot(out)
    rename(data, former=False)
    with pytest.raises(BuildFailed) as failed:
        build(Settings(data=data, out=out))
    message = str(failed.value)
    assert f"article/{OLD}" in message
    assert "formerIds" in message and "gone.yaml" in message and "--allow-removals" in message
    assert snapshot(out) == before


def test_a_deletion_without_declaration_fails_on_the_command_line(workspace):
    data, out, _ = workspace
    before = snapshot(out)
    remove_person(data)
    done = subprocess.run(
        [sys.executable, "-m", "lod", "build", "--data", str(data), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 1
    assert "person/cecilie-kern" in done.stderr and "Traceback" not in done.stderr
    assert snapshot(out) == before


@pytest.fixture
def renamed(workspace):
    data, out, _ = workspace
    rename(data, former=True)
    built = build(Settings(data=data, out=out))
    return out, built


def test_the_dump_says_the_old_iri_is_replaced(renamed):
    _, built = renamed
    graph = Graph().parse(
        data=gzip.decompress((built.path / "dataset.nt.gz").read_bytes()), format="nt"
    )
    assert (
        URIRef(f"{BASE}id/article/{OLD}"),
        DCTERMS.isReplacedBy,
        URIRef(f"{BASE}id/article/{NEW}"),
    ) in graph


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (f"/id/article/{OLD}", f"/id/article/{NEW}"),
        (f"/doc/article/{OLD}", f"/doc/article/{NEW}"),
        *[
            (f"/doc/article/{OLD}.{suffix}", f"/doc/article/{NEW}.{suffix}")
            for suffix in ("html", "ttl", "jsonld", "nt", "rdf")
        ],
        (f"/doc/article/{OLD}.ttl?offset=0", f"/doc/article/{NEW}.ttl?offset=0"),
    ],
)
def test_old_iris_answer_301_to_the_new_ones(renamed, old, new):
    out, _ = renamed
    client = create_app(Settings(out=out)).test_client()
    response = client.get(old)
    assert response.status_code == 301
    assert response.headers["Location"] == new
    followed = client.get(old, follow_redirects=True)
    assert followed.status_code == 200


def test_the_old_iri_leads_to_the_new_document(renamed):
    out, _ = renamed
    client = create_app(Settings(out=out)).test_client()
    first = client.get(f"/id/article/{OLD}", headers={"Accept": "text/turtle"})
    second = client.get(first.headers["Location"], headers={"Accept": "text/turtle"})
    assert second.status_code == 303
    assert second.headers["Location"] == f"/doc/article/{NEW}"


def test_old_reconciliation_ids_resolve(renamed):
    out, _ = renamed
    client = create_app(Settings(out=out)).test_client()
    response = client.get(f"/reconcile/preview?id=article/{OLD}")
    assert response.status_code == 200
    assert f"/doc/article/{NEW}" in response.get_data(as_text=True)


def test_the_ledger_keeps_the_old_iri(renamed):
    out, _ = renamed
    ledger = Output(out).ledger.read_text("utf-8").splitlines()
    assert f"{BASE}id/article/{OLD}" in ledger and f"{BASE}id/article/{NEW}" in ledger


def test_dropping_a_former_id_later_fails_again(renamed, tmp_path):
    out, _ = renamed
    data = tmp_path / "data"
    path = data / "articles" / f"{NEW}.md"
    path.write_text(path.read_text("utf-8").replace(f"formerIds: [{OLD}]\n", ""), "utf-8")
    with pytest.raises(BuildFailed, match=f"article/{OLD}"):
        build(Settings(data=data, out=out))


GONE = """\
- id: person/cecilie-kern
  reason: removed at her request
  date: 2024-05-01
"""


@pytest.fixture
def gone(workspace):
    data, out, _ = workspace
    remove_person(data)
    (data / "gone.yaml").write_text(GONE, "utf-8")
    build(Settings(data=data, out=out))
    return out


@pytest.mark.parametrize(
    "path", ["/id/person/cecilie-kern", "/doc/person/cecilie-kern", "/doc/person/cecilie-kern.ttl"]
)
def test_a_removed_record_is_410_gone_with_its_reason(gone, path):
    client = create_app(Settings(out=gone)).test_client()
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "removed at her request" in page and "2024-05-01" in page
    data = client.get(path, headers={"Accept": "application/json"}).get_json()
    assert data["error"]["status"] == 410


def test_a_removed_record_is_out_of_the_sitemap_and_lists(gone):
    client = create_app(Settings(out=gone)).test_client()
    assert "cecilie-kern" not in client.get("/sitemap.xml").get_data(as_text=True)
    assert "cecilie-kern" not in client.get("/doc/person/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("text", "field", "phrase"),
    [
        ("- id: nobody/mia-mga\n  reason: r\n  date: 2024-01-01\n", "id", "does not"),
        ("- id: organisation/mia-mga\n  reason: r\n  date: 2024-01-01\n", "id", "still a record"),
        ("- id: person/cecilie-kern\n  date: 2024-01-01\n", "reason", "missing"),
        ("- id: person/cecilie-kern\n  reason: r\n  date: soon\n", "date", "date"),
        ("- id: cecilie-kern\n  reason: r\n  date: 2024-01-01\n", "id", "kind"),
        (
            "- id: person/cecilie-kern\n  reason: r\n  date: 2024-01-01\n  why: x\n",
            "why",
            "unknown",
        ),
    ],
)
def test_a_bad_gone_file_is_reported_with_its_line(workspace, text, field, phrase):
    data, out, _ = workspace
    remove_person(data)
    (data / "gone.yaml").write_text(text, "utf-8")
    with pytest.raises(BuildFailed) as failed:
        build(Settings(data=data, out=out))
    errors = [e for e in failed.value.errors if e.field == field]
    assert errors and phrase in str(errors[0]), str(failed.value)
    assert errors[0].file.endswith("gone.yaml") and errors[0].line >= 1


def test_a_former_id_that_is_still_a_record_is_refused(workspace):
    data, out, _ = workspace
    path = data / "people" / "cecilie-kern.yaml"
    path.write_text(path.read_text("utf-8") + "formerIds: [cecilie-kern]\n", "utf-8")
    with pytest.raises(BuildFailed, match="own id"):
        build(Settings(data=data, out=out))
    path.write_text(path.read_text("utf-8").replace("formerIds: [cecilie-kern]\n", ""), "utf-8")
    other = data / "people" / "someone.yaml"
    other.write_text("name: Someone\nformerIds: [cecilie-kern]\n", "utf-8")
    with pytest.raises(BuildFailed) as failed:
        build(Settings(data=data, out=out))
    (error,) = failed.value.errors
    assert error.field == "formerIds" and "still the id of a person" in error.message
    assert error.file.endswith("someone.yaml") and error.line == 2


def test_allow_removals_removes_and_says_which(workspace):
    data, out, _ = workspace
    remove_person(data)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lod",
            "build",
            "--data",
            str(data),
            "--out",
            str(out),
            "--allow-removals",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "removed 1 published IRIs" in done.stderr
    assert f"{BASE}id/person/cecilie-kern" in done.stderr
    assert f"{BASE}id/person/cecilie-kern" not in Output(out).ledger.read_text("utf-8")
    build(Settings(data=data, out=out))  # and the next build does not ask again


def test_a_watched_rebuild_adding_former_ids_writes_what_a_fresh_build_writes(tmp_path):
    from lod.make import Builder

    data = copy_data(tmp_path / "data")
    builder = Builder(Settings(data=data, out=tmp_path / "dist"))
    builder.build()
    person = data / "people" / "cecilie-kern.yaml"
    person.write_text(person.read_text("utf-8") + "formerIds: [c-kern]\n", "utf-8")
    rebuilt = builder.build()
    fresh = build(Settings(data=data, out=tmp_path / "fresh"))
    for name in ("dataset.nt.gz", "void.ttl", "redirects.json"):
        assert (rebuilt.path / name).read_bytes() == (fresh.path / name).read_bytes(), name
    assert f"{BASE}id/person/c-kern" in (rebuilt.path / "redirects.json").read_text("utf-8")


def test_a_watched_build_sees_gone_yaml_change(tmp_path):
    from lod.make import Builder

    data = copy_data(tmp_path / "data")
    builder = Builder(Settings(data=data, out=tmp_path / "dist"))
    builder.build()
    assert not builder.changed()
    (data / "gone.yaml").write_text(GONE.replace("person/cecilie-kern", "article/old"), "utf-8")
    assert builder.changed()
    built = builder.build()
    assert f"{BASE}id/article/old" in (built.path / "gone.json").read_text("utf-8")
    assert not builder.changed()


def test_a_watched_edit_in_place_checks_the_iris_again_only_when_they_may_differ(
    tmp_path, monkeypatch
):
    """An article's text edited: the last check holds (no ledger read, none written);
    the ledger changed by another build, or a former id added: checked again."""
    from lod.make import Builder
    from lod.make import permanence as permanence_module

    data = copy_data(tmp_path / "data")
    out = tmp_path / "dist"
    builder = Builder(Settings(data=data, out=out))
    builder.build()
    checks = []
    check = permanence_module.check
    monkeypatch.setattr(permanence_module, "check", lambda *a: checks.append(1) or check(*a))
    ledger = Output(out).ledger
    written = ledger.stat().st_ino
    article = data / ARTICLE
    article.write_text(
        article.read_text("utf-8").replace("headline: ", "headline: Edited ", 1), "utf-8"
    )
    rebuilt = builder.build()
    assert checks == [] and ledger.stat().st_ino == written
    fresh = build(Settings(data=data, out=tmp_path / "fresh"))
    for name in ("redirects.json", "gone.json"):
        assert (rebuilt.path / name).read_bytes() == (fresh.path / name).read_bytes(), name
    checks.clear()
    ledger.write_text(ledger.read_text("utf-8") + f"{BASE}id/article/elsewhere\n", "utf-8")
    article.write_text(
        article.read_text("utf-8").replace("headline: ", "headline: Again ", 1), "utf-8"
    )
    with pytest.raises(BuildFailed, match="article/elsewhere"):
        builder.build()
    assert checks == [1]
