"""Source fuzzing: publishers' files are untrusted input (see SECURITY.md).

Hypothesis writes generated records (organisations, people, events, topics, with random
text: unicode, quotes, YAML-special words such as `no`, `null`, `~`, `&a`, `*a`,
`!!python/object`, leading and trailing spaces; random field names, references and dates)
and whole files (random bytes, random YAML, CSV and Markdown text) into a copy of data/,
then runs `lod.make.validated` in-process.

The property, for every input: either the check succeeds and the graph round-trips through
every dump format (and loads into an Oxigraph store, as a build does), or it raises
`lod.errors.BuildFailed` whose every error names a file of the data folder (and the field,
where the fault is a field's) - never any other exception.

Bounded: a few hundred examples (LOD_FUZZ_EXAMPLES), under a minute on a 2-core machine.
In CI (`CI` set) the examples are derandomised, so a run is repeatable; locally each run
tries new inputs.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rdflib import Graph
from rdflib.compare import isomorphic

from lod import Settings
from lod.errors import BuildFailed, SourceError
from lod.formats import Format, serialize
from lod.layout import DUMP_FORMATS
from lod.make import Validated, validated
from lod.make.sources import load

from .conftest import copy_data

pytestmark = pytest.mark.slow  # builds and processes of their own, seconds each

EXAMPLES = int(os.environ.get("LOD_FUZZ_EXAMPLES", "150"))  # raise it for a long hunt


def bounded(share: float = 1.0) -> settings:
    return settings(
        max_examples=max(10, int(EXAMPLES * share)),
        deadline=None,
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


# YAML 1.1 line breaks: inside a quoted scalar the YAML spec folds them into a space
YAML_LINE_BREAKS = "\x85\u2028\u2029"

# -- what a publisher might type -------------------------------------------------------------

YAML_SPECIAL = [
    "no",
    "yes",
    "No",
    "off",
    "on",
    "true",
    "null",
    "Null",
    "~",
    "",
    " ",
    "2021-02-30",
    "2021-02-08",
    "2021-02-08T10:00:00+01:00",
    "&a",
    "*a",
    "&a x",
    "!!python/object:os.system",
    "!!python/object/apply:os.system ['echo pwned']",
    "!!binary aGk=",
    "!custom x",
    "%YAML 1.1",
    "---",
    "...",
    "- x",
    "? x",
    ": x",
    "#x",
    "@x",
    "`x",
    "|",
    ">",
    "0x1F",
    "0o17",
    "1_000",
    "1e3",
    ".inf",
    ".NaN",
    "<<",
    "=",
    " leading",
    "trailing ",
    "  both  ",
    "'",
    '"',
    "\\",
    "{a: 1}",
    "[1, 2]",
    "a: b",
    "a #b",
    "\t",
    "é",
    "Ωmega",
    "👍",
    "\u202eevil",
    "\u2028",
    "\x85",
    "\ufeff",
    "\x00",
    "\x07",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "organisation/united-nations",
    "topic/nope",
]
SLUGS = {  # existing records of data/, so some references resolve
    "organisation": ["united-nations", "mia-mga", "commission-for-social-development"],
    "person": ["cecilie-kern"],
    "event": ["csocd59", "csocd59-civil-society-forum"],
    "place": ["united-nations-headquarters", "new-york-city"],
    "topic": ["social-development", "human-rights", "sdg-1"],
    "document": [],
    "article": [],
}
KIND_NAMES = [*SLUGS, "unicorn", ""]

words = st.one_of(
    st.sampled_from(YAML_SPECIAL),
    st.text(max_size=20),
    st.text(st.characters(codec="ascii"), max_size=20),
    st.from_regex(r"[A-Za-z][A-Za-z ,.'-]{0,30}", fullmatch=True),
)
slugs = st.one_of(
    st.from_regex(r"fz-[a-z0-9]{1,6}(-[a-z0-9]{1,4}){0,2}", fullmatch=True),
    st.sampled_from([s for group in SLUGS.values() for s in group]),
    words,
)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.from_regex(
        r"-?\d{1,5}-\d{1,2}-\d{1,2}(T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?)?", fullmatch=True
    ),
    words,
)
references = st.one_of(
    st.builds(lambda k, s: f"{k}/{s}", st.sampled_from(KIND_NAMES), slugs),
    slugs,
)
iris = st.one_of(
    st.sampled_from(
        [
            "http://www.wikidata.org/entity/Q1065",
            "https://example.org/a b",
            "https://example.org/<x>",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "mailto:x@example.org",
            "urn:isbn:0451450523",
            "//example.org",
            "http://",
        ]
    ),
    st.builds(lambda s: f"https://example.org/{s}", st.text(max_size=10)),
    words,
)


def listed(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(values, st.lists(values, max_size=3))


TEXT, DATE, REF, REFS, IRI, IRIS = "text", "date", "ref", "refs", "iri", "iris"
VALUES = {
    TEXT: words,
    DATE: dates,
    REF: references,
    REFS: listed(references),
    IRI: iris,
    IRIS: listed(iris),
}
COMMON = {"sameAs": IRIS, "url": IRI, "description": TEXT}
FIELDS = {  # DESIGN §3, per kind
    "organisation": {
        "name": TEXT,
        "type": TEXT,
        "alternateName": REFS,
        "parentOrganization": REF,
        "memberOf": REFS,
        "location": REF,
        "foundingDate": DATE,
        "logo": IRI,
        **COMMON,
    },
    "person": {"name": TEXT, "jobTitle": TEXT, "worksFor": REF, "affiliation": REFS, **COMMON},
    "event": {
        "name": TEXT,
        "startDate": DATE,
        "endDate": DATE,
        "location": REF,
        "virtualLocation": IRI,
        "attendanceMode": TEXT,
        "organizer": REFS,
        "sponsor": REFS,
        "superEvent": REF,
        "about": REFS,
        "recordedIn": IRI,
        **COMMON,
    },
    "topic": {
        "name": TEXT,
        "altLabel": REFS,
        "broader": REF,
        "exactMatch": IRIS,
        "closeMatch": IRIS,
        "definition": TEXT,
        **COMMON,
    },
}
FOLDERS = {
    "organisation": "organisations",
    "person": "people",
    "event": "events",
    "topic": "topics",
    "place": "places",
    "document": "documents",
    "article": "articles",
}
UNKNOWN_FIELD = st.from_regex(r"zz[A-Za-z0-9_]{1,8}", fullmatch=True)


@st.composite
def records(draw, kind: str) -> dict:
    """One record of `kind`: some of its fields, maybe an unknown one, maybe no name."""
    fields = FIELDS[kind]
    chosen = draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=5))
    if draw(st.booleans()):
        chosen = ["name", *[c for c in chosen if c != "name"]]
    record = {"id": draw(slugs)}
    for name in chosen:
        record[name] = draw(VALUES[fields[name]])
    if draw(st.integers(0, 3)) == 0:
        record[draw(UNKNOWN_FIELD)] = draw(words)
    if kind == "event" and draw(st.integers(0, 4)) == 0:
        record["contributors"] = draw(
            st.lists(
                st.one_of(
                    st.fixed_dictionaries({"ref": references, "role": words}),
                    words,
                ),
                max_size=2,
            )
        )
    return record


# -- how it is written: YAML in several quoting styles, CSV, Markdown -------------------------


def yaml_scalar(value: str, style: str) -> str:
    if style == "plain":
        return value
    if style == "single":
        return "'" + value.replace("'", "''") + "'"
    if style == "ascii":
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)  # YAML reads JSON strings as its own


def yaml_value(value, style: str, indent: str) -> str:
    if isinstance(value, list):
        if not value:
            return " []"
        return "".join(f"\n{indent}  - {yaml_item(v, style, indent + '    ')}" for v in value)
    if isinstance(value, dict):
        return "".join(f"\n{indent}  {k}: {yaml_scalar(str(v), style)}" for k, v in value.items())
    return " " + yaml_scalar(value, style)


def yaml_item(value, style: str, indent: str) -> str:
    if isinstance(value, dict):
        pairs = [f"{k}: {yaml_scalar(str(v), style)}" for k, v in value.items()]
        return f"\n{indent}".join(pairs) if pairs else "{}"
    return yaml_scalar(str(value), style)


def yaml_mapping(record: dict, style: str, indent: str = "") -> str:
    return "".join(f"{indent}{k}:{yaml_value(v, style, indent)}\n" for k, v in record.items())


def as_yaml(records: list[dict], style: str) -> str:
    if len(records) == 1:
        return yaml_mapping(records[0], style)
    return "".join(
        "- " + yaml_mapping(r, style, "  ").removeprefix("  ") if r else "- {}\n" for r in records
    )


def as_markdown(record: dict, style: str, body: str) -> str:
    return f"---\n{yaml_mapping(record, style)}---\n{body}"


def as_csv(records: list[dict]) -> str:
    names = list(dict.fromkeys(name for r in records for name in r))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for record in records:
        row = []
        for name in names:
            value = record.get(name, "")
            if isinstance(value, list):
                value = ";".join(str(v) for v in value)
            row.append(str(value))
        writer.writerow(row)
    return out.getvalue()


@dataclass
class Written:
    """A file written into the data folder, and what went into it."""

    path: Path
    records: list[dict]
    style: str


@st.composite
def record_files(draw) -> tuple[str, list[dict], str, str]:
    """(kind, records, file suffix, quoting style): records of one kind in one file."""
    kind = draw(st.sampled_from(sorted(FIELDS)))
    items = draw(st.lists(records(kind), min_size=1, max_size=3))
    suffix = draw(st.sampled_from([".yaml", ".yml", ".csv", ".md"]))
    style = draw(st.sampled_from(["plain", "single", "json", "ascii"]))
    if suffix == ".md":
        items = items[:1]
    if suffix == ".csv":
        items = [{k: v for k, v in r.items() if k != "contributors"} for r in items]
    return kind, items, suffix, style


markdown_bodies = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "",
            "# Title\n\nBody with *emphasis* and [a link](https://example.org).",
            "<script>alert(1)</script>",
            "[x](javascript:alert(1))",
            "---\nmore: front\n---",
            "\x00",
        ]
    ),
)


def write_records(data: Path, spec, body: str) -> Written:
    kind, items, suffix, style = spec
    path = data / FOLDERS[kind] / f"fuzz{suffix}"
    if suffix == ".csv":
        text = as_csv(items)
    elif suffix == ".md":
        text = as_markdown(items[0], style, body)
    else:
        text = as_yaml(items, style)
    path.write_text(text, "utf-8", newline="")
    return Written(path, items, style)


# -- the property --------------------------------------------------------------------------


def holds(data: Path) -> BuildFailed | Validated:
    """Check data/; assert the property; return what the check gave."""
    try:
        checked = validated(Settings(data=data, out=data.parent / "dist"))  # its cache goes there
    except BuildFailed as failed:
        assert failed.errors, "a BuildFailed with no error"
        for error in failed.errors:
            assert isinstance(error, SourceError), repr(error)
            assert error.file, f"an error names no file: {error}"
            where = Path(error.file)
            assert where == data or data in where.parents, f"not a file of data/: {error}"
            assert error.line >= 0, str(error)
            if where.is_file():
                # a line ends at LF, CR or CRLF (and YAML's NEL, U+2028, U+2029)
                text = where.read_bytes().decode("utf-8", "replace")
                lines = len(text.splitlines()) + 2
                assert error.line <= lines, f"line {error.line} of a {lines}-line file: {error}"
            assert error.message.strip(), f"an error with no message: {error!r}"
        return failed
    round_trips(checked)
    return checked


def round_trips(checked: Validated) -> None:
    """Every dump format parses back to the same graph; the store loads the canonical dump."""
    graph = Graph()
    for triple in checked.graph:
        graph.add(triple)
    for fmt in DUMP_FORMATS:
        data = serialize(checked.graph, fmt)
        back = Graph().parse(data=data, format=fmt.rdflib_name)
        assert isomorphic(back, graph), f"{fmt.name} does not round-trip"
    store = pyoxigraph.Store()
    store.bulk_load(serialize(checked.graph, Format.NTRIPLES), pyoxigraph.RdfFormat.N_TRIPLES)
    assert len(store) == len(graph)


def field_errors_named(outcome: BuildFailed | Validated, written: Written) -> None:
    """Where the file was read, an unknown field is reported with its file and its name."""
    if not isinstance(outcome, BuildFailed):
        unknown = [k for r in written.records for k in r if k.startswith("zz")]
        assert not unknown, f"unknown fields {unknown} were accepted"
        return
    if any(Path(e.file) == written.path for e in load(written.path.parent.parent).errors):
        return  # the file as a whole could not be read (syntax, a tag …): no record to check
    mine = [e for e in outcome.errors if Path(e.file) == written.path]
    if any(e.field == "id" for e in mine):
        return  # a record set aside for its id (a duplicate is not converted)
    for record in written.records:
        for name in record:
            if name.startswith("zz"):
                assert any(e.field == name for e in mine), (
                    f"unknown field {name} of {written.path.name} not reported: "
                    + "; ".join(map(str, mine))
                )


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return copy_data(tmp_path_factory.mktemp("fuzz") / "data")


def fresh_copy(pristine: Path, into: str) -> Path:
    import shutil

    target = Path(into) / "data"
    shutil.copytree(pristine, target)
    return target


@bounded()
@given(spec=record_files(), body=markdown_bodies)
@example(spec=("topic", [{"id": "x", "name": "no"}], ".yaml", "plain"), body="")
@example(spec=("topic", [{"id": "x", "name": "*a"}], ".yaml", "plain"), body="")
@example(
    spec=("person", [{"id": "x", "name": "!!python/object:os.system"}], ".yaml", "plain"),
    body="",
)
@example(spec=("event", [{"id": "x", "name": "E", "startDate": "2021-02-30"}], ".csv", ""), body="")
@example(spec=("topic", [{"id": "x", "name": "\x07bell"}], ".csv", ""), body="")
@example(
    spec=("organisation", [{"id": "o", "name": " a ", "zzField": "~"}], ".md", "json"), body=""
)
def test_generated_records_build_or_fail_with_file_and_field(pristine, spec, body):
    """Attack: a publisher's record with hostile or odd values, in any file format."""
    with tempfile.TemporaryDirectory() as tmp:
        data = fresh_copy(pristine, tmp)
        written = write_records(data, spec, body)
        outcome = holds(data)
        field_errors_named(outcome, written)


whole_file_texts = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8")),
    st.lists(
        st.sampled_from(
            [
                "---\n",
                "id: x\n",
                "name: ",
                "- ",
                "  ",
                "&a ",
                "*a\n",
                "!!python/object/apply:os.system ['touch pwned']\n",
                "{",
                "}",
                "[",
                "]",
                '"',
                "'",
                ",",
                ";",
                "\n",
                "\r\n",
                "\r",
                "\t",
                "# ",
                "id,name\n",
                "x,y\n",
                '"a\nb",c\n',
                "?",
                ": ",
                "|\n",
                ">-\n",
                "%YAML 1.2\n",
                "\ufeff",
                "\x00",
                "é",
                "<script>",
                "2021-02-30",
                "no",
            ]
        ),
        max_size=30,
    ).map(lambda parts: "".join(parts).encode("utf-8")),
)
targets = st.one_of(
    st.builds(
        lambda folder, suffix: f"{folder}/whole{suffix}",
        st.sampled_from(sorted(FOLDERS.values())),
        st.sampled_from([".md", ".yaml", ".yml", ".csv", ".txt", ""]),
    ),
    st.sampled_from(
        [
            "dataset.yaml",
            "people/cecilie-kern.yaml",
            "places/places.csv",
            "unknown-folder/x.yaml",
            "topics/.hidden.yaml",
            "stray.yaml",
        ]
    ),
)


@bounded()
@given(target=targets, content=whole_file_texts)
@example(target="dataset.yaml", content=b"")
@example(target="dataset.yaml", content=b"- a\n- b\n")
@example(target="topics/whole.yaml", content=b"a: &x [1]\nb: *x\n")
@example(target="topics/whole.yaml", content=b"\xff\xfe")
@example(target="places/places.csv", content=b'id,name\n"unclosed,x\n')
@example(target="articles/whole.md", content=b"---\nheadline: x\n")
@example(target="topics/whole.yaml", content=b"[" * 5000)
@example(target="dataset.yaml", content=b"\r\r!")  # old Mac line ends: line 3 is right
@example(target="articles/whole.csv", content=b"\r\x00")  # a CR alone ends the header row
def test_whole_files_build_or_fail_with_the_file_named(pristine, target, content):
    """Attack: a file of random bytes or broken YAML/CSV/Markdown anywhere in data/."""
    with tempfile.TemporaryDirectory() as tmp:
        data = fresh_copy(pristine, tmp)
        path = data / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        outcome = holds(data)
        assert not (Path.cwd() / "pwned").exists(), "a YAML tag ran code"
        if isinstance(outcome, BuildFailed) and target == "dataset.yaml":
            assert any(Path(e.file) == path for e in outcome.errors)


@bounded(0.3)
@given(
    kind=st.sampled_from(sorted(FIELDS)),
    name=st.text(
        st.characters(codec="utf-8", exclude_characters=YAML_LINE_BREAKS), min_size=1, max_size=40
    ).filter(lambda s: s.strip()),
    extra=st.dictionaries(st.sampled_from(["description", "definition", "jobTitle"]), words),
)
def test_quoted_text_is_kept_as_written_and_round_trips(pristine, kind, name, extra):
    """Any text, JSON-quoted (so YAML cannot misread it), becomes the name as written
    (trimmed), or a clear error - never a guess (`no` stays "no"). YAML's own line breaks
    (NEL, U+2028, U+2029), which the YAML spec folds inside quotes, are left out."""
    record = {"id": "fz-quoted", "name": name}
    record.update({k: v for k, v in extra.items() if k in FIELDS[kind]})
    with tempfile.TemporaryDirectory() as tmp:
        data = fresh_copy(pristine, tmp)
        written = write_records(data, (kind, [record], ".yaml", "json"), "")
        outcome = holds(data)
        if isinstance(outcome, BuildFailed):
            mine = [e for e in outcome.errors if Path(e.file) == written.path]
            assert mine, f"the failure names other files only: {outcome}"
            return
        names = {
            str(o)
            for s, p, o in list(outcome.graph)
            if str(s).endswith(f"/id/{kind}/fz-quoted") and str(p).endswith(("/name", "#prefLabel"))
        }
        assert names, "the record has no name in the graph"
        assert names == {names.copy().pop()}
        assert names.pop() in (name, name.strip())


def test_dump_formats_are_the_ones_published():
    """The round-trip covers what a build writes (lod.void.DUMP_FORMATS)."""
    assert set(DUMP_FORMATS) == {Format.NTRIPLES, Format.TURTLE, Format.JSONLD}
