"""The build's graph as plain sets of (predicate, object) per subject.

rdflib's Graph keeps three indexes per triple, which costs about 25 µs a triple: 90 s for
a 3.5 M-triple corpus. A build only ever needs "everything about this subject" (to
describe, list and validate records) and "everything, in order" (to write the dumps), so a
dict of sets does, at a fraction of the cost; rdflib Graphs are made only of the small
parts that need one (a validation chunk, a test).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node


class Triples:
    def __init__(self, triples: Iterable[tuple[Node, Node, Node]] = ()):
        self.by_subject: dict[Node, set[tuple[Node, Node]]] = {}
        for triple in triples:
            self.add(triple)

    def add(self, triple: tuple[Node, Node, Node]) -> None:
        subject, predicate, obj = triple
        self.by_subject.setdefault(subject, set()).add((predicate, obj))

    def update(self, other: Triples) -> None:
        for subject, pairs in other.by_subject.items():
            self.by_subject.setdefault(subject, set()).update(pairs)

    def remove(self, triples: Iterable[tuple[Node, Node, Node]]) -> None:
        for subject, predicate, obj in triples:
            pairs = self.by_subject.get(subject)
            if pairs is not None:
                pairs.discard((predicate, obj))
                if not pairs:
                    del self.by_subject[subject]

    def put(self, subject: Node, pairs: Iterable[tuple[Node, Node]]) -> None:
        """Make `pairs` all that is said of `subject` (nothing: the subject goes)."""
        pairs = set(pairs)
        if pairs:
            self.by_subject[subject] = pairs
        else:
            self.by_subject.pop(subject, None)

    def about(self, subject: Node) -> Collection[tuple[Node, Node]]:
        """What is said of `subject`, to read, not to change. A graph a build has let go
        of keeps its pairs as N-Triples lines, read back when asked for (by_subject is then
        a lod.make.parts.ReadBack): read this way, they are not kept again."""
        if isinstance(self.by_subject, dict):
            return self.by_subject.get(subject, ())
        return self.by_subject.peek(subject)

    def kept(self, subject: Node) -> bytes | Collection[tuple[Node, Node]]:
        """What is said of `subject` as the graph keeps it: its N-Triples lines when the
        graph was let go of and they were not read back (for another process to read:
        lod.make.parts.pairs_of), else its pairs."""
        if isinstance(self.by_subject, dict):
            return self.by_subject.get(subject, ())
        return self.by_subject.kept(subject)

    def __len__(self) -> int:
        return sum(map(len, self.by_subject.values()))

    def __iter__(self) -> Iterator[tuple[Node, Node, Node]]:
        for subject, pairs in self.by_subject.items():
            for predicate, obj in pairs:
                yield subject, predicate, obj

    def __contains__(self, triple) -> bool:
        subject, predicate, obj = triple
        return (predicate, obj) in self.by_subject.get(subject, ())

    def objects(self, subject: Node, predicate: Node) -> list[Node]:
        wanted = {predicate}  # a set compares hashes (C) before rdflib's __eq__ (Python)
        return sorted(o for p, o in self.by_subject.get(subject, ()) if p in wanted)

    def value(self, subject: Node, predicate: Node) -> Node | None:
        found = self.objects(subject, predicate)
        return found[0] if found else None

    def graph(self, subjects: Iterable[Node] | None = None) -> Graph:
        """An rdflib Graph of all triples, or of those about `subjects`."""
        graph = Graph()
        chosen = self.by_subject if subjects is None else subjects
        graph.addN((s, p, o, graph) for s in chosen for p, o in self.by_subject.get(s, ()))
        return graph


def to_oxigraph(term: Node):
    """An rdflib term as a pyoxigraph term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def from_oxigraph(term) -> Node:
    """A pyoxigraph term as the rdflib term `to_oxigraph` made it of (a literal with no
    language and no datatype reads back as xsd:string, which lod never writes out)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value) if datatype == XSD_STRING else Literal(term.value, datatype=datatype)
