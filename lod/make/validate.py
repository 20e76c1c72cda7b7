"""SHACL validation (lod/shapes/) as data: a Report whose results point at the source.

Each result's focus node is traced back to the record that made it (hash nodes to their
record, the path to the field), so a publisher reads `file:line: field: message`, never a
dump of the results graph.

The shapes run on lod.make.shacl, which evaluates the SHACL Core components our shapes use
straight on the build's triples; any shape it does not support, or every shape when asked
for `engine="pyshacl"` (the reference the tests compare it with), runs on pyshacl.

Large graphs are validated by pyshacl in partitions, in parallel: each record (with its
hash nodes and its data document) is validated in a chunk that also holds the rdf:type of
every resource it links to, which is all our shapes look at beyond the focus node
(sh:class on linked values); pyshacl is told to take only the chunk's own nodes as focus
nodes. The tests check that this gives the same report as one whole-graph call.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal as Choice

import pyshacl
from pyshacl import validate as shacl_validate
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from ..errors import SourceError
from ..triples import Triples
from ..vocab import schema_classes
from .convert import Conversion, field_of
from .forked import forked_map
from .shacl import Data, Finding, NodeShape, compile_shapes, evaluate

# Subjects per pyshacl call. pyshacl's cost with focus nodes grows faster than linearly in
# the size of a call, and each call has a fixed cost: measured at 10k articles, 60 subjects
# a call cost 21 s in all, 250-400 about 13 s, 1000 about 26 s, 4000 several minutes.
CHUNK = 300
SMALL = 2000  # subjects below which one whole-graph call in this process is cheapest


@dataclass(frozen=True)
class Result:
    severity: str
    file: str
    line: int
    field: str
    message: str
    focus: str

    def as_error(self) -> SourceError:
        return SourceError(self.file, self.line, self.field, self.message)

    def __str__(self) -> str:
        return f"{self.severity.lower()}: {self.as_error()}"


@dataclass
class Report:
    conforms: bool
    results: list[Result]
    findings: list[Finding]

    @property
    def violations(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[Result]:
        return [r for r in self.results if r.severity != "Violation"]

    def text(self) -> str:
        lines = [str(result) for result in self.results]
        lines.append(f"{len(self.violations)} violations, {len(self.warnings)} warnings")
        return "\n".join(lines) + "\n"

    def graph(self) -> Graph:
        """The report as a SHACL validation report graph, the same for the same findings
        (its blank nodes are named by the results' order, not at random)."""
        graph = Graph()
        report = BNode("report")
        graph.add((report, RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, Literal(self.conforms)))
        ordered = sorted(self.findings, key=lambda f: (f.focus, f.path, f.message, f.value))
        for number, finding in enumerate(ordered, 1):
            node = BNode(f"result{number}")
            graph.add((report, SH.result, node))
            graph.add((node, RDF.type, SH.ValidationResult))
            graph.add((node, SH.resultSeverity, SH[finding.severity]))
            graph.add((node, SH.focusNode, URIRef(finding.focus)))
            graph.add((node, SH.resultMessage, Literal(finding.message)))
            if finding.path:
                graph.add((node, SH.resultPath, URIRef(finding.path)))
        return graph


@lru_cache(maxsize=1)
def ontology() -> Graph:
    """What validation reasons with: schema.org's class hierarchy (lod/shapes/schemaorg-classes.ttl
    holds the same axioms, for other engines). The shapes do not need it to pass valid data
    (each record states the class its shape targets, and the classes its links are checked
    against): any SHACL engine validates the dump with lod/shapes/ alone."""
    graph = Graph()
    graph += schema_classes()
    return graph


@lru_cache(maxsize=4)
def load_shapes(shapes_dir: Path) -> Graph:
    shapes = Graph()
    for path in sorted(Path(shapes_dir).glob("*.ttl")):
        if path.name != "schemaorg-classes.ttl":
            shapes.parse(path, format="turtle")
    return shapes


Engine = Choice["native", "pyshacl"]


@dataclass(frozen=True)
class Plan:
    """Which engine runs which shape."""

    native: list[NodeShape]  # run by lod.make.shacl
    pyshacl: Graph | None  # the shapes graph with only pyshacl's shapes targeting (or None)
    digest: str  # the shapes and this split, for the validation cache


@lru_cache(maxsize=8)
def plan(shapes_dir: Path, engine: Engine = "native") -> Plan:
    shapes = load_shapes(shapes_dir)
    native, rest = compile_shapes(shapes) if engine == "native" else ([], shapes)
    digest = hashlib.sha256(pyshacl.__version__.encode())
    for path in sorted(Path(shapes_dir).glob("*.ttl")):
        digest.update(path.name.encode() + path.read_bytes())
    digest.update(" ".join(str(shape.node) for shape in native).encode())
    return Plan(native, rest, digest.hexdigest())


def validate(
    conversion: Conversion,
    shapes_dir: Path,
    dataset_file: str = "",
    **options,
) -> Report:
    """Every shape over the conversion's triples, results traced back to the sources
    (`options` as for `find`)."""
    return report(find(conversion.triples, shapes_dir, **options), conversion, dataset_file)


def report(findings: list[Finding], conversion: Conversion, dataset_file: str = "") -> Report:
    """Findings as a Report, each traced back to its source."""
    findings = sorted(set(findings), key=lambda f: (f.focus, f.path, f.message, f.value))
    results = sorted(
        {_result(finding, conversion, dataset_file) for finding in findings},
        key=lambda r: (r.file, r.line, r.field, r.message),
    )
    conforms = not any(f.severity == "Violation" for f in findings)
    return Report(conforms, results, findings)


def find(
    triples: Triples,
    shapes_dir: Path,
    *,
    engine: Engine = "native",
    partitioned: bool | None = None,
    workers: int | None = None,
    cache: Path | None = None,
    data: Data | None = None,
) -> list[Finding]:
    """Every shape's findings over `triples`, sorted.

    For the shapes pyshacl runs, `partitioned` defaults to True for graphs of more than a
    couple of chunks, and `cache` (a folder) keeps each chunk's findings for the next
    build; `data`: the validation index over `triples`, when made already."""
    shapes = plan(Path(shapes_dir), engine)
    data = data if data is not None else Data(triples, ontology())
    findings = evaluate(shapes.native, data)
    if shapes.pyshacl is not None:
        if partitioned is None:
            partitioned = len(triples.by_subject) > SMALL
        if partitioned:
            findings += _partitioned(triples, shapes, workers or os.cpu_count() or 1, cache)
        else:
            findings += _validate(triples.graph(), shapes.pyshacl, None)
    return sorted(set(findings), key=lambda f: (f.focus, f.path, f.message, f.value))


def chunks(triples: Triples, size: int = CHUNK) -> list[list[Node]]:
    """Focus subjects in chunks of about `size`: a record's hash nodes stay with the record,
    and each record lands in a bucket chosen by a hash of its IRI, so that editing or adding
    one record changes one chunk, not every chunk after it (the cache below relies on it).
    The bucket count is a power of two, stable while the corpus grows within a factor 2."""
    owners: dict[str, list[Node]] = {}
    for subject in triples.by_subject:
        owners.setdefault(str(subject).split("#", 1)[0], []).append(subject)
    buckets = 1
    while buckets * size < len(triples.by_subject):
        buckets *= 2
    groups: list[list[Node]] = [[] for _ in range(buckets)]
    for owner in sorted(owners):
        bucket = int.from_bytes(hashlib.blake2b(owner.encode(), digest_size=8).digest())
        groups[bucket % buckets].extend(owners[owner])
    return [group for group in groups if group]


def types_of(triples: Triples) -> dict[Node, list[Node]]:
    """Each subject's rdf:types, looked up once per validation instead of once per chunk
    that links to it (a popular topic is linked from thousands of chunks)."""
    return {
        subject: [o for p, o in pairs if p == RDF.type]
        for subject, pairs in triples.by_subject.items()
    }


def chunk_triples(
    triples: Triples, subjects: list[Node], types: dict[Node, list[Node]]
) -> list[tuple[Node, Node, Node]]:
    """The subjects' triples, and the rdf:type of everything they link to: all that the
    shapes look at when validating these subjects."""
    by_subject = triples.by_subject
    own = set(subjects)
    found = [(s, p, o) for s in subjects for p, o in by_subject[s]]
    linked = {o for _, _, o in found if isinstance(o, URIRef)} - own
    found += [(o, RDF.type, c) for o in linked for c in types.get(o, ())]
    return found


def chunk_graph(triples: Triples, subjects: list[Node], types: dict[Node, list[Node]]) -> Graph:
    graph = Graph()
    graph.addN((s, p, o, graph) for s, p, o in chunk_triples(triples, subjects, types))
    return graph


def _partitioned(triples: Triples, shapes: Plan, workers: int, cache: Path | None) -> list[Finding]:
    """Each chunk validated once per content: a chunk whose triples (and shapes) are
    unchanged since a previous build takes its findings from `cache`."""
    groups = chunks(triples)
    types = types_of(triples)
    keys = [_key(triples, group, types, shapes.digest) for group in groups] if cache else []
    findings: list[Finding] = []
    pending = []
    for position in range(len(groups)):
        cached = _cached(cache, keys[position]) if cache else None
        if cached is None:
            pending.append(position)
        else:
            findings.extend(cached)
    if workers <= 1 or len(pending) <= 1:
        fresh = [
            _validate(chunk_graph(triples, groups[i], types), shapes.pyshacl, groups[i])
            for i in pending
        ]
    else:
        shared = (triples, types, shapes.pyshacl)
        fresh = forked_map(_validate_chunk, shared, [groups[i] for i in pending], workers)
    for position, found in zip(pending, fresh, strict=True):
        findings.extend(found)
        if cache:
            _store(cache, keys[position], found)
    if cache:
        _prune(cache, set(keys))
    return findings


def _validate_chunk(shared: tuple, subjects: list[Node]) -> list[Finding]:
    triples, types, shapes = shared
    return _validate(chunk_graph(triples, subjects, types), shapes, subjects)


def _key(triples: Triples, subjects: list[Node], types, shapes_digest: str) -> str:
    digest = hashlib.sha256(shapes_digest.encode())
    found = chunk_triples(triples, subjects, types)
    lines = sorted(f"{s.n3()} {p.n3()} {o.n3()}" for s, p, o in found)
    lines += sorted(f"focus {s.n3()}" for s in subjects)
    digest.update("\n".join(lines).encode())
    return digest.hexdigest()


def _cached(cache: Path, key: str) -> list[Finding] | None:
    try:
        data = json.loads((cache / f"{key}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return [Finding(**item) for item in data]


def _store(cache: Path, key: str, findings: list[Finding]) -> None:
    """Best effort: a cache that cannot be written only makes the next build slower."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        partial = cache / f".{key}.{os.getpid()}"
        partial.write_text(json.dumps([asdict(f) for f in findings]), "utf-8")
        os.replace(partial, cache / f"{key}.json")
    except OSError:
        pass


def _prune(cache: Path, keep: set[str]) -> None:
    """Only the chunks of the latest build stay cached."""
    for path in cache.glob("*.json"):
        if path.stem not in keep:
            path.unlink(missing_ok=True)


def _validate(graph: Graph, shapes: Graph, focus: list[Node] | None) -> list[Finding]:
    """pySHACL's findings on `graph`, those about the `focus` nodes only when given.

    The whole graph is validated and the findings filtered here, not with pySHACL's
    `focus_nodes`: with it, pySHACL (0.40) also holds the nodes that `sh:or`, `sh:and` and
    `sh:not` test to the focus list, so an organizer that is neither a person nor an
    organisation went unreported in a chunk."""
    _, results, _ = shacl_validate(
        graph,
        shacl_graph=shapes,
        ont_graph=ontology(),
        inference="none",
        allow_warnings=True,
        abort_on_first=False,
    )
    wanted = None if focus is None else set(focus)
    findings = []
    for node in results.subjects(SH.resultSeverity, None):
        value = results.value(node, SH.value)
        focus_node = results.value(node, SH.focusNode)
        if wanted is not None and focus_node not in wanted:
            continue
        path = results.value(node, SH.resultPath)
        findings.append(
            Finding(
                severity=str(results.value(node, SH.resultSeverity)).rsplit("#", 1)[-1],
                focus=str(focus_node),
                path=str(path) if isinstance(path, URIRef) else "",
                message=str(results.value(node, SH.resultMessage) or "does not conform"),
                value=value.n3() if value is not None and value != focus_node else "",
            )
        )
    return findings


def _result(finding: Finding, conversion: Conversion, dataset_file: str) -> Result:
    message = finding.message
    if finding.value:
        shown = finding.value if len(finding.value) <= 80 else finding.value[:77] + "…"
        message = f"{message} (found {shown})"
    iri, _, fragment = finding.focus.partition("#")
    record = conversion.records.get(URIRef(iri))
    if record is None:
        return Result(finding.severity, dataset_file, 0, "", message, finding.focus)
    path = URIRef(finding.path) if finding.path else None
    field = field_of(record, path, fragment or None) if path is not None else ""
    return Result(
        finding.severity, record.file, record.line_of(field), field, message, finding.focus
    )
