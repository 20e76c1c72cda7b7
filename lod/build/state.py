"""What the last good build made (`State`), kept in memory by a Builder and on disk in
dist/cache/, so that `lod build` in a new process rebuilds from the last build the way
`lod build --watch` does, instead of doing everything again.

The file is a pickle of the State behind a header that says what it is valid for: the
build it made (dist/current must still be that build), this version of lod's code and of
the libraries that shape the output, the data folder, the base and the shapes. A file
made for anything else is stale; one whose SHA-256 does not match its header is damaged:
either way it is ignored (and the build done in full), never trusted. The body is read
only after its hash is checked, so only a file this program wrote is unpickled; anyone
who can write dist/ can change what is served anyway.

A source file's stamp (modification time, size, inode) says whether it changed since the
state was taken. A file modified within RACY_NS of that moment could have changed again
without its stamp changing (coarse clocks): such files are read again whatever their
stamp, as git does for its index.
"""

from __future__ import annotations

import contextlib
import copyreg
import gc
import hashlib
import json
import mmap
import os
import pickle
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from rdflib import BNode, Literal, URIRef

from ..config import Settings
from ..errors import LodError
from ..folder import Build, open_build
from .listings import Listings
from .parts import Blocks, Members
from .shacl import Data, Finding
from .sources import Found, Record
from .steps import Validated
from .void import Census

FORMAT = 1  # the layout of the state file
MAGIC = b"lod builder state\n"  # then valid_for as JSON, a line; the pickle; its SHA-256
DIGEST = 32
RACY_NS = 2_000_000_000  # FAT's 2 s clock is the coarsest in use
LIBRARIES = ("rdflib", "pyoxigraph", "pyshacl", "PyYAML")  # their output is in the state


@dataclass
class State:
    """What the last good build made, kept for the next."""

    found: Found
    scanned: int  # when `found` was taken (time.time_ns())
    by_file: dict[str, list[Record]]
    validated: Validated
    data: Data  # the validation index over the graph
    findings: dict[str, list[Finding]]  # by focus node
    blocks: Blocks
    members: Members
    listings: Listings
    census: Census
    build: Build


def path(settings: Settings) -> Path:
    return Path(settings.out) / "cache" / "builder.state"


def save_state(settings: Settings, state: State) -> None:
    """Write the state for the next process (best effort: a state that cannot be written
    only makes the next build a full one)."""
    target = path(settings)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        for stale in [target, *target.parent.glob(f".{target.name}.*")]:
            stale.unlink(missing_ok=True)  # the last state (stale from now on), interrupted writes
        with open(partial, "wb") as out:
            hashing = _Hashing(out)
            hashing.write(MAGIC + json.dumps(_valid_for(settings, state.build.id)).encode() + b"\n")
            _Pickler(hashing, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
            out.write(hashing.digest.digest())
        os.replace(partial, target)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


def load_state(settings: Settings) -> State | None:
    """The state the last build left, if it is intact and valid for these settings and
    the build dist/current serves; None otherwise."""
    try:
        current = open_build(settings.out).id
        with open(path(settings), "rb") as file, _mapped(file) as mapped:
            start = _body(mapped, _valid_for(settings, current))
            if start is None:
                return None
            body = memoryview(mapped)[start:-DIGEST]
            try:
                gc.disable()  # millions of objects that all live: nothing to collect
                state = pickle.loads(body)
            finally:
                gc.enable()
                body.release()
    except (LodError, OSError, ValueError, pickle.UnpicklingError):
        return None  # no build, no state, or one made for something else
    for file, (kind, stamp) in state.found.items():
        if stamp[0] >= state.scanned - RACY_NS:
            state.found[file] = (kind, (-1, -1, -1))  # compares unequal to any real stamp
    return state


def _mapped(file) -> mmap.mmap:
    return mmap.mmap(file.fileno(), 0, prot=mmap.PROT_READ)


def _body(mapped: mmap.mmap, valid_for: dict) -> int | None:
    """Where the pickle starts, if the file is intact and made for `valid_for`."""
    end = mapped.find(b"\n", len(MAGIC))
    if mapped[: len(MAGIC)] != MAGIC or end < 0 or len(mapped) < end + DIGEST:
        return None
    if json.loads(mapped[len(MAGIC) : end]) != valid_for:
        return None
    with memoryview(mapped)[:-DIGEST] as hashed:
        if hashlib.sha256(hashed).digest() != mapped[-DIGEST:]:
            return None
    return end + 1


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
        "data": [str(settings.data), str(Path(settings.data).resolve())],
        "base": settings.base,
        "shapes": shapes.hexdigest(),
    }


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
