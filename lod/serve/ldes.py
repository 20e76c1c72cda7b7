"""The change stream of a build's ldes/ folder (lod.make.changes wrote it) as RDF: the
event stream and its pages, in the W3C TREE / Linked Data Event Streams vocabulary.

Each member is a version of a resource: `<version> dcterms:isVersionOf <resource>;
prov:generatedAtTime "…"`, and the resource's triples as of that version in the named
graph `<version>` (so a client takes a resource's hash nodes with it); a removal is a
tombstone, `<version> a as:Delete` with an empty graph. Page n links to page n+1 with a
tree:GreaterThanOrEqualToRelation on prov:generatedAtTime. Pages before the last never
change again.

A full page is kept gzipped (000001.jsonl.gz), the last one plain while it fills
(000001.jsonl); a history written before pages were gzipped (every page plain) is read
the same. A page that cannot be read back (truncated, corrupt, missing) is a
DamagedHistory, never a page served short."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from urllib.parse import quote

import orjson
import pyoxigraph as ox

from ..errors import LodError, NoBuild
from ..layout import CHANGES, CHANGES_INDEX, change_page

TREE = "https://w3id.org/tree#"
LDES = "https://w3id.org/ldes#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
IS_VERSION_OF = ox.NamedNode("http://purl.org/dc/terms/isVersionOf")
GENERATED_AT = ox.NamedNode("http://www.w3.org/ns/prov#generatedAtTime")
DATE_TIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
DELETE = ox.NamedNode("https://www.w3.org/ns/activitystreams#Delete")
FORMATS = (ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS, ox.RdfFormat.JSON_LD)


class DamagedHistory(LodError):
    """A page of a build's change stream that cannot be read back: `number` the page,
    `path` its file, `reason` what was wrong."""

    def __init__(self, number: int, path: Path, reason: str):
        self.number, self.path, self.reason = number, str(path), reason
        super().__init__(f"page {number} of the change stream ({path}) is damaged: {reason}")


_UNREADABLE = (OSError, EOFError, zlib.error, ValueError)  # ValueError: JSON's errors too


def _t(name: str) -> ox.NamedNode:
    return ox.NamedNode(TREE + name)


def _l(name: str) -> ox.NamedNode:
    return ox.NamedNode(LDES + name)


class History:
    """A build's change history: its index and its pages."""

    def __init__(self, build_folder: Path):
        self.folder = Path(build_folder) / CHANGES
        try:
            self.index = orjson.loads((self.folder / CHANGES_INDEX).read_bytes())
        except (OSError, ValueError):
            raise NoBuild(f"{build_folder} has no change history: build again") from None

    @property
    def pages(self) -> int:
        return self.index["pages"]

    def closed(self, number: int) -> bool:
        """Whether page `number` can no longer change (a later page exists)."""
        return number < self.pages

    def path(self, number: int) -> Path:
        """Page `number`'s file: gzipped when full, else plain."""
        packed = self.folder / change_page(number, full=True)
        return packed if packed.is_file() else self.folder / change_page(number, full=False)

    def members(self, number: int) -> list[dict]:
        """Page `number`'s members, in order (DamagedHistory when it cannot be read: gzip
        checks a full page's length and CRC-32)."""
        path = self.path(number)
        try:
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            return [orjson.loads(line) for line in data.splitlines() if line]
        except _UNREADABLE as error:
            raise DamagedHistory(number, path, str(error) or type(error).__name__) from None

    def first_time(self, number: int) -> str | None:
        """When page `number`'s first member was made (None for an empty page)."""
        path = self.path(number)
        try:
            with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as handle:
                line = handle.readline()
            return orjson.loads(line)["at"] if line.strip() else None
        except (*_UNREADABLE, KeyError) as error:
            raise DamagedHistory(number, path, str(error) or type(error).__name__) from None


def version_iri(base: str, member: dict) -> str:
    """A member's IRI: {base}ldes/version/{build}/{the resource's path under base}."""
    resource = member["of"]
    rest = resource[len(base) :] if resource.startswith(base) else quote(resource, safe="")
    return f"{base}ldes/version/{member['build']}/{rest}"


def stream_quads(stream: str, first_page: str | None) -> list[ox.Quad]:
    """The event stream's description (and its view, the first page)."""
    node = ox.NamedNode(stream)
    quads = [
        ox.Quad(node, RDF_TYPE, _l("EventStream")),
        ox.Quad(node, _l("timestampPath"), GENERATED_AT),
        ox.Quad(node, _l("versionOfPath"), IS_VERSION_OF),
    ]
    if first_page is not None:
        quads.append(ox.Quad(node, _t("view"), ox.NamedNode(first_page)))
    return quads


def page_quads(history: History, number: int, stream: str, page_url, base: str) -> list[ox.Quad]:
    """Page `number` of the stream: its members with their graphs, its relation to the
    next page. `page_url(n)` is page n's URL."""
    node = ox.NamedNode(page_url(number))
    quads = stream_quads(stream, page_url(1))
    quads.append(ox.Quad(node, RDF_TYPE, _t("Node")))
    if number < history.pages:
        relation = ox.BlankNode()
        quads += [
            ox.Quad(node, _t("relation"), relation),
            ox.Quad(relation, RDF_TYPE, _t("GreaterThanOrEqualToRelation")),
            ox.Quad(relation, _t("node"), ox.NamedNode(page_url(number + 1))),
            ox.Quad(relation, _t("path"), GENERATED_AT),
        ]
        first = history.first_time(number + 1)
        if first is not None:
            quads.append(ox.Quad(relation, _t("value"), ox.Literal(first, datatype=DATE_TIME)))
    stream_node = ox.NamedNode(stream)
    for member in history.members(number):
        version = ox.NamedNode(version_iri(base, member))
        quads += [
            ox.Quad(stream_node, _t("member"), version),
            ox.Quad(version, IS_VERSION_OF, ox.NamedNode(member["of"])),
            ox.Quad(version, GENERATED_AT, ox.Literal(member["at"], datatype=DATE_TIME)),
        ]
        if member["gone"]:
            quads.append(ox.Quad(version, RDF_TYPE, DELETE))
        elif member["nt"]:
            for triple in ox.parse(member["nt"].encode("utf-8"), ox.RdfFormat.N_TRIPLES):
                quads.append(ox.Quad(triple.subject, triple.predicate, triple.object, version))
    return quads


def serialize(quads: list[ox.Quad], fmt: ox.RdfFormat) -> bytes:
    prefixes = {"tree": TREE, "ldes": LDES, "prov": "http://www.w3.org/ns/prov#"}
    if fmt is ox.RdfFormat.TRIG:
        return ox.serialize(quads, format=fmt, prefixes=prefixes)
    return ox.serialize(quads, format=fmt)
