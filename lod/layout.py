"""Every file and folder of an output folder (dist/), named here and nowhere else.

`Output` is an output folder: its builds, the pointers to the one served, the lock, the
ledger of published IRIs and the caches. `Build` is one finished build folder, and the
names of its files are the constants below. `ENTRIES` says of each what it is, who writes
and reads it, how it goes stale and whether it may be deleted; docs/output-folder.md is
made from it (tests/test_docs.py fails when they differ):

    python -m lod.layout > docs/output-folder.md

>>> out = Output("dist")
>>> out.build("20261207T101010000000Z-0a1b2c3d").relative_to(out.root).as_posix()
'builds/20261207T101010000000Z-0a1b2c3d'
>>> out.ledger.relative_to(out.root).as_posix()
'ledger/published-iris.txt'
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from .errors import NoBuild, NotPublished
from .formats import Format

# The files of a build folder (dist/builds/<id>/).
MANIFEST = "manifest.json"
VOID = "void.ttl"
VALIDATION_TEXT = "validation.txt"
VALIDATION_GRAPH = "validation.ttl"
SUMS = "SHA256SUMS"
STORE = "store"
LISTS = "lists.json"
LISTS_INDEX = "lists.sqlite"  # the same, as the app reads it (lod.lists)
VERSIONS = "versions.json"  # the clusters of translations (lod.versions)
RECONCILE_INDEX = "reconcile.json"
EXTEND_VALUES = "extend.jsonl"  # each record's property values, for data extension
SEARCH_INDEX = "search.sqlite"
ANSWERS = "answers.sqlite"  # the counts and date orders some queries are answered from
CHANGES = "ldes"  # the change stream's history
CHANGES_INDEX = "index.json"  # in CHANGES
MIXNMATCH = "mixnmatch.tsv"
REDIRECTS = "redirects.json"
GONE = "gone.json"

DUMP_FORMATS = (Format.NTRIPLES, Format.TURTLE, Format.JSONLD)
RECONCILE_INDEX_VERSION = 2  # the shape of reconcile.json (2: names in every language)
BUILD_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]*")
STATE = "builder.state"  # in cache/: the snapshot; STATE.1, .2, … its journal
LINES = "builder.lines"  # in cache/: LINES.<n>, the N-Triples lines a state refers to


def change_page(number: int, full: bool) -> str:
    """The file name of page `number` of the change stream (in CHANGES): 000001.jsonl.gz
    for a full page (gzipped: it never changes again), 000001.jsonl for the last one while
    it is being filled."""
    return f"{number:06d}.jsonl.gz" if full else f"{number:06d}.jsonl"


def read_only(path: Path) -> sqlite3.Connection:
    """An SQLite file of a build (search.sqlite, lists.sqlite, answers.sqlite), opened to
    read from any thread: a build never changes once written, so no lock is taken and no
    journal looked for (`immutable`)."""
    uri = Path(path).resolve().as_uri() + "?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def dump_name(fmt: Format) -> str:
    """The file name of the dump in `fmt`: dataset.nt.gz, dataset.ttl.gz, dataset.jsonld.gz."""
    return f"dataset.{fmt.extension}.gz"


class Output:
    """An output folder (`LOD_OUT`, dist/ by default), as every layer finds its way in it."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    @property
    def builds(self) -> Path:
        return self.root / "builds"

    def build(self, build_id: str) -> Path:
        return self.builds / build_id

    def partial(self, build_id: str) -> Path:
        """Where a build is written before it is renamed to `build(build_id)`."""
        return self.builds / f".partial-{build_id}"

    @property
    def current(self) -> Path:
        """The symlink to the build served here."""
        return self.root / "current"

    @property
    def published(self) -> Path:
        """The symlink to the build a remote store serves (`lod publish`)."""
        return self.root / "published"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def ledger(self) -> Path:
        """The IRIs ever published here (lod.make.permanence): never to be deleted."""
        return self.root / "ledger" / "published-iris.txt"

    @property
    def former_ledger(self) -> Path:
        """Where versions before 0.2 kept the ledger; moved to `ledger` when found."""
        return self.root / "published-iris.txt"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def validation_cache(self) -> Path:
        return self.cache / "validation"

    @property
    def state(self) -> Path:
        """The builder's snapshot; its journal's steps are `state_step(n)`."""
        return self.cache / STATE

    def state_step(self, number: int) -> Path:
        return self.cache / f"{STATE}.{number}"

    def state_lines(self, name: str) -> Path:
        """A file of N-Triples lines a build's state refers to (lod.make.parts.Lines)."""
        return self.cache / f"{LINES}.{name}"

    @property
    def serve_caches(self) -> Path:
        return self.cache / "serve"

    def serve_cache(self, build_id: str) -> Path:
        """The folder of the answers kept for one build."""
        return self.serve_caches / build_id

    @property
    def link_cache(self) -> Path:
        return self.cache / "link"


@dataclass(frozen=True)
class Build:
    """A finished build on disk."""

    path: Path
    manifest: dict
    # The validation warnings (lod.make.validate.Result), when this process made the build;
    # validation.txt in its folder holds them too.
    warnings: tuple = field(default=(), compare=False, repr=False)
    # The published IRIs this build dropped (lod build --allow-removals), when it made it.
    removed: tuple = field(default=(), compare=False, repr=False)

    @property
    def id(self) -> str:
        return self.manifest["id"]

    @property
    def base(self) -> str:
        return self.manifest["base"]

    @property
    def trial(self) -> bool:
        """A trial build (`lod build --trial`): its IRIs are not in the ledger, so it is
        never published to a remote store."""
        return bool(self.manifest.get("trial"))

    @property
    def store_path(self) -> Path:
        return self.path / STORE

    def dump(self, fmt: Format) -> Path:
        return self.path / dump_name(fmt)


def open_build(out: Path | str, build_id: str | None = None) -> Build:
    """The build dist/current points to, or the build `build_id` of dist/builds/ (the one
    a remote store serves: NotPublished when this machine's build folder lacks it)."""
    output = Output(out)
    if build_id is None:
        current = output.current
    elif BUILD_ID.fullmatch(build_id):
        current = output.build(build_id)
    else:
        raise NotPublished(f"the store serves a build with a bad id: {build_id[:80]!r}")
    try:
        path = current.resolve(strict=True)
        manifest = json.loads((path / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        if build_id is None:
            raise NoBuild(out) from None
        raise NotPublished(
            f"the store serves build {build_id}, which {output.builds} lacks: every "
            "app machine needs the build folder of each build published (share it or copy it)"
        ) from None
    return Build(path, manifest)


@dataclass(frozen=True)
class Entry:
    """One file or folder of an output folder, for the people who run a deployment."""

    path: str
    what: str
    writer: str
    reader: str
    stale: str
    delete: str


_BUILD = "builds/<id>/"
ENTRIES = (
    Entry(
        "builds/",
        "the last builds (three, and the one a remote store serves), each complete",
        "`lod build`",
        "the app, `lod query`, `lod search`, `lod publish`",
        "replaced by newer builds; older ones pruned by each build",
        "an old build yes (not `current` nor `published`); the folder no: it is what is served",
    ),
    Entry(
        "builds/.partial-<id>/",
        "a build being written",
        "`lod build`",
        "nobody",
        "left only by a build that was killed",
        "yes (the next build removes it)",
    ),
    Entry(
        f"{_BUILD}{MANIFEST}",
        "the build's id, base, title, counts, latest articles, files and their SHA-256",
        "`lod build`",
        "the app (home page, ETags), `lod check`",
        "never: a build folder is not changed once written",
        "with its build only",
    ),
    Entry(
        f"{_BUILD}dataset.{{nt,ttl,jsonld}}.gz, {SUMS}",
        "the dumps, and their checksums",
        "`lod build`",
        "`/dumps/`, the change stream of the next build",
        "never",
        "with its build only",
    ),
    Entry(
        f"{_BUILD}{VOID}",
        "the dataset's VoID and DCAT description",
        "`lod build`",
        "`/.well-known/void`",
        "never",
        "with its build only",
    ),
    Entry(
        f"{_BUILD}{VALIDATION_TEXT}, {VALIDATION_GRAPH}",
        "the validation report (warnings), as text and as SHACL results",
        "`lod build`",
        "publishers",
        "never",
        "with its build only",
    ),
    Entry(
        f"{_BUILD}{STORE}/",
        "the Oxigraph store of the build",
        "`lod build`",
        "the app's SPARQL endpoint and pages, `lod query`",
        "never",
        "with its build only",
    ),
    Entry(
        f"{_BUILD}{LISTS}, {LISTS_INDEX}, {VERSIONS}, {RECONCILE_INDEX}, {EXTEND_VALUES}",
        "lists per kind (as JSON for tools, as SQLite for the app), the translations of each "
        "work, the reconciliation index, each record's values for data extension",
        "`lod build`",
        "the app (lists, `/reconcile`)",
        "never",
        "with its build only",
    ),
    Entry(
        f"{_BUILD}{ANSWERS}",
        "the counts and date orders that answer the commonest SPARQL aggregates and `ORDER BY` "
        "date queries without a scan",
        "`lod build`",
        "the SPARQL endpoint's query workers",
        "never",
        "with its build only",
    ),
    Entry(
        f"{_BUILD}{SEARCH_INDEX}",
        "the full-text index",
        "`lod build` (a rebuild copies the last one and replaces what changed)",
        "`/search`, `lod search`",
        "never",
        "with its build only",
    ),
    Entry(
        f"{_BUILD}{CHANGES}/",
        "the change stream's history: every build's created, updated and deleted resources",
        "`lod build` (its full pages, gzipped, hard-linked from the last build; new pages added)",
        "`/ldes`",
        "never",
        "with its build only; deleting every build restarts the history",
    ),
    Entry(
        f"{_BUILD}{MIXNMATCH}",
        "the catalogue Wikidata's Mix'n'match imports",
        "`lod build`",
        "`/dumps/mixnmatch.tsv`",
        "never",
        "with its build only",
    ),
    Entry(
        f"{_BUILD}{REDIRECTS}, {GONE}",
        "former IRIs and where they went (301), IRIs declared gone (410)",
        "`lod build`",
        "the app",
        "never",
        "with its build only",
    ),
    Entry(
        "current",
        "symlink to the build served, switched atomically",
        "`lod build`",
        "the app (looked at again within a second), every command",
        "moves with each successful build",
        "no: nothing would be served",
    ),
    Entry(
        "published",
        "symlink to the build a remote store serves",
        "`lod publish`",
        "the app on a remote store, pruning",
        "moves with each `lod publish`",
        "no while a remote store is used",
    ),
    Entry(
        ".lock",
        "one build at a time per output folder",
        "`lod build`, the snapshot writer it leaves",
        "`lod build`",
        "held only while a build runs",
        "yes when no build runs",
    ),
    Entry(
        "ledger/published-iris.txt",
        "every IRI ever published here: a build may not drop one silently",
        "`lod build` (not `--trial`), after switching",
        "`lod build`, `--trial` too",
        "grows with each published build that adds records",
        "**never**: back it up with data/; without it, IRIs can disappear unnoticed",
    ),
    Entry(
        f"cache/{STATE}, cache/{STATE}.<n>, cache/{LINES}.<n>",
        "the last build's state (a snapshot, a journal, and the N-Triples lines they refer "
        "to) for an incremental `lod build`",
        "`lod build` (the snapshot by a process of its own)",
        "the next `lod build`",
        "ignored when current, lod, the libraries, data/, base or lod/shapes/ differ",
        "yes: the next build is then a full one",
    ),
    Entry(
        "cache/validation/",
        "SHACL results of unchanged chunks",
        "`lod build`, `lod validate`",
        "the same",
        "keyed by the chunk's content and the shapes",
        "yes: validation runs in full once",
    ),
    Entry(
        "cache/serve/<id>/",
        "answers given (documents, query results), per build, shared by the app's workers",
        "the app",
        "the app",
        "one folder per build: a new build starts an empty one; old ones pruned",
        "yes, best with the app stopped",
    ),
    Entry(
        "cache/link/",
        "answers of reconciliation services",
        "`lod link sameas`",
        "the same",
        "kept until deleted (`--no-cache` bypasses it)",
        "yes",
    ),
)


def markdown() -> str:
    """The table of ENTRIES, for docs/output-folder.md."""
    lines = [
        "<!-- Generated by `python -m lod.layout > docs/output-folder.md` from lod/layout.py;",
        "tests/test_docs.py fails when they differ. -->",
        "# The output folder",
        "",
        "Everything `lod` writes goes under one output folder (`LOD_OUT`, `dist/` by default).",
        "What may be deleted, and what never:",
        "",
        "| path | what | written by | read by | goes stale | may be deleted |",
        "|---|---|---|---|---|---|",
    ]
    for e in ENTRIES:
        lines.append(
            f"| `{e.path}` | {e.what} | {e.writer} | {e.reader} | {e.stale} | {e.delete} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
