"""The change log between builds, kept as the pages of a Linked Data Event Stream.

Each build compares its sorted N-Triples with the previous build's, resource by resource
(a resource owns the lines whose subject is its IRI or one of its hash IRIs: `…/id/event/x`
owns `…/id/event/x#role-1`), and appends one member per resource created, updated or
removed since: the resource's lines as of this build, or nothing for a removal (a
tombstone). Replaying the members in order gives exactly the triples of the build.

The history lives in each build folder, under ldes/:

    ldes/index.json        version, pages, members, and per build: id, time,
                           created/updated/removed
    ldes/hashes.json.gz    each resource's content hash in this build (the next build
                           diffs), gzipped JSON
    ldes/000001.jsonl.gz   page 1, full: PAGE_SIZE members, one JSON object a line, gzipped
    ...                    {"of": IRI, "at": time, "build": id, "gone": bool, "nt": lines}
    ldes/000042.jsonl      the last page while it has fewer than PAGE_SIZE members, plain

A page once full never changes: it is gzipped when it fills (the first build writes every
resource, about the size of the N-Triples dump, so a full history is stored at about the
size of the gzipped dump), and the next build hard-links the full pages of the previous
build's ldes/ and copies only the last one, plain, to append to; so the whole history
survives the pruning of old builds at the cost of one page, and a build's history switches
with the build. A history of VERSION 1 (every page plain, hashes.json plain) is continued:
its full pages are gzipped as they are carried over, once.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import orjson

from ..layout import CHANGES, CHANGES_INDEX, Output, change_page
from .parts import Part

PAGE_SIZE = 250  # members a page
HASHES = "hashes.json.gz"
PLAIN_HASHES = "hashes.json"  # VERSION 1's
VERSION = 2  # 2: full pages and hashes gzipped
CONTINUED = (1, VERSION)  # the versions of a history a build continues
LEVEL = 6  # gzip's, for a page (written once): 9 is 3 % smaller and takes twice as long
HASHES_LEVEL = 1  # for hashes.json.gz (written by every build): 5 % larger, 2.6x faster
IN_FLIGHT = 8  # full pages held while they wait to be gzipped


class Hashed:
    """What the last build hashed, kept for the next (in a Builder's state): each part's
    resources and their hashes, by the part's digest (content-addressed, so never stale),
    the parts that hold each resource, and each resource's hash; a build hashes again only
    the parts that changed and combines again only their resources' hashes. `last` is the
    last build recorded with its resources' hashes (so its hashes.json need not be read
    back)."""

    def __init__(self) -> None:
        self.parts: dict[bytes, dict[str, bytes]] = {}
        self.holders: dict[str, list[bytes]] = {}  # resource -> digests of parts holding it
        self.now: dict[str, str] = {}  # resource -> its hash (hex) in the last build
        self.last: tuple[str, dict[str, str]] | None = None

    def follow(self, parts: list[Part], build_id: str) -> set[str]:
        """Each resource's content hash over the parts of the build `build_id` (hex, in
        `now`); returns the resources whose hash may have changed (those of the parts that
        came or went): any other's is what it was in the last build followed."""
        digests = {part.digest for part in parts}
        gone = [d for d in self.parts if d not in digests]
        new = [part for part in parts if part.digest not in self.parts]
        affected: set[str] = set()
        for digest in gone:
            for name in self.parts.pop(digest):
                self.holders[name].remove(digest)
                affected.add(name)
        for part in new:
            found = self.parts[part.digest] = _owners(part)
            for name in found:
                self.holders.setdefault(name, []).append(part.digest)
                affected.add(name)
        position = {part.digest: index for index, part in enumerate(parts)}
        now = dict(self.now)
        for name in affected:
            holders = self.holders[name]
            if not holders:
                del self.holders[name], now[name]
                continue
            holders.sort(key=position.__getitem__)
            digests_of = [self.parts[holder][name] for holder in holders]
            combined = (
                digests_of[0]
                if len(digests_of) == 1
                else hashlib.blake2b(b"".join(digests_of), digest_size=16).digest()
            )
            now[name] = combined.hex()
        self.now = now
        self.last = (build_id, now)
        return affected


@dataclass
class Diff:
    """What changed between the previous build (`since`, None for the first) and this one."""

    since: str | None
    created: set[str] = field(default_factory=set)
    updated: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)

    @property
    def changed(self) -> set[str]:
        return self.created | self.updated | self.removed


def owner(subject: str) -> str:
    """The resource a subject belongs to: its IRI without the fragment."""
    return subject.split("#", 1)[0]


def _gzip(data: bytes, level: int = LEVEL) -> bytes:
    """`data` gzipped, the same bytes for the same data (no time in the header)."""
    return gzip.compress(data, compresslevel=level, mtime=0)


def _subject(line: bytes) -> str:
    end = line.index(b" ")
    term = line[:end].decode("utf-8")
    return term[1:-1] if term.startswith("<") else term


def _by_owner(part: Part) -> Iterator[tuple[str, bytes]]:
    """Each run of a part's lines that one resource owns, with its resource, in order. A
    part's chunks are its subjects' blocks (a block's lines share their subject, so one
    look at its first and last lines tells), or whole data, looked at line by line."""
    for chunk in part.chunks():
        last = chunk.rfind(b"\n", 0, len(chunk) - 1) + 1
        first = chunk[: chunk.index(b" ") + 1]
        if chunk.startswith(first, last):  # one subject's lines
            yield owner(_subject(chunk)), chunk
            continue
        for line in chunk.splitlines(keepends=True):
            yield owner(_subject(line)), line


def _owners(part: Part) -> dict[str, bytes]:
    """Each resource's hash over its lines in one part."""
    lines: dict[str, list[bytes]] = {}
    for name, run in _by_owner(part):
        lines.setdefault(name, []).append(run)
    return {
        name: hashlib.blake2b(b"".join(runs)[:-1], digest_size=16).digest()
        for name, runs in lines.items()
    }


def _versions(parts: list[Part], wanted: set[str], hashed: Hashed) -> Iterator[tuple[str, bytes]]:
    """Each `wanted` resource with its N-Triples lines, in dump order, as soon as the last
    part that holds some of them is read (so only the resources in flight are in memory)."""
    if not wanted:
        return
    last = {}
    for position, part in enumerate(parts):
        for name in hashed.parts[part.digest].keys() & wanted:
            last[name] = position
    pending: dict[str, list[bytes]] = {}
    for position, part in enumerate(parts):
        if wanted.isdisjoint(hashed.parts[part.digest]):
            continue
        for name, run in _by_owner(part):
            if name in wanted:
                pending.setdefault(name, []).append(run)
        for name in [name for name in pending if last[name] == position]:
            yield name, b"".join(pending.pop(name))


def previous_history(out: Output) -> Path | None:
    """The ldes/ folder of the build dist/current points to, if it has one."""
    folder = out.current / CHANGES
    hashed = (folder / HASHES).is_file() or (folder / PLAIN_HASHES).is_file()
    return folder if (folder / CHANGES_INDEX).is_file() and hashed else None


def record(
    path: Path,
    previous: Path | None,
    parts: list[Part],
    build_id: str,
    created: str,
    hashed: Hashed,
) -> Diff:
    """Write ldes/ into the build folder `path`: the previous build's history (`previous`,
    its ldes/ folder; None starts a new history) and this build's members (`hashed`: what
    the last build hashed, brought up to this one). Returns the changes."""
    last_recorded = hashed.last
    affected = hashed.follow(parts, build_id)
    now = hashed.now
    folder = path / CHANGES
    folder.mkdir()
    index, before, compared = _history(previous, last_recorded, affected)
    diff = Diff(index["builds"][-1]["id"] if index["builds"] else None)
    for name in now.keys() | before.keys() if compared is None else compared:
        if name not in before:
            diff.created.add(name)
        elif name not in now:
            diff.removed.add(name)
        elif now[name] != before[name]:
            diff.updated.add(name)
    _carry_pages(previous, folder, index["pages"], index["members"])
    versions = _versions(parts, diff.created | diff.updated, hashed)
    tombstones = ((name, None) for name in sorted(diff.removed))
    stamp = {"at": created, "build": build_id}
    index["pages"], index["members"] = _append(
        folder, index["pages"], index["members"], chain(versions, tombstones), stamp
    )
    index["builds"].append(
        {
            "id": build_id,
            "at": created,
            "created": len(diff.created),
            "updated": len(diff.updated),
            "removed": len(diff.removed),
        }
    )
    hashes = orjson.dumps(now, option=orjson.OPT_SORT_KEYS)
    (folder / HASHES).write_bytes(_gzip(hashes, HASHES_LEVEL))
    index["version"] = VERSION
    (folder / CHANGES_INDEX).write_bytes(orjson.dumps(index))
    return diff


def _new_index() -> dict:
    return {"version": VERSION, "pages": 0, "members": 0, "builds": []}


def _history(previous: Path | None, last_recorded, affected) -> tuple[dict, dict, set | None]:
    """The history to continue (its index), the resources' hashes at its last build, and
    the resources to compare (None: all of them; `affected` when the hashes this process
    kept are those of the last build recorded, so only they can differ). A history that
    is missing, unreadable or of a version not CONTINUED starts again."""
    if previous is None:
        return _new_index(), {}, None
    try:
        index = orjson.loads((previous / CHANGES_INDEX).read_bytes())
        last = index["builds"][-1]["id"] if index.get("builds") else None
        if last_recorded is not None and last_recorded[0] == last:  # no reading back
            before, compared = last_recorded[1], affected
        elif (previous / HASHES).is_file():
            before = orjson.loads(gzip.decompress((previous / HASHES).read_bytes()))
            compared = None
        else:
            before, compared = orjson.loads((previous / PLAIN_HASHES).read_bytes()), None
    except (OSError, ValueError, EOFError, zlib.error):
        return _new_index(), {}, None
    if index.get("version") not in CONTINUED:
        return _new_index(), {}, None
    return index, before, compared


def _carry_pages(previous: Path | None, folder: Path, pages: int, members: int) -> None:
    """The previous history's pages into `folder`: full pages shared (hard links), the
    last one, still being filled, copied; a full page a VERSION 1 history kept plain is
    gzipped (so the build after shares it)."""
    for number in range(1, pages + 1):
        full = number < pages or members % PAGE_SIZE == 0
        packed = previous / change_page(number, full=True)
        if full and packed.is_file():
            os.link(packed, folder / change_page(number, full=True))
        elif full:
            plain = (previous / change_page(number, full=False)).read_bytes()
            (folder / change_page(number, full=True)).write_bytes(_gzip(plain))
        else:
            name = change_page(number, full=False)
            shutil.copyfile(previous / name, folder / name)


def _append(folder: Path, pages: int, members: int, changed, stamp: dict) -> tuple[int, int]:
    """The members (a resource's name and its lines, None for a tombstone) appended to the
    pages, PAGE_SIZE a page, each page gzipped as it fills (by a thread: zlib lets go of
    the GIL, so the members of the next page are made meanwhile; at most IN_FLIGHT pages
    wait for it): the pages and members there are after."""
    opened, was_open = pages, members % PAGE_SIZE != 0
    page = [(folder / change_page(pages, full=False)).read_bytes()] if was_open else []
    waiting: deque[Future] = deque()
    with ThreadPoolExecutor(max_workers=1) as packer:
        for name, lines in changed:
            pages += members % PAGE_SIZE == 0
            member = {"of": name, **stamp, "gone": lines is None, "nt": (lines or b"").decode()}
            page.append(orjson.dumps(member) + b"\n")
            members += 1
            if members % PAGE_SIZE == 0:
                full = folder / change_page(pages, full=True)
                waiting.append(packer.submit(_write_packed, full, page))
                page = []
                while len(waiting) > IN_FLIGHT:
                    waiting.popleft().result()
        for job in waiting:
            job.result()
    if was_open and (pages > opened or not page):  # the page carried over is full now
        (folder / change_page(opened, full=False)).unlink()
    if page:
        (folder / change_page(pages, full=False)).write_bytes(b"".join(page))
    return pages, members


def _write_packed(path: Path, page: list[bytes]) -> None:
    """A full page, gzipped: it never changes again."""
    path.write_bytes(_gzip(b"".join(page)))
