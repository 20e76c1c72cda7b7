"""The review file of `lod link sameas`, and its application to data/.

write_review(...)  a Run of lod.link.matching as YAML the publisher edits: per record
                   its candidates, each with `why` and a `decision` (accept, reject,
                   or empty: decide later)
apply(...)         the accepted candidates written into the data/ files (lod.edit, so
                   the rest of each file stays byte for byte); the rejected ones
                   remembered in data/.links/sameas-rejected.yaml, never proposed again
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .. import edit
from ..errors import LodError
from ..make.convert.services import LinkService
from ..make.sources import Record, load
from ..text import same_as_key
from ..vocab import KINDS

if TYPE_CHECKING:
    from .matching import Run

REJECTED = Path(".links") / "sameas-rejected.yaml"
DECISIONS = ("accept", "reject", "")
HEADER = """\
# sameAs proposals from {label} ({url}), written by `lod link sameas`.
# For each candidate set `decision` to accept or reject (leave it empty to decide later),
# then run `lod link apply {path}`: accepted links are written into the data/ files,
# rejected ones are remembered in data/.links/sameas-rejected.yaml and never proposed again.
"""


class ReviewError(LodError):
    """A review file (or the list of rejected links) that cannot be read or applied."""


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
    """The review file, checked: every entry a record (kind/slug), every candidate an
    `iri` and a decision (an empty one for none)."""
    doc = _yaml(Path(path))
    if not isinstance(doc, dict) or not isinstance(doc.get("records", []), list):
        raise ReviewError(f"{path}: not a review file (no `records` list)")
    for i, item in enumerate(doc.get("records") or []):
        _check_entry(item, f"{path}: records[{i}]")
    return doc


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text("utf-8"))
    except OSError as exc:
        raise ReviewError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except yaml.YAMLError as bad:
        raise ReviewError(f"{path}: not valid YAML: {bad}") from None


def _check_entry(item: Any, where: str) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("record"), str):
        raise ReviewError(f"{where}: each entry has a `record` (kind/slug)")
    if item["record"].split("/", 1)[0] not in KINDS or "/" not in item["record"]:
        raise ReviewError(f"{where}: `{item['record']}` is not kind/slug")
    for j, candidate in enumerate(item.get("candidates") or []):
        if not isinstance(candidate, dict) or not isinstance(candidate.get("iri"), str):
            raise ReviewError(f"{where}.candidates[{j}]: each candidate has an `iri`")
        decision = candidate.get("decision") or ""
        if decision not in DECISIONS:
            raise ReviewError(
                f"{where}.candidates[{j}].decision: `{decision}` is not accept or reject"
            )
        candidate["decision"] = decision


# rejected links, remembered in data/.links/sameas-rejected.yaml


def read_rejected(data: Path | str) -> dict[str, set[str]]:
    """record -> the sameAs keys rejected for it."""
    path = Path(data) / REJECTED
    if not path.is_file():
        return {}
    try:
        items = yaml.safe_load(path.read_text("utf-8")) or []
    except yaml.YAMLError as bad:
        raise ReviewError(f"{path}: not valid YAML: {bad}") from None
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


# applying the decisions


@dataclass
class Applied:
    added: list[tuple[str, str, str]]  # (record, iri, file)
    rejected: int
    undecided: int


def apply(review: Path | str, data: Path | str) -> Applied:
    """Write the accepted links of a review file into the data/ files, remember the
    rejected ones; ReviewError for a review that names an unknown record."""
    data = Path(data)
    accepted, rejected, undecided = _decisions(read_review(review))
    files = {f"{r.kind}/{r.id}": r for r in load(data).records if r.id}
    missing = [r for r in accepted if r not in files]
    if missing:
        raise ReviewError(f"{review}: no record `{missing[0]}` in {data}")
    added = []
    for record_id, iris in accepted.items():
        for iri in _add_links(files[record_id], iris):
            added.append((record_id, iri, files[record_id].file))
    _remember_rejected(data, rejected)
    return Applied(added, len(rejected), undecided)


def _decisions(doc: dict) -> tuple[dict[str, list[str]], list[tuple[str, str]], int]:
    """The accepted links (record -> IRIs), the rejected (record, IRI), the undecided."""
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
    return accepted, rejected, undecided


def _add_links(record: Record, iris: list[str]) -> list[str]:
    """The links the record has not yet, added to its file; those added."""
    have = {same_as_key(v) for v in same_as_of(record)}
    new = [i for i in dict.fromkeys(iris) if same_as_key(i) not in have]
    return edit.add_values(record.file, record.id, "sameAs", new) if new else []


def same_as_of(record: Record) -> list[str]:
    """A record's sameAs links, as written in data/ (a list, or one text split at `;`)."""
    raw = record.values.get("sameAs") or []
    items = raw.split(";") if isinstance(raw, str) else raw
    return [str(v).strip() for v in items if str(v).strip()]
