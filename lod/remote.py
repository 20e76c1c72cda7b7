"""The remote engine: a SPARQL 1.1 store over HTTP (Virtuoso, Fuseki, GraphDB, QLever …),
read through the SPARQL 1.1 Protocol, written through the Graph Store HTTP Protocol and
SPARQL 1.1 Update: standards only, so the store is any store that speaks them.

What the store holds for a dataset with base IRI {base}:

    {base}graph/{build-id}   one named graph per published build: its N-Triples dump
    {base}graph/control      <{base}id/dataset> <urn:lod:currentGraph> <{base}graph/{id}>
                             (the build served), and <urn:lod:graph> <{base}graph/{id}>
                             for every build graph loaded (so old ones can be dropped)

`publish` loads a build into a new graph, checks its triple count, then moves the pointer
in one SPARQL Update request, and drops the build graphs older than the one it replaced
(that one is kept: an app process may read it for up to POINTER_TTL seconds after the
switch). A failed load drops what it loaded and leaves the pointer, so the build served,
unchanged.

The app reads the pointer (`read_pointer`, cached by lod.web.current for POINTER_TTL
seconds) and reads through a `RemoteStore` bound to that build's graph: every user query
it sends names the graph as its default graph (`default-graph-uri`), and one empty graph
as its only named graph, so neither other builds, the control graph nor the store's own
system graphs (Virtuoso's hold thousands of triples) are ever visible. (One of the app's
own queries per resource document reads across graphs and keeps the build's rows: see
`RemoteStore.describe`.)

Every HTTP call has a connect timeout of CONNECT_TIMEOUT and a read deadline; a store that
is down is a StoreUnavailable (503, Retry-After: 1) within about a second, never a hang,
and the next request tries again, so the app recovers by itself when the store is back.
"""

from __future__ import annotations

import gzip
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pyoxigraph as ox
import requests
from requests.adapters import HTTPAdapter
from requests.auth import HTTPDigestAuth, _basic_auth_str

from .errors import (
    ConfigError,
    EngineError,
    LodError,
    PublishError,
    QueryError,
    QueryTimeout,
    QueryTooLarge,
    StoreUnavailable,
)
from .formats import Format, ResultFormat, serialize_triples
from .store import INCOMING_PAGE, LABELS, LINKED, TYPE, Description

CONNECT_TIMEOUT = 0.5  # seconds to open a connection: a store that is down is known at once
POINTER_TTL = 1.0  # seconds an app process may serve a pointer it read
LOAD_TIMEOUT = 600.0  # seconds for the store to take one chunk of a dump
CHUNK_BYTES = 8 * 1024 * 1024  # N-Triples sent per Graph Store request when publishing
CURRENT = "urn:lod:currentGraph"
LOADED = "urn:lod:graph"
EMPTY_GRAPH = "urn:lod:empty"  # a graph no one writes: the dataset of a user-chosen graph
XSD = "http://www.w3.org/2001/XMLSchema#"
RESULTS_XML = ResultFormat.XML.media_type  # what we ask the store for: the most portable
NTRIPLES = Format.NTRIPLES.media_type
MiB = 1024 * 1024
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')  # characters an IRIREF may not hold


def graph_iri(base: str, build_id: str) -> str:
    return f"{base}graph/{build_id}"


def control_iri(base: str) -> str:
    return f"{base}graph/control"


def dataset_iri(base: str) -> str:
    return f"{base}id/dataset"


def build_id_of(base: str, graph: str) -> str | None:
    """The build id a build graph's IRI names (None for another IRI)."""
    prefix = f"{base}graph/"
    build_id = graph[len(prefix) :] if graph.startswith(prefix) else ""
    return build_id if re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z._-]*", build_id) else None


def iri_ref(iri: str) -> str:
    """`<iri>` for a query's text; ValueError for a string no IRI can be (no injection)."""
    if _BAD_IRI.search(iri):
        raise ValueError(f"not an IRI: {iri[:80]!r}")
    return f"<{iri}>"


class _Credentials(HTTPDigestAuth):
    """User and password, answered in the scheme the store asks for on a 401: Digest
    (Virtuoso's /sparql-auth) or Basic (Fuseki, GraphDB …). Nothing is sent before the
    store asks; after one Basic challenge, Basic is sent up front."""

    def __call__(self, request):
        self.init_per_thread_state()
        if getattr(self._thread_local, "basic", False):
            request.headers["Authorization"] = _basic_auth_str(self.username, self.password)
            return request
        return super().__call__(request)

    def handle_401(self, response, **kwargs):
        challenge = response.headers.get("www-authenticate", "").lower()
        if "digest" in challenge or "basic" not in challenge:
            return super().handle_401(response, **kwargs)
        if self._thread_local.num_401_calls >= 2:
            return response
        self._thread_local.num_401_calls += 1
        self._thread_local.basic = True
        response.content  # noqa: B018 - consume the body so the connection can be reused
        response.close()
        retry = response.request.copy()
        retry.headers["Authorization"] = _basic_auth_str(self.username, self.password)
        answer = response.connection.send(retry, **kwargs)
        answer.history.append(response)
        answer.request = retry
        return answer


@dataclass(frozen=True)
class Reply:
    """A store's successful answer: media type and body."""

    media_type: str
    body: bytes
    headers: dict


class SparqlClient:
    """One store's endpoints over one connection-pooled HTTP session (thread-safe)."""

    def __init__(
        self,
        endpoint: str,
        *,
        update: str | None = None,
        graph_store: str | None = None,
        user: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        pool: int = 32,
    ):
        for name, url in (("LOD_SPARQL_ENDPOINT", endpoint), ("LOD_SPARQL_UPDATE", update)):
            if url is not None and urlsplit(url).scheme not in ("http", "https"):
                raise ConfigError(f"{name}={url!r} is not an http(s) URL")
        if graph_store is not None and urlsplit(graph_store).scheme not in ("http", "https"):
            raise ConfigError(f"LOD_SPARQL_GRAPH_STORE={graph_store!r} is not an http(s) URL")
        self.endpoint = endpoint
        self.update_url = update or endpoint
        self.graph_store = graph_store
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = "lod (SPARQL 1.1 Protocol client)"
        if user:
            self.session.auth = _Credentials(user, password or "")

    @classmethod
    def from_settings(cls, settings) -> SparqlClient | None:
        """The client of the store LOD_SPARQL_ENDPOINT names; None for the embedded engine."""
        if not settings.sparql_endpoint:
            return None
        return cls(
            settings.sparql_endpoint,
            update=settings.sparql_update,
            graph_store=settings.sparql_graph_store,
            user=settings.sparql_user,
            password=settings.sparql_password,
            timeout=settings.query_timeout,
        )

    @property
    def where(self) -> str:
        """The store's address for messages: scheme, host and port, never credentials."""
        parts = urlsplit(self.endpoint)
        return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"

    def close(self) -> None:
        self.session.close()

    # -- reading --------------------------------------------------------------------------

    def query(
        self,
        text: str,
        *,
        accept: str,
        default_graphs: Iterable[str],
        named_graphs: Iterable[str],
        timeout: float | None = None,
        max_bytes: int = 64 * MiB,
        on_timeout: Callable[[str], LodError] | None = None,
    ) -> Reply:
        """One query by the SPARQL 1.1 Protocol (POST form), under `timeout` seconds all
        told: the store is asked to stop by then too (Virtuoso's `timeout`, in ms), and an
        answer it cut short for time (Virtuoso's "anytime" partial results) is a timeout,
        never a result."""
        timeout = self.timeout if timeout is None else timeout
        fields = [("query", text)]
        fields += [("default-graph-uri", g) for g in default_graphs]
        fields += [("named-graph-uri", g) for g in named_graphs]
        fields.append(("timeout", str(max(1, int(timeout * 1000)))))
        reply = self._send(
            "POST",
            self.endpoint,
            data=fields,
            headers={"Accept": accept},
            timeout=timeout,
            max_bytes=max_bytes,
            on_timeout=on_timeout,
        )
        if reply.headers.get("x-sql-state", "").upper().startswith("S1T"):
            raise (on_timeout or _timed_out)(
                f"the store stopped the query at the time limit ({timeout:g} s)"
            )
        media_type = reply.media_type
        if media_type != accept and not (accept == NTRIPLES and media_type == "text/plain"):
            raise EngineError(
                f"the store at {self.where} answered {media_type or 'no type'}, "
                f"not the {accept} asked for"
            )
        return reply

    def select(self, text: str, graph: str | None, timeout: float | None = None) -> list:
        """The solutions of a SELECT on `graph` (as the default graph, and no named graph)
        as pyoxigraph terms; with `graph` None, on the store's own default dataset (all its
        graphs, with Virtuoso: for the app's own queries only)."""
        reply = self.query(
            text,
            accept=RESULTS_XML,
            default_graphs=[graph] if graph else [],
            named_graphs=[EMPTY_GRAPH] if graph else [],
            timeout=timeout,
            on_timeout=self._unavailable,
        )
        try:
            return list(ox.parse_query_results(reply.body, format=ox.QueryResultsFormat.XML))
        except (SyntaxError, ValueError) as error:
            raise EngineError(f"the store's results do not parse: {error}") from None

    # -- writing --------------------------------------------------------------------------

    def update(self, text: str, timeout: float = LOAD_TIMEOUT) -> None:
        """One SPARQL 1.1 Update request (POST form, `update=`)."""
        self._send(
            "POST",
            self.update_url,
            data=[("update", text)],
            headers={"Accept": "*/*"},
            timeout=timeout,
            on_timeout=self._unavailable,
        )

    def load(self, graph: str, ntriples: bytes, *, replace: bool) -> None:
        """N-Triples into `graph` by the Graph Store Protocol: PUT replaces, POST adds."""
        if not self.graph_store:
            raise ConfigError(
                "publishing needs the store's Graph Store Protocol URL: set "
                "LOD_SPARQL_GRAPH_STORE (Virtuoso: …/sparql-graph-crud-auth)"
            )
        self._send(
            "PUT" if replace else "POST",
            self.graph_store,
            params={"graph": graph},
            data=ntriples,
            headers={"Content-Type": NTRIPLES, "Accept": "*/*"},
            timeout=LOAD_TIMEOUT,
            on_timeout=self._unavailable,
        )

    # -- HTTP -----------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        timeout: float,
        max_bytes: int = 64 * MiB,
        on_timeout: Callable[[str], LodError] | None = None,
        **options,
    ) -> Reply:
        """One request, its body read in full by `timeout` seconds (plus a second's grace for
        the store's own limit to answer first); errors mapped to LodErrors."""
        deadline = time.monotonic() + timeout + 1.0
        on_timeout = on_timeout or _timed_out
        try:
            response = self.session.request(
                method,
                url,
                timeout=(CONNECT_TIMEOUT, max(0.1, deadline - time.monotonic())),
                stream=True,
                allow_redirects=False,
                **options,
            )
        except requests.exceptions.ConnectionError:  # refused, reset, unknown host, connect timeout
            raise self._unavailable(f"the SPARQL store at {self.where} cannot be reached") from None
        except requests.exceptions.Timeout:  # connected, but no answer in time
            raise on_timeout(f"the store answered nothing in {timeout:g} s") from None
        except requests.exceptions.RequestException as error:
            raise self._unavailable(f"the SPARQL store at {self.where} failed: {error}") from None
        with response:
            body = self._read(response, deadline, max_bytes, timeout, on_timeout)
            if response.status_code >= 300:
                raise self._refusal(response, body)
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            return Reply(media_type, body, {k.lower(): v for k, v in response.headers.items()})

    def _read(self, response, deadline, max_bytes, timeout, on_timeout) -> bytes:
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise QueryTooLarge(f"results exceed {max_bytes / MiB:g} MiB; add a LIMIT")
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise on_timeout(f"the store's answer took longer than {timeout:g} s")
        except requests.exceptions.ConnectionError as error:
            if "timed out" in str(error).lower():
                raise on_timeout(f"the store's answer took longer than {timeout:g} s") from None
            raise self._unavailable(f"the store at {self.where} broke off its answer") from None
        except requests.exceptions.RequestException as error:
            raise self._unavailable(f"the store at {self.where} broke off: {error}") from None
        return b"".join(chunks)

    def _refusal(self, response, body: bytes) -> QueryError:
        message = _engine_message(body) or response.reason or "no message"
        status = response.status_code
        if status in (401, 403):
            return EngineError(
                f"the store at {self.where} refused the credentials (LOD_SPARQL_USER, "
                f"LOD_SPARQL_PASSWORD) or their rights: {status} {message}"
            )
        if status in (503, 504) or "S1T00" in message:
            return self._unavailable(f"the store at {self.where} is busy: {status} {message}")
        if 400 <= status < 500 and status not in (404, 405, 413, 414, 415):
            return EngineError(f"the store refused the query: {message}", status=400)
        return EngineError(f"the store at {self.where} failed: {status} {message}")

    def _unavailable(self, message: str) -> StoreUnavailable:
        return StoreUnavailable(message, retry_after=1)


def _timed_out(message: str) -> QueryTimeout:
    return QueryTimeout(message)


def _engine_message(body: bytes) -> str:
    """The store's error text without the query it echoes (Virtuoso appends it)."""
    text = body.decode("utf-8", "replace").strip()
    text = text.split("\n\nSPARQL query:", 1)[0]
    text = re.sub(r"<[^>]+>", " ", text) if text.lstrip().startswith("<") else text
    return " ".join(text.split())[:500]


# -- the remote store ------------------------------------------------------------------------


class RemoteStore:
    """One published build, read from its graph in the remote store: the same interface
    as lod.store.EmbeddedStore (exists, describe) and the queries of the endpoint (run)."""

    def __init__(self, client: SparqlClient, graph: str):
        self.client = client
        self.graph = graph

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
        target = ox.NamedNode(iri)
        incoming = []
        if pointing:
            through = " ".join(iri_ref(p) for p in pointing)
            rows = self.client.select(
                f"SELECT ?n ?s ?p WHERE {{ {{ SELECT (COUNT(*) AS ?n) WHERE {{ "
                f"VALUES ?y {{ {through} }} ?x ?y {subject} }} }} UNION {{ SELECT ?s ?p WHERE "
                f"{{ VALUES ?p {{ {through} }} ?s ?p {subject} }} ORDER BY ?s ?p "
                f"OFFSET {int(offset)} LIMIT {int(limit)} }} }}",
                self.graph,
            )
            for row in rows:
                if row["n"] is not None:
                    description.incoming = int(row["n"].value)
                else:
                    incoming.append(ox.Triple(row["s"], row["p"], target))
            incoming.sort(key=lambda t: (t.subject.value, t.predicate.value))
        linked = {t.object for t in own} | {t.subject for t in incoming}
        linked = sorted(
            n.value
            for n in linked
            if isinstance(n, ox.NamedNode) and n.value != iri and n.value not in seen
        )
        context = []
        if linked:
            values = " ".join(iri_ref(n) for n in linked)
            predicates = " ".join(f"<{p.value}>" for p in (TYPE, *LABELS, *LINKED))
            rows = self.client.select(
                f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} "
                f"VALUES ?p {{ {predicates} }} ?s ?p ?o }}",
                self.graph,
            )
            context = sorted((ox.Triple(r["s"], r["p"], r["o"]) for r in rows), key=str)
        description.triples = list(dict.fromkeys(own + incoming + context))
        return description

    def _own(self, iri: str, subject: str) -> tuple[list[ox.Triple], set[str], list[str]]:
        """The resource's triples and its hash nodes' (those it reaches through hash
        nodes, however deep); the hash nodes' IRIs; the predicates that point to it in
        any graph of the store (a superset of the build's)."""
        prefix = iri + "#"
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
        own: list[ox.Triple] = []
        seen = {iri}
        queried = {iri} | {row["s"].value for row in rows if row["s"].value != iri}
        while rows:
            triples = [ox.Triple(row["s"], row["p"], row["o"]) for row in rows]
            own.extend(triples)
            seen |= {t.subject.value for t in triples}
            deeper = sorted(
                {
                    t.object.value
                    for t in triples
                    if isinstance(t.object, ox.NamedNode)
                    and t.object.value.startswith(prefix)
                    and t.object.value not in queried
                }
            )
            if not deeper:
                break
            queried |= set(deeper)
            values = " ".join(iri_ref(n) for n in deeper)
            rows = self.client.select(
                f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }}", self.graph
            )
        own.sort(key=lambda t: (t.subject.value != iri, str(t)))  # the store's order is its own
        return list(dict.fromkeys(own)), seen - {iri}, pointing

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
        """A checked query's results (lod.queries.check made `text`), serialised by the same
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


# -- the pointer -----------------------------------------------------------------------------


def read_pointer(client: SparqlClient, base: str, timeout: float | None = None) -> list[str]:
    """The graphs the control graph names as current (one, unless a switch is caught
    half-way on a store whose updates are not atomic; none before the first publish)."""
    rows = client.select(
        f"SELECT ?g WHERE {{ {iri_ref(dataset_iri(base))} <{CURRENT}> ?g }}",
        control_iri(base),
        timeout,
    )
    return sorted({row["g"].value for row in rows if isinstance(row["g"], ox.NamedNode)})


def loaded_graphs(client: SparqlClient, base: str) -> list[str]:
    rows = client.select(
        f"SELECT ?g WHERE {{ {iri_ref(dataset_iri(base))} <{LOADED}> ?g }}", control_iri(base)
    )
    return sorted({row["g"].value for row in rows if isinstance(row["g"], ox.NamedNode)})


def triple_count(client: SparqlClient, graph: str) -> int:
    [row] = client.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", graph, LOAD_TIMEOUT)
    return int(row["n"].value)


# -- publishing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Publication:
    """What `publish` did: the graph now served, the one it replaced, the graphs dropped."""

    graph: str
    previous: str | None
    dropped: tuple[str, ...]
    loaded: bool  # False when the graph was in the store, complete, already
    switched: bool  # False when the store served the build already
    seconds: float


def publish(
    build,
    client: SparqlClient,
    progress: Callable[[str], None] = lambda _: None,
    *,
    chunk_bytes: int = CHUNK_BYTES,
) -> Publication:
    """Load `build` (a lod.publish.Build) into the store as {base}graph/{id}, switch the
    pointer to it in one update, and drop the build graphs before the one it replaced.

    A build graph already in the store with all its triples (a build published before:
    a roll-back) is switched to without loading. Raises PublishError when the store
    cannot take the build; the pointer is then unchanged."""
    started = time.monotonic()
    base, expected = build.base, build.manifest["triples"]
    graph, control, dataset = graph_iri(base, build.id), control_iri(base), dataset_iri(base)
    try:
        current = read_pointer(client, base, LOAD_TIMEOUT)
        previous = current[-1] if current else None
        loaded = graph not in current and not (
            graph in loaded_graphs(client, base) and triple_count(client, graph) == expected
        )
        if loaded:
            progress("load")
            client.update(
                f"INSERT DATA {{ GRAPH <{control}> {{ <{dataset}> <{LOADED}> <{graph}> }} }}"
            )
            try:
                _load(client, graph, build.dump(Format.NTRIPLES), chunk_bytes)
                progress("verify")
                count = triple_count(client, graph)
                if count != expected:
                    raise PublishError(
                        client.where, f"the store holds {count} triples of {expected}"
                    )
            except (LodError, OSError) as error:
                _forget(client, control, dataset, graph)
                if isinstance(error, PublishError):
                    raise
                raise PublishError(
                    build.dump(Format.NTRIPLES), f"the store did not take the build: {error}"
                ) from None
        switched = graph not in current
        if switched:
            progress("switch")
            _switch(client, control, dataset, graph, bool(current))
            if read_pointer(client, base, LOAD_TIMEOUT) != [graph]:
                raise PublishError(client.where, "the store did not switch to the new graph")
        dropped = []
        if switched:  # (publishing the build served changes nothing)
            progress("drop")
            for old in loaded_graphs(client, base):
                if old not in (graph, previous):
                    _forget(client, control, dataset, old)
                    dropped.append(old)
    except QueryError as error:
        raise PublishError(client.where, error.message) from None
    return Publication(
        graph,
        previous if switched else None,
        tuple(dropped),
        loaded,
        switched,
        time.monotonic() - started,
    )


def _load(client: SparqlClient, graph: str, dump, chunk_bytes: int) -> None:
    """The gzipped N-Triples dump in chunks of whole lines: the first replaces whatever
    the graph held (a failed attempt's remains), the others add."""
    for number, chunk in enumerate(_chunks(dump, chunk_bytes)):
        client.load(graph, chunk, replace=number == 0)


def _chunks(dump, size: int) -> Iterator[bytes]:
    with gzip.open(dump, "rb") as stream:
        while True:
            chunk = stream.read(size)
            if not chunk:
                return
            chunk += stream.readline()  # up to the end of the line
            yield chunk


def _switch(client, control: str, dataset: str, graph: str, replacing: bool) -> None:
    """The pointer moved in one update request. Where there is none yet (the first
    publish, when nothing is served), INSERT DATA: Virtuoso 7 inserts nothing from a
    DELETE/INSERT whose WHERE matches only through an empty OPTIONAL."""
    if not replacing:
        client.update(
            f"INSERT DATA {{ GRAPH <{control}> {{ <{dataset}> <{CURRENT}> <{graph}> }} }}"
        )
        return
    client.update(
        f"DELETE {{ GRAPH <{control}> {{ <{dataset}> <{CURRENT}> ?old }} }} "
        f"INSERT {{ GRAPH <{control}> {{ <{dataset}> <{CURRENT}> <{graph}> }} }} "
        f"WHERE {{ GRAPH <{control}> {{ <{dataset}> <{CURRENT}> ?old }} }}"
    )


def _forget(client: SparqlClient, control: str, dataset: str, graph: str) -> None:
    """Drop a build graph and its listing (best effort: what stays is dropped next time)."""
    try:
        client.update(f"DROP SILENT GRAPH <{graph}>")
        client.update(f"DELETE DATA {{ GRAPH <{control}> {{ <{dataset}> <{LOADED}> <{graph}> }} }}")
    except LodError:
        pass
