"""Publishing a build into a remote SPARQL store: load it into a new graph, verify it, move
the pointer in one update, drop the old graphs (lod.remote says how the store holds them)."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..errors import LodError, PublishError, QueryError, TrialNotPublished
from ..formats import Format
from ..remote import (
    CHUNK_BYTES,
    CURRENT,
    LOAD_TIMEOUT,
    LOADED,
    SparqlClient,
    control_iri,
    graph_iri,
    loaded_graphs,
    read_pointer,
    triple_count,
)
from ..vocab import dataset_iri


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
    """Load `build` (a lod.layout.Build) into the store as {base}graph/{id}, switch the
    pointer to it in one update, and drop the build graphs before the one it replaced.

    A build graph already in the store with all its triples (a build published before:
    a roll-back) is switched to without loading. Raises PublishError when the store
    cannot take the build; the pointer is then unchanged; TrialNotPublished, before
    anything is sent, for a trial build."""
    _publishable(build)
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


def _publishable(build) -> None:
    """Only a build whose IRIs are in the ledger is published: not a trial build."""
    if build.trial:
        raise TrialNotPublished(build.id)


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
