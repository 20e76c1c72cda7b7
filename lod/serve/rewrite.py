"""The queries a build's answers (lod.make.answers) let the engine answer without scanning
the archive, given to it rewritten:

* **Latest first**: `ORDER BY DESC(?d) … LIMIT n` (or ascending, with any OFFSET) where ?d
  is the value of a date property of a subject ?s in the query's required pattern. The query
  gets a trailing `VALUES ?s {…}` of the first subjects in that order (ties included), which
  the engine reads by its indexes (at 100k articles, 2 s became 2 ms). Each subject has one
  such date, so the restricted query's rows are exactly the rows whose date is at least the
  last candidate's: when they fill the page asked for, they are that page. Otherwise more
  candidates are tried, up to what the build kept, then the query runs as asked.
* **Counts per value**: `SELECT ?o (COUNT(?s) AS ?n) WHERE { ?s a C ; p ?o } GROUP BY ?o`
  (the class optional; COUNT(?s), COUNT(*) or COUNT(DISTINCT ?s); projected, ordered by
  ?o or ?n and sliced in any way): the build's counts of that class and property, made a
  small store in memory (`Tally`, one triple a value: kept by the query worker), answer a
  query of the same projection, order and slice (a `VALUES` table of the 30,000 counts
  of 300k articles took the engine 0.3 s to read; the store answers in 55 ms).

Anything else, a query over a dataset of its own (FROM, default-graph-uri), or a build with
no answers goes to the engine as asked. The rows are what the engine would give; only the
order of tied rows, which SPARQL leaves open, may differ.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import URIRef, Variable
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parserutils import CompValue

from ..layout import ANSWERS, read_only
from ..vocab import RDF
from .store import EmbeddedStore

FIRST = 4  # candidates first tried, times the rows the page needs
TALLIES = 8  # the counts of a class and property kept as a store, per build
GROWTH = 8  # and then, each time they do not fill it
INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")  # what COUNT gives
_MAYBE = re.compile(r"\b(?:ORDER|GROUP)\s+BY\b", re.IGNORECASE)

Count = Callable[[str], int]  # how many rows a query gives


class AnswersFile:
    """A build's answers.sqlite (lod.make.answers wrote it), read-only."""

    def __init__(self, path: Path):
        self.db = read_only(path)

    def total(self, prop: str) -> int | None:
        """How many subjects have a value of the date property `prop`; None when it is not
        ordered."""
        row = self.db.execute(
            "select total from properties where property = ? and use = 'ordered'", (prop,)
        ).fetchone()
        return None if row is None else row[0]

    def first(self, prop: str, descending: bool, count: int, total: int) -> list[str] | None:
        """The first `count` subjects in `prop`'s order, and any tied with the last of them
        (of the `total` with a value); None when they run past what the build kept."""
        rows = self.db.execute(
            "select key, subject from ordered where property = ? and descending = ? "
            "order by position",
            (prop, int(descending)),
        )
        subjects, last = [], None
        for key, subject in rows:
            if len(subjects) >= count and key != last:
                return subjects
            subjects.append(subject)
            last = key
        return subjects if len(subjects) == total else None

    @lru_cache(maxsize=TALLIES)  # noqa: B019 (an AnswersFile lives as long as its build is served)
    def tally(self, cls: str, prop: str) -> Tally | None:
        """The counts of `prop` (by subjects of `cls`) as a store: made once, the last
        TALLIES kept (each about 640 bytes a value: 64 MB for 100,000 organisations)."""
        rows = self.counts(cls, prop)
        return None if rows is None else Tally(rows)

    def counts(self, cls: str, prop: str) -> list[tuple[str, int]] | None:
        """How many subjects (of class `cls`, "" for any) link to each object by `prop`;
        None when `prop` is not counted."""
        if not self.db.execute(
            "select 1 from properties where property = ? and use = 'counted'", (prop,)
        ).fetchone():
            return None
        return self.db.execute(
            "select o.iri, c.n from counts c join terms o on o.id = c.object "
            "where c.class = coalesce((select id from terms where iri = ?), -1) "
            "and c.property = (select id from terms where iri = ?) order by o.iri",
            (cls, prop),
        ).fetchall()


class Tally(EmbeddedStore):
    """The counts of one class and property as a store in memory: `<o> COUNT n` a value."""

    COUNT = ox.NamedNode("urn:lod:count")

    def __init__(self, rows: list[tuple[str, int]]):  # (no store files: no EmbeddedStore's)
        self.path = None
        self.oxigraph = ox.Store()
        self.oxigraph.bulk_extend(
            ox.Quad(ox.NamedNode(o), self.COUNT, ox.Literal(str(n), datatype=INTEGER))
            for o, n in rows
        )


@lru_cache(maxsize=2)  # the build served, and the one before while a query on it ends
def answers_of(store: Path) -> AnswersFile | None:
    """The answers of the build whose store is `store` (None: a build without them)."""
    path = store.parent / ANSWERS
    return AnswersFile(path) if path.is_file() else None


@dataclass(frozen=True)
class Given:
    """What the engine is given for a query: a text, and the store to run it on (None: the
    build's)."""

    text: str
    store: EmbeddedStore | None = None


def rewritten(text: str, tree, answers: AnswersFile | None, count: Count) -> Given:
    """What to give the engine for a checked query, read as `tree` (its parse, which this
    may change): a rewritten query, or `text` itself. `count` runs a query and counts its
    rows (to know whether the candidates fill the page)."""
    asked = Given(text)
    if answers is None or not _MAYBE.search(text) or "valuesClause" in tree[1]:
        return asked
    try:
        query = translateQuery(tree).algebra
    except Exception:  # rdflib fails on some valid queries: they go as they are
        return asked
    if query.name != "SelectQuery" or query.datasetClause:
        return asked
    try:
        latest = _latest(text, query.p, answers, count)
        return Given(latest) if latest else _counted(query.p, answers) or asked
    except sqlite3.Error:  # a damaged answers.sqlite: the engine answers, as it would without
        return asked


def _latest(text: str, top: CompValue, answers: AnswersFile, count: Count) -> str | None:
    if top.name != "Slice" or top.length is None:
        return None
    project = top.p.p if top.p.name in ("Distinct", "Reduced") else top.p
    order = project.p if project.name == "Project" else None
    if order is None or order.name != "OrderBy" or not isinstance(order.expr[0].expr, Variable):
        return None
    needed, descending = (top.start or 0) + top.length, order.expr[0].order == "DESC"
    for subject, prop in _dated(order.p, order.expr[0].expr):
        total = answers.total(str(prop))
        size = needed * FIRST
        while total is not None:
            first = answers.first(str(prop), descending, size, total)
            if first is None:
                break
            values = " ".join(str(ox.NamedNode(iri)) for iri in first)
            candidate = f"{text}\nVALUES ?{subject} {{ {values} }}\n"
            if len(first) >= total or count(candidate) >= top.length:
                return candidate
            size *= GROWTH
    return None


def _dated(pattern: CompValue, value: Variable) -> Iterator[tuple[Variable, URIRef]]:
    """The (subject, property) of each triple pattern `?s <property> ?value` that every
    solution of `pattern` matches: in its basic graph patterns, through filters, joins,
    BINDs and the required side of OPTIONAL."""
    name = pattern.name
    if name == "BGP":
        for s, p, o in pattern.triples:
            if o == value and isinstance(s, Variable) and isinstance(p, URIRef):
                yield s, p
    elif name in ("Filter", "Extend"):
        yield from _dated(pattern.p, value)
    elif name == "LeftJoin":
        yield from _dated(pattern.p1, value)
    elif name == "Join":
        yield from _dated(pattern.p1, value)
        yield from _dated(pattern.p2, value)


def _counted(top: CompValue, answers: AnswersFile) -> Given | None:
    slice_ = top if top.name == "Slice" else None
    node = top.p if slice_ is not None else top
    distinct = node.name == "Distinct"
    project = node.p if node.name in ("Distinct", "Reduced") else node
    if project.name != "Project":
        return None
    below = project.p
    order = below if below.name == "OrderBy" else None
    node = order.p if order is not None else below
    names: dict[Variable, Variable] = {}  # the names the aggregates are given
    while node.name == "Extend" and isinstance(node.expr, Variable):
        names[node.expr] = node.var
        node = node.p
    found = _count_of(node)
    if found is None:
        return None
    (cls, prop), aggregates = found
    named = {names.get(res): role for res, role in aggregates.items()}
    if len(named) != 2 or None in named or set(named.values()) != {"n", "o"}:
        return None
    tally = answers.tally(str(cls or ""), str(prop))
    if tally is None:
        return None
    by_role = {role: var for var, role in named.items()}
    shown = [f"?{v}" for v in project.PV]
    if any(v not in named for v in project.PV):
        return None
    query = f"SELECT {'DISTINCT ' if distinct else ''}{' '.join(shown)} WHERE {{ "
    query += f"?{by_role['o']} {Tally.COUNT} ?{by_role['n']} }}"
    if order is not None:
        conditions = [
            f"{c.order or 'ASC'}(?{c.expr})" for c in order.expr if isinstance(c.expr, Variable)
        ]
        if len(conditions) != len(order.expr) or any(c.expr not in named for c in order.expr):
            return None
        query += " ORDER BY " + " ".join(conditions)
    if slice_ is not None:
        query += f" OFFSET {slice_.start or 0}"
        if slice_.length is not None:
            query += f" LIMIT {slice_.length}"
    return Given(query, tally)


def _count_of(node: CompValue):
    """For `AggregateJoin(Group(BGP))` counting subjects per object of one property (of one
    class or any): ((the class or None, the property), the aggregates' result variables and
    what each gives: "n" the count, "o" the group's value)."""
    if node.name != "AggregateJoin" or node.p.name != "Group" or node.p.p.name != "BGP":
        return None
    group = node.p.expr
    if not group or len(group) != 1 or not isinstance(group[0], Variable):
        return None
    value, triples = group[0], node.p.p.triples
    typed = [t for t in triples if t[1] == RDF.type and isinstance(t[2], URIRef)]
    linked = [t for t in triples if t not in typed]
    if len(linked) != 1 or len(typed) > 1:
        return None
    subject, prop, obj = linked[0]
    if obj != value or not isinstance(subject, Variable) or subject == obj:
        return None
    if not isinstance(prop, URIRef) or (typed and typed[0][0] != subject):
        return None
    roles = {}
    for aggregate in node.A:
        if aggregate.name == "Aggregate_Count" and aggregate.vars in ("*", subject):
            roles[aggregate.res] = "n"
        elif aggregate.name == "Aggregate_Sample" and aggregate.vars == value:
            roles[aggregate.res] = "o"
        else:
            return None
    return (typed[0][2] if typed else None, prop), roles
