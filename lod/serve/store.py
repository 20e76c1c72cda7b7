"""The engine interface (`Store`): describe a resource, run a SPARQL query.

`EmbeddedStore` is the default engine: the Oxigraph store a build wrote, opened read-only.
A resource description walks the store's indexes directly (a few index lookups, no query
planning), so its cost does not grow with the dataset.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import islice
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox

from ..errors import QuerySyntaxError, QueryTooLarge, StoreUnavailable
from ..formats import Format, ResultFormat, serialize_triples
from ..vocab import FOAF, RDF, SDO
from ..vocab import LABELS as LABEL_PREDICATES

MiB = 1024 * 1024
LABELS = tuple(ox.NamedNode(str(p)) for p in LABEL_PREDICATES)
TYPE = ox.NamedNode(str(RDF.type))
# What a document says of each resource it links to besides its label and type: its web
# page and postal address, which search engines want of an author, organiser or location.
LINKED = (ox.NamedNode(str(SDO.url)), ox.NamedNode(str(SDO.address)))
CONTEXT = frozenset((TYPE, *LABELS, *LINKED, ox.NamedNode(str(SDO.roleName))))
PRIMARY_TOPIC = ox.NamedNode(str(FOAF.primaryTopic))
INCOMING_PAGE = 100
CONTEXT_CACHE = 32768  # linked resources remembered per store (about 1 KB each)
MEMORY_BYTES_PER_TRIPLE = 640  # a MemoryStore's resident size a triple (measured at 10k)


@dataclass
class Description:
    """What a resource's document holds (DESIGN §5)."""

    iri: str
    triples: list[ox.Triple] = field(default_factory=list)
    incoming: int = 0  # how many links point to the resource, in all
    offset: int = 0  # where this page of incoming links starts

    @property
    def exists(self) -> bool:
        return any(
            str(t.subject.value) == self.iri
            for t in self.triples
            if isinstance(t.subject, ox.NamedNode)
        )


class Store(Protocol):
    """What serving asks of an engine: the embedded store (EmbeddedStore) or a remote SPARQL
    store (lod.serve.remote.RemoteStore)."""

    @property
    def engine(self) -> str:
        """What answers, in a word a cache can be named by: `embedded`, or the remote
        store's endpoint and graph (one build's answers differ by engine: DESCRIBE …)."""

    @property
    def worker_path(self) -> Path | None:
        """The store a query worker opens to run a query (lod.serve.pool); None for an
        engine that runs queries itself, in `run`, called from the request's thread."""

    def exists(self, iri: str) -> bool:
        """Whether the store holds any triple about iri."""

    def describe(self, iri: str, offset: int = 0, limit: int = INCOMING_PAGE) -> Description:
        """A resource's document: own triples and hash nodes; label, type, url and address
        of each linked resource; one page of the links that point to it, with their count."""

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
        """A checked query's results (lod.serve.guard made `text`) serialised: SELECT and
        ASK in `accept_results`, CONSTRUCT and DESCRIBE in `accept_graph`."""


class EmbeddedStore:
    """A build's Oxigraph store, opened read-only (any number of processes may open it)."""

    in_memory = False

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.oxigraph = ox.Store.read_only(str(self.path))
        # What documents say of the resources they link to, by resource: a page links to
        # up to a hundred, and the same topics, organisations and people are linked from
        # everywhere. A build's store never changes, so entries never go stale (a new
        # build opens a new store). It holds the engine's store, not self: no reference
        # cycle keeps a replaced store open.
        self.about = lru_cache(maxsize=CONTEXT_CACHE)(partial(_about, self.oxigraph))

    def query(self, sparql: str, *, default_graphs=(), named_graphs=None, base_iri=None):
        """pyoxigraph's results for one query (solutions, boolean or triples)."""
        options = {}
        if default_graphs:
            options["default_graph"] = [ox.NamedNode(g) for g in default_graphs]
        if named_graphs is not None:
            options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        return self.oxigraph.query(sparql, base_iri=base_iri, **options)

    engine = "embedded"

    @property
    def worker_path(self) -> Path:
        return self.path

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
        """Run in a query worker (pyoxigraph cannot stop a query from another thread, so the
        worker is what `timeout` kills)."""
        try:
            results = self.query(
                text, default_graphs=default_graphs, named_graphs=named_graphs, base_iri=base_iri
            )
            if isinstance(results, ox.QueryTriples):
                body = serialize_triples(results, accept_graph)
            else:
                body = results.serialize(format=accept_results.oxigraph)
        except SyntaxError as error:
            raise QuerySyntaxError(str(error)) from None
        except OSError as error:
            raise StoreUnavailable(f"the store could not be read: {error}") from None
        if len(body) > max_bytes:
            raise QueryTooLarge(f"results exceed {max_bytes / MiB:g} MiB; add a LIMIT")
        return body

    def exists(self, iri: str) -> bool:
        """Whether the store holds any triple about iri (one index lookup)."""
        quads = self.oxigraph.quads_for_pattern(ox.NamedNode(iri), None, None, ox.DefaultGraph())
        return next(iter(quads), None) is not None

    def describe(self, iri: str, offset: int = 0, limit: int = INCOMING_PAGE) -> Description:
        """Own triples and hash nodes, label, type, url and address of each linked resource,
        and one page of the links that point to it."""
        subject = ox.NamedNode(iri)
        own, seen = self._own(subject)
        description = Description(iri, offset=offset)
        if not own:
            return description
        incoming, description.incoming = self._incoming(subject, offset, limit)
        own.extend(self._document(subject))
        context = self._context(subject, seen, own, incoming)
        description.triples = _unique(own + incoming + context)
        return description

    def _own(self, subject: ox.NamedNode) -> tuple[list[ox.Triple], set[str]]:
        """The resource's triples and its hash nodes' (those it reaches through hash nodes,
        however deep, each once); the IRIs of the resource and its hash nodes."""
        prefix = subject.value + "#"
        own: list[ox.Triple] = []
        pending, seen = [subject], {subject.value}
        while pending:
            node = pending.pop()
            for quad in self.oxigraph.quads_for_pattern(node, None, None, ox.DefaultGraph()):
                own.append(quad.triple)
                obj = quad.object
                if _within(obj, prefix) and obj.value not in seen:
                    seen.add(obj.value)
                    pending.append(obj)
        return own, seen

    def _incoming(
        self, subject: ox.NamedNode, offset: int, limit: int
    ) -> tuple[list[ox.Triple], int]:
        """One page of the links that point to the resource, and how many there are: read
        one past the page, and counted by the engine only when there are more (without a
        Python object each)."""
        store = self.oxigraph
        pointing = store.quads_for_pattern(None, None, subject, ox.DefaultGraph())
        first = list(islice(pointing, offset + limit + 1))
        incoming = [quad.triple for quad in first[offset : offset + limit]]
        if len(first) <= offset + limit:
            return incoming, len(first)
        count = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p {subject} }}"
        return incoming, int(next(iter(store.query(count)))["n"].value)

    def _document(self, subject: ox.NamedNode) -> list[ox.Triple]:
        """The triples of the resource's data document (foaf:Document, void:inDataset),
        whatever page of links is shown."""
        store = self.oxigraph
        return [
            q.triple
            for quad in store.quads_for_pattern(None, PRIMARY_TOPIC, subject, ox.DefaultGraph())
            for q in store.quads_for_pattern(quad.subject, None, None, ox.DefaultGraph())
        ]

    def _context(
        self,
        subject: ox.NamedNode,
        seen: set[str],
        own: list[ox.Triple],
        incoming: list[ox.Triple],
    ) -> list[ox.Triple]:
        """What the document says of each resource it links to or is linked from (its
        type, labels, url and address), in IRI order; not of its own hash nodes, whose
        triples it holds whole."""
        linked = {t.object for t in own if isinstance(t.object, ox.NamedNode)}
        linked |= {t.subject for t in incoming if isinstance(t.subject, ox.NamedNode)}
        context = []
        for node in sorted(linked - {subject}, key=lambda n: n.value):
            if node.value not in seen:
                context.extend(self.about(node))
                if "#" in node.value:  # a role or part of another record: its record's label
                    context.extend(self.about(ox.NamedNode(node.value.split("#", 1)[0])))
        return context


class MemoryStore(EmbeddedStore):
    """A build's store copied into memory (pyoxigraph's in-memory store): sorts, groups and
    scans over the whole dataset run about twice as fast as on the store's files. The copy
    is loaded from the build's N-Triples dump, which the store was bulk-loaded from, so it
    answers exactly as the store does. It costs memory (about MEMORY_BYTES_PER_TRIPLE a
    triple) and a load per process."""

    in_memory = True

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.oxigraph = ox.Store()
        dump = self.path.parent / "dataset.nt.gz"  # what the store was loaded from
        if dump.exists():
            with gzip.open(dump, "rb") as stream:
                self.oxigraph.bulk_load(stream, format=ox.RdfFormat.N_TRIPLES)
        else:  # a store alone: its own quads (three times slower to read)
            disk = ox.Store.read_only(str(self.path))
            self.oxigraph.bulk_load(
                disk.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS
            )
        self.about = lru_cache(maxsize=CONTEXT_CACHE)(partial(_about, self.oxigraph))


def _about(store: ox.Store, node: ox.NamedNode) -> tuple[ox.Triple, ...]:
    """The type, labels, url and address of a linked resource: one scan of its triples,
    filtered here, costs less than a lookup per predicate (each opens an iterator on the
    store: 13 µs at 100k articles)."""
    return tuple(
        quad.triple
        for quad in store.quads_for_pattern(node, None, None, ox.DefaultGraph())
        if quad.predicate in CONTEXT
    )


def _within(term, prefix: str) -> bool:
    """Whether a term is one of a resource's hash nodes (its IRI and `#` are `prefix`)."""
    return isinstance(term, ox.NamedNode) and term.value.startswith(prefix)


def _unique(triples: list[ox.Triple]) -> list[ox.Triple]:
    return list(dict.fromkeys(triples))
