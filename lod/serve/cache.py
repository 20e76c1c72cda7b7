"""What a build answers, kept per build: whole answers (a resource's document, a query's
results, the query page), headers and body, each once.

A build never changes once written, so an answer computed once from it holds for as long as
that build is served. Answers are kept in one SQLite file per build,
`<out>/cache/serve/<build id>/serve.sqlite`, shared by every process serving the build
(gunicorn workers on one machine: WAL mode lets them read while one writes).

One key scheme (`Key`) names every answer: what it is of (a resource's IRI, or a query's
digest: its text and dataset), its format, its page (a document's first incoming link), the
path the app is mounted at (links in pages and in Link headers start there) and, for a page
a person reads, its language (a French page is never an English reader's answer). The web
layer (lod.web.front) looks answers up and keeps them by these keys; this module knows no
HTTP: headers are name and value pairs it keeps beside the body.

Why it cannot serve another build's bytes: the file is named by the build id, records that
id in its own `meta` table (a file whose id differs is not used), and every key starts with
the id again; the web layer keeps an answer only in the cache of the build it was answered
from, the same build whose id makes the ETag.

Why damage cannot reach a client: each entry is stored with its length and CRC-32 (headers
and body together), checked on every read; an entry that fails the check is a miss, answered
again and written over. A file SQLite cannot read at all (not a database, a malformed page)
turns the cache off for that build in this process (logged once): the app serves as if there
were no cache.

Bounds (`Bounds`, from lod.config.Settings), applied to every entry by one routine:
`max_mb` holds all entries together (0: no cache at all): a document past it is not kept. Query
answers are held to `query_entries` entries and `query_mb` bytes among them, and make room by
dropping the oldest query answers first; a query answer over `query_entry_kb` is not kept.
Documents are a bounded set (one per resource, format and page) while anyone may ask a new
query, so queries are held to their share and can never push a document out. Queries
refused, stopped at the time limit or failed are never kept: the web layer keeps answers only.

A folder that cannot be written (a read-only deployment) means no cache, never an error.
Old builds' cache folders are removed when a new build's cache is opened.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..formats import Format, ResultFormat
from ..layout import BUILD_ID, Output
from .guard import Query

log = logging.getLogger(__name__)
MiB = 1024 * 1024
FILE = "serve.sqlite"
SCHEMA_VERSION = 2  # 1: documents and results apart, whole responses kept beside them
BUSY_MS = 50  # how long a write waits for another process's write before giving up
DOCUMENT, QUERY = "document", "query"  # the kinds of answers, each with its bounds
DAMAGED_REMEMBERED = 1024  # keys of damaged entries this process will write over

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, body BLOB NOT NULL,
    size INTEGER NOT NULL, crc INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_by_kind ON answers (kind);
CREATE TABLE IF NOT EXISTS totals (
    kind TEXT PRIMARY KEY, count INTEGER NOT NULL, bytes INTEGER NOT NULL
);
INSERT OR IGNORE INTO totals SELECT 'document', count(*), total(size) FROM answers
    WHERE kind = 'document';
INSERT OR IGNORE INTO totals SELECT 'query', count(*), total(size) FROM answers
    WHERE kind = 'query';
"""
_OLD_TABLES = ("documents", "results")  # schema version 1's


@dataclass(frozen=True)
class Key:
    """What names a whole answer (see the module docstring)."""

    kind: str  # DOCUMENT or QUERY: the bounds that hold it
    of: str  # a resource's IRI, or a query's digest
    fmt: str  # the format's media type
    page: int = 0  # a document's first incoming link (`?offset=`)
    root: str = ""  # the path the app is mounted at (SCRIPT_NAME)
    language: str = ""  # an HTML page's: as negotiated (`fr`), or as its URL chose (`lang=fr`)


def document_key(iri: str, fmt: Format, offset: int, root: str, language: str = "") -> Key:
    """The key of a resource's document in `fmt` from incoming link `offset`, served under
    `root`, in `language` (an HTML page's; RDF formats carry every language)."""
    return Key(DOCUMENT, iri, fmt.media_type, offset, root, language)


def query_key(query: Query, fmt: Format | ResultFormat, root: str) -> Key:
    """The key of a query's answer in `fmt` (Format.HTML: the query page), served under
    `root`."""
    return Key(QUERY, query.digest, fmt.media_type, 0, root)


@dataclass(frozen=True)
class Bounds:
    """How much a build's cache holds (lod.config.Settings: LOD_CACHE_MB, LOD_RESULT_CACHE_MB,
    LOD_RESULT_CACHE_ENTRIES, LOD_RESULT_CACHE_ENTRY_KB)."""

    max_mb: float = 1024
    query_mb: float = 256
    query_entries: int = 10_000
    query_entry_kb: float = 4096

    @classmethod
    def of(cls, settings) -> Bounds:
        return cls(
            max_mb=settings.cache_mb,
            query_mb=settings.result_cache_mb,
            query_entries=settings.result_cache_entries,
            query_entry_kb=settings.result_cache_entry_kb,
        )

    def refuses(self, kind: str, size: int) -> bool:
        """Whether an entry this large is never kept."""
        if kind == QUERY and size > min(self.query_entry_kb * 1024, self.query_mb * MiB):
            return True
        return size > self.max_mb * MiB


Kept = tuple[list[tuple[str, str]], bytes]  # an answer's headers and body


def cache_folder(out: Path, build_id: str) -> Path:
    """Where the cache of build `build_id` lives (lod.layout: cache/serve/<id>/)."""
    return Output(out).serve_cache(build_id)


class BuildCache:
    """The cache file of one build, opened by this process (one SQLite connection per thread).

    `get` gives a kept answer, `keep` keeps one. Thread-safe and process-safe; every failure
    of the file itself is a miss, or an answer not kept."""

    def __init__(self, path: Path, build_id: str, bounds: Bounds | None = None):
        self.path = Path(path)
        self.build_id = build_id
        self.bounds = bounds or Bounds()
        self.enabled = self.bounds.max_mb > 0
        self.full = False  # documents are no longer added (they reached max_mb)
        self._damaged: set[str] = set()
        self._local = threading.local()
        if self.enabled:
            self._open_checked()

    def get(self, key: Key) -> Kept | None:
        """The answer kept under `key`, whole (its length and CRC-32 as written), or None."""
        text = self._key(key)
        row = self._read("SELECT body, size, crc FROM answers WHERE key = ?", text)
        if row is None:
            return None
        blob = _checked(row[0], row[1], row[2])
        kept = None if blob is None else _unpack(blob)
        if kept is None:
            if len(self._damaged) >= DAMAGED_REMEMBERED:
                self._damaged.clear()
            self._damaged.add(text)  # written over by the next `keep`, full or not
        return kept

    def keep(self, key: Key, headers: list[tuple[str, str]], body: bytes) -> None:
        """Keep an answer under `key`, within the bounds (or not at all)."""
        text = self._key(key)
        blob = _pack(headers, body)
        if not self.enabled or self.bounds.refuses(key.kind, len(blob)):
            return
        if key.kind == DOCUMENT and self.full and text not in self._damaged:
            return
        kept = self._with_connection(lambda c: self._write(c, text, key.kind, blob))
        self._damaged.discard(text)
        if kept is False and key.kind == DOCUMENT:
            self.full = True
            log.info("the cache of build %s is full (%g MB)", self.build_id, self.bounds.max_mb)

    def _write(self, connection: sqlite3.Connection, key: str, kind: str, blob: bytes) -> bool:
        """Write one entry and drop the oldest query answers its bounds want gone, in one
        transaction (so the bounds hold across processes); False when it does not fit. The
        counts and bytes are kept in `totals`: summing the sizes would read every row's body
        (the size follows it in each row), which made each write cost more as entries grew."""
        connection.execute("BEGIN IMMEDIATE")  # busy: another process writes; not kept
        try:
            old = connection.execute("SELECT kind, size FROM answers WHERE key = ?", (key,))
            for old_kind, old_size in old.fetchall():
                connection.execute("DELETE FROM answers WHERE key = ?", (key,))
                _add(connection, old_kind, -1, -old_size)
            fits = self._make_room(connection, kind, len(blob))
            if fits:
                connection.execute(
                    "INSERT INTO answers (key, kind, body, size, crc) VALUES (?, ?, ?, ?, ?)",
                    (key, kind, blob, len(blob), zlib.crc32(blob)),
                )
                _add(connection, kind, 1, len(blob))
            connection.execute("COMMIT")
            return fits
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def _make_room(self, connection: sqlite3.Connection, kind: str, size: int) -> bool:
        """Whether an entry of `kind` and `size` fits, once the oldest query answers a new
        query answer's bounds want gone are dropped (a document drops nothing; a query answer
        that would not fit beside the documents drops nothing either)."""
        totals = dict.fromkeys((DOCUMENT, QUERY), (0, 0))
        totals.update((k, (c, b)) for k, c, b in connection.execute("SELECT * FROM totals"))
        most = self.bounds.max_mb * MiB
        if totals[DOCUMENT][1] + (size if kind == QUERY else totals[QUERY][1] + size) > most:
            return False
        if kind == DOCUMENT:
            return True
        most = min(most - totals[DOCUMENT][1], self.bounds.query_mb * MiB)
        count, total = totals[QUERY]
        while count > 0 and (count + 1 > self.bounds.query_entries or total + size > most):
            rowid, dropped = connection.execute(
                "SELECT rowid, size FROM answers WHERE kind = 'query' ORDER BY rowid LIMIT 1"
            ).fetchone()
            connection.execute("DELETE FROM answers WHERE rowid = ?", (rowid,))
            count, total = _add(connection, QUERY, -1, -dropped)
        return count + 1 <= self.bounds.query_entries and total + size <= most

    # --- the file ------------------------------------------------------------------------------

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def _key(self, key: Key) -> str:
        fields = [self.build_id, key.kind, key.of, key.fmt, str(key.page), key.root]
        return "\x00".join([*fields, key.language] if key.language else fields)

    def _open_checked(self) -> None:
        """Create the file (or open it) and check it names this build; a file of this build
        written by an older version of this module starts again empty."""

        def setup(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                connection.execute(
                    "INSERT OR IGNORE INTO meta (name, value) VALUES ('build', ?), ('version', ?)",
                    (self.build_id, str(SCHEMA_VERSION)),
                )
            meta = dict(connection.execute("SELECT name, value FROM meta"))
            if meta.get("build") != self.build_id:
                raise _Unusable(f"it names build {meta.get('build')!r}")
            if meta.get("version") != str(SCHEMA_VERSION):
                self._start_again(connection, meta.get("version"))
            connection.executescript(_SCHEMA)

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self._off(f"its folder cannot be made: {error}")
            return
        self._with_connection(setup, writing=False)

    def _start_again(self, connection: sqlite3.Connection, version: str | None) -> None:
        """An older version's file of this build: its tables dropped, this version's made."""
        if version is None or not version.isdigit() or int(version) > SCHEMA_VERSION:
            raise _Unusable(f"it is of version {version!r}")
        with connection:
            for table in (*_OLD_TABLES, "answers", "totals"):
                connection.execute(f"DROP TABLE IF EXISTS {table}")
            connection.execute(
                "UPDATE meta SET value = ? WHERE name = 'version'", (str(SCHEMA_VERSION),)
            )
        log.info("the cache of build %s was of version %s: it starts again", self.build_id, version)

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path, timeout=BUSY_MS / 1000, isolation_level=None, check_same_thread=False
            )
            connection.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = OFF")  # a cache: damage is detected
            self._local.connection = connection
        return connection

    def _with_connection(self, work: Callable[[sqlite3.Connection], object], writing=True):
        if not self.enabled:
            return None
        try:
            return work(self._connection())
        except sqlite3.OperationalError as error:
            if _busy(error) and writing:
                return None  # another process is writing: this entry is not kept, no harm
            self._off(str(error))
        except (sqlite3.DatabaseError, _Unusable, OSError) as error:
            self._off(str(error))
        return None

    def _read(self, sql: str, key: str):
        return self._with_connection(lambda c: c.execute(sql, (key,)).fetchone(), writing=False)

    def _off(self, why: str) -> None:
        if self.enabled:
            log.warning("no cache for build %s: %s is unusable: %s", self.build_id, self.path, why)
        self.enabled = False


class _Unusable(Exception):
    """The file is readable but is not this build's cache."""


def _add(connection: sqlite3.Connection, kind: str, count: int, size: int) -> tuple[int, int]:
    """The count and bytes of `kind`'s entries, after adding `count` entries of `size` bytes."""
    connection.execute(
        "UPDATE totals SET count = count + ?, bytes = bytes + ? WHERE kind = ?",
        (count, size, kind),
    )
    return connection.execute("SELECT count, bytes FROM totals WHERE kind = ?", (kind,)).fetchone()


def _busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


def _pack(headers: list[tuple[str, str]], body: bytes) -> bytes:
    """Headers and body as one blob: the headers' length (4 bytes), the headers as JSON, the
    body."""
    encoded = json.dumps(headers).encode("utf-8")
    return len(encoded).to_bytes(4, "big") + encoded + body


def _unpack(blob: bytes) -> Kept | None:
    length = int.from_bytes(blob[:4], "big")
    try:
        headers = [(str(name), str(value)) for name, value in json.loads(blob[4 : 4 + length])]
    except (ValueError, TypeError):
        return None
    return headers, blob[4 + length :]


def _checked(body, size: int, crc: int) -> bytes | None:
    """The body when it is whole (its length and CRC-32 as written), None otherwise."""
    if not isinstance(body, bytes) or len(body) != size or zlib.crc32(body) != crc:
        return None
    return body


def open_cache(
    out: Path, build_id: str, engine: str = "embedded", bounds: Bounds | None = None
) -> BuildCache:
    """The cache of build `build_id` as `engine` answers it (lod.serve.store.Store.engine:
    one file per engine, since engines may answer the same query differently), made when
    missing; other builds' cache folders that no build folder of `out` names are removed."""
    name = (
        FILE
        if engine == "embedded"
        else f"serve-{hashlib.sha256(engine.encode()).hexdigest()[:16]}.sqlite"
    )
    cache = BuildCache(cache_folder(out, build_id) / name, build_id, bounds)
    if cache.enabled:
        prune(out, keep={build_id})
    return cache


def prune(out: Path, keep: set[str]) -> None:
    """Remove <out>/cache/serve/<id>/ for each id neither kept nor a build in <out>/builds
    (the rest of <out>/cache/ is the build's: never touched here)."""
    output = Output(out)
    root = output.serve_caches
    try:
        names = os.listdir(root)
        builds = set(os.listdir(output.builds))
    except OSError:
        return
    for name in names:
        if name in keep or name in builds or not BUILD_ID.fullmatch(name):
            continue
        shutil.rmtree(root / name, ignore_errors=True)
