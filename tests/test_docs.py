"""The documentation in the repository: docs/fields.md is what the kind tables generate, its
examples build, and every link of the README and docs/ resolves inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lod import Settings
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
