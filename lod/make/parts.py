"""The build's graph as sorted N-Triples, cut into parts; each dump is written part by part.

Each subject's lines are kept as one block, and the blocks in sorted order make the sorted
N-Triples dump (lines that start with different subjects compare within the subject term,
so sorting blocks by subject sorts the lines). The blocks are cut into parts where a
subject's hash says so (content-defined cutting, as in rsync), or where a part grows too
long: a part's bounds depend on the subjects near them only, so editing a record changes
one part, and a rebuild and a fresh build of the same data cut alike.

Every dump is one gzip member per part (RFC 1952 lets members follow each other: `gzip
-d`, zlib readers and the tests read the file whole), the Turtle and JSON-LD dumps between
a head and a tail of their own. So parts are serialised and compressed in parallel, and a
rebuild re-does only the parts that changed (`Members` keeps the others by content).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import weakref
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from pathlib import Path

import pyoxigraph
from rdflib import URIRef
from rdflib.term import Node

from ..formats import JSONLD_HEAD, JSONLD_TAIL, Format, jsonld_nodes
from ..layout import DUMP_FORMATS, dump_name
from ..text import joined
from ..triples import Triples, from_oxigraph, to_oxigraph
from ..vocab import PREFIXES
from .apart import apart_map, cores

CUT = 256  # about one part per this many subjects
LONGEST = 4 * CUT  # and a part is cut after this many however the hashes fall
APART_BYTES = 16 << 20  # N-Triples below which parts are compressed here, without helpers
PREFIX_LINES = re.compile(rb"\A(?:@prefix [^\n]*\n)*")
TURTLE_HEAD = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items()).encode()


class Part:
    """A run of blocks: the sha256 of its sorted N-Triples, their count and size, and the
    lines themselves, which are the blocks': joined each time they are read, and never
    kept (a second copy of the graph's lines at 100k articles is 400 MB). A Builder reads a
    part only during the build that made or kept it, before any of its blocks changes."""

    __slots__ = ("digest", "lines", "size", "_blocks", "_keys")

    def __init__(self, digest: bytes, lines: int, size: int, blocks, keys=()):
        self.digest, self.lines, self.size = digest, lines, size
        self._blocks, self._keys = blocks, keys  # the blocks' lines by key, or the data

    @property
    def keys(self) -> tuple[bytes, ...]:
        return self._keys

    @property
    def first(self) -> bytes:
        return self._keys[0]

    @classmethod
    def of(cls, data: bytes) -> Part:
        return cls(hashlib.sha256(data).digest(), data.count(b"\n"), len(data), data)

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks())

    def chunks(self) -> Iterable[bytes]:
        """The lines in pieces: each subject's block, or the whole data of `Part.of`."""
        if isinstance(self._blocks, bytes):
            return (self._blocks,)
        return (self._blocks[key] for key in self._keys)


def digest(parts: list[Part]) -> str:
    """What identifies a graph's content: a hash of its parts' hashes."""
    return hashlib.sha256(b"".join(part.digest for part in parts)).hexdigest()


class Blocks:
    """Each subject's sorted N-Triples lines, the subjects in dump order, and the parts
    last made of them (kept until a subject in them changes; they refer to the lines, so a
    Builder's state on disk holds the lines once)."""

    def __init__(self) -> None:
        self.lines: dict[bytes, bytes] = {}  # "<subject> " -> its sorted lines
        self.order: list[bytes] = []  # the keys, sorted
        self.cuts: set[bytes] = set()  # the keys a part starts at
        self.changed: set[bytes] = set()  # keys whose lines changed since parts() was called
        self.made: list[Part] = []  # the last parts, in order

    @classmethod
    def of(
        cls,
        triples: Triples,
        spill: Lines | None = None,
        then: Callable[[Node, set], None] | None = None,
    ) -> Blocks:
        """The blocks of `triples`; with `spill`, their lines kept in its file, not in
        memory. `then` is given each subject and its pairs once its block is made (it may
        let go of them: the blocks are made one subject at a time)."""
        blocks = cls()
        if spill is not None:
            blocks.lines = spill
        by_subject = triples.by_subject
        for subject, key, lines in _blocks(triples, by_subject):
            blocks.lines[key] = lines
            if then is not None:
                then(subject, by_subject[subject])
        blocks.order = sorted(blocks.lines)
        blocks.cuts = {key for key in blocks.order if _cuts(key)}
        _flush(blocks.lines)
        return blocks

    def replace(self, triples: Triples, subjects: Iterable[Node]) -> None:
        """Take the blocks of `subjects` anew from `triples` (a subject no longer there
        loses its block)."""
        subjects = list(subjects)
        for subject in subjects:
            key = _key(subject)
            self.changed.add(key)
            if key in self.lines:
                del self.lines[key]
                del self.order[bisect_left(self.order, key)]
        fresh = _blocks(triples, [s for s in subjects if triples.by_subject.get(s)])
        for _, key, lines in fresh:
            self.lines[key] = lines
            insort(self.order, key)
            if _cuts(key):
                self.cuts.add(key)
        _flush(self.lines)

    def parts(self) -> list[Part]:
        """The N-Triples cut into parts: a part starts at each subject whose hash is 0
        modulo CUT, or after LONGEST subjects. So the cut keys split the blocks into runs
        cut alike whatever is around them: after a change, only the runs around the
        changed keys are cut again (a rebuild's pass over a few thousand parts, not over
        every subject), and of their parts only those with a changed key are made anew."""
        if not self.made:
            self.made = self._cut(self.order, [])
        else:
            for start, end in reversed(self._runs_changed()):
                low = 0 if start == 0 else bisect_left(self.order, self.made[start].first)
                high = len(self.order)
                if end < len(self.made):
                    high = bisect_left(self.order, self.made[end].first)
                self.made[start:end] = self._cut(self.order[low:high], self.made[start:end])
        self.changed = set()
        return list(self.made)

    def _runs_changed(self) -> list[tuple[int, int]]:
        """The spans [start, end) of self.made to cut again, merged, in order: for each
        changed key (new, gone or edited), the run of parts it falls in, from a part that
        starts at a cut key (or the first) to the next such part; and the run before too
        when the key was itself a run's start, which may be gone."""
        firsts = [part.first for part in self.made]
        spans: list[tuple[int, int]] = []
        for key in self.changed:
            home = start = max(bisect_right(firsts, key) - 1, 0)  # the part it falls in
            if firsts[start] == key and key in self.cuts and start > 0:
                start -= 1
            while start > 0 and firsts[start] not in self.cuts:
                start -= 1
            end = home + 1
            while end < len(firsts) and firsts[end] not in self.cuts:
                end += 1
            spans.append((start, end))
        return joined(spans)

    def _cut(self, keys: list[bytes], before: list[Part]) -> list[Part]:
        """The parts of a run of keys starting at a cut key (or the first key); a part of
        `before` whose keys are the same and unchanged is kept."""
        cut: list[list[bytes]] = [[]]
        for key in keys:
            if cut[-1] and (key in self.cuts or len(cut[-1]) == LONGEST):
                cut.append([])
            cut[-1].append(key)
        kept = {part.keys: part for part in before}
        made = []
        for run in map(tuple, filter(None, cut)):
            part = kept.get(run) if self.changed.isdisjoint(run) else None
            made.append(part if part is not None else self._part(run))
        return made

    def _part(self, keys: tuple[bytes, ...]) -> Part:
        hashed, lines, size = hashlib.sha256(), 0, 0
        for key in keys:
            block = self.lines[key]
            hashed.update(block)
            lines += block.count(b"\n")
            size += len(block)
        return Part(hashed.digest(), lines, size, self.lines, keys)


class ReadBack(MutableMapping):
    """A graph's (predicate, object) pairs by subject (what Triples.by_subject holds),
    each subject's read back from its N-Triples block when first asked for: a Builder's
    state keeps its graph as the blocks alone, and a rebuild looks at a few subjects.
    Whatever goes over every subject's pairs reads them all. The blocks of the subjects not
    yet read must not change before they are (a Builder changes a subject's block only
    after its pairs)."""

    def __init__(self, subjects: Iterable[Node], lines: dict[bytes, bytes]):
        self.pairs: dict[Node, object] = dict.fromkeys(subjects, UNREAD)  # in the graph's order
        self.lines = lines  # the blocks' lines, by key

    def _pairs(self, subject: Node, found):
        if found is UNREAD:
            found = self.pairs[subject] = self._parsed(subject)
        return found

    def _parsed(self, subject: Node) -> set:
        return pairs_of(self.lines[_key(subject)])

    def peek(self, subject: Node) -> set:
        """The subject's pairs (none when it is not in the graph), read back without
        keeping them when they were not yet: to read, not to change."""
        found = self.pairs.get(subject, MISSING)
        if found is MISSING:
            return set()
        return self._parsed(subject) if found is UNREAD else found

    def kept(self, subject: Node) -> bytes | set:
        """The subject's N-Triples lines when it was not read back yet (to be read
        elsewhere: pairs_of), else its pairs (none when it is not in the graph)."""
        found = self.pairs.get(subject, MISSING)
        if found is MISSING:
            return set()
        return self.lines[_key(subject)] if found is UNREAD else found

    def __getitem__(self, subject: Node) -> set:
        return self._pairs(subject, self.pairs[subject])

    def get(self, subject: Node, default=None):
        found = self.pairs.get(subject, MISSING)
        return default if found is MISSING else self._pairs(subject, found)

    def __contains__(self, subject) -> bool:
        return subject in self.pairs

    def __setitem__(self, subject: Node, pairs: set) -> None:
        self.pairs[subject] = pairs

    def __delitem__(self, subject: Node) -> None:
        del self.pairs[subject]

    def __iter__(self):
        return iter(self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)


UNREAD, MISSING = object(), object()
NT = pyoxigraph.RdfFormat.N_TRIPLES


def pairs_of(block: bytes) -> set:
    """A subject's (predicate, object) pairs from its N-Triples lines."""
    parsed = pyoxigraph.parse(block, format=NT)
    return {(from_oxigraph(t.predicate), from_oxigraph(t.object)) for t in parsed}


def _key(subject: Node) -> bytes:
    return str(to_oxigraph(subject)).encode("utf-8") + b" "


def _cuts(key: bytes) -> bool:
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return int.from_bytes(digest) % CUT == 0


def _blocks(triples: Triples, subjects: Iterable[Node]) -> Iterator[tuple[Node, bytes, bytes]]:
    """Each subject, its key and its lines, sorted (as text: code point order is UTF-8's
    byte order), one subject at a time."""
    written = _Written()
    by_subject = triples.by_subject
    for subject in subjects:
        key = written(subject) + " "
        lines = sorted({f"{key}{written(p)} {written(o)} .\n" for p, o in by_subject[subject]})
        yield subject, key.encode("utf-8"), "".join(lines).encode("utf-8")


def _flush(lines) -> None:
    if isinstance(lines, Lines):
        lines.flush()


class Lines(MutableMapping):
    """The blocks' lines by key, in a file rather than in memory (at 100k articles the
    lines are 450 MB of bytes objects that a build would otherwise hold from its N-Triples
    to its end, and a Builder after it): each value is appended to the file and found again
    by its offset and length, read with pread (the page cache holds it, not the heap).

    Values are only ever appended, so what a state on disk refers to stays as it was
    while later builds add to the file; a new file is begun by each full build. Pickled (a
    Builder's state, lod.make.state) as the file's path, the length of the file it refers
    to and that length's SHA-256: `intact()` says whether the file still holds it. The
    caller flushes before a fork (a forked writer must not write what the parent buffered)."""

    BUFFER = 1 << 20  # bytes appended in one write

    def __init__(self, path: Path, temporary: bool = False):
        self.path = Path(path)
        self.temporary = temporary  # the file unlinked once open: gone with the process
        self.where: dict[bytes, tuple[int, int]] = {}
        self.size = 0  # the file's length, the buffer included
        self.pending = bytearray()
        self.digest: bytes | None = None  # of the file's first `size` bytes, once pickled
        self._fd: int | None = None

    def _file(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            # closed with the last Lines that refers to it (a Builder's old states): its
            # space is given back once the file is unlinked
            weakref.finalize(self, os.close, self._fd)
            if self.temporary:
                os.unlink(self.path)
            self.size = os.fstat(self._fd).st_size + len(self.pending)
        return self._fd

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._file()  # opened, and its length known
        self.where[key] = (self.size, len(value))
        self.pending += value
        self.size += len(value)
        if len(self.pending) >= self.BUFFER:
            self.flush()

    def discard(self) -> None:
        """The file removed, with what was written to it (a build that failed)."""
        self.pending = bytearray()
        self.path.unlink(missing_ok=True)

    def opened(self) -> Lines:
        """The lines, their file made and opened now (OSError if it cannot be)."""
        self._file()
        return self

    def flush(self) -> None:
        if self.pending:
            written = os.write(self._file(), self.pending)
            while written < len(self.pending):  # a short write: the rest
                written += os.write(self._fd, memoryview(self.pending)[written:])
            self.pending = bytearray()

    def __getitem__(self, key: bytes) -> bytes:
        offset, length = self.where[key]
        if self.pending:
            self.flush()
        data = os.pread(self._file(), length, offset)
        if len(data) != length:
            raise OSError(f"{self.path}: {length} bytes at {offset}, read {len(data)}")
        return data

    def __delitem__(self, key: bytes) -> None:
        del self.where[key]  # its bytes stay in the file, unreferenced

    def __contains__(self, key) -> bool:
        return key in self.where

    def __iter__(self):
        return iter(self.where)

    def __len__(self) -> int:
        return len(self.where)

    def __getstate__(self) -> dict:
        self.flush()
        return {
            "path": str(self.path),
            "where": self.where,
            "size": self.size,
            "digest": _file_digest(self.path, self.size),
        }

    def __setstate__(self, state: dict) -> None:
        self.path, self.where = Path(state["path"]), state["where"]
        self.size, self.digest = state["size"], state["digest"]
        self.pending, self._fd, self.temporary = bytearray(), None, False

    def intact(self) -> bool:
        """Whether the file still begins with what this was pickled with."""
        try:
            return self.digest is not None and _file_digest(self.path, self.size) == self.digest
        except OSError:
            return False


def _file_digest(path: Path, size: int) -> bytes:
    """SHA-256 of the first `size` bytes of the file (OSError if it is shorter)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        left = size
        while left:
            chunk = file.read(min(left, 1 << 22))
            if not chunk:
                raise OSError(f"{path}: shorter than {size} bytes")
            digest.update(chunk)
            left -= len(chunk)
    return digest.digest()


class _Written(dict):
    """Terms as pyoxigraph writes them in N-Triples, each IRI's form remembered (an IRI
    recurs in many triples; pyoxigraph checks it, then writes it as it is). Lines written of
    these forms take two thirds of the time of a pyoxigraph.serialize of the same triples,
    most of whose time goes to making its Triple objects."""

    def __call__(self, term: Node) -> str:
        if type(term) is URIRef:
            iri = str(term)  # a str key: rdflib's __eq__ is Python code
            form = self.get(iri)
            if form is None:
                form = self[iri] = str(to_oxigraph(term))
            return form
        return str(to_oxigraph(term))


class Members:
    """Each part's gzip member in each dump format, kept by the part's content, so a
    rebuild compresses only the parts that changed."""

    def __init__(self) -> None:
        self.known: dict[bytes, tuple[bytes, ...]] = {}  # part digest -> members

    def update(self, parts: list[Part]) -> None:
        """Keep the members of these parts (and only theirs), compressing the new ones."""
        missing = [part for part in parts if part.digest not in self.known]
        for part, members in zip(missing, _compress_all(missing), strict=True):
            self.known[part.digest] = members
        self.known = {part.digest: self.known[part.digest] for part in parts}

    def write(self, folder: Path, parts: list[Part]) -> dict:
        """Each dump into `folder`, made of the parts' members; returns {file name:
        {sha256, size}}."""
        self.update(parts)
        files = {}
        for position, fmt in enumerate(DUMP_FORMATS):
            body = [self.known[part.digest][position] for part in parts]
            name = dump_name(fmt)
            files[name] = _write_members(folder / name, *_framed(fmt, body))
        return files


def _framed(fmt: Format, body: list[bytes]) -> tuple[bytes, list[bytes], bytes]:
    """The head, the members with what goes between them, and the tail of a dump."""
    if fmt is Format.TURTLE:
        return _gzip(TURTLE_HEAD), body, b""
    if fmt is Format.JSONLD:
        comma = _gzip(b",\n")
        between = [m for i, part in enumerate(body) for m in ((comma, part) if i else (part,))]
        return _gzip(JSONLD_HEAD.encode()), between, _gzip(JSONLD_TAIL.encode())
    return b"", body, b""


def _write_members(path: Path, head: bytes, members: list[bytes], tail: bytes) -> dict:
    digest = hashlib.sha256()
    size = 0
    with open(path, "wb") as out:
        for member in (head, *members, tail):
            out.write(member)
            digest.update(member)
            size += len(member)
    return {"sha256": digest.hexdigest(), "size": size}


def _gzip(data: bytes) -> bytes:
    """gzip with no name and no time in its header, so equal data gives equal bytes; level
    6, zlib's default: level 9 takes twice the time for dumps 3% smaller."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def _members(part: bytes) -> tuple[bytes, ...]:
    """A part's member in each of DUMP_FORMATS (Turtle without its prefixes, which the
    head declares once)."""
    parsed = list(pyoxigraph.parse(part, format=pyoxigraph.RdfFormat.N_TRIPLES))
    turtle = pyoxigraph.serialize(parsed, format=pyoxigraph.RdfFormat.TURTLE, prefixes=PREFIXES)
    body = PREFIX_LINES.sub(b"", turtle)
    jsonld = ",\n".join(jsonld_nodes(parsed)).encode("utf-8")
    serialised = {Format.NTRIPLES: part, Format.TURTLE: body, Format.JSONLD: jsonld}
    return tuple(_gzip(serialised[fmt]) for fmt in DUMP_FORMATS)


def _compress_all(parts: list[Part]) -> list[tuple[bytes, ...]]:
    """The parts' members, on every core when there is enough work to pay for starting
    the helpers (about half a second; a rebuild's one or two parts are quicker done here)."""
    if len(parts) <= 1 or sum(part.size for part in parts) < APART_BYTES:
        return [_members(part.data) for part in parts]
    workers = min(len(parts), cores())
    return list(apart_map(_members, (part.data for part in parts), workers))
