"""SHACL validation (shapes/ + pyshacl) as data: a Report whose results point at the source.

Each result's focus node is traced back to the record that made it (hash nodes to their
record, the path to the field), so a publisher reads `file:line: field: message`, never a
dump of the results graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH

from .convert import Conversion, field_of
from .errors import SourceError
from .vocab import schema_classes


@dataclass(frozen=True)
class Result:
    severity: str  # "Violation", "Warning" or "Info"
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
    graph: Graph

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


def load_shapes(shapes_dir: Path) -> Graph:
    shapes = Graph()
    for path in sorted(Path(shapes_dir).glob("*.ttl")):
        if path.name != "schemaorg-classes.ttl":
            shapes.parse(path, format="turtle")
    return shapes


def validate(conversion: Conversion, shapes_dir: Path, dataset_file: str = "") -> Report:
    """Run every shape over the conversion's graph and trace results back to the sources."""
    conforms, results_graph, _ = shacl_validate(
        conversion.graph,
        shacl_graph=load_shapes(shapes_dir),
        ont_graph=schema_classes(),
        inference="none",
        allow_warnings=True,
        abort_on_first=False,
    )
    results = sorted(
        {
            _result(results_graph, node, conversion, dataset_file)
            for node in results_graph.subjects(SH.resultSeverity, None)
        },
        key=lambda r: (r.file, r.line, r.field, r.message),
    )
    return Report(bool(conforms), results, results_graph)


def _result(graph: Graph, node, conversion: Conversion, dataset_file: str) -> Result:
    focus = graph.value(node, SH.focusNode)
    path = graph.value(node, SH.resultPath)
    severity = str(graph.value(node, SH.resultSeverity)).rsplit("#", 1)[-1]
    message = graph.value(node, SH.resultMessage) or Literal("does not conform")
    value = graph.value(node, SH.value)
    if value is not None and value != focus:
        message = f"{message} (found {_short(value)})"
    iri, _, fragment = str(focus).partition("#")
    record = conversion.records.get(URIRef(iri))
    if record is None:
        return Result(severity, dataset_file, 0, "", str(message), str(focus))
    field = field_of(record, path, fragment or None) if isinstance(path, URIRef) else ""
    return Result(severity, record.file, record.line_of(field), field, str(message), str(focus))


def _short(value) -> str:
    text = value.n3() if hasattr(value, "n3") else str(value)
    return text if len(text) <= 80 else text[:77] + "…"
