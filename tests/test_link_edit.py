"""lod.link.edit: values added to a record's field by editing text lines; every other line
of the file stays byte for byte (Markdown front matter, YAML of one or many records, CSV)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lod.link.edit import EditError, add_values

IRI = "http://www.wikidata.org/entity/Q42"


def write(tmp_path: Path, name: str, text: str, newline: str = "\n", bom: str = "") -> Path:
    path = tmp_path / name
    path.write_bytes((bom + text.replace("\n", newline)).encode("utf-8"))
    return path


def changed(before: bytes, after: bytes) -> tuple[list[bytes], list[bytes]]:
    """The lines removed and the lines added (as a unified diff would show them), after
    checking the unchanged lines keep their order and bytes."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    return old[start : len(old) - end], new[start : len(new) - end]


MULTI = """\
# organisations: a comment that must stay
- id: alpha
  name: Alpha   # trailing comment
  sameAs:
    - https://ror.org/000
  alternateName: ["A", 'Al']

- id: beta
  name: "Beta"
  description: >-
    folded text
    over two lines

- id: gamma
  name: Gamma
  sameAs: [https://ror.org/1]
- id: delta
  name: Delta
  sameAs: https://ror.org/2
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize(
    ("record", "removed", "added"),
    [
        ("alpha", [], ["    - http://www.wikidata.org/entity/Q42\n"]),
        (
            "beta",
            [],
            ["  sameAs:\n", "    - http://www.wikidata.org/entity/Q42\n"],
        ),
        (
            "gamma",
            ["  sameAs: [https://ror.org/1]\n"],
            ["  sameAs: [https://ror.org/1, http://www.wikidata.org/entity/Q42]\n"],
        ),
        (
            "delta",
            ["  sameAs: https://ror.org/2\n"],
            ["  sameAs: [https://ror.org/2, http://www.wikidata.org/entity/Q42]\n"],
        ),
    ],
)
def test_yaml_list_of_records(tmp_path, newline, record, removed, added):
    path = write(tmp_path, "orgs.yaml", MULTI, newline)
    before = path.read_bytes()
    assert add_values(path, record, "sameAs", [IRI]) == [IRI]
    old, new = changed(before, path.read_bytes())
    encode = lambda lines: [line.replace("\n", newline).encode() for line in lines]  # noqa: E731
    assert (old, new) == (encode(removed), encode(added))
    records = {r["id"]: r for r in yaml.safe_load(path.read_text())}
    same_as = records[record]["sameAs"]
    assert IRI in (same_as if isinstance(same_as, list) else [same_as])
    # a second time: nothing to add, the file is not touched
    after = path.read_bytes()
    assert add_values(path, record, "sameAs", [IRI]) == []
    assert path.read_bytes() == after


def test_markdown_front_matter_and_bom(tmp_path):
    text = "---\nid: x\nheadline: Hello\nauthor:\n  - person/a\n---\n\nBody with sameAs: no\n"
    path = write(tmp_path, "x.md", text, bom="\ufeff")
    before = path.read_bytes()
    add_values(path, "x", "sameAs", [IRI, "https://example.org/a b"])
    old, new = changed(before, path.read_bytes())
    assert old == []
    assert new == [b"sameAs:\n", f"  - {IRI}\n".encode(), b'  - "https://example.org/a b"\n']
    assert path.read_bytes().startswith("\ufeff---\n".encode())
    assert path.read_text("utf-8").endswith("---\n\nBody with sameAs: no\n")


def test_single_record_file_without_id_is_its_stem(tmp_path):
    path = write(tmp_path, "cecilie.yaml", "# a person\nname: Cecilie\njobTitle: Advocate")
    add_values(path, "cecilie", "sameAs", [IRI])
    assert (
        path.read_text() == f"# a person\nname: Cecilie\njobTitle: Advocate\nsameAs:\n  - {IRI}\n"
    )


CSV = 'id,name,sameAs\na,Alpha,\nb,"Beta, the second",https://ror.org/1\nc,Gamma,\n'


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_csv_cell(tmp_path, newline):
    path = write(tmp_path, "places.csv", CSV, newline)
    before = path.read_bytes()
    add_values(path, "b", "sameAs", [IRI])
    old, new = changed(before, path.read_bytes())
    assert old == [f'b,"Beta, the second",https://ror.org/1{newline}'.encode()]
    assert new == [f'b,"Beta, the second",https://ror.org/1;{IRI}{newline}'.encode()]
    add_values(path, "a", "sameAs", [IRI])
    assert path.read_bytes().splitlines()[1] == f"a,Alpha,{IRI}".encode()


def test_csv_without_the_column_gains_it(tmp_path):
    path = write(tmp_path, "places.csv", "id,name\na,Alpha\nb,Beta")
    add_values(path, "b", "sameAs", [IRI, "https://ror.org/9"])
    assert path.read_text() == f"id,name,sameAs\na,Alpha,\nb,Beta,{IRI};https://ror.org/9"


@pytest.mark.parametrize(
    ("name", "text", "record", "word"),
    [
        ("x.yaml", "- id: a\n  name: A\n", "zzz", "no such record"),
        ("x.yaml", "- {id: a, name: A}\n", "a", "flow mapping"),
        ("x.yaml", "- id: a\n  sameAs: [x,\n    y]\n", "a", "spans lines"),
        ("x.yaml", "- id: a\n  name: [\n", "a", "not valid YAML"),
        ("x.md", "no front matter\n", "x", "front matter"),
        ("x.md", "---\nid: x\n", "x", "closing"),
        ("x.csv", "name\nA\n", "a", "no `id` column"),
        ("x.csv", "id,name\n", "a", "no such record"),
        ("x.txt", "id: a\n", "a", ".md, .yaml"),
    ],
)
def test_refused_edits_change_nothing(tmp_path, name, text, record, word):
    path = write(tmp_path, name, text)
    with pytest.raises(EditError, match=word):
        add_values(path, record, "sameAs", [IRI])
    assert path.read_text() == text
