"""Full-text search of a build: its search.sqlite (lod.make.search_index), opened
read-only, one connection per thread; queries read, checked and made safe; results ranked
by BM25 (a match in the title or a name counts above one in the body), the reader's
language first, with highlighted snippets and facet counts; and the latest articles linked
to a record, for the feeds.

The query language is small and never an error for what people type:
    word       the records holding the word (accents and case folded, stemmed by the
               Snowball stemmer of the language of each text it is looked for in)
    "a b"      the phrase; an unclosed quote runs to the end
    pre*       words starting with `pre`
    -word      not holding it
Everything else (FTS5's operators, brackets, colons, control characters) is text.

A query is looked for in every language of the index, in each as that language's words
(lod.fulltext): a record matches when the text of one of its languages holds it all. A
record is one result, shown in the reader's language when it matches there, else in the
language it matches best in.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from ..errors import BadSearch, NoBuild, QueryTimeout
from ..fulltext import MASK, SHIFT, TOKEN, VERSION, Words, canonical, primary, words_of
from ..layout import SEARCH_INDEX, read_only
from ..text import joined

MAX_CHARS = 1000  # past it, 400
MAX_TERMS = 16
PAGE_SIZE = 20
PROGRESS_STEPS = 10_000  # SQLite steps between looks at the clock
FACET_VALUES = 10  # values shown per facet
MAX_PAGE = 50  # pages past it are refused: a search is not a way to list everything
FACETS = ("kind", "language", "topic", "organisation", "person", "event", "year")
WEIGHTS = (10.0, 5.0, 2.0, 1.0)  # title, names, description, body
SNIPPET_TOKENS = 24  # words a snippet shows
SUMMARY_CHARS = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TERM = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')
_FOLDED = words_of("und", stemmed=False)  # a token of marks alone is no word


@dataclass(frozen=True)
class Term:
    """A word or phrase of a query: its tokens as typed, the last a prefix or not."""

    tokens: tuple[str, ...]
    prefix: bool

    def keys(self, words: Words) -> tuple[str, ...]:
        """Its tokens as `words` keeps them; the prefix only folded, not stemmed (a
        stemmer reads `develop` of `develop*` as the whole word)."""
        *stemmed, last = self.tokens
        return (*(words.key(t) for t in stemmed), words.key(last, stem=not self.prefix))

    def match(self, words: Words) -> str:
        return '"' + " ".join(self.keys(words)) + '"' + (" *" if self.prefix else "")


@dataclass(frozen=True)
class Query:
    """A search as people wrote it, and the words and phrases it wants and does not."""

    text: str
    wanted: tuple[Term, ...]
    unwanted: tuple[Term, ...]

    def match(self, words: Words) -> str:
        """The query as FTS5 reads it, in one language's words."""
        match = " AND ".join(term.match(words) for term in self.wanted)
        if self.unwanted:
            match = f"({match}) NOT ({' OR '.join(t.match(words) for t in self.unwanted)})"
        return match


def parse(text: str) -> Query:
    """`text` as a query; BadSearch when it is too long or holds nothing to find.

    >>> parse('ocean -plastics "blue economy" reef*').match(words_of("en"))
    '("ocean" AND "blue economi" AND "reef" *) NOT ("plastic")'
    """
    if len(text) > MAX_CHARS:
        raise BadSearch(f"a search is at most {MAX_CHARS} characters (this one has {len(text)})")
    cleaned = " ".join(_CONTROL.sub(" ", text).split())
    wanted: list[Term] = []
    unwanted: list[Term] = []
    for found in _TERM.finditer(cleaned):
        negated = found.group(1) or found.group(3)
        raw = found.group(2) if found.group(2) is not None else found.group(4)
        phrase = found.group(2) is not None
        tokens = tuple(t for t in TOKEN.findall(raw) if _FOLDED.key(t, stem=False))
        if not tokens or (not phrase and raw in ("AND", "OR", "NOT", "NEAR")):
            continue
        term = Term(tokens, not phrase and raw.endswith("*"))
        (unwanted if negated else wanted).append(term)
    if not wanted:
        raise BadSearch(
            "nothing to search for: give at least one word (letters or digits) "
            'that is not excluded with "-"'
        )
    if len(wanted) + len(unwanted) > MAX_TERMS:
        raise BadSearch(f"a search has at most {MAX_TERMS} words or phrases")
    return Query(cleaned, tuple(wanted), tuple(unwanted))


@dataclass
class Hit:
    iri: str
    kind: str
    title: str  # HTML: escaped, the matches in <mark>
    date: str
    snippet: str  # HTML: escaped, the matches in <mark>
    score: float
    language: str  # of the title and snippet shown

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
            "language": self.language,
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


def _found(spans: list, terms: list[tuple[tuple[str, ...], bool]]) -> list[tuple[int, int]]:
    """Where the terms (keys, the last a prefix or not) are in a text's tokens (its
    spans): the first and last token of each match, in order, overlapping ones joined."""
    keys = [key for _, _, key in spans]
    at: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        at.setdefault(key, []).append(i)
    found = set()
    for wanted, prefix in terms:
        if prefix and len(wanted) == 1:
            starts = [i for key, places in at.items() if key.startswith(wanted[0]) for i in places]
        else:
            starts = at.get(wanted[0], [])
        found.update(
            (start, start + len(wanted) - 1)
            for start in starts
            if _holds(keys, start, wanted, prefix)
        )
    return joined(found)


def _holds(keys: list[str], start: int, wanted: tuple[str, ...], prefix: bool) -> bool:
    """Whether the keys from `start` on are the term's (its last a prefix or not)."""
    *whole, last = wanted
    end = start + len(whole)
    if end >= len(keys) or keys[start:end] != whole:
        return False
    return keys[end].startswith(last) if prefix else keys[end] == last


def _marked(text: str, spans: list, found: list, first: int, last: int) -> str:
    """The text from token `first` to token `last`, escaped, with the matches in <mark>
    and an ellipsis where text is left out."""
    out = ["…" if first > 0 else ""]
    at = spans[first][0]
    for start, end in found:
        if end < first or start > last:
            continue
        begin, stop = spans[max(start, first)][0], spans[min(end, last)][1]
        out += [escape(text[at:begin]), "<mark>", escape(text[begin:stop]), "</mark>"]
        at = stop
    out.append(escape(text[at : spans[last][1]]))
    out.append("…" if last < len(spans) - 1 else "")
    return " ".join("".join(out).split())


def _title(text: str, words: Words, terms) -> str:
    """A title whole, escaped, its matches in <mark>."""
    spans = words.spans(text)
    if not spans:
        return escape(text)
    found = _found(spans, terms)
    marked = _marked(text, spans, found, 0, len(spans) - 1)
    # what lies before the first word and after the last is the title's too
    return escape(text[: spans[0][0]]) + marked + escape(text[spans[-1][1] :])


def _snippet(columns, words: Words, terms) -> str:
    """The SNIPPET_TOKENS words of the columns (names, description, body) holding the
    most of the query's terms, then the most matches, the first best; empty when none
    holds one."""
    best, shown = (0, 0), ""
    for text in columns:
        spans = words.spans(text)
        found = _found(spans, terms)
        for i, (start, _) in enumerate(found):
            first = max(0, min(start - 2, len(spans) - SNIPPET_TOKENS))
            last = min(len(spans), first + SNIPPET_TOKENS) - 1
            within = [f for f in found[i:] if f[1] <= last]
            distinct = {tuple(s[2] for s in spans[a : b + 1]) for a, b in within}
            score = (len(distinct), len(within))
            if score > best:
                best, shown = score, _marked(text, spans, found, first, last)
    return shown


def _unpacked(value: str | bytes) -> str:
    """A column of `texts` as written: a long one is kept zlib-compressed, as a BLOB
    (lod.make.search_index.pack)."""
    return value if isinstance(value, str) else zlib.decompress(value).decode("utf-8")


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
        meta = dict(self._db().execute("SELECT key, value FROM meta"))
        if meta.get("version") != str(VERSION):
            raise NoBuild(
                f"{self.path} is an index of another version of lod "
                f"({meta.get('version')}, this one reads {VERSION}): build again"
            )
        self.stemmed = meta["stemmer"] != "none"
        self.languages = dict(self._db().execute("SELECT no, tag FROM languages"))
        home = meta.get("language")
        self._home_first = sorted(
            self.languages, key=lambda no: (self.languages[no] != home, self.languages[no])
        )
        columns = {row[1] for row in self._db().execute("PRAGMA table_info(records)")}
        self._kept_summaries = "summary" in columns
        self._names: dict[int, tuple[str, str]] | None = None
        self._ids: dict[tuple[str, str], int] = {}

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = read_only(self.path)
        return db

    def search(
        self,
        text: str,
        filters: dict[str, str] | None = None,
        page: int = 1,
        page_size: int = PAGE_SIZE,
        timeout: float | None = None,
        language: str | None = None,
    ) -> Results:
        """The records matching `text` (lod.serve.search's language) and every filter
        (facet -> value: kind, the language of the text matched, topic, organisation,
        person and event IRIs, year), those matching in the reader's `language` first
        (any tag of its primary language: `fr` and `fr-CA` are one), then best first,
        page `page`; the facet counts over all the matching records (languages when the
        index has more than one). Past `timeout` seconds the search is stopped:
        QueryTimeout."""
        query = parse(text)
        filters = {k: v for k, v in (filters or {}).items() if k in FACETS and v}
        if page < 1 or page > MAX_PAGE:
            raise BadSearch(f"page is a number from 1 to {MAX_PAGE}")
        db = self._db()
        reader = primary(language) if language else None
        mine = [no for no, tag in self.languages.items() if primary(tag) == reader]
        with _bounded(db, timeout):
            facets = self._facets(db, *self._rows(db, query, filters, ranked=False)[:2])
            total = sum(count for _, count in facets.get("kind", ()))
            best = self._page(db, *self._rows(db, query, filters), mine, page, page_size)
            hits = [self._hit(db, query, row, rank) for row, rank in best]
        return Results(query.text, total, page, page_size, hits, facets, filters)

    def _rows(
        self, db, query: Query, filters: dict[str, str], ranked: bool = True
    ) -> tuple[str, list, int]:
        """A query of the rows (`row`, and its BM25 `rank` over the weighted columns when
        `ranked`) of the records and languages whose text holds the query and whose
        records pass the filters, its parameters, and the number of languages searched.
        The query is looked for in each language (of the language filter, if any) as that
        language's words, in its range of rows. A facet value the index does not know
        matches nothing."""
        self._terms(db)  # reads the ids of the facet values too
        rank = f", bm25(text, {', '.join(str(w) for w in WEIGHTS)}) AS rank" if ranked else ""
        where, kept = "", []
        for facet, value in sorted(filters.items()):
            if facet != "language":
                where += f" AND (rowid & {MASK}) IN (SELECT id FROM links WHERE term = ?)"
                kept.append(self._ids.get((facet, value), -1))
        wanted = filters.get("language")
        arms, params = [], []
        for no, tag in sorted(self.languages.items()):
            if wanted is None or tag == canonical(wanted):
                arms.append(
                    f"SELECT rowid AS row{rank} FROM text "
                    f"WHERE text MATCH ? AND rowid BETWEEN ? AND ?{where}"
                )
                words = words_of(tag, self.stemmed)
                params += [query.match(words), no << SHIFT, (no << SHIFT) | MASK, *kept]
        union = (
            " UNION ALL ".join(arms) or f"SELECT 0 AS row{', 0 AS rank' if ranked else ''} WHERE 0"
        )
        return union, params, len(arms)

    def _page(
        self, db, rows: str, params: list, arms: int, mine: list[int], page: int, size: int
    ) -> list[tuple[int, float]]:
        """One page of the matching records, each the row of the language it matches best
        in (the reader's languages `mine` first), with its rank: those matching in the
        reader's languages first, then best first (the first indexed first among
        equals)."""
        if arms <= 1:  # one language searched: a row a record, no language to prefer
            return db.execute(
                f"{rows} ORDER BY rank, row LIMIT ? OFFSET ?", [*params, size, (page - 1) * size]
            ).fetchall()
        # Rows in that order: a record's first row is its best, and the records come in
        # the order of their first rows (a window over every row took twice as long).
        reader = f"(row >> {SHIFT}) IN ({', '.join(str(no) for no in mine)})"
        ordered = db.execute(
            f"SELECT row, rank FROM ({rows}) ORDER BY {reader} DESC, rank, row & {MASK}, row",
            params,
        )
        seen: set[int] = set()
        best: list[tuple[int, float]] = []
        for row, rank in ordered:
            if row & MASK not in seen:
                seen.add(row & MASK)
                if len(seen) > (page - 1) * size:
                    best.append((row, rank))
                    if len(best) == size:
                        break
        ordered.close()
        return best

    def _hit(self, db, query: Query, row: int, rank: float) -> Hit:
        """A result: its text of the row's language, the title highlighted and a snippet
        (made for the page's results only: highlighting every match would cost as much as
        the search)."""
        tag = self.languages[row >> SHIFT]
        words = words_of(tag, self.stemmed)
        terms = [(term.keys(words), term.prefix) for term in query.wanted]
        title, names, description, body = map(
            _unpacked,
            db.execute(
                "SELECT title, names, description, body FROM texts WHERE row = ?", (row,)
            ).fetchone(),
        )
        iri, kind, date, own = db.execute(
            "SELECT iri, kind, date, title FROM records WHERE id = ?", (row & MASK,)
        ).fetchone()
        shown = _title(title, words, terms) if title else escape(own)
        snippet = _snippet((description, body, names), words, terms) or escape(
            self._summary(db, row & MASK)
        )
        return Hit(iri, kind, shown, date, snippet, -rank, tag)

    def _summary(self, db, record: int) -> str:
        """What a feed or a result shows of the record `record` (its id): its description,
        else its body, in the dataset's language when it has one, else in the first of
        its others (by tag), on one line, cut at a word before SUMMARY_CHARS with an
        ellipsis (so no word is shown broken). An index of layout 1 kept it in
        records.summary."""
        if self._kept_summaries:
            return db.execute("SELECT summary FROM records WHERE id = ?", (record,)).fetchone()[0]
        rows = [no << SHIFT | record for no in self._home_first]
        found = {
            row >> SHIFT: (_unpacked(description), _unpacked(body))
            for row, description, body in db.execute(
                "SELECT row, description, body FROM texts "
                f"WHERE row IN ({', '.join('?' * len(rows))})",
                rows,
            )
        }
        ordered = [found[no] for no in self._home_first if no in found]
        shown = next((d for d, _ in ordered if d), None) or next((b for _, b in ordered if b), "")
        summary = " ".join(shown.split())
        if len(summary) > SUMMARY_CHARS:
            summary = summary[: SUMMARY_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:.") + "…"
        return summary

    def _facets(self, db, rows: str, params: list) -> dict[str, list[tuple[str, int]]]:
        """Each facet's values with their counts over all the matching records, the
        FACET_VALUES commonest first (years newest first); a language, when the index
        has more than one, counts the records whose text in it matches (a row each).
        Every record has one kind, so the kind counts add up to the number of matches."""
        sql = (
            f"WITH rows AS ({rows}) SELECT 0, term, count(*) FROM links "
            f"WHERE id IN (SELECT row & {MASK} FROM rows) GROUP BY term"
        )
        if len(self.languages) > 1:
            sql += f" UNION ALL SELECT 1, row >> {SHIFT}, count(*) FROM rows GROUP BY 2"
        counts = db.execute(sql, params).fetchall()
        counts.sort(key=lambda row: -row[2])
        facets: dict[str, list[tuple[str, int]]] = {}
        names = self._terms(db)
        for is_language, term, count in counts:
            facet, value = ("language", self.languages[term]) if is_language else names[term]
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
        columns = "records.id, records.iri, records.title, records.date, records.modified"
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
        for rowid, iri, title, date, modified in rows:
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
                    "summary": self._summary(db, rowid),
                    "authors": [v for f, v, role in links if role == "author"],
                    "topics": [v for f, v, role in links if f == "topic"],
                }
            )
        return entries
