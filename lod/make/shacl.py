"""SHACL Core evaluated straight on the build's Triples, for the constraint components the
shapes in lod/shapes/ use.

pyshacl, the reference engine, walks an rdflib graph through generic machinery: about
35 CPU s per 200k triples, most of a large build. Our shapes need a handful of
components, each a loop over a focus node's values, so `compile_shapes` turns the shapes
graph into plain checks that `evaluate` runs in one pass over the data. A node shape that
uses anything else (another component, a path that is not a predicate, a shape without
exactly one sh:message, sh:deactivated, an implicit class target, a parameter of a
constraint component the shapes graph declares) is left to pyshacl:
`compile_shapes` also returns the shapes graph with only those shapes still targeting
anything. Each check follows pyshacl's own implementation; the tests compare the two
engines' findings on a generated corpus with injected faults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import partial

from pyshacl.rdfutil.compare import compare_literal
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

from ..triples import Triples


@dataclass(frozen=True)
class Finding:
    """One validation result, as plain data (crosses process boundaries)."""

    severity: str  # "Violation", "Warning" or "Info"
    focus: str
    path: str
    message: str
    value: str  # N3 of the offending value, "" when none


TYPE, SUBCLASS = frozenset({RDF.type}), frozenset({RDFS.subClassOf})


class Data:
    """What the checks look up beyond a focus node's own values: every subject's types,
    and the class hierarchy (the validation ontology plus any rdfs:subClassOf in the data)."""

    def __init__(self, triples: Triples, ontology: Graph):
        self.by_subject = triples.by_subject
        # each subject's classes, one frozenset for every subject of the same classes
        self.types: dict[Node, frozenset[Node]] = {}
        self._sets: dict[frozenset[Node], frozenset[Node]] = {}
        self.parents: dict[Node, set[Node]] = {}
        for child, parent in ontology.subject_objects(RDFS.subClassOf):
            self.parents.setdefault(child, set()).add(parent)
        self.ontology = {child: set(parents) for child, parents in self.parents.items()}
        self._supers: dict[Node, frozenset[Node]] = {}
        for subject in self.by_subject:
            self._read(subject)

    def _read(self, subject: Node) -> None:
        classes = set()
        for predicate, obj in self.by_subject.get(subject, ()):
            if predicate in TYPE:  # a set compares hashes (C) before __eq__ (Python)
                classes.add(obj)
            elif predicate in SUBCLASS:
                self.parents.setdefault(subject, set()).add(obj)
        if classes:
            found = frozenset(classes)
            self.types[subject] = self._sets.setdefault(found, found)

    def refresh(self, subjects: Iterable[Node]) -> set[Node]:
        """Read the subjects' types (and subclass links) again, after their triples
        changed; returns those whose classes changed, which can change the results of
        other nodes."""
        changed = set()
        for subject in subjects:
            before = (self.types.pop(subject, None), self.parents.pop(subject, None))
            if subject in self.ontology:
                self.parents[subject] = set(self.ontology[subject])
            self._read(subject)
            if before != (self.types.get(subject), self.parents.get(subject)):
                changed.add(subject)
        if changed:
            self._supers.clear()
        return changed

    def superclasses(self, cls: Node) -> frozenset[Node]:
        """`cls` and every class above it."""
        if cls not in self._supers:
            found, todo = {cls}, [cls]
            while todo:
                for parent in self.parents.get(todo.pop(), ()):
                    if parent not in found:
                        found.add(parent)
                        todo.append(parent)
            self._supers[cls] = frozenset(found)
        return self._supers[cls]

    def values(self, node: Node) -> dict[Node, list[Node]]:
        """The node's objects, by predicate."""
        found: dict[Node, list[Node]] = {}
        for predicate, obj in self.by_subject.get(node, ()):
            found.setdefault(predicate, []).append(obj)
        return found

    def is_instance(self, node: Node, cls: Node) -> bool:
        return any(cls in self.superclasses(t) for t in self.types.get(node, ()))


ValueCheck = Callable[[Node, Data], bool]  # does one value node conform


@dataclass(frozen=True)
class Constraints:
    """One shape's constraints, its results reported under its path, message and severity.
    `path` is None for constraints on the focus node itself (a node shape's)."""

    path: URIRef | None
    severity: str
    message: str
    values: tuple[ValueCheck, ...] = ()
    min_count: int | None = None
    max_count: int | None = None
    less_or_equal: tuple[URIRef, ...] = ()
    unique_lang: bool = False
    follows_links: bool = False  # its checks read the value nodes' own triples


@dataclass
class NodeShape:
    node: Node
    classes: list[Node] = field(default_factory=list)
    subjects_of: frozenset[Node] = frozenset()
    objects_of: frozenset[Node] = frozenset()
    nodes: list[Node] = field(default_factory=list)
    constraints: list[Constraints] = field(default_factory=list)


class Unsupported(Exception):
    """A shape this engine leaves to pyshacl."""


TARGETS = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)
ANNOTATIONS = {SH.name, SH.description, SH.order, SH.group, SH.message, SH.severity}
VALUE_PARAMETERS = {
    SH["class"],
    SH.datatype,
    SH.nodeKind,
    SH["in"],
    SH.minInclusive,
    SH.maxInclusive,
    SH["or"],
}
NODE_PARAMETERS = VALUE_PARAMETERS | ANNOTATIONS | {SH.property, *TARGETS}
PROPERTY_PARAMETERS = (
    VALUE_PARAMETERS
    | ANNOTATIONS
    | {SH.path, SH.minCount, SH.maxCount, SH.lessThanOrEquals, SH.uniqueLang}
)


def compile_shapes(shapes: Graph) -> tuple[list[NodeShape], Graph | None]:
    """The node shapes this engine evaluates, and a copy of the shapes graph in which only
    the others have targets (None when there are no others)."""
    native: list[NodeShape] = []
    # a shape that is also a class targets its instances: pyshacl's
    others = any(
        (node, RDF.type, kind) in shapes
        for cls in (RDFS.Class, OWL.Class)
        for node in shapes.subjects(RDF.type, cls)
        for kind in (SH.NodeShape, SH.PropertyShape)
    )
    for node in sorted(set(s for target in TARGETS for s in shapes.subjects(target, None))):
        try:
            native.append(_node_shape(shapes, node))
        except Unsupported:
            others = True
    if not others:
        return native, None
    rest = Graph()
    rest += shapes
    for shape in native:
        for target in TARGETS:
            rest.remove((shape.node, target, None))
    return native, rest


def follows_links(shapes: list[NodeShape]) -> bool:
    """Whether a node's results can depend on the triples (not only the classes) of the
    nodes it links to."""
    return any(c.follows_links for shape in shapes for c in shape.constraints)


def evaluate(shapes: list[NodeShape], data: Data, focus: set[Node] | None = None) -> list[Finding]:
    """The shapes' findings on every focus node, or on those in `focus` only."""
    findings: list[Finding] = []
    for shape in shapes:
        for node in _focus_nodes(shape, data, focus):
            values = data.values(node)
            for constraints in shape.constraints:
                findings.extend(_evaluate_constraints(constraints, node, values, data))
    return findings


def _focus_nodes(shape: NodeShape, data: Data, among: set[Node] | None) -> set[Node]:
    """The shape's focus nodes (those in `among` only, when given). The data is indexed by
    subject, so a node is found as a triple's object (sh:targetObjectsOf) only by a pass
    over all of it: a shape with such a target looks at every node, even among a few."""
    if among is None or shape.objects_of:
        found = _every_focus_node(shape, data)
        return found if among is None else found & among
    return {node for node in among if _targets(shape, node, data)}


def _every_focus_node(shape: NodeShape, data: Data) -> set[Node]:
    """Every node the shape targets, each kind of target looked up where it is cheapest:
    nodes named, instances from the types, subjects and objects in one pass over the
    triples (only when the shape targets by predicate)."""
    found = set(shape.nodes)
    if shape.classes:
        found.update(node for node in data.types if _in_class(shape, node, data))
    if shape.subjects_of or shape.objects_of:
        found.update(_targets_by_predicate(shape, data))
    return found


def _targets_by_predicate(shape: NodeShape, data: Data) -> Iterable[Node]:
    """The subjects of the shape's sh:targetSubjectsOf predicates and the objects of its
    sh:targetObjectsOf predicates."""
    for subject, pairs in data.by_subject.items():
        for predicate, obj in pairs:
            if predicate in shape.subjects_of:
                yield subject
            if predicate in shape.objects_of:
                yield obj


def _targets(shape: NodeShape, node: Node, data: Data) -> bool:
    """Whether the shape targets the node, read from the node alone: named, an instance of
    a target class, or the subject of a target predicate (not sh:targetObjectsOf)."""
    return (
        node in shape.nodes
        or _in_class(shape, node, data)
        or any(p in shape.subjects_of for p, _ in data.by_subject.get(node, ()))
    )


def _in_class(shape: NodeShape, node: Node, data: Data) -> bool:
    return any(
        cls in data.superclasses(t) for t in data.types.get(node, ()) for cls in shape.classes
    )


def _evaluate_constraints(
    constraints: Constraints, focus: Node, values: dict[Node, list[Node]], data: Data
) -> Iterable[Finding]:
    """The findings of one shape's constraints on a focus node: a finding for each value
    that does not conform, and one without a value for the values together (their count,
    their languages), component by component in the order of COMPONENTS."""
    path = constraints.path
    nodes = [focus] if path is None else values.get(path, [])
    for component in COMPONENTS:
        for value in component(constraints, nodes, values, data):
            shown = value.n3() if value is not None and value != focus else ""
            yield Finding(
                constraints.severity, str(focus), str(path or ""), constraints.message, shown
            )


# Each constraint component: (constraints, the value nodes, the focus node's values by
# predicate, the data) -> the values that do not conform, None for the values together.


def _counts(constraints: Constraints, nodes: list[Node], values, data: Data) -> Iterable[None]:
    """sh:minCount, sh:maxCount."""
    if constraints.min_count is not None and len(nodes) < constraints.min_count:
        yield None
    if constraints.max_count is not None and len(nodes) > constraints.max_count:
        yield None


def _value_failures(
    constraints: Constraints, nodes: list[Node], values, data: Data
) -> Iterable[Node]:
    """The value checks (sh:class, sh:datatype, sh:nodeKind, sh:in, the ranges, sh:or):
    each value failing any of them, once."""
    return [n for n in nodes if not all(check(n, data) for check in constraints.values)]


def _above_bounds(
    constraints: Constraints, nodes: list[Node], values, data: Data
) -> Iterable[Node]:
    """sh:lessThanOrEquals: per other predicate, each value above any of its values."""
    for other in constraints.less_or_equal:
        for node in nodes:
            if not all(_less_or_equal(node, bound) for bound in values.get(other, ())):
                yield node


def _languages_repeated(
    constraints: Constraints, nodes: list[Node], values, data: Data
) -> Iterable[None]:
    """sh:uniqueLang: a language tag (in any case) on two values."""
    if constraints.unique_lang:
        languages = [
            str(n.language).lower() for n in nodes if isinstance(n, Literal) and n.language
        ]
        if len(languages) != len(set(languages)):
            yield None


COMPONENTS = (_counts, _value_failures, _above_bounds, _languages_repeated)


# Compiling: the shapes graph into NodeShape and Constraints, or Unsupported.


def _node_shape(shapes: Graph, node: Node) -> NodeShape:
    _only(shapes, node, NODE_PARAMETERS)
    if (node, SH.path, None) in shapes or (node, SH.deactivated, None) in shapes:
        raise Unsupported(node)
    if any((node, RDF.type, cls) in shapes for cls in (RDFS.Class, OWL.Class)):
        raise Unsupported(node)  # an implicit class target
    shape = NodeShape(
        node,
        classes=list(shapes.objects(node, SH.targetClass)),
        subjects_of=frozenset(shapes.objects(node, SH.targetSubjectsOf)),
        objects_of=frozenset(shapes.objects(node, SH.targetObjectsOf)),
        nodes=list(shapes.objects(node, SH.targetNode)),
    )
    checks = _value_checks(shapes, node)
    if checks:
        severity, message = _severity(shapes, node), _message(shapes, node)
        shape.constraints.append(Constraints(None, severity, message, checks))
    for prop in shapes.objects(node, SH.property):
        shape.constraints.append(_property_shape(shapes, prop))
    return shape


def _property_shape(shapes: Graph, node: Node, nested: bool = False) -> Constraints:
    """`nested`: a shape inside sh:or, which reports nothing itself (so needs no message;
    with a severity below Violation pyshacl counts it as conforming: left to pyshacl)."""
    _only(shapes, node, PROPERTY_PARAMETERS)
    path = shapes.value(node, SH.path)
    if not isinstance(path, URIRef) or (node, SH.deactivated, None) in shapes:
        raise Unsupported(node)
    if nested and (node, SH.severity, None) in shapes:
        raise Unsupported(node)
    unique = _single(shapes, node, SH.uniqueLang)
    return Constraints(
        path,
        _severity(shapes, node),
        "" if nested else _message(shapes, node),
        _value_checks(shapes, node),
        min_count=_count(shapes, node, SH.minCount),
        max_count=_count(shapes, node, SH.maxCount),
        less_or_equal=tuple(_iris(shapes.objects(node, SH.lessThanOrEquals))),
        unique_lang=unique is not None and unique.toPython() is True,
        follows_links=any(
            (member, SH.path, None) in shapes
            for members in shapes.objects(node, SH["or"])
            for member in Collection(shapes, members)
        ),
    )


def _value_checks(shapes: Graph, node: Node) -> tuple[ValueCheck, ...]:
    checks: list[ValueCheck] = []
    for cls in shapes.objects(node, SH["class"]):
        checks.append(partial(_is_instance, cls))
    for datatype in shapes.objects(node, SH.datatype):
        checks.append(partial(_has_datatype, datatype))
    for kind in shapes.objects(node, SH.nodeKind):
        if kind not in NODE_KINDS:
            raise Unsupported(node)
        checks.append(partial(_is_kind, NODE_KINDS[kind]))
    for members in shapes.objects(node, SH["in"]):
        checks.append(partial(_is_in, frozenset(Collection(shapes, members))))
    for bound in shapes.objects(node, SH.minInclusive):
        checks.append(partial(_in_range, bound, 1))
    for bound in shapes.objects(node, SH.maxInclusive):
        checks.append(partial(_in_range, bound, -1))
    for members in shapes.objects(node, SH["or"]):
        alternatives = []
        for member in Collection(shapes, members):
            if (member, SH.path, None) in shapes:
                nested = _property_shape(shapes, member, nested=True)
                alternatives.append((partial(_conforms, nested),))
            else:
                _only(shapes, member, VALUE_PARAMETERS | {RDF.type})
                alternatives.append(_value_checks(shapes, member))
        checks.append(partial(_any_of, tuple(alternatives)))
    return tuple(checks)


def _only(shapes: Graph, node: Node, allowed: set[Node]) -> None:
    """Unsupported unless every SHACL parameter of the shape is `allowed` (and none is a
    parameter of a constraint component the shapes graph declares)."""
    declared = {shapes.value(p, SH.path) for p in shapes.objects(None, SH.parameter)}
    for predicate in shapes.predicates(node, None):
        if predicate in declared:
            raise Unsupported(node)
        if str(predicate).startswith(str(SH)) and predicate not in allowed:
            raise Unsupported(node)


def _message(shapes: Graph, node: Node) -> str:
    messages = list(shapes.objects(node, SH.message))
    if len(messages) != 1 or "{" in str(messages[0]):
        raise Unsupported(node)  # pyshacl's generated or templated messages
    return str(messages[0])


def _severity(shapes: Graph, node: Node) -> str:
    severity = _single(shapes, node, SH.severity) or SH.Violation
    return str(severity).rsplit("#", 1)[-1]


def _count(shapes: Graph, node: Node, parameter: URIRef) -> int | None:
    value = _single(shapes, node, parameter)
    if value is None:
        return None
    if not isinstance(value, Literal) or not isinstance(value.toPython(), int):
        raise Unsupported(node)
    return value.toPython()


def _single(shapes: Graph, node: Node, parameter: URIRef) -> Node | None:
    values = list(shapes.objects(node, parameter))
    if len(values) > 1:
        raise Unsupported(node)
    return values[0] if values else None


def _iris(nodes: Iterable[Node]) -> list[URIRef]:
    found = list(nodes)
    if not all(isinstance(n, URIRef) for n in found):
        raise Unsupported(found)
    return found


# The checks, each as pyshacl implements the component.

NODE_KINDS = {
    SH.IRI: (URIRef,),
    SH.BlankNode: (BNode,),
    SH.Literal: (Literal,),
    SH.BlankNodeOrIRI: (BNode, URIRef),
    SH.BlankNodeOrLiteral: (BNode, Literal),
    SH.IRIOrLiteral: (URIRef, Literal),
}
# Python types of well-formed values; other datatypes are taken on their lexical form.
VALUE_TYPES = {
    XSD.string: (str, bytes),
    RDF.langString: (str, bytes),
    XSD.integer: (int,),
    XSD.float: (float,),
    XSD.decimal: (Decimal,),
    XSD.boolean: (bool,),
    XSD.date: (date,),
    XSD.time: (time,),
    XSD.dateTime: (datetime,),
}


def _is_instance(cls: Node, node: Node, data: Data) -> bool:
    return not isinstance(node, Literal) and data.is_instance(node, cls)


def _has_datatype(datatype: Node, node: Node, data: Data) -> bool:
    if not isinstance(node, Literal):
        return False
    if node.datatype == datatype:
        if getattr(node, "ill_typed", None) is True:
            return False
    elif datatype == RDFS.Literal or (datatype == RDFS.Datatype and node.datatype):
        return True
    elif not (
        (node.datatype is None and node.language is None and datatype == XSD.string)
        or (datatype == RDF.langString and node.language)
    ):
        return False
    expected = VALUE_TYPES.get(datatype)
    return expected is None or isinstance(node.value, expected)


def _is_kind(kinds: tuple[type, ...], node: Node, data: Data) -> bool:
    return isinstance(node, kinds)


def _is_in(members: frozenset[Node], node: Node, data: Data) -> bool:
    return node in members


def _in_range(bound: Node, sign: int, node: Node, data: Data) -> bool:
    """minInclusive (sign 1: node >= bound) or maxInclusive (sign -1: node <= bound)."""
    if not isinstance(node, Literal) or not isinstance(bound, Literal):
        return False
    if isinstance(node.value, str) != isinstance(bound.value, str):
        return False
    try:
        return compare_literal(node, bound) * sign >= 0
    except (TypeError, NotImplementedError):
        return False


def _less_or_equal(node: Node, bound: Node) -> bool:
    def comparable(term: Node):
        if isinstance(term, URIRef):
            return str(term), True
        if isinstance(term, Literal) and isinstance(term.value, str):
            return term.value, True
        return term, False

    if isinstance(node, BNode) or isinstance(bound, BNode):
        return False
    (left, left_text), (right, right_text) = comparable(node), comparable(bound)
    if left_text != right_text:
        return False
    try:
        return bool(left <= right)
    except TypeError:
        return False


def _conforms(constraints: Constraints, node: Node, data: Data) -> bool:
    return not any(_evaluate_constraints(constraints, node, data.values(node), data))


def _any_of(alternatives: tuple[tuple[ValueCheck, ...], ...], node: Node, data: Data) -> bool:
    return any(all(check(node, data) for check in checks) for checks in alternatives)
