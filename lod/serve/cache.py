"""What a build answers, kept per build: rendered documents and query results, as bytes.

A build never changes once written, so a resource's document (Turtle, HTML, ...) or a
query's results computed once from it hold for as long as that build is served. They are
kept in one SQLite file per build, `<out>/cache/serve/<build id>/serve.sqlite`, shared by every
process serving the build (gunicorn workers on one machine: WAL mode lets them read while
one writes, and a key written twice by two processes is kept once, `INSERT OR IGNORE`).

Why it cannot serve another build's bytes: the file is named by the build id, records that
id in its own `meta` table (a file whose id differs is not used), and every key starts with
the id again; the web layer asks the cache of the build it answers from (`Served`), the
same build whose id makes the ETag.

Why damage cannot reach a client: each entry is stored with its length and CRC-32, checked
on every read; an entry that fails the check is a miss, rendered again and written over. A
file SQLite cannot read at all (not a database, a malformed page) turns the cache off for
that build in this process (logged once): the app serves as if there were no cache.

Bounds (lod.config.Settings): `cache_mb`, the bytes of documents and results a build's file
may hold (documents are no longer added past it; 0: no cache at all); results alone are
held to `result_cache_entries` entries and `result_cache_mb` bytes, the oldest dropped
first, and a result over `result_cache_entry_kb` is not kept. Queries refused, stopped at
the time limit or failed are never kept: only an answer is.

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
from pathlib import Path

from ..folder import BUILD_ID

log = logging.getLogger(__name__)
MiB = 1024 * 1024
FILE = "serve.sqlite"
SCHEMA_VERSION = 1
BUSY_MS = 50  # how long a write waits for another process's write before giving up
SIZE_CHECK_EVERY = 64  # document writes between two looks at the file's size

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    key TEXT PRIMARY KEY, body BLOB NOT NULL, size INTEGER NOT NULL, crc INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY, form TEXT NOT NULL, body BLOB NOT NULL,
    size INTEGER NOT NULL, crc INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS totals (
    name TEXT PRIMARY KEY, count INTEGER NOT NULL, bytes INTEGER NOT NULL
);
INSERT OR IGNORE INTO totals SELECT 'results', count(*), total(size) FROM results;
"""


def cache_folder(out: Path, build_id: str) -> Path:
    """Where the cache of build `build_id` lives: <out>/cache/serve/<id>/."""
    return Path(out) / "cache" / "serve" / build_id


class BuildCache:
    """The cache file of one build, opened by this process (one SQLite connection per thread).

    `document` and `result` give the kept bytes, or compute, keep and give them. Thread-safe
    and process-safe; every failure of the file itself falls back to computing."""

    def __init__(
        self,
        path: Path,
        build_id: str,
        *,
        max_mb: float = 1024,
        result_entries: int = 10_000,
        result_mb: float = 256,
        result_entry_kb: float = 4096,
    ):
        self.path = Path(path)
        self.build_id = build_id
        self.max_bytes = int(max_mb * MiB)
        self.result_entries = result_entries
        self.result_bytes = int(result_mb * MiB)
        self.result_entry_bytes = int(result_entry_kb * 1024)
        self.enabled = self.max_bytes > 0
        self.full = False  # documents are no longer added (the file reached max_bytes)
        self._local = threading.local()
        self._writes = 0
        self._lock = threading.Lock()
        if self.enabled:
            self._open_checked()

    # --- documents ---------------------------------------------------------------------------

    def document(self, key: tuple, render: Callable[[], bytes]) -> bytes:
        """The document `key` names (resource, format, page, ...), rendered by `render` when
        not kept. An exception from `render` (a 404) passes through and nothing is kept."""
        text = self._key(key)
        row = self._read("SELECT body, size, crc FROM documents WHERE key = ?", text)
        if row is not None:
            body = _checked(row[0], row[1], row[2])
            if body is not None:
                return body
        body = render()
        if isinstance(body, str):
            body = body.encode("utf-8")
        if row is not None or not self.full:
            self._write_document(text, body, replace=row is not None)
        return body

    def _write_document(self, key: str, body: bytes, *, replace: bool) -> None:
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        self._execute(
            f"{verb} INTO documents (key, body, size, crc) VALUES (?, ?, ?, ?)",
            (key, body, len(body), zlib.crc32(body)),
        )
        with self._lock:
            self._writes += 1
            look = self._writes % SIZE_CHECK_EVERY == 0
        if look and self.size() >= self.max_bytes:
            self.full = True
            log.info("the cache of build %s is full (%d bytes)", self.build_id, self.max_bytes)

    # --- whole responses (lod.web.front) --------------------------------------------------------

    def response(self, key: tuple) -> tuple[list[tuple[str, str]], bytes] | None:
        """(headers, body) of an answer kept by keep_response, or None."""
        sql = f"SELECT body, size, crc FROM {_table(key)} WHERE key = ?"
        row = self._read(sql, self._key(key))
        blob = None if row is None else _checked(row[0], row[1], row[2])
        if blob is None:
            return None
        length = int.from_bytes(blob[:4], "big")
        try:
            headers = [tuple(pair) for pair in json.loads(blob[4 : 4 + length])]
        except ValueError:
            return None
        return headers, blob[4 + length :]

    def keep_response(self, key: tuple, headers: list[tuple[str, str]], body: bytes) -> None:
        """Keep a whole answer: a query's with the results (and their bounds), any other
        with the documents."""
        encoded = json.dumps(headers).encode("utf-8")
        blob = len(encoded).to_bytes(4, "big") + encoded + body
        if _table(key) == "results":
            if len(blob) <= self.result_entry_bytes and len(blob) <= self.result_bytes:
                self._write_result(self._key(key), "response", blob)
        elif not self.full:
            self._write_document(self._key(key), blob, replace=True)

    # --- query results -----------------------------------------------------------------------

    def result(self, key: tuple, run: Callable[[], tuple[str, bytes]]) -> tuple[str, bytes]:
        """(form, body) of a query's answer: kept, or `run` and kept. A QueryError from
        `run` (refused, timed out, too large) passes through and nothing is kept."""
        text = self._key(key)
        row = self._read("SELECT form, body, size, crc FROM results WHERE key = ?", text)
        if row is not None:
            body = _checked(row[1], row[2], row[3])
            if body is not None:
                return row[0], body
        form, body = run()
        if len(body) <= self.result_entry_bytes and len(body) <= self.result_bytes:
            self._write_result(text, form, body)
        return form, body

    def _write_result(self, key: str, form: str, body: bytes) -> None:
        """Keep a result, then drop the oldest until the results are within their bounds,
        in one transaction (so the bounds hold across processes). The count and bytes are
        kept in `totals`: summing the sizes would read every row's body (the size follows
        it in each row), which made each write cost more as the results grew."""

        def write(connection: sqlite3.Connection) -> None:
            connection.execute("BEGIN IMMEDIATE")  # busy: another process writes; not kept
            try:
                old = connection.execute("SELECT size FROM results WHERE key = ?", (key,))
                old_size = (old.fetchone() or (None,))[0]
                connection.execute(
                    "INSERT OR REPLACE INTO results (key, form, body, size, crc) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (key, form, body, len(body), zlib.crc32(body)),
                )
                count, total = _add(connection, old_size is None, len(body) - (old_size or 0))
                while count > self.result_entries or total > self.result_bytes:
                    rowid, size = connection.execute(
                        "SELECT rowid, size FROM results ORDER BY rowid LIMIT 1"
                    ).fetchone()
                    connection.execute("DELETE FROM results WHERE rowid = ?", (rowid,))
                    count, total = _add(connection, -1, -size)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

        self._with_connection(write)

    # --- the file ------------------------------------------------------------------------------

    def size(self) -> int:
        """Bytes the file holds (pages in use)."""
        row = self._read_raw("PRAGMA page_count") if self.enabled else None
        size = self._read_raw("PRAGMA page_size") if row else None
        return row[0] * size[0] if row and size else 0

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def _key(self, key: tuple) -> str:
        return "\x00".join([self.build_id, *map(str, key)])

    def _open_checked(self) -> None:
        """Create the file (or open it) and check it names this build."""

        def setup(connection: sqlite3.Connection) -> None:
            connection.executescript(_SCHEMA)
            with connection:
                connection.execute(
                    "INSERT OR IGNORE INTO meta (name, value) VALUES ('build', ?), ('version', ?)",
                    (self.build_id, str(SCHEMA_VERSION)),
                )
            meta = dict(connection.execute("SELECT name, value FROM meta"))
            if meta.get("build") != self.build_id or meta.get("version") != str(SCHEMA_VERSION):
                raise _Unusable(
                    f"it names build {meta.get('build')!r} (version {meta.get('version')!r})"
                )

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self._off(f"its folder cannot be made: {error}")
            return
        self._with_connection(setup, writing=False)

    def _connection(self) -> sqlite3.Connection | None:
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

    def _execute(self, sql: str, parameters: tuple) -> None:
        self._with_connection(lambda c: c.execute(sql, parameters))

    def _read(self, sql: str, key: str):
        return self._with_connection(lambda c: c.execute(sql, (key,)).fetchone(), writing=False)

    def _read_raw(self, sql: str):
        return self._with_connection(lambda c: c.execute(sql).fetchone(), writing=False)

    def _off(self, why: str) -> None:
        if self.enabled:
            log.warning("no cache for build %s: %s is unusable: %s", self.build_id, self.path, why)
        self.enabled = False


class _Unusable(Exception):
    """The file is readable but is not this build's cache."""


def _add(connection: sqlite3.Connection, count: int, size: int) -> tuple[int, int]:
    """The results' count and bytes, after adding `count` results of `size` bytes."""
    connection.execute(
        "UPDATE totals SET count = count + ?, bytes = bytes + ? WHERE name = 'results'",
        (count, size),
    )
    return connection.execute("SELECT count, bytes FROM totals WHERE name = 'results'").fetchone()


def _busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


def _checked(body, size: int, crc: int) -> bytes | None:
    """The body when it is whole (its length and CRC-32 as written), None otherwise."""
    if not isinstance(body, bytes) or len(body) != size or zlib.crc32(body) != crc:
        return None
    return body


def result_key(
    query: str,
    fmt_name: str,
    default_graphs: tuple[str, ...],
    named_graphs: tuple[str, ...] | None,
    base_iri: str | None,
) -> tuple:
    """A query's key: its text (hashed), dataset, results format and base IRI."""
    digest = hashlib.blake2b(query.encode("utf-8"), digest_size=20).hexdigest()
    named = "\x01" if named_graphs is None else "\x02".join(named_graphs)
    return ("q", digest, fmt_name, "\x02".join(default_graphs), named, base_iri or "")


def open_cache(out: Path, build_id: str, engine: str = "embedded", **limits) -> BuildCache:
    """The cache of build `build_id` as `engine` answers it (lod.serve.store.Store.engine:
    one file per engine, since engines may answer the same query differently), made when
    missing; other builds' cache folders that no build folder of `out` names are removed."""
    name = (
        FILE
        if engine == "embedded"
        else f"serve-{hashlib.sha256(engine.encode()).hexdigest()[:16]}.sqlite"
    )
    cache = BuildCache(cache_folder(out, build_id) / name, build_id, **limits)
    if cache.enabled:
        prune(out, keep={build_id})
    return cache


def prune(out: Path, keep: set[str]) -> None:
    """Remove <out>/cache/serve/<id>/ for each id neither kept nor a build in <out>/builds
    (the rest of <out>/cache/ is the build's: never touched here)."""
    root = Path(out) / "cache" / "serve"
    try:
        names = os.listdir(root)
        builds = set(os.listdir(Path(out) / "builds"))
    except OSError:
        return
    for name in names:
        if name in keep or name in builds or not BUILD_ID.fullmatch(name):
            continue
        shutil.rmtree(root / name, ignore_errors=True)


def _table(key: tuple) -> str:
    return "results" if key[0] == "answer" else "documents"
