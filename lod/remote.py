"""The remote engine's HTTP client and how the store holds builds, shared by the build that
publishes into it (lod.publish.remote) and the server that reads it (lod.serve.remote): a
SPARQL 1.1 store over HTTP (Virtuoso, Fuseki, GraphDB, QLever …),
read through the SPARQL 1.1 Protocol, written through the Graph Store HTTP Protocol and
SPARQL 1.1 Update: standards only, so the store is any store that speaks them.

What the store holds for a dataset with base IRI {base}:

    {base}graph/{build-id}   one named graph per published build: its N-Triples dump
    {base}graph/control      <{base}id/dataset> <urn:lod:currentGraph> <{base}graph/{id}>
                             (the build served), and <urn:lod:graph> <{base}graph/{id}>
                             for every build graph loaded (so old ones can be dropped)

lod.publish.remote loads a build into a new graph, checks its triple count, then moves the pointer
in one SPARQL Update request, and drops the build graphs older than the one it replaced
(that one is kept: an app process may read it for up to POINTER_TTL seconds after the
switch). A failed load drops what it loaded and leaves the pointer, so the build served,
unchanged.

The app reads the pointer (`read_pointer`, cached by lod.serve.current for POINTER_TTL
seconds) and reads through a lod.serve.remote.RemoteStore bound to that build's graph:
every user query it sends names the graph as its default graph (`default-graph-uri`), and
one empty graph as its only named graph, so neither other builds, the control graph nor
the store's own system graphs (Virtuoso's hold thousands of triples) are ever visible.
(One of the app's own queries per resource document reads across graphs and keeps the
build's rows: see `RemoteStore.describe`.)

Every HTTP call has a connect timeout of CONNECT_TIMEOUT and a read deadline; a store that
is down is a StoreUnavailable (503, Retry-After: 1) within about a second, never a hang,
and the next request tries again, so the app recovers by itself when the store is back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pyoxigraph as ox
import requests
from requests.adapters import HTTPAdapter
from requests.auth import HTTPDigestAuth, _basic_auth_str

from .errors import (
    ConfigError,
    EngineError,
    EngineRefusedQuery,
    LodError,
    QueryTimeout,
    QueryTooLarge,
    StoreUnavailable,
)
from .formats import Format, ResultFormat
from .vocab import NOT_IN_IRI, dataset_iri

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


def graph_iri(base: str, build_id: str) -> str:
    return f"{base}graph/{build_id}"


def control_iri(base: str) -> str:
    return f"{base}graph/control"


def build_id_of(base: str, graph: str) -> str | None:
    """The build id a build graph's IRI names (None for another IRI)."""
    prefix = f"{base}graph/"
    build_id = graph[len(prefix) :] if graph.startswith(prefix) else ""
    return build_id if re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z._-]*", build_id) else None


def iri_ref(iri: str) -> str:
    """`<iri>` for a query's text; ValueError for a string no IRI can be (no injection)."""
    if NOT_IN_IRI.search(iri):
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
            raise (on_timeout or _timed_out)(_stopped_at(timeout))
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
                raise self._refusal(response, body, timeout, on_timeout)
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

    def _refusal(
        self, response, body: bytes, timeout: float, on_timeout: Callable[[str], LodError]
    ) -> LodError:
        """The error a store's non-2xx answer is. Virtuoso reports a query its own time limit
        cancelled (the `timeout` field sent) as a 500 "HY008 ... SR203 ... killed by
        SQLCancel" when it cannot give partial results: that is the time limit, not a
        failure."""
        message = _engine_message(body) or response.reason or "no message"
        status = response.status_code
        if re.search(r"\bHY008\b", message):  # SQL state "operation cancelled"
            return on_timeout(_stopped_at(timeout))
        if status in (401, 403):
            return EngineError(
                f"the store at {self.where} refused the credentials (LOD_SPARQL_USER, "
                f"LOD_SPARQL_PASSWORD) or their rights: {status} {message}"
            )
        if status in (503, 504) or "S1T00" in message:
            return self._unavailable(f"the store at {self.where} is busy: {status} {message}")
        if 400 <= status < 500 and status not in (404, 405, 413, 414, 415):
            return EngineRefusedQuery(f"the store refused the query: {message}")
        return EngineError(f"the store at {self.where} failed: {status} {message}")

    def _unavailable(self, message: str) -> StoreUnavailable:
        return StoreUnavailable(message, retry_after=1)


def _stopped_at(timeout: float) -> str:
    return f"the store stopped the query at the time limit ({timeout:g} s)"


def _timed_out(message: str) -> QueryTimeout:
    return QueryTimeout(message)


def _engine_message(body: bytes) -> str:
    """The store's error text without the query it echoes (Virtuoso appends it)."""
    text = body.decode("utf-8", "replace").strip()
    text = text.split("\n\nSPARQL query:", 1)[0]
    text = re.sub(r"<[^>]+>", " ", text) if text.lstrip().startswith("<") else text
    return " ".join(text.split())[:500]


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
