"""What a build keeps to answer, without scanning the archive, the analytic queries its
users ask most (lod.serve.rewrite gives them to the engine this way):

* the order of the subjects by each date property, newest and oldest first (ORDERED at
  each end), for `ORDER BY DESC(?date) LIMIT n`: the endpoint restricts the query to the
  first subjects of that order, which the engine then reads by its indexes;
* how many subjects, of each class and of any, link to each IRI by each property, for
  `SELECT ?o (COUNT(?s) AS ?n) WHERE { ?s a C ; p ?o } GROUP BY ?o`.

Both are exact only where the data allows it, and the file says where: a date property is
ordered only when each subject has one value of it and all values are of one kind (xsd:date;
xsd:dateTime with a time zone; or without), whose order the engine and this module agree on;
a property is counted only when all its objects are IRIs. Kept by a Builder and brought up to
date from the subjects an edit changed (their triples before and after), as the listings
are; written as answers.sqlite in each build.

Tables:
    ordered(property, descending, position, key, subject)   a date property's first ORDERED
        subjects each way; `key` the value in a form whose text order is its order
    counts(class, property, object, n)   each a term's id; `class` 0 for subjects of any class
    terms(id, iri)   the classes, properties and objects of `counts`
    properties(property, use, total)   what may be answered: `ordered` (total: subjects with
        a value) or `counted` (see Answers.counted)
"""

from __future__ import annotations

import heapq
import os
import re
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from sys import intern

from rdflib import Literal, URIRef

from ..layout import ANSWERS
from ..triples import Triples
from ..vocab import RDF, XSD
from .convert.values import DATE

ORDERED = 10_000  # subjects kept at each end of a date property's order
Pairs = Iterable[tuple]


class Answers:
    """The counts and date orders of a graph, kept up to date by `update`."""

    def __init__(self) -> None:
        # all by their IRIs, as text
        self.dates: dict[str, dict[str, str]] = {}  # property: subject: sort key
        self.kinds: dict[str, Counter] = {}  # property: (the kind of its values: how many)
        self.counts: Counter = Counter()  # (class or "", property, object)
        self.literal: Counter = Counter()  # property: how many of its objects are not IRIs
        self.names: dict[URIRef, str] = {}  # each property's text
        self.unwritten = True  # whether they changed since last written (`write`)

    def update(self, graph: Triples, before: dict | None = None) -> None:
        """Every subject of `graph` counted (`before` None), or the subjects of `before`
        (their pairs before an edit: what they counted is taken away) counted as they are
        in `graph` now, where what they count changed (not a headline, say)."""
        if before is None:
            for subject in graph.by_subject:
                self.add(subject, graph.about(subject))
            return
        for subject, pairs in before.items():
            now = graph.by_subject.get(subject, ())
            if _counted_of(pairs) != _counted_of(now):
                self._add(subject, pairs, -1)
                self._add(subject, now, 1)
                self.unwritten = True

    def add(self, subject, pairs: Pairs) -> None:
        """A subject new to the graph counted."""
        self._add(subject, pairs, 1)
        self.unwritten = True

    def _add(self, subject, pairs: Pairs, sign: int) -> None:
        # counted by their text: rdflib's terms compare in Python (equal terms are often
        # distinct objects), strings in C: three times faster; a property's or class's
        # text held once
        types = [intern(str(o)) for p, o in pairs if p in _TYPE]
        names = self.names
        counts, literal = self.counts, self.literal
        dated: dict[str, list[Literal]] = {}
        for predicate, obj in pairs:
            link = names.get(predicate) or names.setdefault(predicate, intern(str(predicate)))
            if not isinstance(obj, URIRef):
                literal[link] += sign
                if isinstance(obj, Literal) and obj.datatype in _KINDS:
                    dated.setdefault(link, []).append(obj)
                continue
            target = intern(str(obj))  # held once however many subjects link to it
            counts[("", link, target)] += sign
            if predicate not in _TYPE:
                for cls in types:
                    counts[(cls, link, target)] += sign
        for predicate, values in dated.items():
            kind = _kind(values[0]) if len(values) == 1 else "several"
            self.kinds.setdefault(predicate, Counter())[kind] += sign
            keys = self.dates.setdefault(predicate, {})
            if sign < 0:
                keys.pop(str(subject), None)
            elif kind != "several":
                keys[str(subject)] = _key(values[0], kind)

    def ordered(self) -> list[str]:
        """The date properties whose order is known: one value a subject, of one kind."""
        return sorted(
            p
            for p, kinds in self.kinds.items()
            if len(+kinds) == 1 and next(iter(+kinds)) not in ("several", "other")
        )

    def counted(self) -> list[str]:
        """The properties whose counts are kept: all their objects IRIs, each linked from two
        subjects or more on average (a property whose objects are each one subject's, as
        an image or a document's topic, would keep a row a triple, for queries no one asks)."""
        triples, objects = Counter(), Counter()
        for (cls, p, _), n in self.counts.items():
            if not cls and n > 0:
                triples[p] += n
                objects[p] += 1
        return sorted(p for p in triples if p not in +self.literal and triples[p] >= 2 * objects[p])

    def write(self, folder: Path, last: Path | None = None) -> None:
        """answers.sqlite in `folder` (a build's), its rows in order: the same answers make
        the same bytes, however they were brought up to date. Unchanged since written in
        the build `last` (the one served), that build's file is linked."""
        path = folder / ANSWERS
        path.unlink(missing_ok=True)
        if not self.unwritten and last is not None and (last / ANSWERS).is_file():
            try:
                os.link(last / ANSWERS, path)
            except OSError:
                shutil.copyfile(last / ANSWERS, path)
            return
        ordered, counted = self.ordered(), self.counted()
        wanted = set(counted)
        rows = sorted((*key, n) for key, n in self.counts.items() if n > 0 and key[1] in wanted)
        terms = {"": 0} | {
            t: n for n, t in enumerate(sorted({t for r in rows for t in r[:3]} - {""}), 1)
        }
        with sqlite3.connect(path) as db:
            db.executescript(_SCHEMA)
            db.executemany("insert into terms values (?, ?)", ((n, t) for t, n in terms.items()))
            db.executemany(
                "insert into properties values (?, ?, ?)",
                sorted(
                    [(p, "ordered", len(self.dates[p])) for p in ordered]
                    + [(p, "counted", 0) for p in counted]
                ),
            )
            db.executemany(
                "insert into counts values (?, ?, ?, ?)",
                ((terms[c], terms[p], terms[o], n) for c, p, o, n in rows),
            )
            for predicate in ordered:
                pairs = [(key, subject) for subject, key in self.dates[predicate].items()]
                ends = ((1, heapq.nlargest(ORDERED, pairs)), (0, heapq.nsmallest(ORDERED, pairs)))
                db.executemany(
                    "insert into ordered values (?, ?, ?, ?, ?)",
                    (
                        (predicate, descending, n, key, subject)
                        for descending, chosen in ends
                        for n, (key, subject) in enumerate(chosen)
                    ),
                )
        db.close()
        self.unwritten = False


_SCHEMA = """
create table ordered (property text, descending integer, position integer, key text,
    subject text, primary key (property, descending, position)) without rowid;
create table terms (id integer primary key, iri text unique);
create table counts (class integer, property integer, object integer, n integer,
    primary key (class, property, object)) without rowid;
create table properties (property text, use text, total integer,
    primary key (property, use)) without rowid;
"""
_KINDS = {XSD.date, XSD.dateTime}
_TYPE = frozenset([RDF.type])
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")


def _counted_of(pairs: Pairs) -> tuple:
    """What of a subject's pairs its answers take: its links, its dates, and the properties
    of its other values (how many of each)."""
    links = frozenset(pair for pair in pairs if isinstance(pair[1], URIRef))
    dates = frozenset(
        pair for pair in pairs if isinstance(pair[1], Literal) and pair[1].datatype in _KINDS
    )
    others = sorted(str(p) for p, o in pairs if not isinstance(o, URIRef))
    return links, dates, others


def _kind(value: Literal) -> str:
    """What a date value's order is comparable with: `date`, `dateTime` with a time zone
    (`zoned`), without (`local`); `other` for a lexical form this module cannot order."""
    text, is_date = str(value), value.datatype == XSD.date
    if not (DATE if is_date else _DATE_TIME).fullmatch(text):
        return "other"
    try:
        if is_date:
            date.fromisoformat(text)
            return "date"
        moment = datetime.fromisoformat(text)
    except ValueError:
        return "other"
    return "zoned" if moment.tzinfo is not None else "local"


def _key(value: Literal, kind: str) -> str:
    """A date value as text whose order is the value's (one kind at a time)."""
    if kind == "date":
        return date.fromisoformat(str(value)).isoformat()
    moment = datetime.fromisoformat(str(value))
    if kind == "zoned":
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")
