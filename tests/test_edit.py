"""lod.edit: values added to a record's field by editing text lines; every other line
of the file stays byte for byte (Markdown front matter, YAML of one or many records, CSV)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lod.edit import EditError, Source, add_values, scalar
from lod.edit import field as field_lines
from lod.ingest import import_sources
from lod.make import sources

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
    add_values(path, "x", "sameAs", [IRI, "https://example.org/a b", "a: b #c"])
    old, new = changed(before, path.read_bytes())
    assert old == []
    # the one rule: plain where YAML reads the same text back, else quoted
    assert new == [
        b"sameAs:\n",
        f"  - {IRI}\n".encode(),
        b"  - https://example.org/a b\n",
        b'  - "a: b #c"\n',
    ]
    front = path.read_text("utf-8").removeprefix("\ufeff---\n").split("---\n")[0]
    assert yaml.safe_load(front)["sameAs"] == [IRI, "https://example.org/a b", "a: b #c"]
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


def test_an_empty_field_is_given_a_list(tmp_path):
    """`sameAs:` (or `~`, or `""`) has no value: the values take its place as a block
    list (it was refused as spanning lines)."""
    for empty in ("", " ~", ' ""'):
        path = write(tmp_path, "o.yaml", f"- id: a\n  sameAs:{empty}\n  name: A\n")
        assert add_values(path, "a", "sameAs", [IRI]) == [IRI]
        assert path.read_text() == f"- id: a\n  sameAs:\n    - {IRI}\n  name: A\n"


def test_a_plain_value_with_a_comma_stays_one_item_in_a_flow_list(tmp_path):
    path = write(tmp_path, "o.yaml", "id: a\nsameAs: https://ex.org/a,b\n")
    add_values(path, "a", "sameAs", [IRI, "https://ex.org/c,d", "https://ex.org/o#T"])
    assert path.read_text() == (
        f'id: a\nsameAs: ["https://ex.org/a,b", {IRI}, "https://ex.org/c,d", https://ex.org/o#T]\n'
    )
    assert yaml.safe_load(path.read_text())["sameAs"] == [
        "https://ex.org/a,b",
        IRI,
        "https://ex.org/c,d",
        "https://ex.org/o#T",
    ]


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("- id: a\n  name: &n A\n  alternateName: *n\n", "aliases"),
        ("- id: a\n  deep: " + "[" * 2000 + "]" * 2000 + "\n", "nested too deeply"),
    ],
)
def test_files_the_sources_reader_refuses_are_not_edited(tmp_path, text, word):
    path = write(tmp_path, "o.yaml", text)
    with pytest.raises(EditError, match=word):
        add_values(path, "a", "sameAs", [IRI])
    assert path.read_text() == text


# the one rule for values


@pytest.mark.parametrize(
    ("value", "block", "flow"),
    [
        ("2021-02-20", "2021-02-20", "2021-02-20"),
        ("no", "no", "no"),
        ("a: b", '"a: b"', '"a: b"'),
        ("- x", '"- x"', '"- x"'),
        ("x #y", '"x #y"', '"x #y"'),
        ("https://ex.org/a#b", "https://ex.org/a#b", "https://ex.org/a#b"),
        ("Économie", "Économie", "Économie"),
        ("line\nbreak", '"line\\nbreak"', '"line\\nbreak"'),
        ("a, b", "a, b", '"a, b"'),
        ("x]", "x]", '"x]"'),
        ("{x}", '"{x}"', '"{x}"'),
        ("", '""', '""'),
        (" padded ", '" padded "', '" padded "'),
    ],
)
def test_scalars_read_back_as_written(value, block, flow):
    assert (scalar(value), scalar(value, flow=True)) == (block, flow)
    text = f"id: x\nv: {block}\nw: [{flow}, {flow}]\n"
    (record,) = sources._read_yaml("x.yaml", text, "topic", "x", 0)
    assert (record.values["v"], record.values["w"]) == (value, [value, value])


# fields set and read, as the importer does


def test_a_field_set_in_place_and_read(tmp_path):
    text = "# people\n- id: a\n  name: A   # theirs\n  tags:\n    - x\n\n  url: u\n- id: b\n"
    source = Source(text.replace("\n", "\r\n"), tmp_path / "people.yaml")
    record = source.record("a")
    assert (record.get("name"), record.get("tags"), record.get("nope")) == ("A", ["x"], None)
    record.set("id", "a")  # the key after a list item's `- `
    record.set("tags", ["y", "z: w"])
    record.set("email", "a@example.org")
    expected = (
        '# people\n- id: a\n  name: A   # theirs\n  tags:\n    - y\n    - "z: w"\n\n'
        "  url: u\n  email: a@example.org\n- id: b\n"
    )
    assert source.text() == expected.replace("\n", "\r\n")
    assert source.record("b").get("id") == "b"


# the importer re-imports files with the same editor (`lod import --update`)


FEED = Path(__file__).resolve().parent / "fixtures" / "import" / "rss2-fr.xml"
ARTICLE = Path("articles") / "secheresse-onu-appel.md"


def hand_edited(tmp_path: Path, edit) -> tuple[Path, Path]:
    """An imported article the publisher edited (`edit(text) -> text`), and the feed."""
    data, feed = tmp_path / "data", tmp_path / "feed.xml"
    feed.write_text(FEED.read_text("utf-8"), "utf-8")
    import_sources([feed], data)
    article = data / ARTICLE
    article.write_bytes(edit(article.read_text("utf-8")).encode("utf-8"))
    return article, feed


def retitled(feed: Path) -> None:
    feed.write_text(feed.read_text("utf-8").replace("appelle à agir</title>", "alerte</title>"))


TOPICS = "about:\n  - topic/climat\n  - topic/nations-unies\n"


def test_reimport_keeps_a_byte_order_mark(tmp_path):
    """A byte-order mark stays, and the publisher's lines with it (the mark made the front
    matter unreadable, so the file was written anew and those lines were lost)."""
    mine = "# mine\n"
    article, feed = hand_edited(tmp_path, lambda t: "\ufeff" + t.replace("url:", mine + "url:"))
    retitled(feed)
    assert import_sources([feed], tmp_path / "data", update=True).tally.changed
    text = article.read_text("utf-8")
    assert text.startswith("\ufeff---\n") and mine + "url:" in text
    assert 'headline: "Sécheresse : l’ONU alerte"\n' in text


@pytest.mark.parametrize(
    ("written", "updated"),
    [
        # a flow list: the same topics and one more are the same to the source (it was
        # rewritten as a block list, so the file was `kept`, or `changed` with --update)
        (
            "about: [topic/climat, topic/nations-unies, topic/mine]\n",
            "about: [topic/climat, topic/nations-unies, topic/mine]\n",
        ),
        # a block list at the key's column: the source's topic at that column too (it
        # went two columns in, read as `topic/climat - topic/nations-unies`)
        ("about:\n- topic/climat\n", "about:\n- topic/climat\n- topic/nations-unies\n"),
        # a flow list over two lines: written again as a block list, the publisher's
        # topic kept (it became `[topic/climat,`)
        (
            "about: [topic/climat,\n  topic/mine]\n",
            "about:\n  - topic/climat\n  - topic/mine\n  - topic/nations-unies\n",
        ),
    ],
)
def test_reimport_adds_the_sources_topics_to_the_publishers(tmp_path, written, updated):
    article, feed = hand_edited(tmp_path, lambda t: t.replace(TOPICS, written))
    before = article.read_text("utf-8")
    report = import_sources([feed], tmp_path / "data", update=True)
    assert article.read_text("utf-8") == before.replace(written, updated)
    assert (report.tally.changed != []) == (written != updated)
    loaded = sources.load(tmp_path / "data")
    (record,) = [r for r in loaded.records if r.id == "secheresse-onu-appel"]
    assert {"topic/climat", "topic/nations-unies"} <= set(record.values["about"])


@pytest.mark.parametrize(
    "text",
    ["null", "Null", "NULL", "~", "a\x85b", "a\u2028b", "a\x7fb", "\x1b[31m", "bom\ufeff"],
    ids=["null", "Null", "NULL", "tilde", "NEL", "LS", "DEL", "ESC", "BOM"],
)
def test_a_value_yaml_would_lose_is_written_so_the_build_reads_it_back(tmp_path, text):
    """A topic called "null" (a tag on a programming blog), or a title with a control
    character, written by the importer, is read back by the build as the same text."""
    path = tmp_path / "topics" / "t.yaml"
    path.parent.mkdir()
    path.write_text("".join(["id: t\n", *field_lines("name", text)]), "utf-8")
    errors: list = []
    (record,) = sources.read(path, "topic", errors)
    assert not errors and record.values["name"] == text


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_links_are_added_to_csv_files_with_other_delimiters(tmp_path, delimiter):
    """The build reads `;` and tab separated files (spreadsheets in many languages save
    them): so does every edit of them, a cell added and a column added."""
    path = tmp_path / "organisations.csv"
    d = delimiter
    path.write_text(f"id{d}name{d}sameAs\nacme{d}ACME, Inc.{d}\nzeta{d}Zeta{d}\n", "utf-8")
    added = add_values(path, "acme", "sameAs", ["https://www.wikidata.org/entity/Q1"])
    assert added == ["https://www.wikidata.org/entity/Q1"]
    add_values(path, "zeta", "url", ["https://zeta.example.org/"])
    errors: list = []
    records = {r.id: r.values for r in sources.read(path, "organisation", errors)}
    assert not errors
    assert records["acme"]["name"] == "ACME, Inc."
    assert records["acme"]["sameAs"] == "https://www.wikidata.org/entity/Q1"
    assert records["zeta"]["url"] == "https://zeta.example.org/"
    assert path.read_text("utf-8").splitlines()[0] == f"id{d}name{d}sameAs{d}url"
