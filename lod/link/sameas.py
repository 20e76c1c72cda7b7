"""`sameAs` proposals from a remote reconciliation service, reviewed by the publisher.

    propose(...)  records without a sameAs into the service's graph -> queries (name, type,
                  the properties dataset.yaml maps) -> candidates, each checked against our
                  data -> a review file (YAML) the publisher edits
    apply(...)    the accepted candidates written into the data/ files (lod.link.edit, so
                  the rest of each file stays byte for byte); the rejected ones remembered
                  in data/.links/sameas-rejected.yaml, never proposed again

`Client` speaks the W3C Reconciliation API to any service, 0.2 (form `queries=`/`extend=`
POSTed to the service URL) or the 1.0 draft (JSON POSTed to `/match` and `/extend`): in
batches no larger than the manifest's `batchSize`, each request with a timeout, retried
with exponential back-off on a timeout, a refused connection, 429 or 5xx, at most `rate`
requests a second, and every answer kept in an on-disk cache (keyed by URL and body), so
running again asks only what was not answered.

Auto-accept is deliberately strict: a candidate is marked `accept` only when it is the one
candidate that has the record's name (or an alternate name), the service rates it a match
(or scores it 90 or more), at least one mapped property agrees (through the service's data
extension: a location, parent organisation, URL or date) and none differs. A namesake in
another country is never accepted: its location differs, or nothing corroborates it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import yaml

from ..errors import BuildFailed, LodError
from ..make.convert import Conversion, convert
from ..make.convert.services import LinkService
from ..make.sources import load
from ..text import normalise, same_as_key
from ..vocab import KINDS, LABELS, SDO, id_prefix
from . import edit

DEFAULT_KINDS = ("organisation", "person", "place", "event", "topic")
REJECTED = Path(".links") / "sameas-rejected.yaml"
DECISIONS = ("accept", "reject", "")
CANDIDATES = 3  # per record in the review file
SURE_SCORE = 90.0
USER_AGENT = "lod-link-sameas/1 (a Linked Open Data publisher asking for sameAs candidates)"


class LinkError(LodError):
    """A reconciliation service that failed, or a review file that cannot be read."""


class ServiceFailed(LinkError):
    pass


# the client


@dataclass
class Client:
    """A remote reconciliation service, by its manifest URL (the service's root)."""

    url: str
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 1.0  # seconds before the first retry; doubled each time
    rate: float = 1.0  # requests a second, at most
    cache: Path | None = None
    version: str | None = None  # "0.2" or "1.0"; None: from the manifest (0.2 when offered)
    batch: int = 10
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    requests_sent: int = 0
    _last: float = -1e9
    _manifest: dict | None = None

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        self.session.headers["User-Agent"] = USER_AGENT

    @property
    def manifest(self) -> dict:
        if self._manifest is None:
            found = self._request("GET", self.url)
            if not isinstance(found, dict) or not isinstance(found.get("name", ""), str):
                raise ServiceFailed(f"{self.url}: the answer is not a reconciliation manifest")
            self._manifest = found
        return self._manifest

    @property
    def api(self) -> str:
        if self.version is None:
            versions = self.manifest.get("versions") or ["0.2"]
            self.version = "0.2" if "0.2" in versions else "1.0"
        return self.version

    @property
    def batch_size(self) -> int:
        advised = self.manifest.get("batchSize")
        if isinstance(advised, int) and advised >= 1:
            return min(advised, self.batch)
        return self.batch

    @property
    def extends(self) -> bool:
        return isinstance(self.manifest.get("extend"), dict)

    def default_types(self) -> set[str]:
        found = self.manifest.get("defaultTypes") or []
        return {t["id"] for t in found if isinstance(t, dict) and isinstance(t.get("id"), str)}

    def match(self, queries: Sequence[dict]) -> list[list[dict]]:
        """Candidates for each query ({"query", "type"?, "properties": [(pid, value)]}):
        per query a list of {"id", "name", "score", "match"}."""
        if self.api == "0.2":
            batch = {}
            for i, q in enumerate(queries):
                one: dict[str, Any] = {"query": q["query"], "limit": q.get("limit", CANDIDATES)}
                if q.get("type"):
                    one["type"] = q["type"]
                if q.get("properties"):
                    one["properties"] = [{"pid": p, "v": v} for p, v in q["properties"]]
                batch[f"q{i}"] = one
            answer = self._request("POST", self.url, data={"queries": json.dumps(batch)})
            results = [self._part(answer, f"q{i}", "result") for i in range(len(queries))]
        else:
            batch_10 = []
            for q in queries:
                conditions = [{"matchType": "name", "propertyValue": q["query"]}]
                conditions += [
                    {"matchType": "property", "propertyId": p, "propertyValue": v}
                    for p, v in q.get("properties", ())
                ]
                one = {"conditions": conditions, "limit": q.get("limit", CANDIDATES)}
                if q.get("type"):
                    one["type"] = q["type"]
                batch_10.append(one)
            answer = self._request("POST", f"{self.url}/match", json_body={"queries": batch_10})
            found = answer.get("results") if isinstance(answer, dict) else None
            if not isinstance(found, list) or len(found) != len(queries):
                raise ServiceFailed(f"{self.url}/match: the answer has no `results` list")
            results = [self._part({"r": r}, "r", "candidates") for r in found]
        return [[_candidate(c, self.url) for c in result] for result in results]

    def extend(self, ids: Sequence[str], pids: Sequence[str]) -> dict[str, dict[str, list]]:
        """Each id's values of each property: {id: {pid: [value, …]}}, a value being
        {"id", "name"} (an entity) or its text."""
        query = {"ids": list(ids), "properties": [{"id": p} for p in pids]}
        if self.api == "0.2":
            answer = self._request("POST", self.url, data={"extend": json.dumps(query)})
            rows = answer.get("rows") if isinstance(answer, dict) else None
            if not isinstance(rows, dict):
                raise ServiceFailed(f"{self.url}: the extension answer has no `rows` object")
            found = {i: r for i, r in rows.items() if isinstance(r, dict)}
        else:
            answer = self._request("POST", f"{self.url}/extend", json_body=query)
            rows = answer.get("rows") if isinstance(answer, dict) else None
            if not isinstance(rows, list):
                raise ServiceFailed(f"{self.url}/extend: the answer has no `rows` list")
            found = {
                row["id"]: {p.get("id"): p.get("values", []) for p in row.get("properties", [])}
                for row in rows
                if isinstance(row, dict) and isinstance(row.get("id"), str)
            }
        return {i: {p: _values(v) for p, v in props.items()} for i, props in found.items()}

    def _part(self, answer: Any, key: str, name: str) -> list:
        part = answer.get(key) if isinstance(answer, dict) else None
        found = part.get(name) if isinstance(part, dict) else None
        if not isinstance(found, list):
            raise ServiceFailed(f"{self.url}: the answer lacks `{key}.{name}`")
        return found

    # HTTP: cache, rate, retries

    def _request(self, method: str, url: str, data=None, json_body=None) -> Any:
        body = json.dumps([method, url, data, json_body], sort_keys=True)
        key = hashlib.sha256(body.encode("utf-8")).hexdigest()
        cached = self.cache / key[:2] / f"{key}.json" if self.cache else None
        if cached is not None and cached.is_file():
            return json.loads(cached.read_text("utf-8"))
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            self._wait_turn()
            try:
                response = self.session.request(
                    method, url, data=data, json=json_body, timeout=self.timeout
                )
            except requests.Timeout:
                problem = f"did not answer within {self.timeout:g} s"
                continue
            except requests.ConnectionError as exc:
                problem = f"could not be reached ({_reason(exc)})"
                continue
            if response.status_code == 429 or response.status_code >= 500:
                problem = f"answered HTTP {response.status_code}: {_snippet(response.text)}"
                continue
            if response.status_code >= 400:
                raise ServiceFailed(
                    f"{url} answered HTTP {response.status_code}: {_snippet(response.text)}"
                )
            try:
                found = response.json()
            except ValueError:
                raise ServiceFailed(
                    f"{url} answered malformed JSON: {_snippet(response.text)!r}"
                ) from None
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_text(json.dumps(found), "utf-8")
            return found
        tries = self.retries + 1
        raise ServiceFailed(f"{url} {problem} ({tries} {'try' if tries == 1 else 'tries'})")

    def _wait_turn(self) -> None:
        gap = 1.0 / self.rate if self.rate > 0 else 0.0
        wait = self._last + gap - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self._last = time.monotonic()
        self.requests_sent += 1


def _reason(exc: Exception) -> str:
    text = str(exc)
    for known in ("Connection refused", "Name or service not known", "Connection reset"):
        if known in text:
            return known.lower()
    return text[:120]


def _snippet(text: str) -> str:
    return " ".join(text.split())[:120]


def _candidate(raw: Any, url: str) -> dict:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise ServiceFailed(f"{url}: a candidate without an `id`")
    score = raw.get("score", 0)
    return {
        "id": raw["id"],
        "name": raw.get("name") if isinstance(raw.get("name"), str) else raw["id"],
        "score": float(score) if isinstance(score, int | float) else 0.0,
        "match": raw.get("match") is True,
    }


def _values(raw: Any) -> list:
    found = []
    for value in raw if isinstance(raw, list) else []:
        if not isinstance(value, dict):
            continue
        if "id" in value:
            found.append({"id": str(value["id"]), "name": str(value.get("name", ""))})
        else:
            for tag in ("str", "date", "int", "float"):
                if tag in value:
                    found.append(str(value[tag]))
    return found


# proposals


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
    conversion = _conversion(data, base)
    rejected = read_rejected(data)
    ours = _Ours(conversion, service)
    todo = [
        (subject, record)
        for subject, record in conversion.records.items()
        if record.kind in set(kinds) and not ours.linked(subject)
    ]
    run = Run([], 0, [], [])
    try:
        types = client.default_types()
        size = client.batch_size
    except ServiceFailed as failed:
        run.errors.append(str(failed))
        run.unanswered = [ours.id(s) for s, _ in todo]
        return run
    for start in range(0, len(todo), size):
        chunk = todo[start : start + size]
        queries = [ours.query(subject, record, types) for subject, record in chunk]
        try:
            results = client.match(queries)
        except ServiceFailed as failed:
            run.errors.append(str(failed))
            run.unanswered = [ours.id(s) for s, _ in todo[start:]]
            break
        run.asked += len(chunk)
        progress(f"asked {run.asked} of {len(todo)}")
        checked = _check(client, service, ours, chunk, results, run)
        for (subject, record), candidates in zip(chunk, checked, strict=True):
            refused = rejected.get(ours.id(subject), set())
            candidates = [c for c in candidates if same_as_key(c["iri"]) not in refused]
            if candidates:
                run.proposals.append(
                    Proposal(ours.id(subject), record.file, ours.name(subject), candidates)
                )
    run.accepted = sum(1 for p in run.proposals for c in p.candidates if c["decision"] == "accept")
    return run


def _conversion(data: Path, base: str | None) -> Conversion:
    conversion = convert(load(data), base)
    if conversion.errors or conversion.dataset is None:
        raise BuildFailed(conversion.errors)
    return conversion


class _Ours:
    """What our data says of a record, as the service's queries and checks need it."""

    def __init__(self, conversion: Conversion, service: LinkService):
        self.graph = conversion.triples
        self.records = conversion.records
        self.base = conversion.dataset.base
        self.service = service
        self.space = same_as_key(service.space)

    def id(self, subject) -> str:
        return str(subject).removeprefix(id_prefix(self.base))

    def name(self, subject) -> str:
        for predicate in LABELS:
            value = self.graph.value(subject, predicate)
            if value is not None:
                return str(value)
        return self.id(subject)

    def names(self, subject) -> set[str]:
        found = {self.name(subject)} | {
            str(v) for v in self.graph.objects(subject, SDO.alternateName)
        }
        return {normalise(n) for n in found} - {""}

    def same_as(self, subject) -> list[str]:
        record = self.records.get(subject)
        if record is None:
            return []
        raw = record.values.get("sameAs") or []
        items = raw.split(";") if isinstance(raw, str) else raw
        return [str(v).strip() for v in items if str(v).strip()]

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


def _check(client, service, ours: _Ours, chunk, results, run: Run) -> list[list[dict]]:
    """Each record's candidates with their evidence (`why`) and a decision: `accept` for
    the one certain candidate, else empty (for the publisher)."""
    evidence: dict[str, dict] = {}
    pids = [pid for _, pid in service.properties]
    ids = sorted({c["id"] for result in results for c in result})
    if pids and ids and client.extends:
        try:
            evidence = client.extend(ids, pids)
        except ServiceFailed as failed:
            run.errors.append(f"{failed} (candidates left for review, unchecked)")
    checked = []
    for (subject, _), result in zip(chunk, results, strict=True):
        names = ours.names(subject)
        candidates = []
        for raw in result[:CANDIDATES]:
            why = [f"score {raw['score']:g}"]
            if raw["match"]:
                why.append("the service says match")
            same_name = normalise(raw["name"]) in names
            why.append("same name" if same_name else "another name")
            agree = differ = 0
            found = evidence.get(raw["id"], {})
            for field_name, pid in service.properties:
                mine = ours.comparable(subject, field_name)
                theirs = set()
                for value in found.get(pid, []):
                    if isinstance(value, dict):
                        theirs |= {value["id"], same_as_key(service.iri(value["id"]))}
                        theirs.add(normalise(value["name"]))
                    else:
                        theirs.add(_comparable(value))
                theirs.discard("")
                if not mine or not theirs:
                    continue
                if mine & theirs:
                    agree += 1
                    why.append(f"{field_name} agrees")
                else:
                    differ += 1
                    shown = ", ".join(
                        sorted(v["name"] if isinstance(v, dict) else v for v in found[pid])
                    )
                    why.append(f"{field_name} differs ({shown[:80]})")
            if not pids:
                why.append("no property to check (map some in dataset.yaml)")
            elif not agree and not differ:
                why.append("no property could be checked")
            sure = same_name and (raw["match"] or raw["score"] >= SURE_SCORE)
            candidates.append(
                {
                    "id": raw["id"],
                    "iri": service.iri(raw["id"]),
                    "name": raw["name"],
                    "score": raw["score"],
                    "why": why,
                    "decision": "accept" if sure and agree and not differ else "",
                }
            )
        if sum(c["decision"] == "accept" for c in candidates) > 1:  # twins: the publisher says
            for candidate in candidates:
                if candidate["decision"] == "accept":
                    candidate["decision"] = ""
                    candidate["why"].append("another candidate is as certain")
        checked.append(candidates)
    return checked


# the review file

HEADER = """\
# sameAs proposals from {label} ({url}), written by `lod link sameas`.
# For each candidate set `decision` to accept or reject (leave it empty to decide later),
# then run `lod link apply {path}`: accepted links are written into the data/ files,
# rejected ones are remembered in data/.links/sameas-rejected.yaml and never proposed again.
"""


def write_review(path: Path | str, service: LinkService, url: str, run: Run) -> None:
    doc: dict[str, Any] = {
        "service": {"label": service.label, "manifest": url, "ids": service.ids},
        "records": [
            {"record": p.record, "file": p.file, "name": p.name, "candidates": p.candidates}
            for p in run.proposals
        ],
    }
    if run.errors:
        doc["errors"] = run.errors
    if run.unanswered:
        doc["unanswered"] = run.unanswered
    text = HEADER.format(label=service.label, url=url, path=path)
    text += yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    Path(path).write_text(text, "utf-8")


def read_review(path: Path | str) -> dict:
    try:
        doc = yaml.safe_load(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise LinkError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except yaml.YAMLError as bad:
        raise LinkError(f"{path}: not valid YAML: {bad}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("records", []), list):
        raise LinkError(f"{path}: not a review file (no `records` list)")
    for i, item in enumerate(doc.get("records") or []):
        where = f"{path}: records[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("record"), str):
            raise LinkError(f"{where}: each entry has a `record` (kind/slug)")
        if item["record"].split("/", 1)[0] not in KINDS or "/" not in item["record"]:
            raise LinkError(f"{where}: `{item['record']}` is not kind/slug")
        for j, candidate in enumerate(item.get("candidates") or []):
            if not isinstance(candidate, dict) or not isinstance(candidate.get("iri"), str):
                raise LinkError(f"{where}.candidates[{j}]: each candidate has an `iri`")
            decision = candidate.get("decision") or ""
            if decision not in DECISIONS:
                raise LinkError(
                    f"{where}.candidates[{j}].decision: `{decision}` is not accept or reject"
                )
            candidate["decision"] = decision
    return doc


# rejected links, remembered in data/.links/sameas-rejected.yaml


def read_rejected(data: Path | str) -> dict[str, set[str]]:
    """record -> the sameAs keys rejected for it."""
    path = Path(data) / REJECTED
    if not path.is_file():
        return {}
    try:
        items = yaml.safe_load(path.read_text("utf-8")) or []
    except yaml.YAMLError as bad:
        raise LinkError(f"{path}: not valid YAML: {bad}") from None
    found: dict[str, set[str]] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("record"), str):
            if isinstance(item.get("sameAs"), str):
                found.setdefault(item["record"], set()).add(same_as_key(item["sameAs"]))
    return found


def _remember_rejected(data: Path, rejected: list[tuple[str, str]]) -> None:
    """Appended as lines, so the publisher's own edits of the file stay as they are."""
    path = data / REJECTED
    path.parent.mkdir(parents=True, exist_ok=True)
    known = read_rejected(data)
    new = [(r, i) for r, i in dict.fromkeys(rejected) if same_as_key(i) not in known.get(r, ())]
    if not new:
        return
    text = (
        path.read_text("utf-8")
        if path.is_file()
        else ("# sameAs links rejected in review (`lod link apply`): never proposed again.\n")
    )
    if text and not text.endswith("\n"):
        text += "\n"
    text += "".join(f"- {{record: {json.dumps(r)}, sameAs: {json.dumps(i)}}}\n" for r, i in new)
    path.write_text(text, "utf-8")


@dataclass
class Applied:
    added: list[tuple[str, str, str]]  # (record, iri, file)
    rejected: int
    undecided: int


def apply(review: Path | str, data: Path | str) -> Applied:
    """Write the accepted links of a review file into the data/ files, remember the
    rejected ones; LinkError for a review that names an unknown record."""
    data = Path(data)
    doc = read_review(review)
    sources = load(data)
    files = {f"{r.kind}/{r.id}": r for r in sources.records if r.id}
    accepted: dict[str, list[str]] = {}
    rejected: list[tuple[str, str]] = []
    undecided = 0
    for item in doc.get("records") or []:
        for candidate in item.get("candidates") or []:
            if candidate["decision"] == "accept":
                accepted.setdefault(item["record"], []).append(candidate["iri"])
            elif candidate["decision"] == "reject":
                rejected.append((item["record"], candidate["iri"]))
            else:
                undecided += 1
    missing = [r for r in accepted if r not in files]
    if missing:
        raise LinkError(f"{review}: no record `{missing[0]}` in {data}")
    added = []
    for record_id, iris in accepted.items():
        record = files[record_id]
        have = {same_as_key(v) for v in _raw_same_as(record)}
        new = [i for i in dict.fromkeys(iris) if same_as_key(i) not in have]
        if not new:
            continue
        slug = record_id.split("/", 1)[1]
        for iri in edit.add_values(record.file, slug, "sameAs", new):
            added.append((record_id, iri, record.file))
    _remember_rejected(data, rejected)
    return Applied(added, len(rejected), undecided)


def _raw_same_as(record) -> list[str]:
    raw = record.values.get("sameAs") or []
    items = raw.split(";") if isinstance(raw, str) else raw
    return [str(v).strip() for v in items if str(v).strip()]


def find_service(services: Sequence[LinkService], wanted: str) -> LinkService | None:
    """The service of dataset.yaml named by label or manifest URL."""
    for service in services:
        if wanted in (service.label, service.manifest) or wanted.rstrip(
            "/"
        ) == service.manifest.rstrip("/"):
            return service
    return None


def service_from_manifest(url: str, client: Client) -> LinkService:
    """A service dataset.yaml does not name: its ids are the manifest's identifierSpace."""
    space = client.manifest.get("identifierSpace")
    if not isinstance(space, str) or not space.startswith(("http://", "https://")):
        raise LinkError(
            f"{url} is not in dataset.yaml's linkServices and its manifest has no "
            "identifierSpace: name it in linkServices with its `ids` pattern"
        )
    name = client.manifest.get("name") or urlsplit(url).netloc
    return LinkService(label=str(name), manifest=url, ids=space + "{id}")


def dataset_services(data: Path | str) -> tuple[LinkService, ...]:
    conversion = _conversion(Path(data), None)
    return conversion.dataset.link_services
