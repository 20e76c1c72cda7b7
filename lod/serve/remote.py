"""The remote engine's reader: one published build, read from its graph in a SPARQL 1.1
store (lod.remote holds the client and how the store holds builds)."""

from __future__ import annotations

import pyoxigraph as ox

from ..errors import EngineError
from ..formats import Format, ResultFormat, serialize_triples
from ..remote import EMPTY_GRAPH, NTRIPLES, RESULTS_XML, SparqlClient, iri_ref
from .store import CONTEXT, INCOMING_PAGE, PRIMARY_TOPIC, Description


class RemoteStore:
    """One published build, read from its graph in the remote store (a lod.serve.store.Store
    that runs queries itself)."""

    worker_path = None

    def __init__(self, client: SparqlClient, graph: str):
        self.client = client
        self.graph = graph
        self.engine = f"{client.endpoint} {graph}"

    def exists(self, iri: str) -> bool:
        """Whether the build's graph holds any triple about iri."""
        try:
            subject = iri_ref(iri)
        except ValueError:
            return False
        return bool(
            self.client.select(f"SELECT ?p WHERE {{ {subject} ?p ?o }} LIMIT 1", self.graph)
        )

    def describe(self, iri: str, offset: int = 0, limit: int = INCOMING_PAGE) -> Description:
        """What EmbeddedStore.describe gives: own triples and hash nodes; label, type, url
        and address of each linked resource; one page of the links to it, with their count.
        Three queries (more when hash nodes nest); incoming links are paged in (subject,
        predicate) order.

        Shaped for Virtuoso 7's planner, in standard SPARQL: a pattern with its object
        bound and its predicate not (`?s ?p <iri>`) takes it 20-1000 ms once the dataset
        names a graph, and 2 ms with the predicates listed (`VALUES ?p`) or over all graphs.
        So the first query reads across the store's graphs (`GRAPH ?g`, no dataset: an
        app's own query, never a user's) and keeps the build graph's rows; it also lists
        the predicates that point to the resource, with which the others, on the build's
        graph, count and page the links to it."""
        description = Description(iri, offset=offset)
        try:
            subject = iri_ref(iri)
        except ValueError:
            return description
        own, seen, pointing = self._own(iri, subject)
        if not own:
            return description
        incoming, description.incoming = self._incoming(iri, subject, pointing, offset, limit)
        rows = self.client.select(  # its data document (foaf:Document, void:inDataset)
            f"SELECT ?s ?p ?o WHERE {{ ?s {PRIMARY_TOPIC} {subject} . ?s ?p ?o }}", self.graph
        )
        own += sorted((ox.Triple(r["s"], r["p"], r["o"]) for r in rows), key=str)
        context = self._context(_linked(iri, seen, own, incoming))
        description.triples = list(dict.fromkeys(own + incoming + context))
        return description

    def _own(self, iri: str, subject: str) -> tuple[list[ox.Triple], set[str], list[str]]:
        """The resource's triples and its hash nodes' (those it reaches through hash
        nodes, however deep); the hash nodes' IRIs; the predicates that point to it in
        any graph of the store (a superset of the build's)."""
        prefix = iri + "#"
        rows, pointing = self._across_graphs(subject, prefix)
        own: list[ox.Triple] = []
        seen = {iri}
        queried = {iri} | {row["s"].value for row in rows}
        while rows:
            triples = [ox.Triple(row["s"], row["p"], row["o"]) for row in rows]
            own.extend(triples)
            seen |= {t.subject.value for t in triples}
            deeper = sorted(_hash_nodes(triples, prefix) - queried)
            if not deeper:
                break
            queried |= set(deeper)
            values = " ".join(iri_ref(n) for n in deeper)
            rows = self.client.select(
                f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }}", self.graph
            )
        own.sort(key=lambda t: (t.subject.value != iri, str(t)))  # the store's order is its own
        return list(dict.fromkeys(own)), seen - {iri}, pointing

    def _across_graphs(self, subject: str, prefix: str) -> tuple[list[dict], list[str]]:
        """The first query, over all the store's graphs (see `describe`): the rows of the
        resource's triples and of the hash nodes it links to in the build's graph, and the
        predicates that point to the resource in any graph, sorted."""
        rows = self.client.select(
            f"SELECT ?g ?s ?p ?o ?y WHERE {{ "
            f"{{ GRAPH ?g {{ VALUES ?s {{ {subject} }} ?s ?p ?o }} }} UNION "
            f"{{ GRAPH ?g {{ {subject} ?link ?s . ?s ?p ?o "
            f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{prefix}")) }} }} UNION '
            f"{{ SELECT DISTINCT ?y WHERE {{ GRAPH ?h {{ ?x ?y {subject} }} }} }} }}",
            None,
        )
        pointing = sorted({row["y"].value for row in rows if row["y"] is not None})
        rows = [row for row in rows if row["g"] is not None and row["g"].value == self.graph]
        return rows, pointing

    def _incoming(
        self, iri: str, subject: str, pointing: list[str], offset: int, limit: int
    ) -> tuple[list[ox.Triple], int]:
        """One page of the links to the resource, in (subject, predicate) order, and how
        many there are: one query on the build's graph, through the predicates that point
        to it (none: no links, and no query)."""
        if not pointing:
            return [], 0
        target = ox.NamedNode(iri)
        through = " ".join(iri_ref(p) for p in pointing)
        rows = self.client.select(
            f"SELECT ?n ?s ?p WHERE {{ {{ SELECT (COUNT(*) AS ?n) WHERE {{ "
            f"VALUES ?y {{ {through} }} ?x ?y {subject} }} }} UNION {{ SELECT ?s ?p WHERE "
            f"{{ VALUES ?p {{ {through} }} ?s ?p {subject} }} ORDER BY ?s ?p "
            f"OFFSET {int(offset)} LIMIT {int(limit)} }} }}",
            self.graph,
        )
        count, incoming = 0, []
        for row in rows:
            if row["n"] is not None:
                count = int(row["n"].value)
            else:
                incoming.append(ox.Triple(row["s"], row["p"], target))
        incoming.sort(key=lambda t: (t.subject.value, t.predicate.value))
        return incoming, count

    def _context(self, linked: list[str]) -> list[ox.Triple]:
        """The type, labels, url and address of each linked resource, one query for all."""
        if not linked:
            return []
        values = " ".join(iri_ref(n) for n in linked)
        predicates = " ".join(f"<{p.value}>" for p in sorted(CONTEXT, key=str))
        rows = self.client.select(
            f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} "
            f"VALUES ?p {{ {predicates} }} ?s ?p ?o }}",
            self.graph,
        )
        return sorted((ox.Triple(r["s"], r["p"], r["o"]) for r in rows), key=str)

    def run(
        self,
        text: str,
        form: str,
        *,
        accept_results: ResultFormat,
        accept_graph: Format,
        default_graphs: tuple[str, ...],
        named_graphs: tuple[str, ...] | None,
        base_iri: str | None,
        timeout: float,
        max_bytes: int,
    ) -> bytes:
        """A checked query's results (lod.serve.guard made `text`), serialised by the same
        serialisers as the embedded engine's, so both engines' answers read the same.

        The dataset the protocol names (`default_graphs`, `named_graphs`) holds graphs of
        this store only, and this store holds only its default graph: a request naming any
        graph gets an empty one in its place, as the embedded engine answers."""
        if base_iri is not None:
            text = f"BASE {iri_ref(base_iri)} {text}"  # before the query's own BASE, one line
        default = [self.graph] if not default_graphs else [EMPTY_GRAPH]
        graph_form = form in ("CONSTRUCT", "DESCRIBE")
        reply = self.client.query(
            text,
            accept=NTRIPLES if graph_form else RESULTS_XML,
            default_graphs=default,
            named_graphs=[EMPTY_GRAPH],
            timeout=timeout,
            max_bytes=max_bytes,
        )
        try:
            if graph_form:
                triples = ox.parse(reply.body, format=ox.RdfFormat.N_TRIPLES)
                return serialize_triples(triples, accept_graph)
            results = ox.parse_query_results(reply.body, format=ox.QueryResultsFormat.XML)
            if form == "ASK":
                results = _boolean(results)
            return results.serialize(format=accept_results.oxigraph)
        except (SyntaxError, ValueError) as error:
            raise EngineError(f"the store's answer does not parse: {error}") from None


def _hash_nodes(triples: list[ox.Triple], prefix: str) -> set[str]:
    """The IRIs of the hash nodes (IRIs starting `prefix`) the triples link to."""
    return {
        t.object.value
        for t in triples
        if isinstance(t.object, ox.NamedNode) and t.object.value.startswith(prefix)
    }


def _linked(iri: str, seen: set[str], own: list[ox.Triple], incoming: list[ox.Triple]) -> list[str]:
    """The resources a document says something of, sorted: those its triples link to and
    those linking to it, but not itself or its hash nodes (`seen`, whose triples it holds
    whole); for a hash node of another record (a role, a part), that record too."""
    nodes = {t.object for t in own} | {t.subject for t in incoming}
    linked = {
        n.value
        for n in nodes
        if isinstance(n, ox.NamedNode) and n.value != iri and n.value not in seen
    }
    return sorted(linked | {n.split("#", 1)[0] for n in linked if "#" in n} - {iri})


def _boolean(results):
    """An ASK answer as a boolean result, whatever its shape: some stores (Virtuoso 7)
    answer ASK with a one-row table of 1 or 0 instead of SPARQL's boolean."""
    if isinstance(results, ox.QueryBoolean):
        return results
    rows = list(results)
    value = False
    if rows:
        terms = [rows[0][v] for v in results.variables]
        value = (
            any(term is not None and term.value not in ("0", "false", "") for term in terms)
            or not terms
        )
    word = "true" if value else "false"
    return ox.parse_query_results(
        f'<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">'
        f"<head/><boolean>{word}</boolean></sparql>".encode(),
        format=ox.QueryResultsFormat.XML,
    )
