"""A build's lists as the app reads them: each kind's records in their order (newest first
where dated), and any record's entry by IRI, read from lists.sqlite as asked, so that an
app process holds no list of every record (at a million articles lists.json would be a
gigabyte of objects in each). The build writes both files (`write`): lists.json for tools,
lists.sqlite for the app; a build made before lists.sqlite is read from lists.json, into
memory. In the core: the build writes what the app reads.

    entries(kind, position, iri, entry)   entry: the lists.json entry, as JSON
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson

from .layout import LISTS, LISTS_INDEX, read_only

BATCH = 1000  # entries read at a time when going through a kind
_SORTED = orjson.OPT_SORT_KEYS
_SCHEMA = """
create table entries (kind text, position integer, iri text, entry text,
    primary key (kind, position)) without rowid;
create index entries_by_iri on entries (iri);
"""


def write(
    folder: Path,
    lists: dict[str, list[dict]],
    last: Path | None = None,
    touched: set[str] | None = None,
    in_place: bool = False,
) -> None:
    """lists.sqlite of `lists` (lists.json's content) in a build's `folder`: the file of the
    build `last` with the entries of the records `touched` written again, when every
    record is where it was in the lists (an edit of a label, most edits; `in_place`: the
    caller knows it, as it made `last`'s lists and kept them in order since: not compared
    with the file); else whole."""
    path = folder / LISTS_INDEX
    path.unlink(missing_ok=True)
    if last is not None and touched is not None and (last / LISTS_INDEX).is_file():
        shutil.copyfile(last / LISTS_INDEX, path)
        db = sqlite3.connect(path)
        try:
            patched = _patched(db, lists, touched, in_place)
            db.commit()
        finally:
            db.close()
        if patched:
            return
        path.unlink()
    with sqlite3.connect(path) as db:
        _fill(db, lists)
    db.close()


def _patched(
    db: sqlite3.Connection, lists: dict[str, list[dict]], touched: set[str], in_place: bool
) -> bool:
    """Whether the entries of `touched` could be written in place: the records of each
    kind in the same order as in `db` (compared unless `in_place`)."""
    for kind, entries in [] if in_place else lists.items():
        rows = db.execute("select iri from entries where kind = ? order by position", (kind,))
        if [iri for (iri,) in rows] != [entry["iri"] for entry in entries]:
            return False
    db.executemany(
        "update entries set entry = ? where kind = ? and position = ?",
        (
            (orjson.dumps(entry, option=_SORTED).decode(), kind, position)
            for kind, entries in lists.items()
            for position, entry in enumerate(entries)
            if entry["iri"] in touched
        ),
    )
    return True


def _fill(db: sqlite3.Connection, lists: dict[str, list[dict]]) -> None:
    db.executescript(_SCHEMA)
    db.executemany(
        "insert into entries values (?, ?, ?, ?)",
        (
            (kind, position, entry["iri"], orjson.dumps(entry, option=_SORTED).decode())
            for kind in sorted(lists)
            for position, entry in enumerate(lists[kind])
        ),
    )


class Lists:
    """The lists of the build in `folder` (thread-safe: one connection a thread)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.local = threading.local()
        self.memory: sqlite3.Connection | None = None
        if not (self.folder / LISTS_INDEX).is_file():  # a build made before lists.sqlite
            self.memory = sqlite3.connect(":memory:", check_same_thread=False)
            _fill(self.memory, orjson.loads((self.folder / LISTS).read_bytes()))
            self.lock = threading.Lock()

    def _rows(self, sql: str, *args) -> list[tuple]:
        if self.memory is not None:
            with self.lock:
                return self.memory.execute(sql, args).fetchall()
        db = getattr(self.local, "db", None)
        if db is None:
            db = self.local.db = read_only(self.folder / LISTS_INDEX)
        return db.execute(sql, args).fetchall()

    def count(self, kind: str) -> int:
        """How many records of `kind`."""
        return self._rows("select count(*) from entries where kind = ?", kind)[0][0]

    def page(self, kind: str, start: int, size: int) -> list[dict]:
        """The entries of `kind` from position `start`, `size` of them at most."""
        rows = self._rows(
            "select entry from entries where kind = ? and position >= ? and position < ? "
            "order by position",
            kind,
            start,
            start + size,
        )
        return [orjson.loads(entry) for (entry,) in rows]

    def entries(self, kind: str) -> Iterator[dict]:
        """Every entry of `kind`, in order, read BATCH at a time."""
        start = 0
        while batch := self.page(kind, start, BATCH):
            yield from batch
            start += BATCH

    def distinct(self, kind: str, field: str) -> set:
        """The values of an entry's `field` among the entries of `kind` (None for an entry
        without it)."""
        rows = self._rows(
            "select distinct json_extract(entry, ?) from entries where kind = ?", f"$.{field}", kind
        )
        return {value for (value,) in rows}

    def entry(self, iri: str) -> dict | None:
        """The entry of the record `iri`, if it is one of the build's."""
        rows = self._rows("select entry from entries where iri = ?", iri)
        return orjson.loads(rows[0][0]) if rows else None
