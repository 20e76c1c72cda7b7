"""A build: sources -> validated graph -> dumps, VoID, manifest and an Oxigraph store in
dist/builds/<id>/, then an atomic switch of dist/current to it.

A build is written under a temporary name and renamed when complete; dist/current is a
symlink replaced with rename(2). So a failed or killed build never changes what is served,
and a reader sees either the old build or the new one, never half of one.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyoxigraph
from rdflib import URIRef

from . import reconcile
from .config import Settings
from .convert import Conversion, convert
from .errors import BuildFailed, NoBuild, NotPublished, PublishError
from .formats import Format, serialize
from .parts import Blocks, Members, Part, digest
from .sources import Sources, load
from .triples import Triples
from .validate import Engine, Report, validate
from .vocab import KINDS, SDO, SKOS
from .void import describe, dump_name

Progress = Callable[[str], None]
LABELS = (SDO.headline, SDO.name, SKOS.prefLabel)
DATES = (SDO.datePublished, SDO.startDate)
KEEP_BUILDS = 3
LATEST = 10


@dataclass
class Checked:
    """Sources converted, described and validated: what a build publishes."""

    sources: Sources
    conversion: Conversion
    description: Triples
    report: Report

    @property
    def graph(self) -> Triples:
        return self.conversion.triples


@dataclass(frozen=True)
class Build:
    """A finished build on disk."""

    path: Path
    manifest: dict

    @property
    def id(self) -> str:
        return self.manifest["id"]

    @property
    def base(self) -> str:
        return self.manifest["base"]

    @property
    def store_path(self) -> Path:
        return self.path / "store"

    def dump(self, fmt: Format) -> Path:
        return self.path / dump_name(fmt)


def check(
    settings: Settings,
    progress: Progress = lambda _: None,
    sources: Sources | None = None,
    engine: Engine = "native",
) -> Checked:
    """Load (unless given the sources), convert, describe and validate (on `engine`, see
    lod.validate); BuildFailed lists every error found."""
    if sources is None:
        progress("load")
        sources = load(settings.data)
    progress("convert")
    conversion = convert(sources, settings.base)
    if conversion.errors or conversion.dataset is None:
        raise BuildFailed(conversion.errors)
    description = describe(conversion.triples, conversion.dataset, list(conversion.records))
    conversion.triples.update(description)
    progress("validate")
    report = validate(
        conversion,
        settings.shapes,
        dataset_file(settings),
        engine=engine,
        cache=Path(settings.out) / "cache" / "validation",
    )
    if report.violations:
        raise BuildFailed([result.as_error() for result in report.violations])
    return Checked(sources, conversion, description, report)


def dataset_file(settings: Settings) -> str:
    """Where validation results about the dataset itself point."""
    return str(Path(settings.data) / "dataset.yaml")


def build(settings: Settings, progress: Progress = lambda _: None) -> Build:
    """A new build from settings.data, switched to as dist/current when complete."""
    out = output(settings)
    with lock(out):
        checked = check(settings, progress)
        parts = Blocks.of(checked.graph).parts()  # the blocks go: a copy of the graph
        listings = Listings()
        listings.update(checked.graph, checked.conversion)
        return write(out, checked, parts, Members(), listings, load_store, progress)


def output(settings: Settings) -> Path:
    """The output folder, made if missing."""
    out = Path(settings.out)
    try:
        (out / "builds").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(out, exc.strerror or str(exc)) from None
    return out


StoreFiller = Callable[[Path, list[Part]], None]  # makes a build's store at a path


def load_store(path: Path, parts: list[Part]) -> None:
    """A new Oxigraph store of the graph, by bulk load (of the parts as one stream: joined,
    they would be another copy of the whole graph in memory)."""
    store = pyoxigraph.Store(str(path))
    stream = io.BufferedReader(_Concatenation(part.data for part in parts))
    store.bulk_load(stream, pyoxigraph.RdfFormat.N_TRIPLES)
    store.flush()


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
    out: Path,
    checked: Checked,
    parts: list[Part],
    members: Members,
    listings: Listings,
    fill_store: StoreFiller,
    progress: Progress = lambda _: None,
) -> Build:
    """A checked graph (its sorted N-Triples `parts`) written as a new build, then switched
    to. The caller holds `lock(out)`."""
    created = datetime.now(UTC)
    build_id = f"{created:%Y%m%dT%H%M%S%fZ}-{digest(parts)[:8]}"
    partial = out / "builds" / f".partial-{build_id}"
    final = out / "builds" / build_id
    try:
        _write(partial, checked, parts, members, listings, fill_store, build_id, created, progress)
        os.rename(partial, final)
        progress("switch")
        _switch(out, final)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise PublishError(exc.filename or out, exc.strerror or str(exc)) from None
    _prune(out, keep=final)
    return open_build(out)


def open_build(out: Path | str, build_id: str | None = None) -> Build:
    """The build dist/current points to, or the build `build_id` of dist/builds/ (the one
    a remote store serves: NotPublished when this machine's build folder lacks it)."""
    if build_id is None:
        current = Path(out) / "current"
    elif re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z._-]*", build_id):
        current = Path(out) / "builds" / build_id
    else:
        raise NotPublished(f"the store serves a build with a bad id: {build_id[:80]!r}")
    try:
        path = current.resolve(strict=True)
        manifest = json.loads((path / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        if build_id is None:
            raise NoBuild(out) from None
        raise NotPublished(
            f"the store serves build {build_id}, which {Path(out) / 'builds'} lacks: every "
            "app machine needs the build folder of each build published (share it or copy it)"
        ) from None
    return Build(path, manifest)


def mark_published(out: Path | str, build: Build) -> None:
    """Remember the build a remote store serves as dist/published (kept when pruning)."""
    _link(Path(out), build.path, "published")


def _write(
    path: Path,
    checked: Checked,
    parts: list[Part],
    members: Members,
    listings: Listings,
    fill_store: StoreFiller,
    build_id: str,
    created: datetime,
    progress: Progress,
) -> None:
    path.mkdir(parents=True)
    progress("dumps")
    files = members.write(path, parts)
    info = checked.conversion.dataset
    void = serialize(checked.description, Format.TURTLE)
    (path / "void.ttl").write_bytes(void)
    files["void.ttl"] = _digest(void)
    report = checked.report
    (path / "validation.txt").write_text(report.text(), "utf-8")
    (path / "validation.ttl").write_bytes(serialize(report.graph(), Format.TURTLE))
    (path / "SHA256SUMS").write_text(
        "".join(f"{meta['sha256']}  {name}\n" for name, meta in sorted(files.items())), "utf-8"
    )

    progress("store")
    fill_store(path / "store", parts)

    lists = _lists(listings, checked.conversion)
    (path / "lists.json").write_bytes(orjson.dumps(lists, option=orjson.OPT_SORT_KEYS))
    names = reconcile.index_of(list(listings.names.values()), info.base)
    # orjson: the standard library's encoder took 0.7 s of a 4 s rebuild at 100k articles
    (path / "reconcile.json").write_bytes(orjson.dumps(names, option=orjson.OPT_SORT_KEYS))
    manifest = {
        "id": build_id,
        "base": info.base,
        "created": created.isoformat(timespec="seconds"),
        "title": info.title,
        "description": info.description,
        "language": info.language,
        "triples": sum(part.data.count(b"\n") for part in parts),
        "counts": _counts(checked.conversion),
        "latest": lists["article"][:LATEST],
        "warnings": len(report.warnings),
        "files": files,
    }
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True), "utf-8")


def _digest(data: bytes) -> dict:
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def _counts(conversion: Conversion) -> dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    for record in conversion.records.values():
        counts[record.kind] += 1
    return counts


class Listings:
    """Each record's entry in lists.json and in reconcile.json, kept (by a Builder) so
    that a rebuild makes again only the entries of the records that changed."""

    def __init__(self) -> None:
        self.lists: dict[URIRef, dict] = {}
        self.names: dict[URIRef, dict] = {}
        self.ancestors = reconcile.Ancestors()

    def update(self, graph: Triples, conversion: Conversion, changed=None) -> None:
        """The entries of the records whose subject is in `changed` (every record's when
        None) made again; those of records no longer there dropped."""
        records = conversion.records
        for gone in [s for s in self.lists if s not in records]:
            del self.lists[gone], self.names[gone]
        base = conversion.dataset.base
        for subject in records if changed is None else [s for s in changed if s in records]:
            self.lists[subject] = _list_entry(graph, subject)
            self.names[subject] = reconcile.entry(
                graph, subject, records[subject], base, self.ancestors
            )


def _list_entry(graph: Triples, subject: URIRef) -> dict:
    label = next(filter(None, (graph.value(subject, p) for p in LABELS)), "")
    dated = next(filter(None, (graph.value(subject, p) for p in DATES)), None)
    modified = graph.value(subject, SDO.dateModified) or dated  # the sitemap's lastmod
    return {
        "iri": str(subject),
        "label": str(label),
        "date": str(dated) if dated is not None else "",
        "modified": str(modified) if modified is not None else "",
    }


def _lists(listings: Listings, conversion: Conversion) -> dict[str, list[dict]]:
    """Each kind's records, newest first where dated, then by label: the list pages and the
    home page read these instead of querying per request."""
    lists: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    for subject, record in conversion.records.items():
        lists[record.kind].append(listings.lists[subject])
    for entries in lists.values():
        entries.sort(key=lambda e: e["label"].casefold())
        entries.sort(key=lambda e: e["date"], reverse=True)
    return lists


def _switch(out: Path, target: Path) -> None:
    _link(out, target, "current")


def _link(out: Path, target: Path, name: str) -> None:
    link = out / f".{name}-{os.getpid()}"
    if link.is_symlink():
        link.unlink()
    os.symlink(Path("builds") / target.name, link)
    os.replace(link, out / name)


def _prune(out: Path, keep: Path) -> None:
    """Drop partial builds and all but the newest KEEP_BUILDS builds (never the one a
    remote store serves, dist/published)."""
    builds = sorted(p for p in (out / "builds").iterdir() if not p.name.startswith("."))
    published = (out / "published").resolve() if (out / "published").is_symlink() else None
    for old in builds[:-KEEP_BUILDS]:
        if old != keep and old.resolve() != published:
            shutil.rmtree(old, ignore_errors=True)
    for partial in (out / "builds").glob(".partial-*"):
        shutil.rmtree(partial, ignore_errors=True)


@contextmanager
def lock(out: Path) -> Iterator[None]:
    """One build at a time per output folder."""
    with open(out / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
