"""The full-text index of a build: search.sqlite, an SQLite FTS5 table of every record's
labels, names, alternate names, headline, description and article body, with what the
search pages and the feeds show of each record and the links they facet and group by.

Tables:
    records(id, iri, kind, title, date, modified, year, summary)   one row a record
    text(title, names, description, body)   FTS5, rowid = records.id; tokenised by
        unicode61 with diacritics removed (accents and case folded), stemmed by Porter
        when the dataset's language is English
    terms(term, facet, value)   each facet value: a topic's, organisation's, person's or
        event's IRI, a kind, a year
    links(id, term, role, kind, date)   the record's terms: what it is about, mentions, is
        by (author, publisher, organizer …), its kind and its year
    meta(key, value)   the index's version and tokeniser

A build writes the index whole, or (the Builder's rebuild) copies the previous build's and
replaces the rows of the records that changed (lod.make.changes says which).
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

from rdflib import URIRef

from ..layout import SEARCH_INDEX
from ..triples import Triples
from ..vocab import ALTERNATE_NAMES, LABELS, LISTING_DATES, SDO, id_prefix, kind_and_slug
from .changes import Diff

VERSION = 2
FACET_KINDS = ("topic", "organisation", "person", "event")
SUMMARY_CHARS = 300
_MODIFIED, _DESCRIPTION, _BODY = SDO.dateModified, SDO.description, SDO.articleBody
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def tokenizer(language: str) -> str:
    """FTS5's tokenizer for a dataset language (BCP 47)."""
    folding = "unicode61 remove_diacritics 2"
    return f"porter {folding}" if language.lower().split("-")[0] == "en" else folding


def _text(values) -> str:
    return _CONTROL.sub(" ", " ".join(str(v) for v in values))


def entry(graph: Triples, subject: URIRef, kind: str, base: str) -> tuple[dict, list]:
    """One record's row and its links (facet, value, role)."""
    pairs = graph.by_subject.get(subject, set())
    by: dict = {}
    for predicate, obj in pairs:
        by.setdefault(predicate, []).append(obj)
    return _row(subject, kind, by), _links(pairs, subject, base)


def _row(subject: URIRef, kind: str, by: dict) -> dict:
    """The record's row from its values by predicate: the first label is the title (the
    IRI's last segment without one), the other labels and the alternate names are names."""
    labels = [v for p in LABELS for v in sorted(by.get(p, ()))]
    names = [v for p in ALTERNATE_NAMES for v in sorted(by.get(p, ()))]
    date = next((str(v) for p in LISTING_DATES for v in sorted(by.get(p, ()))), "")
    description = sorted(by.get(_DESCRIPTION, []))
    body = sorted(by.get(_BODY, []))
    return {
        "iri": str(subject),
        "kind": kind,
        "title": _text(labels[:1]) or str(subject).rsplit("/", 1)[-1],
        "names": _text(labels[1:] + names),
        "description": _text(description),
        "body": _text(body),
        "date": date,
        # The earliest modification date, else the listing date: a record never modified
        # was last changed when it was made.
        "modified": str(min(by[_MODIFIED])) if _MODIFIED in by else date,
        "year": date[:4] if date[:4].isdigit() else "",
        "summary": _summary(description or body),
    }


def _summary(values) -> str:
    """What a result shows of a record: its description (else its body) on one line, cut
    at a word before SUMMARY_CHARS with an ellipsis, so no word is shown broken."""
    summary = " ".join(_text(values).split())
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:.") + "…"
    return summary


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
    title text not null, date text not null, modified text not null, year text not null,
    summary text not null);
create index records_kind_date on records(kind, date);
create table terms(term integer primary key, facet text not null, value text not null,
    unique(facet, value));
create table links(id integer not null, term integer not null, role text not null,
    kind text not null, date text not null);
create index links_term on links(term, kind, date);
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
) -> None:
    """search.sqlite into the build folder `path`: the previous build's index (`previous`,
    its folder) with the rows of `diff`'s resources replaced, when both are given and the
    index there is of this version; else every record's."""
    target = path / SEARCH_INDEX
    source = previous / SEARCH_INDEX if previous is not None else None
    if diff is not None and diff.since is not None and source is not None and source.is_file():
        shutil.copyfile(source, target)
        db = _unjournaled(target)
        try:
            if _meta(db) == {"version": str(VERSION), "tokenizer": tokenizer(language)}:
                _replace(db, graph, records, base, diff.changed)
                db.commit()
                return
        finally:
            db.close()
        target.unlink()
    db = _unjournaled(target)
    try:
        db.executescript(SCHEMA)
        db.execute(
            "create virtual table text using fts5(title, names, description, body, "
            f"tokenize='{tokenizer(language)}')"
        )
        db.executemany(
            "insert into meta values (?, ?)",
            [("version", str(VERSION)), ("tokenizer", tokenizer(language))],
        )
        _insert(db, graph, records, base, sorted(records, key=str))
        db.commit()
        db.execute("insert into text(text) values ('optimize')")
        db.commit()
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


def _meta(db: sqlite3.Connection) -> dict:
    try:
        return dict(db.execute("select key, value from meta"))
    except sqlite3.DatabaseError:
        return {}


def _replace(db: sqlite3.Connection, graph: Triples, records: dict, base: str, changed) -> None:
    for iri in changed:
        found = db.execute("select id from records where iri = ?", (iri,)).fetchone()
        if found is not None:
            db.execute("delete from records where id = ?", found)
            db.execute("delete from text where rowid = ?", found)
            db.execute("delete from links where id = ?", found)
    wanted = [s for s in (URIRef(i) for i in changed) if s in records]
    _insert(db, graph, records, base, sorted(wanted, key=str))


def _insert(db: sqlite3.Connection, graph: Triples, records: dict, base: str, subjects) -> None:
    """The rows of `subjects`, numbered after the last (in three bulk inserts)."""
    known: dict[tuple[str, str], int] = {}
    start = db.execute("select coalesce(max(id), 0) from records").fetchone()[0] + 1
    rows, texts, links = [], [], []
    for rowid, subject in enumerate(subjects, start):
        kind = records[subject].kind
        row, found = entry(graph, subject, kind, base)
        row["id"] = rowid
        rows.append(row)
        texts.append((rowid, row["title"], row["names"], row["description"], row["body"]))
        found.append(("kind", kind, "kind"))
        if row["year"]:
            found.append(("year", row["year"], "year"))
        links += [
            (rowid, _term(db, facet, value, known), role, kind, row["date"])
            for facet, value, role in found
        ]
    db.executemany(
        "insert into records(id, iri, kind, title, date, modified, year, summary) "
        "values (:id, :iri, :kind, :title, :date, :modified, :year, :summary)",
        rows,
    )
    db.executemany(
        "insert into text(rowid, title, names, description, body) values (?, ?, ?, ?, ?)", texts
    )
    db.executemany("insert into links values (?, ?, ?, ?, ?)", links)


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
