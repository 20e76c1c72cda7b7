"""The documentation in the repository: docs/fields.md is what the kind tables generate, its
examples build, and every link of the README and docs/ resolves inside the repository."""

from __future__ import annotations

import re
from fnmatch import fnmatch
from pathlib import Path

import pytest

from lod import Settings, layout
from lod import build as lod_build
from lod.make.convert import REGISTRY
from lod.make.convert.reference import DATASET, EXAMPLES, markdown
from lod.make.steps import validated
from lod.vocab import KINDS

from .conftest import ROOT

FIELDS = ROOT / "docs" / "fields.md"


def test_the_field_reference_is_generated_from_the_kind_tables():
    assert FIELDS.read_text("utf-8") == markdown(), (
        "docs/fields.md is stale: python -m lod.make.convert.reference > docs/fields.md"
    )


def test_the_field_reference_names_every_field_of_every_kind():
    text = FIELDS.read_text("utf-8")
    for name, kind in REGISTRY.items():
        section = text.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
        for field in kind.fields:
            assert f"| `{field.name}` |" in section, (name, field.name)


def test_the_examples_build(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "dataset.yaml").write_text(DATASET, "utf-8")
    for kind, (name, text) in EXAMPLES.items():
        folder = data / KINDS[kind]
        folder.mkdir()
        (folder / name).write_text(text, "utf-8")
    checked = validated(Settings(data=data, out=tmp_path / "dist"))
    assert not checked.report.violations
    kinds = {record.kind for record in checked.conversion.records.values()}
    assert kinds == set(REGISTRY)


def _links(path: Path) -> list[str]:
    text = path.read_text("utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code is not links
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("document", ["README.md", "docs/fields.md"])
def test_links_resolve_inside_the_repository(document):
    path = ROOT / document
    for link in _links(path):
        if link.startswith(("http://", "https://", "mailto:")):
            continue
        target, _, anchor = link.partition("#")
        resolved = (path.parent / target).resolve() if target else path
        assert resolved.is_relative_to(ROOT), f"{document}: {link} leaves the repository"
        assert resolved.exists(), f"{document}: {link} does not exist"
        if anchor and resolved.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", resolved.read_text("utf-8"), flags=re.M)
            slugs = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}
            assert anchor in slugs, f"{document}: no heading for #{anchor} in {target or document}"


def test_the_readme_links_the_field_reference():
    assert "(docs/fields.md)" in (ROOT / "README.md").read_text("utf-8")


def test_the_output_folder_reference_is_generated_from_the_layout():
    assert (ROOT / "docs" / "output-folder.md").read_text("utf-8") == layout.markdown(), (
        "docs/output-folder.md is stale: python -m lod.layout > docs/output-folder.md"
    )


def _documented(path: str) -> list[str]:
    """The names an ENTRIES path stands for, as glob patterns (`<id>` any name,
    `{a,b}` each of a and b)."""
    names = []
    for one in path.split(", "):
        one = re.sub(r"<[a-z]+>", "*", one.rstrip("/"))
        found = re.search(r"\{([^}]*)\}", one)
        choices = found.group(1).split(",") if found else [""]
        names += [one.replace(found.group(0), c) if found else one for c in choices]
    return names


def test_every_file_a_build_and_the_app_leave_is_in_the_layout(tmp_path):
    """Whatever a build (state and caches included) and a served request write under the
    output folder is named in lod.layout.ENTRIES, so its table in the docs is complete."""
    from lod.web import create_app

    out = tmp_path / "dist"
    settings = Settings(data=ROOT / "data", out=out, keep_in_background=0)
    lod_build(settings)
    create_app(settings).test_client().get("/doc/organisation/mia-mga.ttl")
    patterns = [n for e in layout.ENTRIES for n in _documented(e.path)]
    for path in out.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            continue  # its files are checked
        relative = path.relative_to(out).as_posix()
        inside = relative.split("/")
        # a documented folder covers what is inside it
        shown = ["/".join(inside[: i + 1]) for i in range(len(inside))]
        assert any(fnmatch(s, p) for s in shown for p in patterns), relative
