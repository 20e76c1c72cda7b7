"""The steps of a build: sources -> validated graph (`validated`) -> dumps, VoID, manifest
and an Oxigraph store in dist/builds/<id>/ (`write`), then an atomic switch of dist/current
to it (lod.publish.local). lod.make.builder runs them, in full or for what changed.

A build is written under a temporary name and renamed when complete, then switched to: a
failed or killed build never changes what is served.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyoxigraph
from rdflib.term import Node

from ..config import Settings
from ..errors import BuildFailed, PublishError
from ..formats import Format, serialize
from ..layout import (
    EXTEND_VALUES,
    LISTS,
    MANIFEST,
    MIXNMATCH,
    RECONCILE_INDEX,
    STORE,
    SUMS,
    VALIDATION_GRAPH,
    VALIDATION_TEXT,
    VERSIONS,
    VOID,
    Build,
    Output,
    open_build,
)
from ..lists import write as write_lists
from ..publish.local import prune, switch
from ..triples import Triples
from ..versions import Versions
from ..vocab import KINDS
from . import changes, search_index
from .answers import Answers
from .convert import Conversion, convert
from .listings import Listings, lists_by_kind
from .mixnmatch import WIKIDATA_TYPES, catalogue
from .parts import Members, Part, ReadBack, digest
from .permanence import Permanence, remember
from .shacl import Data
from .sources import Sources, load
from .validate import Engine, Report, ontology, validate
from .void import Census, describe

Progress = Callable[[str], None]
LATEST = 10


@dataclass
class Validated:
    """Sources converted, described and validated: what a build publishes."""

    conversion: Conversion
    description: Triples
    report: Report
    census: Census  # what the description counted (a Builder keeps it up to date)
    data: Data  # the validation index over the graph (likewise)

    @property
    def graph(self) -> Triples:
        return self.conversion.triples

    def read_back(self, subjects: Iterable[Node], lines: Mapping[bytes, bytes]) -> None:
        """The graph's pairs (and the validation index's, the same) left to their dump's
        N-Triples lines (`lines`, by key: lod.make.parts.Blocks), each subject's read back
        when asked for: the terms of a graph once written are most of what a build holds
        (830 MB of its 3.2 GB at 100k articles)."""
        graph = ReadBack(subjects, lines)
        self.conversion.triples.by_subject = self.data.by_subject = graph


def validated(
    settings: Settings,
    progress: Progress = lambda _: None,
    sources: Sources | None = None,
    engine: Engine = "native",
) -> Validated:
    """Load (unless given the sources), convert, describe and validate (on `engine`, see
    lod.make.validate); BuildFailed lists every error found."""
    if sources is None:
        progress("load")
        sources = load(settings.data)
    progress("convert")
    conversion = convert(sources, settings.base)
    if conversion.errors or conversion.dataset is None:
        raise BuildFailed(conversion.errors)
    census = Census(conversion.dataset.base)
    census.count(conversion.triples, set(conversion.records))
    description = describe(conversion.triples, conversion.dataset, list(conversion.records), census)
    conversion.triples.update(description)
    progress("validate")
    data = Data(conversion.triples, ontology())
    report = validate(
        conversion,
        settings.shapes,
        dataset_file(settings),
        engine=engine,
        cache=Output(settings.out).validation_cache,
        data=data,
    )
    if report.violations:
        raise BuildFailed([result.as_error() for result in report.violations])
    return Validated(conversion, description, report, census, data)


def dataset_file(settings: Settings) -> str:
    """Where validation results about the dataset itself point."""
    return str(Path(settings.data) / "dataset.yaml")


def output(settings: Settings) -> Output:
    """The output folder, made if missing."""
    out = Output(settings.out)
    try:
        out.builds.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(out.root, exc.strerror or str(exc)) from None
    return out


StoreFiller = Callable[[Path, list[Part]], None]  # makes a build's store at a path


def load_store(path: Path, parts: list[Part], memory_mb: int = 0) -> None:
    """A new Oxigraph store of the graph, by bulk load of the parts as streams (joined,
    they would be another copy of the whole graph in memory), in batches whose loading
    holds at most `memory_mb` (0: one batch).

    Oxigraph's bulk loader holds what it is given until it writes its sorted files: about
    4.5 bytes per byte of N-Triples (360 MB for the 81 MB of 20k articles, in one call),
    so one call on a million articles' 4.5 GB would hold 20 GB. The store holds the same
    quads however they were batched."""
    store = pyoxigraph.Store(str(path))
    for batch in batches(parts, (memory_mb << 20) // BULK_LOAD_FACTOR):
        chunks = (chunk for part in batch for chunk in part.chunks())
        store.bulk_load(io.BufferedReader(_Concatenation(chunks)), pyoxigraph.RdfFormat.N_TRIPLES)
    store.flush()


BULK_LOAD_FACTOR = 5  # bytes Oxigraph's bulk loader holds per byte of N-Triples, rounded up


def batches(parts: list[Part], size: int) -> Iterator[list[Part]]:
    """The parts in order, in runs of at most `size` bytes (a part larger than that alone;
    `size` 0: one run)."""
    batch: list[Part] = []
    held = 0
    for part in parts:
        if batch and size and held + part.size > size:
            yield batch
            batch, held = [], 0
        batch.append(part)
        held += part.size
    if batch:
        yield batch


class _Concatenation(io.RawIOBase):
    """Byte strings read as one stream."""

    def __init__(self, chunks: Iterable[bytes]):
        self.chunks = iter(chunks)
        self.current = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.current:
            chunk = next(self.chunks, None)
            if chunk is None:
                return 0
            self.current = memoryview(chunk)
        size = min(len(buffer), len(self.current))
        buffer[:size] = self.current[:size]
        self.current = self.current[size:]
        return size


def write(
    out: Output,
    validated: Validated,
    parts: list[Part],
    members: Members,
    listings: Listings,
    hashed: changes.Hashed,
    answers: Answers,
    fill_store: StoreFiller,
    progress: Progress = lambda _: None,
    kept: Permanence | None = None,
) -> Build:
    """A checked graph (its sorted N-Triples `parts`) written as a new build, then switched
    to, and the IRIs it publishes added to the ledger (`kept`: lod.make.permanence). The
    caller holds `lod.publish.local.lock(out)`."""
    created = datetime.now(UTC)
    build_id = f"{created:%Y%m%dT%H%M%S%fZ}-{digest(parts)[:8]}"
    partial, final = out.partial(build_id), out.build(build_id)
    try:
        kept_parts = (members, listings, hashed, answers)
        trial = kept is not None and not kept.lasting
        _write(
            partial, validated, parts, kept_parts, fill_store, (build_id, created, trial), progress
        )
        if kept is not None:
            kept.write(partial)
        os.rename(partial, final)
        progress("switch")
        switch(out, final)
        if kept is not None and kept.lasting and not kept.remembered:
            remember(out, kept)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise PublishError(exc.filename or out.root, exc.strerror or str(exc)) from None
    prune(out, keep=final)
    removed = tuple(kept.removed) if kept is not None else ()
    warnings = tuple(validated.report.warnings)
    return replace(open_build(out.root), warnings=warnings, removed=removed)


def _write(
    path: Path,
    validated: Validated,
    parts: list[Part],
    kept: tuple[Members, Listings, changes.Hashed, Answers],
    fill_store: StoreFiller,
    stamp: tuple[str, datetime, bool],
    progress: Progress,
) -> None:
    """The build's files into `path` (`kept`: what the last build made of the parts and
    records, brought up to this one; `stamp`: its id, time, and whether it is a trial)."""
    members, listings, hashed, answers = kept
    build_id, created, trial = stamp
    path.mkdir(parents=True)
    progress("dumps")
    files = members.write(path, parts)
    info = validated.conversion.dataset
    void = serialize(validated.description, Format.TURTLE)
    (path / VOID).write_bytes(void)
    files[VOID] = _digest(void)
    report = validated.report
    (path / VALIDATION_TEXT).write_text(report.text(), "utf-8")
    (path / VALIDATION_GRAPH).write_bytes(serialize(report.graph(), Format.TURTLE))
    served = Output(path.parent.parent).current
    # whether the build served is the one these listings were last written in (not one
    # another process made since): only then is what they kept of it true of it
    ours = listings.written == Path(os.path.realpath(served)).name
    mixnmatch = _catalogue(served, ours, listings, info.base)
    (path / MIXNMATCH).write_bytes(mixnmatch)
    files[MIXNMATCH] = _digest(mixnmatch)
    (path / SUMS).write_text(
        "".join(f"{meta['sha256']}  {name}\n" for name, meta in sorted(files.items())), "utf-8"
    )

    progress("store")
    fill_store(path / STORE, parts)

    progress("lists")
    lists = lists_by_kind(listings, validated.conversion)
    (path / LISTS).write_bytes(orjson.dumps(lists, option=orjson.OPT_SORT_KEYS))
    write_lists(path, lists, served, listings.touched, ours and not listings.moved)
    # written: the next build writes again what it touches, from this build's lists
    listings.touched, listings.moved, listings.written = set(), False, build_id
    versions = Versions.of_works(listings.works(), info.languages).kept()
    (path / VERSIONS).write_bytes(orjson.dumps(versions, option=orjson.OPT_SORT_KEYS))
    index, values = listings.serialised(info.base)
    for name, pieces in ((RECONCILE_INDEX, index), (EXTEND_VALUES, values)):
        with open(path / name, "wb") as file:  # extend.jsonl: read by data extension, by offset
            file.writelines(pieces)
    answers.write(path, Output(path.parent.parent).current)
    progress("changes")
    history = changes.previous_history(Output(path.parent.parent))
    diff = changes.record(path, history, parts, build_id, created.isoformat(), hashed)
    progress("search")
    search_index.write(
        path,
        validated.graph,
        validated.conversion.records,
        info.base,
        info.language,
        diff,
        history.parent if history else None,
    )
    manifest = {
        "id": build_id,
        "base": info.base,
        "created": created.isoformat(timespec="seconds"),
        "title": info.title,
        "description": info.description,
        "language": info.language,
        "languages": list(info.languages),
        "titles": info.titles,
        "descriptions": info.descriptions,
        "triples": sum(part.lines for part in parts),
        "counts": _counts(validated.conversion),
        "latest": lists["article"][:LATEST],
        "warnings": len(report.warnings),
        "files": files,
    }
    if trial:  # (only then: a published build's manifest is as it always was)
        manifest["trial"] = True
    (path / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), "utf-8")


def _catalogue(served: Path, ours: bool, listings: Listings, base: str) -> bytes:
    """The catalogue for Wikidata's Mix'n'match: the served build's when it is `ours` (the
    one the listings were last written in) and none of its entries changed since (an
    article edited, most edits), else made of its kinds' entries (only theirs decoded, not
    every article's)."""
    if ours and not listings.catalogue_changed:
        with contextlib.suppress(OSError):
            return (served / MIXNMATCH).read_bytes()
    catalogued = (e.entry() for e in listings.names.values() if e.kind in WIKIDATA_TYPES)
    made = catalogue(catalogued, base)
    listings.catalogue_changed = False  # the next build's starts from this one
    return made


def _digest(data: bytes) -> dict:
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def _counts(conversion: Conversion) -> dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    for record in conversion.records.values():
        counts[record.kind] += 1
    return counts
