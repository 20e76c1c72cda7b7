"""The full-text index of a build: search.sqlite, an SQLite FTS5 index of every record's
labels, names, alternate names, headline, description and article body, each language's
text apart and stemmed by that language's Snowball stemmer (lod.fulltext), with what the
search pages and the feeds show of each record and the links they facet and group by.

Tables:
    records(id, iri, kind, title, date, modified, year)   one row a record; its title in
        the dataset's language when it has one (its summary, what a feed or a result shows,
        is read from its texts: lod.serve.search)
    languages(no, tag)   each language of the text: a literal's tag, or the dataset's
        language for text without one
    texts(row, title, names, description, body)   a record's text in one language as it
        is written (what a result shows); row = languages.no << SHIFT | records.id; a
        column of PACKED bytes or more is kept zlib-compressed, as a BLOB (a TEXT value
        is the text itself)
    text(title, names, description, body)   FTS5 over the rows of `texts`, contentless:
        the keys of their words (lod.fulltext.Words) joined by spaces, where FTS5's ascii
        tokenizer cuts them; a row is deleted by giving FTS5 the keys it was made of
    terms(term, facet, value)   each facet value: a topic's, organisation's, person's or
        event's IRI, a kind, a year
    links(term, kind, date, id, role)   the record's terms: what it is about, mentions, is
        by (author, publisher, organizer …), its kind and its year; kept in the order of
        (term, kind, date, id), the feeds' order (a table without row ids: no copy of it
        in an index)
    meta(key, value)   the index's version, its stemmer, the language of untagged text,
        its LAYOUT

A build writes the index whole (from APART records on, each record's row, packed texts
and full-text keys are made by helper processes, lod.make.apart, sent its N-Triples lines;
this process numbers and writes them), then merges the full-text table's segments into one and
writes the file again without its free pages (VACUUM: 7 % smaller at 10k articles, 2 %
at 100k). A rebuild (the Builder's) copies the previous build's index and replaces the
rows of the records that changed (lod.make.changes says which), when it was written as
this one would be.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import zlib
from collections.abc import Collection, Iterator
from contextlib import closing
from pathlib import Path

from rdflib import URIRef

from ..fulltext import SHIFT, STEMMER, VERSION, canonical, words_of
from ..layout import SEARCH_INDEX
from ..triples import Triples
from ..vocab import ALTERNATE_NAMES, LABELS, LISTING_DATES, SDO, id_prefix, kind_and_slug
from .apart import apart_map, cores
from .changes import Diff
from .parts import pairs_of

FACET_KINDS = ("topic", "organisation", "person", "event")
BATCH = 5000  # records written at a time
APART = 20_000  # records from which their rows are made on helper processes
APART_BATCH = 500  # records sent to a helper at a time
PACKED = 200  # bytes of a text column from which it is kept zlib-compressed
# Of the tables: 2, long texts compressed, links without row ids, records without their
# summary (1 kept it in records.summary; lod.serve.search reads both)
LAYOUT = "2"
_MODIFIED, _DESCRIPTION, _BODY = SDO.dateModified, SDO.description, SDO.articleBody
_COLUMNS = (LABELS, ALTERNATE_NAMES, (_DESCRIPTION,), (_BODY,))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(values) -> str:
    return _CONTROL.sub(" ", " ".join(str(v) for v in values))


def made(
    pairs, subject: URIRef, kind: str, base: str, language: str, stemmed: bool
) -> tuple[dict, list, list]:
    """One record's row (without its texts), its links (facet, value, role), and its text
    in each language: (tag, the columns as kept, their keys), from what is said of it
    (`pairs`); text without a language tag is in `language`."""
    row, links = entry(pairs, subject, kind, base, language)
    texts = [
        (tag, tuple(map(pack, columns)), _keys(tag, columns, stemmed))
        for tag, columns in row.pop("texts").items()
    ]
    return row, links, texts


def _made_apart(batch: tuple) -> list:
    """`made` for a batch of records, on a helper process: their pairs come as N-Triples
    lines when the graph keeps them so."""
    base, language, stemmed, records = batch
    return [
        made(_read(kept), URIRef(iri), kind, base, language, stemmed) for iri, kind, kept in records
    ]


def _read(kept: bytes | Collection) -> Collection:
    return pairs_of(kept) if isinstance(kept, bytes) else kept


def entry(pairs, subject: URIRef, kind: str, base: str, language: str) -> tuple[dict, list]:
    """One record's row and its links (facet, value, role), from what is said of it;
    text without a language tag is in `language`."""
    by: dict = {}
    for predicate, obj in pairs:
        by.setdefault(predicate, []).append(obj)
    return _row(subject, kind, by, language), _links(pairs, subject, base)


def _row(subject: URIRef, kind: str, by: dict, language: str) -> dict:
    """The record's row from its values by predicate, with its text by language (`texts`:
    tag -> title, names, description, body). In each language the first label is the
    title, the other labels and the alternate names are names. The record's own title is
    that of `language` when it has one, else of its other languages (the IRI's last
    segment when it has no label)."""
    by_language: dict[str, tuple[list, list, list, list]] = {}
    for column, predicates in enumerate(_COLUMNS):
        for predicate in predicates:
            for value in sorted(by.get(predicate, ())):
                tag = canonical(getattr(value, "language", None) or language)
                by_language.setdefault(tag, ([], [], [], []))[column].append(value)
    texts = {
        tag: (_text(labels[:1]), _text(labels[1:] + names), _text(description), _text(body))
        for tag, (labels, names, description, body) in sorted(by_language.items())
    }
    home = canonical(language)
    ordered = [v for _, v in sorted(by_language.items(), key=lambda i: (i[0] != home, i[0]))]
    title = next((labels[0] for labels, *_ in ordered if labels), None)
    date = next((str(v) for p in LISTING_DATES for v in sorted(by.get(p, ()))), "")
    return {
        "iri": str(subject),
        "kind": kind,
        "title": _text([title]) if title is not None else str(subject).rsplit("/", 1)[-1],
        "texts": texts,
        "date": date,
        # The earliest modification date, else the listing date: a record never modified
        # was last changed when it was made.
        "modified": str(min(by[_MODIFIED])) if _MODIFIED in by else date,
        "year": date[:4] if date[:4].isdigit() else "",
    }


def _links(pairs, subject: URIRef, base: str) -> list[tuple[str, str, str]]:
    """The record's links to other records of a facet kind, (facet, value, role) sorted;
    links to itself and outside the dataset are no facet."""
    links: dict[str, tuple[str, str]] = {}  # value -> (facet, role), the first role of RANKS
    prefix = id_prefix(base)
    for predicate, obj in pairs:
        if type(obj) is not URIRef or obj == subject or not obj.startswith(prefix):
            continue
        role, key = ROLES.get(predicate, "link"), str(obj)
        # A value linked twice (about and mentions) takes its first role in RANKS, whatever
        # order the set of pairs iterates in: the index is the same for the same graph.
        if key not in links or RANKS.index(role) < RANKS.index(links[key][1]):
            found = kind_and_slug(base, key)
            if found and found[0] in FACET_KINDS:
                links[key] = (found[0], role)
    return sorted((facet, value, role) for value, (facet, role) in links.items())


ROLES = {SDO.author: "author", SDO.about: "about"}
RANKS = ("author", "about", "link")


SCHEMA = """
create table meta(key text primary key, value text);
create table records(id integer primary key, iri text unique not null, kind text not null,
    title text not null, date text not null, modified text not null, year text not null);
create index records_kind_date on records(kind, date);
create table languages(no integer primary key, tag text unique not null);
create table texts(row integer primary key, title text not null, names text not null,
    description text not null, body text not null);
create virtual table text using fts5(title, names, description, body, content='',
    tokenize='ascii');
create table terms(term integer primary key, facet text not null, value text not null,
    unique(facet, value));
create table links(term integer not null, kind text not null, date text not null,
    id integer not null, role text not null, primary key(term, kind, date, id))
    without rowid;
create index links_id on links(id, term);
"""


def write(
    path: Path,
    graph: Triples,
    records: dict,
    base: str,
    language: str,
    diff: Diff | None = None,
    previous: Path | None = None,
    stemmed: bool = True,
) -> None:
    """search.sqlite into the build folder `path`: the previous build's index (`previous`,
    its folder) with the rows of `diff`'s resources replaced, when both are given and the
    index there was written as this one would be; else every record's. Text without a
    language tag is in `language`; `stemmed` false folds the words of every language
    without stemming them (the baseline of bench/search_quality.py)."""
    target = path / SEARCH_INDEX
    source = previous / SEARCH_INDEX if previous is not None else None
    meta = {
        "version": str(VERSION),
        "stemmer": STEMMER if stemmed else "none",
        "language": canonical(language),
        "layout": LAYOUT,
    }
    index = _Writer(graph, records, base, meta["language"], stemmed)
    if diff is not None and diff.since is not None and source is not None and source.is_file():
        shutil.copyfile(source, target)
        db = _unjournaled(target)
        try:
            if _meta(db) == meta:
                index.replace(db, diff.changed)
                db.commit()
                return
        finally:
            db.close()
        target.unlink()
    db = _unjournaled(target)
    try:
        db.executescript(SCHEMA)
        db.executemany("insert into meta values (?, ?)", sorted(meta.items()))
        index.insert(db, sorted(records, key=str))
        db.commit()
        db.execute("insert into text(text) values ('optimize')")
        db.commit()
        db.execute("vacuum")  # the pages the merges freed
    finally:
        db.close()


def _unjournaled(target: Path) -> sqlite3.Connection:
    """A connection to a file of a build being written, which a failed build drops: no
    rollback journal, and no waiting for the disk (the copy of a 300 MB index at 100k
    articles would be flushed whole on commit)."""
    db = sqlite3.connect(target)
    db.execute("pragma journal_mode = off")
    db.execute("pragma synchronous = off")
    return db


def pack(text: str) -> str | bytes:
    """A column of `texts` as kept: zlib-compressed bytes from PACKED bytes of text."""
    data = text.encode("utf-8")
    if len(data) < PACKED:
        return text
    packed = zlib.compress(data, 6)
    return packed if len(packed) < len(data) else text


def unpack(value: str | bytes) -> str:
    """A column of `texts` as written (lod.serve.search reads it the same way)."""
    return value if isinstance(value, str) else zlib.decompress(value).decode("utf-8")


def _meta(db: sqlite3.Connection) -> dict:
    try:
        return dict(db.execute("select key, value from meta"))
    except sqlite3.DatabaseError:
        return {}


class _Writer:
    """The rows of records written into an index, and replaced."""

    def __init__(self, graph: Triples, records: dict, base: str, language: str, stemmed: bool):
        self.graph, self.records, self.base = graph, records, base
        self.language, self.stemmed = language, stemmed

    def replace(self, db: sqlite3.Connection, changed) -> None:
        """The rows of the records `changed` (IRIs) deleted, and made again for those that
        still are records."""
        numbers = [no for (no,) in db.execute("select no from languages")]
        for iri in changed:
            found = db.execute("select id from records where iri = ?", (iri,)).fetchone()
            if found is None:
                continue
            rows = [no << SHIFT | found[0] for no in numbers]
            marks = ", ".join("?" * len(rows))
            texts = db.execute(
                "select row, tag, title, names, description, body from texts "
                f"join languages on no = row >> {SHIFT} where row in ({marks})",
                rows,
            ).fetchall()
            # a contentless FTS5 table forgets a row given the very keys it was made of
            db.executemany(
                "insert into text(text, rowid, title, names, description, body) "
                "values ('delete', ?, ?, ?, ?, ?)",
                [
                    (row, *_keys(tag, map(unpack, columns), self.stemmed))
                    for row, tag, *columns in texts
                ],
            )
            db.execute(f"delete from texts where row in ({marks})", rows)
            db.execute("delete from records where id = ?", found)
            db.execute("delete from links where id = ?", found)
        wanted = [s for s in (URIRef(i) for i in changed) if s in self.records]
        self.insert(db, sorted(wanted, key=str))

    def insert(self, db: sqlite3.Connection, subjects: list) -> None:
        """The rows of `subjects`, numbered after the last (in bulk inserts of BATCH
        records: the text of them all, as written and as keys, would be held twice)."""
        known: dict[tuple[str, str], int] = {}
        languages = {tag: no for no, tag in db.execute("select no, tag from languages")}
        start = db.execute("select coalesce(max(id), 0) from records").fetchone()[0] + 1
        rows, texts, keys, links = [], [], [], []
        with closing(self.all_made(subjects)) as records:
            for rowid, (row, found, text) in enumerate(records, start):
                kind = row["kind"]
                row["id"] = rowid
                rows.append(row)
                for tag, columns, keyed in text:
                    if tag not in languages:
                        insert = "insert into languages(tag) values (?)"
                        languages[tag] = db.execute(insert, (tag,)).lastrowid
                    number = languages[tag] << SHIFT | rowid
                    texts.append((number, *columns))
                    keys.append((number, *keyed))
                found.append(("kind", kind, "kind"))
                if row["year"]:
                    found.append(("year", row["year"], "year"))
                links += [
                    (rowid, _term(db, facet, value, known), role, kind, row["date"])
                    for facet, value, role in found
                ]
                if len(rows) == BATCH:
                    _write_rows(db, rows, texts, keys, links)
                    rows, texts, keys, links = [], [], [], []
        _write_rows(db, rows, texts, keys, links)

    def all_made(self, subjects: list) -> Iterator[tuple[dict, list, list]]:
        """What `made` says of each subject, in order: on helper processes
        (lod.make.apart) when there are APART or more, else here."""
        settings = (self.base, self.language, self.stemmed)
        if len(subjects) < APART:
            for subject in subjects:
                yield made(self.graph.about(subject), subject, self._kind(subject), *settings)
            return
        batches = (
            (*settings, [(str(s), self._kind(s), self.graph.kept(s)) for s in batch])
            for batch in map(subjects.__getitem__, _slices(len(subjects), APART_BATCH))
        )
        workers = min(-(-len(subjects) // APART_BATCH), cores())
        with closing(apart_map(_made_apart, batches, workers)) as answers:
            for answer in answers:
                yield from answer

    def _kind(self, subject: URIRef) -> str:
        return self.records[subject].kind


def _slices(length: int, size: int) -> Iterator[slice]:
    return (slice(start, start + size) for start in range(0, length, size))


def _keys(tag: str, columns, stemmed: bool) -> tuple[str, ...]:
    """What the full-text table holds of a row: each column's keys, joined by spaces."""
    words = words_of(tag, stemmed)
    return tuple(" ".join(words.keys(column)) if column else "" for column in columns)


def _write_rows(db: sqlite3.Connection, rows, texts, keys, links) -> None:
    db.executemany(
        "insert into records(id, iri, kind, title, date, modified, year) "
        "values (:id, :iri, :kind, :title, :date, :modified, :year)",
        rows,
    )
    db.executemany("insert into texts values (?, ?, ?, ?, ?)", texts)
    db.executemany(
        "insert into text(rowid, title, names, description, body) values (?, ?, ?, ?, ?)", keys
    )
    db.executemany("insert into links(id, term, role, kind, date) values (?, ?, ?, ?, ?)", links)


def _term(db: sqlite3.Connection, facet: str, value: str, known: dict) -> int:
    """The id of a facet value, made when new (`known` remembers those seen)."""
    term = known.get((facet, value))
    if term is None:
        found = db.execute("select term from terms where facet = ? and value = ?", (facet, value))
        row = found.fetchone()
        if row is None:
            insert = "insert into terms(facet, value) values (?, ?)"
            row = (db.execute(insert, (facet, value)).lastrowid,)
        term = known[(facet, value)] = row[0]
    return term
