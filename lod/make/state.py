"""What the last good build made (`State`), kept in memory by a Builder and on disk in
dist/cache/, so that `lod build` in a new process rebuilds from the last build the way
`lod build --watch` does, instead of doing everything again.

On disk: a snapshot (`builder.state`, a pickle of a State whose graph is left to its dump
blocks, see `Snapshot`) and a journal of the incremental builds made since
(`builder.state.1`, `.2`, …: each a `Step`, the source files' stamps and the records of the
files that changed), which the next process replays on the snapshot: replaying a step
costs what converting and validating one edit costs, while a snapshot costs a tenth of a
full build to write. After MAX_STEPS steps, or a full build, a new snapshot is written and
the journal emptied.

Each file has a header that says what it is valid for: the build it leads to (the last one
must be the build dist/current serves, each step follows the one before), this version of
lod's code and of the libraries that shape the output, the data folder, the base and the
shapes. A file made for anything else is stale; one whose SHA-256 does not match is
damaged: either way nothing is used (the build is done in full), never trusted. A body is
unpickled only after its hash is checked, so only files this program wrote are; anyone
who can write dist/ can change what is served anyway.

A source file's stamp (modification time, size, inode) says whether it changed since the
state was taken. A file modified within RACY_NS of that moment could have changed again
without its stamp changing (coarse clocks): such files are read again whatever their
stamp, as git does for its index.
"""

from __future__ import annotations

import contextlib
import copy
import copyreg
import gc
import hashlib
import json
import os
import pickle
import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import NamedTuple

import yaml
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from ..config import Settings
from ..errors import LodError
from ..layout import LINES, Build, Output, open_build
from ..triples import Triples
from .answers import Answers
from .changes import Hashed
from .listings import Listings
from .parts import Blocks, Lines, Members
from .shacl import Finding
from .sources import Found, Record
from .steps import Validated

FORMAT = 4  # the layout of the state files
MAX_STEPS = 5  # steps replayed at most: then a new snapshot
MAGIC = b"lod builder state\n"  # then valid_for as JSON, a line; the pickle; its SHA-256
DIGEST = 32
DATASET = "dataset.yaml"  # the one source file every state has: its path names the folder
HEADER = 1 << 16  # bytes of a header line at most
READ_BUFFER = 1 << 20
RACY_NS = 2_000_000_000  # FAT's 2 s clock is the coarsest in use
LIBRARIES = ("rdflib", "pyoxigraph", "pyshacl", "PyYAML")  # their output is in the state


@dataclass
class State:
    """What the last good build made, kept for the next."""

    found: Found
    scanned: int  # when `found` was taken (time.time_ns())
    by_file: dict[str, list[Record]]
    validated: Validated
    findings: dict[str, list[Finding]]  # by focus node
    blocks: Blocks
    members: Members
    listings: Listings
    hashed: Hashed
    answers: Answers
    build: Build


@dataclass
class Step:
    """An incremental build, as the next process replays it on the state before it."""

    found: Found
    scanned: int
    changed: dict[str, list[Record]]  # the records of the files whose stamps changed
    build: Build


def path(settings: Settings) -> Path:
    """The snapshot; the journal's steps are beside it, numbered from 1."""
    return Output(settings.out).state


class Snapshot(NamedTuple):
    """A State as its file holds it: without its graph, whose triples are the blocks' lines
    (read back when asked for: lod.make.parts.ReadBack), but with the graph's subjects in
    order. Half the time to write and to load at 100k articles."""

    state: State
    subjects: list[Node]

    @property
    def build(self) -> Build:
        return self.state.build

    @classmethod
    def of(cls, state: State) -> Snapshot:
        graph = state.validated.conversion.triples
        conversion = replace(state.validated.conversion, triples=Triples())
        data = copy.copy(state.validated.data)
        data.by_subject = {}
        without = replace(
            state, validated=replace(state.validated, conversion=conversion, data=data)
        )
        return cls(without, list(graph.by_subject))

    def restored(self) -> State:
        self.state.validated.read_back(self.subjects, self.state.blocks.lines)
        return self.state


def save_state(settings: Settings, state: State) -> bool:
    """Write a snapshot of the state and empty the journal; whether it was written (best
    effort: a state that cannot be written only makes the next build a full one)."""
    target = path(settings)
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        for stale in [target, *target.parent.glob(f"{target.name}.*")]:
            stale.unlink(missing_ok=True)  # stale from now on
        for partial in target.parent.glob(f".{target.name}*"):
            partial.unlink(missing_ok=True)  # an interrupted write
        _forget_other_lines(target, state)
    return _write(settings, target, Snapshot.of(state), state.build.id, None)


def save_step(settings: Settings, number: int, step: Step, after: str) -> bool:
    """Add a step to the journal (after the build `after`); whether it was written."""
    return _write(settings, Output(settings.out).state_step(number), step, step.build.id, after)


class StateIgnored(Exception):
    """A state kept on disk that this build cannot start from, and why (`lod build` says
    it: the build is then a full one)."""


def load_state(settings: Settings) -> tuple[State, list[Step]] | None:
    """The last snapshot and the journal's steps after it, if every file is intact and
    valid for these settings and the steps lead to the build dist/current serves; None
    when there is no build or no state; StateIgnored when there is one that cannot be used."""
    try:
        current = open_build(settings.out).id
    except LodError:
        return None  # no build: nothing to start from
    try:
        snapshot = _read(settings, path(settings), None)
        if not _lines_intact(snapshot.state):
            raise StateIgnored("its file of N-Triples lines changed or is gone")
        state = snapshot.restored()
        steps, last = [], state.build.id
        while last != current:
            file = Output(settings.out).state_step(len(steps) + 1)
            if not file.exists():
                raise StateIgnored(f"it leads to build {last}, not to {current}")
            steps.append(_read(settings, file, last))
            last = steps[-1].build.id
        return state, steps
    except FileNotFoundError:
        return None  # no state kept: nothing to say
    except (OSError, ValueError, pickle.UnpicklingError) as error:
        raise StateIgnored(f"it could not be read: {error}") from None


def _lines_intact(state: State) -> bool:
    """Whether the file of N-Triples lines the state refers to (if any) still holds what it
    held when the state was written."""
    lines = state.blocks.lines
    return not isinstance(lines, Lines) or lines.intact()


def _forget_other_lines(target: Path, state: State) -> None:
    """Remove the files of lines no state on disk refers to any more (this snapshot's is
    kept)."""
    lines = state.blocks.lines
    keep = lines.path if isinstance(lines, Lines) else None
    for stale in target.parent.glob(f"{LINES}.*"):
        if stale != keep:
            stale.unlink(missing_ok=True)


def name_files_as(kept: State | Step, dataset: str) -> None:
    """Name the source files of a state or step as this build does (`dataset`: its
    dataset.yaml's path as written) when it was kept for the data folder written another
    way, a relative path for an absolute one (its header says it is the same folder): each
    file's records are found by its path, and its errors name it as the user wrote it."""
    old = next(path for path, (kind, _) in kept.found.items() if kind == "dataset")
    old, new = old.removesuffix(DATASET), dataset.removesuffix(DATASET)
    if old == new:
        return

    def renamed(path: str) -> str:
        return new + path.removeprefix(old)

    kept.found = {renamed(path): entry for path, entry in kept.found.items()}
    by_file = kept.by_file if isinstance(kept, State) else kept.changed
    for records in by_file.values():
        for record in records:
            record.file = renamed(record.file)
    by_file = {renamed(path): records for path, records in by_file.items()}
    if isinstance(kept, State):
        kept.by_file = by_file
    else:
        kept.changed = by_file


def forget_racy(state: State) -> None:
    """Make the files that may have changed since the state was taken look changed."""
    for file, (kind, stamp) in state.found.items():
        if stamp[0] >= state.scanned - RACY_NS:
            state.found[file] = (kind, (-1, -1, -1))  # compares unequal to any real stamp


def _write(settings: Settings, target: Path, what, build_id: str, after: str | None) -> bool:
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    header = {"valid_for": _valid_for(settings, build_id), "after": after}
    try:
        with open(partial, "wb") as out:
            hashing = _Hashing(out)
            hashing.write(MAGIC + json.dumps(header).encode() + b"\n")
            gc.disable()  # the pickler's memo grows by millions of entries: nothing to collect
            try:
                _Pickler(hashing, protocol=pickle.HIGHEST_PROTOCOL).dump(what)
            finally:
                gc.enable()
            out.write(hashing.digest.digest())
        os.replace(partial, target)
        return True
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        return False


def _read(settings: Settings, file: Path, after: str | None):
    """What `file` holds, if it is intact and made for these settings, after the build
    `after`; StateIgnored otherwise. Read as a stream, not mapped: a mapped file's pages
    count in the process's memory as it reads them (9.8 GB at a million articles, beside
    what the pickle makes)."""
    with open(file, "rb", buffering=READ_BUFFER) as opened:
        header, start = _header(opened)
        if start is None:
            raise StateIgnored(f"{file.name} is damaged (it does not start with its header)")
        if not _intact(opened):
            raise StateIgnored(f"{file.name} is damaged (its SHA-256 does not match)")
        valid_for = header.get("valid_for") if isinstance(header, dict) else None
        if not isinstance(valid_for, dict) or header.get("after") != after:
            raise StateIgnored(f"{file.name} was written by another layout of the state")
        wanted = _valid_for(settings, valid_for.get("build"))
        if valid_for != wanted:
            differ = sorted(
                k for k in wanted.keys() | valid_for.keys() if valid_for.get(k) != wanted.get(k)
            )
            raise StateIgnored("it was made for " + ", ".join(_MADE_FOR.get(k, k) for k in differ))
        opened.seek(start)
        gc.disable()  # millions of objects that all live: nothing to collect
        try:
            what = pickle.load(opened)  # it stops at its end: the digest after it is not read
            # they live on: out of the way of every collection (as Builder.build does)
            gc.freeze()
        finally:
            gc.enable()
    if what.build.id != valid_for["build"]:
        raise StateIgnored(f"{file.name} holds build {what.build.id}, not {valid_for['build']}")
    return what


_MADE_FOR = {  # what each key of a state's header says, when it differs
    "format": "an older layout of the state",
    "code": "another version of lod's code",
    "python": "another Python",
    "libraries": "other versions of rdflib, pyoxigraph, pySHACL or PyYAML",
    "data": "another data folder",
    "base": "another base IRI (LOD_BASE or dataset.yaml's base)",
    "shapes": "other shapes",
}


def _header(opened) -> tuple[object, int | None]:
    """The header of a state file (None if it is not JSON), and where the pickle after it
    starts (None if the file does not start with MAGIC and a line at most HEADER long)."""
    if opened.read(len(MAGIC)) != MAGIC:
        return None, None
    line = opened.readline(HEADER)
    if not line.endswith(b"\n"):
        return None, None
    try:
        return json.loads(line), opened.tell()
    except ValueError:
        return None, opened.tell()


def _intact(opened) -> bool:
    """Whether the file's SHA-256 of all but its last DIGEST bytes is those bytes."""
    size = os.fstat(opened.fileno()).st_size - DIGEST
    if size < 0:
        return False
    opened.seek(0)
    digest, left = hashlib.sha256(), size
    while left and (chunk := opened.read(min(READ_BUFFER, left))):
        digest.update(chunk)
        left -= len(chunk)
    return not left and digest.digest() == opened.read(DIGEST)


def _valid_for(settings: Settings, build_id: str) -> dict:
    """What a state depends on besides the source files (which it stamps itself)."""
    shapes = hashlib.sha256()
    for file in sorted(Path(settings.shapes).glob("*.ttl")):
        shapes.update(file.name.encode() + b"\0" + file.read_bytes())
    return {
        "format": FORMAT,
        "build": build_id,
        "code": _code_digest(),
        "python": sys.version,
        "libraries": {name: version(name) for name in LIBRARIES},
        "data": str(Path(settings.data).resolve()),
        "base": _base(settings),
        "shapes": shapes.hexdigest(),
    }


def _base(settings: Settings) -> str | None:
    """The base the build is made with, as written: LOD_BASE, else dataset.yaml's (so that
    giving LOD_BASE the base dataset.yaml has keeps the state)."""
    if settings.base:
        return settings.base
    try:
        dataset = yaml.safe_load((Path(settings.data) / "dataset.yaml").read_bytes())
    except (OSError, yaml.YAMLError):
        return None
    return str(dataset.get("base")) if isinstance(dataset, dict) else None


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """lod's own source: a state made by other code may not be what this code makes."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for file in sorted(package.rglob("*.py")):
        digest.update(str(file.relative_to(package)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


class _Hashing:
    """A file that hashes what is written to it."""

    def __init__(self, file):
        self.file = file
        self.digest = hashlib.sha256()

    def write(self, data) -> int:
        self.digest.update(data)
        return self.file.write(data)


def _uri(text: str) -> URIRef:
    return str.__new__(URIRef, text)


def _bnode(text: str) -> BNode:
    return str.__new__(BNode, text)


def _literal(text: str, language, datatype, value, ill_typed) -> Literal:
    literal = str.__new__(Literal, text)
    literal._language, literal._datatype = language, datatype
    literal._value, literal._ill_typed = value, ill_typed
    return literal


class _Pickler(pickle.Pickler):
    """rdflib's terms pickle as their constructor's arguments, which parse and check the
    value again on loading: here they are restored as they were, twice as fast (half a
    second at 10k articles)."""

    dispatch_table = copyreg.dispatch_table | {
        URIRef: lambda term: (_uri, (str(term),)),
        BNode: lambda term: (_bnode, (str(term),)),
        Literal: lambda term: (
            _literal,
            (str(term), term._language, term._datatype, term._value, term._ill_typed),
        ),
    }
