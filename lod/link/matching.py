"""`sameAs` proposals: our records matched against the candidates of a remote
reconciliation service (lod.link.service asks it; lod.link.review writes what is found
for the publisher, and applies their decisions).

    propose(...)  records without a sameAs into the service's graph (and not rejected
                  before) -> queries (name, type, the properties dataset.yaml maps) ->
                  candidates, each checked against our data -> a Run of Proposals

Auto-accept is deliberately strict: a candidate is marked `accept` only when it is the one
candidate that has the record's name (or an alternate name), the service rates it a match
(or scores it 90 or more), at least one mapped property agrees (through the service's data
extension: a location, parent organisation, URL or date) and none differs. A namesake in
another country is never accepted: its location differs, or nothing corroborates it.

A shared identifier is agreement enough: when our record's `sameAs` names a Wikidata
entity and the candidate is that entity (the service's ids are Wikidata's), or the
candidate's own identifiers (its `sameAs`, asked through the data extension, or the
property dataset.yaml maps our `sameAs` to) name it too, the candidate is accepted whatever
its name or score, with no property mapped, unless a mapped property differs. A candidate
whose identifiers name another Wikidata entity is never accepted.
(lod.link.reconcile is the other side: our own service, matching a query over our index.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import BuildFailed
from ..languages import fallback, pick
from ..make.convert import Conversion, convert
from ..make.convert.services import LinkService
from ..make.sources import load
from ..text import WIKIDATA_ENTITY, normalise, same_as_key
from ..vocab import LABELS, SDO, id_prefix
from .review import read_rejected, same_as_of
from .service import Client, ServiceFailed

DEFAULT_KINDS = ("organisation", "person", "place", "event", "topic")
CANDIDATES = 3  # per record, asked for and proposed
SURE_SCORE = 90.0
SAME_AS = "sameAs"  # the field, and the property a candidate's identifiers are asked by


@dataclass
class Proposal:
    record: str  # kind/slug
    file: str
    name: str
    candidates: list[dict]


@dataclass
class Run:
    proposals: list[Proposal]
    asked: int  # records asked about
    unanswered: list[str]  # records not asked or not answered (the service failed)
    errors: list[str]
    accepted: int = 0
    answered: set[str] = field(default_factory=set)  # records asked and answered

    def failed(self, failure: ServiceFailed, unanswered: list[str]) -> None:
        self.errors.append(str(failure))
        self.unanswered = unanswered


def propose(
    data: Path | str,
    service: LinkService,
    client: Client,
    kinds: Iterable[str] = DEFAULT_KINDS,
    base: str | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Run:
    """Ask the service about every record of `kinds` that has no sameAs into its graph
    (and was not rejected): the candidates, checked, as a Run (the service's failure
    stops it: what was answered before is kept, the rest is listed as unanswered)."""
    data = Path(data)
    ours = _Ours(conversion(data, base), service)
    rejected = read_rejected(data)
    todo = ours.unlinked(set(kinds))
    run = Run([], 0, [], [])
    try:
        types = client.default_types()
        size = client.batch_size
    except ServiceFailed as failed:
        run.failed(failed, [ours.id(s) for s, _ in todo])
        return run
    for start in range(0, len(todo), size):
        chunk = todo[start : start + size]
        try:
            results = client.match([ours.query(s, record, types) for s, record in chunk])
        except ServiceFailed as failed:
            run.failed(failed, [ours.id(s) for s, _ in todo[start:]])
            break
        run.asked += len(chunk)
        run.answered.update(ours.id(s) for s, _ in chunk)
        progress(f"asked {run.asked} of {len(todo)}")
        with_ids = any(ours.wikidata(s) for s, _ in chunk)
        evidence = _evidence(client, service, results, run, with_ids)
        for (subject, record), result in zip(chunk, results, strict=True):
            refused = rejected.get(ours.id(subject), set())
            candidates = _check(ours, subject, result, evidence)
            candidates = [c for c in candidates if same_as_key(c["iri"]) not in refused]
            if candidates:
                proposal = Proposal(ours.id(subject), record.file, ours.name(subject), candidates)
                run.proposals.append(proposal)
    run.accepted = sum(c["decision"] == "accept" for p in run.proposals for c in p.candidates)
    return run


def conversion(data: Path, base: str | None = None) -> Conversion:
    """data/ converted, or BuildFailed."""
    converted = convert(load(data), base)
    if converted.errors or converted.dataset is None:
        raise BuildFailed(converted.errors)
    return converted


def dataset_services(data: Path | str) -> tuple[LinkService, ...]:
    """The services dataset.yaml names (`linkServices`)."""
    return conversion(Path(data)).dataset.link_services


class _Ours:
    """What our data says of a record, as the service's queries and checks need it."""

    def __init__(self, converted: Conversion, service: LinkService):
        self.graph = converted.triples
        self.records = converted.records
        self.base = converted.dataset.base
        self.order = fallback(converted.dataset.language, converted.dataset.languages)
        self.service = service
        # the space as same_as_key writes the IRIs in it: https as http, and the slash
        # it ends with kept (same_as_key drops a slash only at the end of an IRI)
        self.space = same_as_key(service.space + "x")[:-1]

    def id(self, subject) -> str:
        return str(subject).removeprefix(id_prefix(self.base))

    def name(self, subject) -> str:
        """The record's name the service is asked by: in the first of the dataset's
        languages it has one in (lod.languages.pick, never by chance)."""
        for predicate in LABELS:
            texts = [(v.language, str(v)) for v in self.graph.objects(subject, predicate)]
            if texts:
                return pick(texts, self.order)
        return self.id(subject)

    def names(self, subject) -> set[str]:
        """Its names and alternate names in every language, normalised: a candidate
        named any of them has its name."""
        found = {self.name(subject)} | {
            str(v) for p in (*LABELS, SDO.alternateName) for v in self.graph.objects(subject, p)
        }
        return {normalise(n) for n in found} - {""}

    def same_as(self, subject) -> list[str]:
        record = self.records.get(subject)
        return same_as_of(record) if record is not None else []

    def unlinked(self, kinds: set[str]) -> list:
        """(subject, record) of the records of `kinds` without a sameAs into the graph."""
        return [
            (subject, record)
            for subject, record in self.records.items()
            if record.kind in kinds and not self.linked(subject)
        ]

    def linked(self, subject) -> bool:
        """Whether the record already has a sameAs into the service's graph."""
        return any(same_as_key(v).startswith(self.space) for v in self.same_as(subject))

    def service_ids(self, subject) -> set[str]:
        """The record's ids in the service's graph (from its sameAs)."""
        found = set()
        for value in self.same_as(subject):
            key = same_as_key(value)
            if key.startswith(self.space):
                found.add(key.removeprefix(self.space))
        return found

    def wikidata(self, subject) -> set[str]:
        """The Wikidata entities the record's sameAs names (their entity IRIs)."""
        keys = {same_as_key(v) for v in self.same_as(subject)}
        return {k for k in keys if k.startswith(WIKIDATA_ENTITY)}

    def values(self, subject, field_name: str) -> list:
        """A field's values: another record's subject (a key of `records`), or text."""
        try:
            predicate = SDO[field_name]
        except (AttributeError, KeyError):
            return []
        found = []
        for value in self.graph.objects(subject, predicate):
            if value in self.records:
                found.append(value)
            elif "#" not in str(value) or not str(value).startswith(self.base):
                found.append(str(value))
        return found

    def query(self, subject, record, default_types: set[str]) -> dict:
        query: dict[str, Any] = {"query": self.name(subject), "limit": CANDIDATES}
        kind_type = self.service.type_of(record.kind)
        if kind_type is None and record.kind in default_types:
            kind_type = record.kind  # another lod service: its types are our kinds
        if kind_type:
            query["type"] = kind_type
        properties = []
        for field_name, pid in self.service.properties:
            for value in self.values(subject, field_name):
                if value not in self.records:
                    properties.append((pid, str(value)))
                else:  # another record: its id in the service's graph, else its name
                    ids = sorted(self.service_ids(value))
                    properties.append((pid, ids[0] if ids else self.name(value)))
        if properties:
            query["properties"] = properties
        return query

    def comparable(self, subject, field_name: str) -> set[str]:
        """What a field's values may be equal to on the other side: texts normalised;
        for a record (and the places it lies in), its names and its service ids."""
        found: set[str] = set()
        for value in self.values(subject, field_name):
            if value not in self.records:
                found.add(_comparable(str(value)))
                continue
            seen, todo = set(), [value]
            while todo:
                node = todo.pop()
                if node in seen:
                    continue
                seen.add(node)
                found |= self.names(node) | self.service_ids(node)
                found |= {same_as_key(v) for v in self.same_as(node)}
                todo.extend(self.graph.objects(node, SDO.containedInPlace))
        return found


def _comparable(text: str) -> str:
    text = text.strip()
    if text[:4].isdigit() and len(text) >= 4 and (len(text) == 4 or text[4] == "-"):
        return text[:4]  # a date: its year (services give dates at any precision)
    if text.startswith(("http://", "https://")):
        parts = urlsplit(same_as_key(text))
        return (parts.netloc.removeprefix("www.") + parts.path).rstrip("/").casefold()
    return normalise(text)


# the checks


def _evidence(
    client: Client, service: LinkService, results, run: Run, with_ids: bool = False
) -> dict[str, dict]:
    """The candidates' values of the mapped properties (and of their identifiers, when
    `with_ids`: some record of the batch has a Wikidata id), by the service's data
    extension (none when it has none, or fails: then the candidates are left for review)."""
    pids = [pid for _, pid in service.properties]
    if with_ids and _ids_pid(service) not in pids:
        pids.append(_ids_pid(service))
    ids = sorted({c["id"] for result in results for c in result})
    if not (pids and ids and client.extends):
        return {}
    try:
        return client.extend(ids, pids)
    except ServiceFailed as failed:
        run.errors.append(f"{failed} (candidates left for review, unchecked)")
        return {}


def _check(ours: _Ours, subject, result: list[dict], evidence: dict) -> list[dict]:
    """A record's candidates with their evidence (`why`) and a decision: `accept` for the
    one certain candidate, else empty (for the publisher)."""
    names = ours.names(subject)
    candidates = [_judge(ours, subject, names, raw, evidence) for raw in result[:CANDIDATES]]
    if sum(c["decision"] == "accept" for c in candidates) > 1:  # twins: the publisher says
        for candidate in candidates:
            if candidate["decision"] == "accept":
                candidate["decision"] = ""
                candidate["why"].append("another candidate is as certain")
    return candidates


def _judge(ours: _Ours, subject, names: set[str], raw: dict, evidence: dict) -> dict:
    """One candidate, with why it may or may not be the record, and whether it is sure."""
    service = ours.service
    why = [f"score {raw['score']:g}"]
    if raw["match"]:
        why.append("the service says match")
    same_name = normalise(raw["name"]) in names
    why.append("same name" if same_name else "another name")
    found = evidence.get(raw["id"], {})
    agree, differ = _compare(ours, subject, found, why)
    shared = _shared_id(ours, subject, raw["id"], found, why)
    if shared is None and not service.properties:
        why.append("no property to check (map some in dataset.yaml)")
    elif shared is None and not agree and not differ:
        why.append("no property could be checked")
    sure = same_name and (raw["match"] or raw["score"] >= SURE_SCORE) and agree
    return {
        "id": raw["id"],
        "iri": service.iri(raw["id"]),
        "name": raw["name"],
        "score": raw["score"],
        "why": why,
        "decision": "accept" if (sure or shared) and shared is not False and not differ else "",
    }


def _ids_pid(service: LinkService) -> str:
    """The service's property of a candidate's identifiers: the one dataset.yaml maps our
    `sameAs` to, else `sameAs` (as another lod service, and schema.org, call it)."""
    return dict(service.properties).get(SAME_AS, SAME_AS)


def _shared_id(ours: _Ours, subject, entity: str, found: dict, why: list[str]) -> bool | None:
    """Whether the candidate is the Wikidata entity our record names (it is that entity,
    or its identifiers name it): True, False (it names another), None (nothing to tell)."""
    mine = ours.wikidata(subject)
    if not mine:
        return None
    named = [ours.service.iri(entity)]
    named += [v if isinstance(v, str) else v["id"] for v in found.get(_ids_pid(ours.service), [])]
    theirs = {k for k in map(same_as_key, named) if k.startswith(WIKIDATA_ENTITY)}
    if not theirs:
        return None
    if mine & theirs:
        why.append(f"same Wikidata id ({_qids(mine & theirs)})")
        return True
    why.append(f"Wikidata id differs ({_qids(theirs)}, ours {_qids(mine)})")
    return False


def _qids(entities: set[str]) -> str:
    return ", ".join(sorted(e.removeprefix(WIKIDATA_ENTITY) for e in entities))[:80]


def _compare(ours: _Ours, subject, found: dict, why: list[str]) -> tuple[int, int]:
    """How many mapped properties agree and how many differ (each said in `why`); one
    that either side lacks is neither."""
    agree = differ = 0
    for field_name, pid in ours.service.properties:
        mine = ours.comparable(subject, field_name)
        theirs = _theirs(ours.service, found.get(pid, []))
        if not mine or not theirs:
            continue
        if mine & theirs:
            agree += 1
            why.append(f"{field_name} agrees")
        else:
            differ += 1
            shown = ", ".join(sorted(v["name"] if isinstance(v, dict) else v for v in found[pid]))
            why.append(f"{field_name} differs ({shown[:80]})")
    return agree, differ


def _theirs(service: LinkService, values: list) -> set[str]:
    """What the service's values of a property may be equal to on our side."""
    theirs: set[str] = set()
    for value in values:
        if isinstance(value, dict):
            theirs |= {value["id"], same_as_key(service.iri(value["id"]))}
            theirs.add(normalise(value["name"]))
        else:
            theirs.add(_comparable(value))
    theirs.discard("")
    return theirs
