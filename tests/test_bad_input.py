"""Bad input: one fault per case, each reported as `file:line: field: message`, exit 1.

A good build of data/ is made once. Each case then takes a fresh copy of data/ and of that
build's output folder, injects ONE fault into ONE file, runs `lod build` (in this process,
through click's test runner; the good build and the test of all faults at once run it as a
process of its own) and checks that:

- the exit status is 1 and there is no traceback;
- stderr has a line naming the file (as given with `--data data`), the line of the fault,
  the field (where the fault has one) and a key phrase of the message;
- dist/current still points to the good build, and not one file of the output changed.

The tables CASES and FIXED are the corpus (FIXED: faults this corpus once caught lod/
getting wrong).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from lod.cli import cli

from .conftest import wait_for_lock

DATA = Path(__file__).resolve().parent.parent / "data"
RUN_CLI = "from lod.cli import main; main()"
ARTICLE = "articles/commission-on-social-development-examines-role-of-digital-technologies.md"
EVENT = "events/csocd59.yaml"
FORUM = "events/csocd59-civil-society-forum.yaml"
PERSON = "people/cecilie-kern.yaml"
ORGANISATIONS = "organisations/organisations.yaml"
PLACES = "places/places.csv"
DATASET = "dataset.yaml"
MARKER = "pwned"  # what an executed YAML tag would create in the working directory

Edit = Callable[[str], str]


def replace(old: str, new: str) -> Edit:
    """An edit of an existing file: `old` must occur exactly once."""

    def apply(text: str) -> str:
        assert text.count(old) == 1, f"the seed data changed: {old!r} is not there once"
        return text.replace(old, new)

    return apply


def append(extra: str) -> Edit:
    return lambda text: text + extra


def drop_line(start: str) -> Edit:
    """An edit that removes the one line starting with `start`."""

    def apply(text: str) -> str:
        lines = text.splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith(start)]
        assert len(kept) == len(lines) - 1, f"the seed data changed: no one line {start!r}"
        return "".join(kept)

    return apply


@dataclass(frozen=True)
class Case:
    id: str
    path: str  # relative to data/
    change: str | bytes | Edit  # new content of the file, or an edit of the existing one
    line: int | None  # None: the fault is about the file or folder as a whole
    field: str | None  # None: the fault has no field (YAML syntax, encoding …)
    phrases: tuple[str, ...]
    at: str | None = None  # the path reported, when it is not `path` (a folder)

    @property
    def where(self) -> str:
        location = f"data/{self.at or self.path}"
        location += f":{self.line}" if self.line is not None else ""
        return location + (f": {self.field}:" if self.field else ":")


def case(id, path, change, line, field, *phrases, at=None) -> Case:
    return Case(id, path, change, line, field, phrases, at)


CASES = [
    # fields
    case(
        "unknown-field-did-you-mean",
        ARTICLE,
        replace("datePublished: 2021-02-20\n", "headlin: Typo\ndatePublished: 2021-02-20\n"),
        6,
        "headlin",
        "unknown",
        "article",
        "did you mean `headline`?",
    ),
    case(
        "required-field-missing",
        ARTICLE,
        drop_line("headline: "),
        4,
        "headline",
        "missing",
        "needs a headline",
    ),
    case(
        "list-where-one-value-expected",
        PERSON,
        replace(
            "jobTitle: Global Policy & Research Advocate\n",
            "jobTitle:\n  - Global Policy Advocate\n  - Research Advocate\n",
        ),
        5,
        "jobTitle",
        "takes one value, not a list",
    ),
    case(
        "mapping-where-text-expected",
        PERSON,
        replace("name: Cecilie Kern\n", "name: {first: Cecilie, last: Kern}\n"),
        4,
        "name",
        "`first` is not a BCP 47 language tag",
    ),
    case(
        "contributor-without-ref",
        FORUM,
        replace(
            "  - ref: organisation/mercy-international-association\n    role: participant\n",
            "  - role: participant\n",
        ),
        9,
        "contributors",
        "each contributor is a mapping {ref:",
    ),
    # references
    case(
        "unknown-reference",
        ARTICLE,
        replace("publisher: mia-mga\n", "publisher: organisation/nope\n"),
        7,
        "publisher",
        "no organisation `nope`",
    ),
    case(
        "reference-to-wrong-kind",
        EVENT,
        replace("location: united-nations-headquarters\n", "location: topic/privacy\n"),
        8,
        "location",
        "`topic/privacy`: a topic is not allowed here",
        "expected place",
    ),
    case(
        "bare-slug-where-several-kinds-allowed",
        ARTICLE,
        replace("author:\n  - organisation/mia-mga\n", "author: mia-mga\n"),
        8,
        "author",
        "`mia-mga` does not say its kind",
        "write kind/slug",
    ),
    case(
        "dataset-publisher-unknown",
        DATASET,
        replace("publisher: mia-mga\n", "publisher: mia-mgaa\n"),
        10,
        "publisher",
        "no organisation `mia-mgaa`",
    ),
    # ids
    case(
        "duplicate-id-across-files",
        "events/second-csocd59.yaml",
        "# the same event twice\nid: csocd59\nname: CSocD59 again\n",
        2,
        "id",
        "duplicate event id `csocd59`",
        "first defined at data/events/csocd59.yaml:4",
    ),
    case(
        "duplicate-id-in-one-file",
        ORGANISATIONS,
        append("\n- id: mia-mga\n  name: MIA-MGA again\n"),
        39,
        "id",
        "duplicate organisation id `mia-mga`",
        "first defined at data/organisations/organisations.yaml:26",
    ),
    case(
        "bad-slug-id",
        "people/someone.yaml",
        "# a person\nid: Bad Id\nname: Someone\n",
        2,
        "id",
        "`Bad Id` is not a valid id",
        "lower-case letters",
    ),
    *(
        case(
            f"slug-breaking-iri-{name}",
            "topics/more-topics.yaml",
            f"- id: fine-topic\n  name: Fine\n- id: {slug}\n  name: Broken\n",
            3,
            "id",
            f"`{slug}` is not a valid id",
        )
        for name, slug in [("slash", "a/b"), ("space", "x y"), ("non-ascii", "é")]
    ),
    case(
        "bad-slug-from-file-name",
        "people/Cecilie Kern.yaml",
        "name: Cecilie Kern\n",
        1,
        "id",
        "`Cecilie Kern` is not a valid id",
    ),
    case(
        "list-record-without-id",
        "topics/more-topics.yaml",
        "- id: fine-topic\n  name: Fine\n- name: No id\n",
        3,
        "id",
        "missing: each record of a list needs an id",
    ),
    # dates
    case(
        "bad-date-month-13",
        EVENT,
        replace("startDate: 2021-02-08\n", "startDate: 2021-13-01\n"),
        6,
        "startDate",
        "`2021-13-01` is not a real date",
    ),
    case(
        "date-that-does-not-exist",
        EVENT,
        replace("endDate: 2021-02-17\n", "endDate: 2021-02-30\n"),
        7,
        "endDate",
        "`2021-02-30` is not a real date",
    ),
    case(
        "date-not-iso-8601",
        ARTICLE,
        replace("datePublished: 2021-02-20\n", "datePublished: 20 February 2021\n"),
        6,
        "datePublished",
        "not an ISO 8601 date",
    ),
    case(
        # SHACL (lessThanOrEquals on startDate): reported against the event's startDate
        "end-date-before-start-date",
        EVENT,
        replace("endDate: 2021-02-17\n", "endDate: 2021-02-01\n"),
        6,
        "startDate",
        "not after endDate",
    ),
    # IRIs and other typed values
    case(
        "sameas-not-an-iri",
        ORGANISATIONS,
        replace(
            "  sameAs:\n    - http://www.wikidata.org/entity/Q1065\n", "  sameAs: not an iri\n"
        ),
        8,
        "sameAs",
        "`not an iri` is not a valid IRI",
    ),
    case(
        "sameas-without-host",
        ORGANISATIONS,
        replace("  sameAs:\n    - http://www.wikidata.org/entity/Q1065\n", "  sameAs: http://\n"),
        8,
        "sameAs",
        "`http://` has no host",
    ),
    case(
        "url-bad-scheme",
        PERSON,
        append("url: javascript:alert(1)\n"),
        7,
        "url",
        "a javascript: IRI names no resource of the web",
    ),
    case(
        "bad-language-tag",
        ARTICLE,
        replace("inLanguage: en\n", "inLanguage: en_GB\n"),
        10,
        "inLanguage",
        "`en_GB` is not a BCP 47 language tag",
    ),
    case(
        "bad-attendance-mode",
        EVENT,
        replace("attendanceMode: mixed\n", "attendanceMode: hybrid\n"),
        9,
        "attendanceMode",
        "`hybrid` is not an attendance mode",
        "offline, online or mixed",
    ),
    case(
        "latitude-out-of-range",
        "places/more-places.csv",
        "id,name,latitude,longitude\nnorth,North,91,0\n",
        2,
        "latitude",
        "`91` is outside -90 to 90",
    ),
    case(
        "unknown-schema-org-type",
        ORGANISATIONS,
        replace(
            "- id: mercy-international-association\n  name: Mercy International Association\n"
            "  type: NGO\n",
            "- id: mercy-international-association\n  name: Mercy International Association\n"
            "  type: NGOO\n",
        ),
        23,
        "type",
        "`NGOO` is not a schema.org subtype of Organization",
        "did you mean `NGO`?",
    ),
    # YAML
    case(
        "yaml-syntax",
        PERSON,
        replace("jobTitle: Global Policy & Research Advocate\n", "jobTitle: Policy: Research\n"),
        5,
        None,
        "invalid YAML: mapping values are not allowed",
    ),
    case(
        "yaml-python-tag-not-executed",
        PERSON,
        replace(
            "name: Cecilie Kern\n", f'name: !!python/object/apply:os.system ["touch {MARKER}"]\n'
        ),
        4,
        "name",
        "YAML tag tag:yaml.org,2002:python/object/apply:os.system is not allowed",
    ),
    case(
        "yaml-alias-bomb",
        PERSON,
        append(
            'lol1: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
            + "".join(
                f"lol{n}: &{b} [{', '.join([f'*{a}'] * 9)}]\n"
                for n, a, b in zip(range(2, 10), "abcdefgh", "bcdefghi", strict=True)
            )
        ),
        8,
        None,
        "YAML aliases (*name) are not allowed",
    ),
    case(
        "yaml-duplicate-key",
        PERSON,
        append("name: Someone Else\n"),
        7,
        "name",
        "duplicate key (first on line 4)",
    ),
    case(
        "yaml-scalar-not-a-record",
        "people/someone.yaml",
        "just some text\n",
        1,
        None,
        "expected a mapping (one record) or a list of mappings",
    ),
    case("empty-file", "people/someone.yaml", "", 1, None, "the file is empty"),
    case(
        "only-comments",
        "people/someone.yaml",
        "# nothing here yet\n",
        1,
        None,
        "the file holds no record",
    ),
    case(
        "not-utf-8",
        "people/someone.yaml",
        b"# a person\nname: Ren\xe9e\n",
        2,
        None,
        "not UTF-8 (byte 0xe9)",
        "save the file as UTF-8",
    ),
    # Markdown
    case(
        "front-matter-not-closed",
        ARTICLE,
        replace("  - topic/good-governance\n---\n", "  - topic/good-governance\n"),
        1,
        None,
        "front matter is not closed",
    ),
    case(
        "front-matter-missing",
        "articles/no-front-matter.md",
        "headline: A headline\n\nThe body.\n",
        1,
        None,
        "front matter missing",
        "start the file with a line `---`",
    ),
    case(
        "front-matter-empty",
        "articles/empty-front-matter.md",
        "---\n---\nThe body.\n",
        2,
        None,
        "front matter is empty",
    ),
    # CSV
    case(
        "csv-wrong-number-of-cells",
        PLACES,
        append("berlin,Berlin\n"),
        4,
        None,
        "2 cells where the header has 4",
    ),
    case(
        "csv-unclosed-quote",
        PLACES,
        append('berlin,"Berlin,,\n'),
        4,
        None,
        "invalid CSV",
    ),
    case(
        "csv-unknown-column",
        "places/more-places.csv",
        "id,name,colour\nberlin,Berlin,blue\n",
        1,
        "colour",
        "unknown",
        "place",
    ),
    # several languages
    case(
        "language-key-not-a-tag",
        PERSON,
        replace("jobTitle: Global", "jobTitle@english: Global"),
        5,
        "jobTitle@english",
        "`english` is not a BCP 47 language tag",
    ),
    case(
        "language-map-value-empty",
        PERSON,
        replace("name: Cecilie Kern\n", "name:\n  en: Cecilie Kern\n  fr: ''\n"),
        6,
        "name",
        "fr: is empty",
    ),
    case(
        "language-on-a-date",
        ARTICLE,
        replace("datePublished: 2021-02-20\n", "datePublished@fr: 2021-02-20\n"),
        6,
        "datePublished@fr",
        "unknown article field",
        "`datePublished` takes no language",
    ),
    case(
        "two-names-in-one-language",
        PERSON,
        replace("name: Cecilie Kern\n", "name: Cecilie Kern\nname@en: C. Kern\n"),
        4,
        "name",
        "one per language",
    ),
    case(
        "translation-of-itself",
        ARTICLE,
        replace(
            "inLanguage: en\n",
            "inLanguage: en\ntranslationOf: "
            "commission-on-social-development-examines-role-of-digital-technologies\n",
        ),
        11,
        "translationOf",
        "cannot be a translation of itself",
    ),
    case(
        "translation-in-the-same-language",
        "documents/documents.yaml",
        replace(
            "  name: Civil Society Declaration\n",
            "  name: Civil Society Declaration\n"
            "  translationOf: csocd59-migration-displacement-side-event-recording\n",
        ),
        11,
        "translationOf",
        "is in en too",
        "set inLanguage",
    ),
    # dataset.yaml
    case(
        "dataset-languages-twice",
        DATASET,
        replace("language: en\n", "languages: [en, fr, en]\n"),
        11,
        "languages",
        "`en` is listed twice",
    ),
    case(
        "dataset-language-not-registered",
        DATASET,
        replace("language: en\n", "languages: [en, fe]\n"),
        11,
        "languages",
        "`fe` is not a BCP 47 language tag",
    ),
    case(
        "dataset-language-and-languages",
        DATASET,
        replace("language: en\n", "language: en\nlanguages: [en, fr]\n"),
        11,
        "language",
        "given besides `languages`",
    ),
    case(
        "dataset-field-missing",
        DATASET,
        replace("language: en\n", ""),
        3,
        "languages",
        "missing: a required field",
    ),
    case(
        "dataset-unknown-field",
        DATASET,
        replace("license:", "licence:"),
        9,
        "licence",
        "unknown field",
        "did you mean `license`?",
    ),
    case(
        "dataset-base-without-trailing-slash",
        DATASET,
        replace("base: https://lod.example.org/\n", "base: https://lod.example.org\n"),
        12,
        "base",
        "must end with `/`",
    ),
    # folders and files
    case(
        "unknown-folder",
        "authors/someone.yaml",
        "name: Someone\n",
        None,
        None,
        "not a folder of a known kind",
        "expected one of: articles/",
        at="authors",
    ),
    case(
        "unsupported-file-extension",
        "people/someone.json",
        '{"name": "Someone"}\n',
        None,
        None,
        "unsupported file type",
        "use .md, .yaml, .yml or .csv",
    ),
]


# Faults that once got past lod/ (found by this corpus, now fixed).
FIXED = [
    case(
        "yaml-tag-on-top-level-mapping",
        "people/someone.yaml",
        f"!!python/object/apply:os.system\nargs: [touch {MARKER}]\nname: Someone\n",
        1,
        None,
        "YAML tag tag:yaml.org,2002:python/object/apply:os.system is not allowed",
    ),
    case(
        "yaml-tag-on-list-item",
        "people/someone.yaml",
        "- !!python/object:os.system\n  id: someone\n  name: Someone\n",
        1,
        None,
        "YAML tag tag:yaml.org,2002:python/object:os.system is not allowed",
    ),
    case(
        "yaml-tag-on-key",
        "people/someone.yaml",
        "name: Someone\n!!python/name:os.system jobTitle: Advocate\n",
        2,
        None,
        "a key must be plain text",
    ),
    case(
        "yaml-nested-too-deeply",
        "people/someone.yaml",
        "name: Someone\njobTitle: " + "[" * 3000 + "]" * 3000 + "\n",
        None,
        None,
        "nest",
    ),
    case(
        "yaml-unclosed-quote",
        PERSON,
        replace("name: Cecilie Kern\n", 'name: "Cecilie Kern\n'),
        4,
        None,
        "invalid YAML",
    ),
    case(
        "iri-bad-ipv6-host",
        PERSON,
        append('sameAs: "http://[oops"\n'),
        7,
        "sameAs",
        "http://[oops",
    ),
    case(
        "iri-netloc-nfkc",
        PERSON,
        append('url: "http://example.org\uff03@evil.example/"\n'),
        7,
        "url",
        "evil.example",
    ),
    case(
        "dataset-publisher-is-a-list",
        DATASET,
        replace("publisher: mia-mga\n", "publisher: [mia-mga]\n"),
        10,
        "publisher",
    ),
    case(
        "csv-unknown-empty-column",
        PLACES,
        lambda text: "".join(f"{line},\n" for line in text.splitlines()).replace(
            "sameAs,\n", "sameAs,colour\n", 1
        ),
        1,
        "colour",
        "unknown",
    ),
    case(
        "unknown-reference-in-block-list",
        EVENT,
        replace("  - organisation/commission-for-social-development\n", "  - organisation/nope\n"),
        11,
        "organizer",
        "no organisation `nope`",
    ),
]


# --- the good build, and running the CLI ---------------------------------------------------


def lod(*args: str, cwd: Path) -> Ran:
    """The command run in this process, as click's test runner runs it, from `cwd`."""
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        done = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(previous)
    return Ran(done.exit_code, done.stdout, done.stderr)


@dataclass(frozen=True)
class Ran:
    """What a command did: its exit status and outputs."""

    returncode: int
    stdout: str
    stderr: str


def lod_process(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The command run as a user runs it: a process of its own, without LOD_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOD_")}
    return subprocess.run(
        [sys.executable, "-c", RUN_CLI, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
    )


def snapshot(out: Path) -> dict[str, str]:
    """Every file of the output folder (but its lock) with its SHA-256, and where current is."""
    files = {"current ->": os.readlink(out / "current")}
    for path in sorted(out.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.name != ".lock":
            files[str(path.relative_to(out))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


@dataclass(frozen=True)
class Published:
    root: Path  # holds data/ and dist/ as built
    current: str  # os.readlink(dist/current)
    sums: str  # dist/current/SHA256SUMS
    files: dict[str, str]


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Published:
    root = tmp_path_factory.mktemp("published")
    shutil.copytree(DATA, root / "data")
    done = lod_process("build", "--data", "data", "--out", "dist", cwd=root)
    assert done.returncode == 0, done.stderr
    out = root / "dist"
    wait_for_lock(out)  # the state's snapshot written, by a process of its own
    return Published(
        root,
        os.readlink(out / "current"),
        (out / "current" / "SHA256SUMS").read_text("utf-8"),
        snapshot(out),
    )


@pytest.fixture
def workspace(published, tmp_path) -> Path:
    """A fresh copy of the good data/ and of its build output (dist/current kept a symlink)."""
    shutil.copytree(published.root / "data", tmp_path / "data")
    shutil.copytree(published.root / "dist", tmp_path / "dist", symlinks=True)
    return tmp_path


def inject(data: Path, fault: Case) -> None:
    path = data / fault.path
    path.parent.mkdir(parents=True, exist_ok=True)
    change = fault.change
    if callable(change):
        change = change(path.read_text("utf-8"))
    if isinstance(change, bytes):
        path.write_bytes(change)
    else:
        path.write_text(change, "utf-8")


def assert_reported(done: Ran | subprocess.CompletedProcess, fault: Case) -> None:
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode == 1, output
    lines = done.stderr.splitlines()
    assert lines and lines[0].startswith("error: "), done.stderr
    assert "nothing was published" in lines[-1], done.stderr
    matching = [
        line for line in lines if fault.where in line and all(p in line for p in fault.phrases)
    ]
    assert matching, f"no line with {fault.where!r} and {fault.phrases!r} in:\n{done.stderr}"


def assert_untouched(workspace: Path, published: Published) -> None:
    out = workspace / "dist"
    assert os.readlink(out / "current") == published.current
    assert (out / "current" / "SHA256SUMS").read_text("utf-8") == published.sums
    assert snapshot(out) == published.files
    assert not (workspace / MARKER).exists(), "a YAML tag was executed"


# --- the corpus ----------------------------------------------------------------------------


def test_corpus_is_large_enough():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 25


@pytest.mark.parametrize("fault", [pytest.param(c, id=c.id) for c in [*CASES, *FIXED]])
def test_bad_input_fails_the_build_and_keeps_the_last_one(fault, workspace, published):
    inject(workspace / "data", fault)
    done = lod("build", "--data", "data", "--out", "dist", cwd=workspace)
    assert_untouched(workspace, published)
    assert_reported(done, fault)


def test_unreadable_file_is_reported(workspace, published):
    (workspace / "data" / "people" / "ghost.yaml").symlink_to(workspace / "nowhere.yaml")
    done = lod("build", "--data", "data", "--out", "dist", cwd=workspace)
    assert_untouched(workspace, published)
    assert_reported(done, case("ghost", "people/ghost.yaml", "", None, None))


def test_all_faults_are_reported_together(workspace, published):
    faults = [c for c in CASES if c.id in ("unknown-field-did-you-mean", "bad-date-month-13")]
    faults.append(case("cells", PLACES, append("berlin,Berlin\n"), 4, None, "2 cells"))
    faults.append(case("person", "people/someone.yaml", b"name: Ren\xe9e\n", 1, None, "UTF-8"))
    for fault in faults:
        inject(workspace / "data", fault)
    done = lod_process("build", "--data", "data", "--out", "dist", cwd=workspace)
    assert_untouched(workspace, published)
    for fault in faults:
        assert_reported(done, fault)
    errors = done.stderr.splitlines()[:-1]
    assert len(errors) == len(faults), done.stderr
    assert done.stderr.splitlines()[-1] == f"{len(faults)} errors; nothing was published"


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(c, id=c.id)
        for c in CASES
        if c.id in ("unknown-field-did-you-mean", "end-date-before-start-date")
    ],
)
def test_validate_reports_the_same(fault, workspace):
    inject(workspace / "data", fault)
    built = lod("build", "--data", "data", "--out", "dist", cwd=workspace)
    checked = lod("validate", "--data", "data", cwd=workspace)
    assert_reported(built, fault)
    assert (
        checked.returncode == 1 and "published" not in checked.stderr
    )  # validating publishes nothing
    assert checked.stderr == built.stderr.replace("; nothing was published", "")
    reference = lod("validate", "--data", "data", "--engine", "pyshacl", cwd=workspace)
    assert (reference.returncode, reference.stderr) == (checked.returncode, checked.stderr)


def test_every_bad_value_of_a_list_field_is_reported(workspace, published):
    inject(
        workspace / "data",
        case(
            "two-bad-about",
            ARTICLE,
            replace(
                "about:\n  - event/csocd59\n",
                "about:\n  - event/nope-one\n  - event/csocd59\n  - topic/nope-two\n",
            ),
            0,
            None,
        ),
    )
    done = lod("build", "--data", "data", "--out", "dist", cwd=workspace)
    assert_untouched(workspace, published)
    assert "about: no event `nope-one`" in done.stderr
    assert "about: no topic `nope-two`" in done.stderr
    assert done.stderr.splitlines()[-1] == "2 errors; nothing was published"


def test_a_file_that_cannot_be_read_is_reported_before_its_consequences(workspace, published):
    """people/cecilie-kern.yaml broken: its YAML error first, then the references to her,
    each saying where the cause is."""
    (workspace / "data" / PERSON).write_text("name: Cecilie Kern\njobTitle: [unclosed\n", "utf-8")
    done = lod("build", "--data", "data", "--out", "dist", cwd=workspace)
    assert_untouched(workspace, published)
    errors = done.stderr.splitlines()[:-1]
    assert PERSON in errors[0] and "YAML" in errors[0], done.stderr
    consequences = [line for line in errors[1:] if "no person `cecilie-kern`" in line]
    assert consequences and len(consequences) == len(errors) - 1, done.stderr
    assert all(f"{PERSON} could not be read" in line for line in consequences)
