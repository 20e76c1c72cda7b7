"""Full-text search of a build: its search.sqlite (lod.make.search_index), opened
read-only, one connection per thread; queries read, checked and made safe; results ranked
by BM25 (a match in the title or a name counts above one in the body), with highlighted
snippets and facet counts; and the latest articles linked to a record, for the feeds.

The query language is small and never an error for what people type:
    word       the records holding the word (accents and case folded, stemmed in English)
    "a b"      the phrase; an unclosed quote runs to the end
    pre*       words starting with `pre`
    -word      not holding it
Everything else (FTS5's operators, brackets, colons, control characters) is text.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from ..errors import BadSearch, NoBuild, QueryTimeout
from ..layout import SEARCH_INDEX
from ..text import normalise

MAX_CHARS = 1000  # past it, 400
MAX_TERMS = 16
PAGE_SIZE = 20
PROGRESS_STEPS = 10_000  # SQLite steps between looks at the clock
FACET_VALUES = 10  # values shown per facet
MAX_PAGE = 50  # pages past it are refused: a search is not a way to list everything
FACETS = ("kind", "topic", "organisation", "person", "event", "year")
WEIGHTS = (10.0, 5.0, 2.0, 1.0)  # title, names, description, body
_OPEN, _CLOSE = "\x02", "\x03"  # snippet marks; no indexed text holds them
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')


@dataclass(frozen=True)
class Query:
    """A search as FTS5 reads it, and as people wrote it."""

    text: str
    match: str


def parse(text: str) -> Query:
    """`text` as an FTS5 query; BadSearch when it is too long or holds nothing to find.

    >>> parse('ocean -plastic "blue economy" reef*').match
    '("ocean" AND "blue economy" AND "reef" *) NOT ("plastic")'
    """
    if len(text) > MAX_CHARS:
        raise BadSearch(f"a search is at most {MAX_CHARS} characters (this one has {len(text)})")
    cleaned = " ".join(_CONTROL.sub(" ", text).split())
    wanted: list[str] = []
    unwanted: list[str] = []
    for found in _TOKEN.finditer(cleaned):
        negated = found.group(1) or found.group(3)
        raw = found.group(2) if found.group(2) is not None else found.group(4)
        phrase = found.group(2) is not None
        prefix = not phrase and raw.endswith("*")
        words = normalise(raw).split()
        if not words or (not phrase and raw in ("AND", "OR", "NOT", "NEAR")):
            continue
        term = '"' + " ".join(words) + '"' + (" *" if prefix else "")
        (unwanted if negated else wanted).append(term)
    if not wanted:
        raise BadSearch(
            "nothing to search for: give at least one word (letters or digits) "
            'that is not excluded with "-"'
        )
    if len(wanted) + len(unwanted) > MAX_TERMS:
        raise BadSearch(f"a search has at most {MAX_TERMS} words or phrases")
    match = " AND ".join(wanted)
    if unwanted:
        match = f"({match}) NOT ({' OR '.join(unwanted)})"
    return Query(cleaned, match)


@dataclass
class Hit:
    iri: str
    kind: str
    title: str  # HTML: escaped, the matches in <mark>
    date: str
    snippet: str  # HTML: escaped, the matches in <mark>
    score: float

    def as_json(self) -> dict:
        return {
            "iri": self.iri,
            "kind": self.kind,
            "title": _plain(self.title),
            "titleHtml": self.title,
            "date": self.date,
            "snippet": _plain(self.snippet),
            "snippetHtml": self.snippet,
            "score": round(self.score, 4),
        }


@dataclass
class Results:
    query: str
    total: int
    page: int
    page_size: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _plain(html: str) -> str:
    from html import unescape

    return unescape(html.replace("<mark>", "").replace("</mark>", ""))


def _marked(text: str) -> str:
    return escape(text).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


@contextmanager
def _bounded(db: sqlite3.Connection, timeout: float | None) -> Iterator[None]:
    """The search's statements, stopped past `timeout` seconds (SQLite looks at the clock
    every PROGRESS_STEPS steps): QueryTimeout; any other error of SQLite a BadSearch."""
    deadline = None if timeout is None else time.monotonic() + timeout
    if deadline is not None:
        db.set_progress_handler(lambda: time.monotonic() > deadline, PROGRESS_STEPS)
    try:
        yield
    except sqlite3.OperationalError as error:
        if deadline is not None and time.monotonic() > deadline:
            raise QueryTimeout(f"search stopped after {timeout:g} s") from None
        raise BadSearch(f"this search cannot be read: {error}") from None  # in case
    finally:
        db.set_progress_handler(None, 0)


class SearchIndex:
    """A build's search.sqlite, read-only (a connection per thread)."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / SEARCH_INDEX
        if not self.path.is_file():
            raise NoBuild(
                f"{folder} has no search index ({SEARCH_INDEX}): build again with `lod build`"
            )
        self._local = threading.local()
        self._names: dict[int, tuple[str, str]] | None = None
        self._ids: dict[tuple[str, str], int] = {}

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False
            )
            self._local.db = db
        return db

    def search(
        self,
        text: str,
        filters: dict[str, str] | None = None,
        page: int = 1,
        page_size: int = PAGE_SIZE,
        timeout: float | None = None,
    ) -> Results:
        """The records matching `text` (lod.serve.search's language) and every filter
        (facet -> value: kind, topic, organisation, person and event IRIs, year), best
        first, page `page`; the facet counts over all the matching records. Past `timeout`
        seconds the search is stopped: QueryTimeout."""
        query = parse(text)
        filters = {k: v for k, v in (filters or {}).items() if k in FACETS and v}
        if page < 1 or page > MAX_PAGE:
            raise BadSearch(f"page is a number from 1 to {MAX_PAGE}")
        db = self._db()
        condition, params = self._condition(db, query.match, filters)
        with _bounded(db, timeout):
            facets = self._facets(db, condition, params)
            total = sum(count for _, count in facets.get("kind", ()))
            hits = self._page(db, query.match, condition, params, page, page_size)
        return Results(query.text, total, page, page_size, hits, facets, filters)

    def _condition(self, db, match: str, filters: dict[str, str]) -> tuple[str, list]:
        """The SQL condition on the text table for a search and its filters, and its
        parameters; a facet value the index does not know matches nothing."""
        self._terms(db)  # reads the ids of the facet values too
        terms = self._ids
        where = ["text MATCH ?"]
        params: list = [match]
        for facet, value in sorted(filters.items()):
            where.append("rowid IN (SELECT id FROM links WHERE term = ?)")
            params.append(terms.get((facet, value), -1))
        return " AND ".join(where), params

    def _page(
        self, db, match: str, condition: str, params: list, page: int, page_size: int
    ) -> list[Hit]:
        """One page of the matching records, best first (BM25 over the weighted columns;
        the first indexed first among equals)."""
        weights = ", ".join(str(w) for w in WEIGHTS)
        best = db.execute(
            f"SELECT rowid, bm25(text, {weights}) AS rank FROM text WHERE {condition} "
            "ORDER BY rank, rowid LIMIT ? OFFSET ?",
            [*params, page_size, (page - 1) * page_size],
        ).fetchall()
        return [self._hit(db, match, rowid, rank) for rowid, rank in best]

    def _hit(self, db, match: str, rowid: int, rank: float) -> Hit:
        """A result with its title highlighted and a snippet (made for the page's results
        only: highlighting every match would cost as much as the search)."""
        title, snippet = db.execute(
            f"SELECT highlight(text, 0, '{_OPEN}', '{_CLOSE}'), "
            f"snippet(text, -1, '{_OPEN}', '{_CLOSE}', '…', 24) "
            "FROM text WHERE text MATCH ? AND rowid = ?",
            (match, rowid),
        ).fetchone()
        iri, kind, date, summary = db.execute(
            "SELECT iri, kind, date, summary FROM records WHERE id = ?", (rowid,)
        ).fetchone()
        return Hit(iri, kind, _marked(title), date, _marked(snippet or summary), -rank)

    def _facets(self, db, condition: str, params: list) -> dict[str, list[tuple[str, int]]]:
        """Each facet's values with their counts over all the matching records, the
        FACET_VALUES commonest first (years newest first). Every record has one kind, so
        the kind counts add up to the number of matches."""
        counts = db.execute(
            "SELECT term, count(*) AS n FROM links "
            f"WHERE id IN (SELECT rowid FROM text WHERE {condition}) GROUP BY term",
            params,
        ).fetchall()
        counts.sort(key=lambda row: -row[1])
        facets: dict[str, list[tuple[str, int]]] = {}
        names = self._terms(db)
        for term, count in counts:
            facet, value = names[term]
            shown = facets.setdefault(facet, [])
            if len(shown) < FACET_VALUES or facet == "kind":
                shown.append((value, count))
        for shown in facets.values():
            shown.sort(key=lambda pair: (-pair[1], pair[0]))
        if "year" in facets:
            facets["year"].sort(reverse=True)
        return {facet: facets[facet] for facet in FACETS if facet in facets}

    def _terms(self, db) -> dict[int, tuple[str, str]]:
        """Every facet value by its id (read once: the index never changes)."""
        if self._names is None:
            names = {
                term: (facet, value)
                for term, facet, value in db.execute("SELECT term, facet, value FROM terms")
            }
            self._ids = {value: term for term, value in names.items()}
            self._names = names
        return self._names

    def latest(self, linked_to: str | None = None, limit: int = 50) -> list[dict]:
        """The newest articles (linked to the record `linked_to`: about, mentioning, by
        it), for a feed: each with its entry fields; an index walk of `limit` rows."""
        db = self._db()
        columns = (
            "records.id, records.iri, records.title, records.date, records.modified, "
            "records.summary"
        )
        if linked_to is None:
            rows = db.execute(
                f"SELECT {columns} FROM records WHERE kind = 'article' "
                "ORDER BY records.date DESC, records.iri LIMIT ?",
                (limit,),
            ).fetchall()
        else:
            rows = db.execute(
                f"SELECT {columns} FROM links JOIN records ON records.id = links.id "
                "WHERE links.term = (SELECT term FROM terms WHERE value = ? AND facet != 'kind') "
                "AND links.kind = 'article' ORDER BY links.date DESC, records.iri LIMIT ?",
                (linked_to, limit),
            ).fetchall()
        entries = []
        for rowid, iri, title, date, modified, summary in rows:
            links = db.execute(
                "SELECT facet, value, role FROM links JOIN terms ON terms.term = links.term "
                "WHERE id = ? ORDER BY value",
                (rowid,),
            ).fetchall()
            entries.append(
                {
                    "iri": iri,
                    "title": title,
                    "date": date,
                    "modified": modified or date,
                    "summary": summary,
                    "authors": [v for f, v, role in links if role == "author"],
                    "topics": [v for f, v, role in links if f == "topic"],
                }
            )
        return entries
