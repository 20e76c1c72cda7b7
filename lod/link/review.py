"""The review file of `lod link sameas`, and its application to data/.

write_review(...)  a Run of lod.link.matching as YAML the publisher edits: per record
                   its candidates, each with `why` and a `decision` (accept, reject,
                   or empty: decide later); into a review file there already, merged
apply(...)         the accepted candidates written into the data/ files (lod.edit, so
                   the rest of each file stays byte for byte); the rejected ones
                   remembered in data/.links/sameas-rejected.yaml, never proposed again

Running `lod link sameas` again never loses review work. A review file there already is
merged into, never written over; one that cannot be merged (not YAML, not a review, a
review of another service, entries written as flow `{…}`/`[…]`) is refused with a
ReviewError before anything is written. The merge edits the file as text, as lod.edit edits
data/ files (its `Source`: the lines with their own endings, the byte-order mark): the
nodes' marks (yaml.compose) say which lines hold each entry and each candidate, a
candidate's lines counting the comment lines above it, and only whole candidates and
entries are added, written anew or removed, so every line the publisher wrote in a kept
one stays byte for byte, comments included (full-line or at a line's end). Per candidate:

- one that carries a comment, or a decision not yet applied, keeps its lines as they are;
- one still proposed and left as written (no decision, no comment) is written anew, with
  this run's evidence and automatic decision;
- one that is done (its IRI is in the record's sameAs in data/, or in the rejected links,
  as its decision said or when it had none) or no longer proposed, and carries nothing of
  the publisher's, is removed;
- a record not asked this time (another --kind, the service failed) keeps its candidates,
  unless it was linked into the service's graph since: then it is as if asked, with no
  candidate.

New candidates go after a record's others, new records after the last; an entry left
without candidates goes unless it carries a comment, and so does the entry of a record no
longer in data/ (its decisions could not be applied; `Written.gone` names them). The
`errors` and `unanswered` of the earlier run give way to this run's.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .. import edit
from ..edit import Source
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


def write_review(
    path: Path | str, service: LinkService, url: str, run: Run, data: Path | str | None = None
) -> Written:
    """The review file of a run: a new file, or this run merged into the review file there
    (see the module's doc; `data`, the data/ folder, tells which candidates are done and
    which records are gone). ReviewError for a file that cannot be merged: then nothing is
    written."""
    path = Path(path)
    if not path.exists():
        _replace(path, _fresh(path, service, url, run))
        return Written(str(path))
    existing = Existing(path, service)
    written = existing.merge(run, _State(data, service))
    _replace(path, existing.source.text())
    return written


def check_review(path: Path | str, service: LinkService) -> None:
    """ReviewError when a review file is there and cannot be merged into (asked before the
    service is, so a refusal costs nothing)."""
    if Path(path).exists():
        Existing(Path(path), service)


def _fresh(path: Path, service: LinkService, url: str, run: Run) -> str:
    doc: dict[str, Any] = {
        "service": {"label": service.label, "manifest": url, "ids": service.ids},
        "records": [_entry(p) for p in run.proposals],
    }
    text = HEADER.format(label=service.label, url=url, path=path)
    return text + _dump(doc) + _dump(_run_notes(run))


def _entry(proposal) -> dict:
    return {
        "record": proposal.record,
        "file": proposal.file,
        "name": proposal.name,
        "candidates": proposal.candidates,
    }


def _run_notes(run: Run) -> dict:
    notes: dict[str, Any] = {}
    if run.errors:
        notes["errors"] = run.errors
    if run.unanswered:
        notes["unanswered"] = run.unanswered
    return notes


def _dump(value: Any) -> str:
    if not value:
        return ""
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100)


def _replace(path: Path, text: str) -> None:
    """Written beside, then renamed: the file is the old one or the new one, never half."""
    temporary = path.with_name(f".{path.name}.review-{os.getpid()}")
    temporary.write_text(text, "utf-8", newline="")
    os.replace(temporary, path)


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


# merging a run into the review file there


NOT_OVERWRITTEN = "; it was not overwritten (fix it, move it away, or give another --review)"
MERGE_KEYS = ("errors", "unanswered")  # the earlier run's, replaced


@dataclass
class Written:
    """What write_review did: a new file, or a merge (counts of candidates)."""

    path: str
    merged: bool = False
    kept: int = 0  # as the publisher left them: a decision or a comment, or not asked
    renewed: int = 0  # still proposed, untouched: written anew
    added: int = 0  # new to the file
    dropped: int = 0  # done, or no longer proposed, untouched
    gone: list[str] = field(default_factory=list)  # records no longer in data/

    def summary(self) -> str:
        if not self.merged:
            return f"review: {self.path}"
        text = (
            f"review: {self.path} (merged; candidates kept as they were: {self.kept}, "
            f"written anew: {self.renewed}, new: {self.added}, removed as done or no longer "
            f"proposed: {self.dropped})"
        )
        if self.gone:
            text += "; entries removed, their records are no longer in data/: "
            text += ", ".join(self.gone)
        return text


class _State:
    """What data/ says now: each record's sameAs, the rejected links (nothing known
    without a data/ folder: no record gone, no candidate done)."""

    def __init__(self, data: Path | str | None, service: LinkService):
        # the space as same_as_key writes its IRIs (as lod.link.matching sees a link)
        self.space = same_as_key(service.space + "x")[:-1]
        self.links: dict[str, set[str]] | None = None
        self.rejected: dict[str, set[str]] = {}
        if data is not None:
            self.links = {
                f"{r.kind}/{r.id}": {same_as_key(v) for v in same_as_of(r)}
                for r in load(Path(data)).records
                if r.id
            }
            self.rejected = read_rejected(data)

    def gone(self, record: str) -> bool:
        return self.links is not None and record not in self.links

    def linked(self, record: str) -> bool:
        """Whether the record has a sameAs into the service's graph (so it is not asked)."""
        return any(k.startswith(self.space) for k in (self.links or {}).get(record, ()))

    def done(self, record: str, candidate: dict) -> bool:
        """Its link is in data/ (unless it said reject), or rejected (unless it said accept)."""
        key, decision = same_as_key(candidate["iri"]), candidate["decision"]
        linked = key in (self.links or {}).get(record, ())
        rejected = key in self.rejected.get(record, ())
        return (linked and decision != "reject") or (rejected and decision != "accept")


class Existing:
    """A review file there already, open for a merge: its values (checked as read_review
    checks them), the service it reviews (this one, or ReviewError), its text (a lod.edit
    Source) and the nodes saying which lines hold what."""

    def __init__(self, path: Path, service: LinkService):
        self.path = path
        try:
            self.doc = read_review(path)
            text = path.read_bytes().decode("utf-8")
        except (ReviewError, UnicodeDecodeError) as bad:
            raise ReviewError(f"{bad}{NOT_OVERWRITTEN}") from None
        described = self.doc.get("service")
        if not isinstance(described, dict) or described.get("ids") != service.ids:
            theirs = described.get("ids") if isinstance(described, dict) else None
            raise ReviewError(
                f"{path}: a review of "
                + (f"another service ({theirs})" if theirs else "no service (no `service.ids`)")
                + f", not of {service.label} ({service.ids}){NOT_OVERWRITTEN}"
            )
        self.source = Source(text, path)
        if self.source.lines and not self.source.lines[-1].endswith(("\n", "\r")):
            self.source.lines[-1] += self.source.newline
        self.root = yaml.compose("".join(self.source.lines), Loader=yaml.SafeLoader)
        self.edits: list[tuple[int, int, list[str]]] = []  # (first, stop, new lines)
        self._check_blocks()

    def _top(self, key: str) -> tuple[yaml.Node, yaml.Node] | None:
        return next(((k, v) for k, v in self.root.value if k.value == key), None)

    def _check_blocks(self) -> None:
        """Refused: entries or candidates written as flow `[…]`/`{…}` (nothing to merge
        line by line)."""
        found = self._top("records")
        records = found[1] if found else None
        if not isinstance(records, yaml.SequenceNode) or not records.value:
            return
        for i, entry in enumerate(records.value):
            candidates = _value_node(entry, "candidates")
            flow = records.flow_style or entry.flow_style
            flow = flow or (
                isinstance(candidates, yaml.SequenceNode)
                and candidates.value
                and (candidates.flow_style or any(c.flow_style for c in candidates.value))
            )
            if flow:
                raise ReviewError(
                    f"{self.path}:{entry.start_mark.line + 1}: records[{i}] is written as a "
                    f"flow `[…]` or `{{…}}`: it cannot be merged into line by line{NOT_OVERWRITTEN}"
                )

    def merge(self, run: Run, state: _State) -> Written:
        written = Written(str(self.path), merged=True)
        proposed = {p.record: p for p in run.proposals}
        for key in MERGE_KEYS:
            found = self._top(key)
            if found:
                self._edit(found[0].start_mark.line, self._last(found[1]) + 1, [])
        records = self._top("records")
        nodes = records[1].value if records and isinstance(records[1], yaml.SequenceNode) else []
        after = records[0].start_mark.line if records else 0  # before the first entry's lines
        for item, node in zip(self.doc.get("records") or [], nodes, strict=True):
            now = proposed.pop(item["record"], None)  # None: no candidates now, or met before
            record = item["record"]  # asked, or linked since (so not asked: nothing new)
            asked = now is not None or record in run.answered or state.linked(record)
            self._merge_entry(item, node, after, now, asked, state, written)
            after = self._last(node)
        fresh = [_entry(p) for p in run.proposals if p.record in proposed]
        written.added += sum(len(e["candidates"]) for e in fresh)
        self._add_entries(records, fresh)
        self._apply()
        self.source.lines += self._lines(_dump(_run_notes(run)), 0)
        return written

    def _merge_entry(self, item, node, after, now, asked, state: _State, written) -> None:
        """One entry: its candidates kept, written anew or removed, new ones added; the
        whole entry removed when nothing of it is left."""
        record, first, last = item["record"], after + 1, self._last(node)
        candidates = _value_node(node, "candidates")
        cnodes = candidates.value if isinstance(candidates, yaml.SequenceNode) else []
        if state.gone(record):
            written.gone.append(record)
            written.dropped += len(cnodes)
            self._edit(first, last + 1, [])
            return
        new = {same_as_key(c["iri"]): c for c in now.candidates} if now else {}
        start, mark, left = _key_line(node, "candidates") + 1, len(self.edits), 0
        for candidate, cnode in zip(item.get("candidates") or [], cnodes, strict=True):
            lines = range(start, self._last(cnode) + 1)
            fate, fresh = self._fate(record, candidate, lines, new if asked else None, state)
            setattr(written, fate, getattr(written, fate) + 1)
            if fate != "kept":
                column = candidates.start_mark.column
                self._edit(lines.start, lines.stop, self._lines(_dump(fresh), column))
            left += fate != "dropped"
            start = lines.stop
        added = list(new.values())
        written.added += len(added)
        if not (left or added or self._commented(range(first, last + 1))):
            del self.edits[mark:]  # the entry goes whole
            self._edit(first, last + 1, [])
        elif added:
            self._add_candidates(node, candidates, added)

    def _fate(self, record, candidate, lines: range, new: dict | None, state: _State):
        """kept, renewed (with this run's candidate) or dropped (a Written count's name);
        `new`, this run's candidates of the record (None: not asked), loses the one
        matched."""
        fresh = new.pop(same_as_key(candidate["iri"]), None) if new is not None else None
        if self._commented(lines):
            return "kept", None
        if state.done(record, candidate):
            return "dropped", None
        if new is None or candidate["decision"]:
            return "kept", None
        return ("renewed", [fresh]) if fresh else ("dropped", None)

    def _add_candidates(self, node, candidates, added: list[dict]) -> None:
        if isinstance(candidates, yaml.SequenceNode) and candidates.value:
            at = self._last(candidates) + 1
            self._edit(at, at, self._lines(_dump(added), candidates.start_mark.column))
        else:  # `candidates: []`, empty, or none: the key written anew
            self._rewrite_key(node, "candidates", added)

    def _add_entries(self, records, fresh: list[dict]) -> None:
        if not fresh:
            return
        value = records[1] if records else None
        if isinstance(value, yaml.SequenceNode) and value.value:
            at = self._last(value) + 1
            self._edit(at, at, self._lines(_dump(fresh), value.start_mark.column))
        else:  # `records: []`, or none
            self._rewrite_key(self.root, "records", fresh)

    def _rewrite_key(self, mapping: yaml.MappingNode, key: str, value: list) -> None:
        """`key: value` in place of the key's lines (its value is empty), or after the
        mapping's last line."""
        found = next(((k, v) for k, v in mapping.value if k.value == key), None)
        if found is None:
            at = self._last(mapping) + 1
            self._edit(at, at, self._lines(_dump({key: value}), mapping.start_mark.column))
            return
        name, empty = found
        first = name.start_mark.line
        stop = first + 1 if isinstance(empty, yaml.ScalarNode) else self._last(empty) + 1
        self._edit(first, stop, self._lines(_dump({key: value}), name.start_mark.column))

    # the text

    def _last(self, node: yaml.Node) -> int:
        """The last line holding some of the node's text (as lod.edit reads a node)."""
        if isinstance(node, yaml.ScalarNode):
            end = node.end_mark
            return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line
        if node.flow_style or not node.value:
            return node.end_mark.line
        last = node.value[-1]
        return self._last(last[1] if isinstance(last, tuple) else last)

    def _commented(self, lines: range) -> bool:
        return any(_comment(self.source.lines[i]) for i in lines)

    def _lines(self, text: str, indent: int) -> list[str]:
        newline = self.source.newline
        return [" " * indent + line + newline for line in text.splitlines()]

    def _edit(self, first: int, stop: int, lines: list[str]) -> None:
        self.edits.append((first, stop, lines))

    def _apply(self) -> None:
        """The edits, from the file's end up (so the marks stay true); of two at one line,
        the removal first, then what goes in its place."""
        for first, stop, lines in sorted(self.edits, key=lambda e: (-e[0], -e[1])):
            self.source.lines[first:stop] = lines
        self.edits = []


def _key_line(mapping: yaml.MappingNode, key: str) -> int:
    """The line of a key of the mapping (of its first line, when it has none)."""
    found = next((k for k, _ in mapping.value if k.value == key), mapping)
    return found.start_mark.line


def _value_node(mapping: yaml.Node, key: str) -> yaml.Node | None:
    if not isinstance(mapping, yaml.MappingNode):
        return None
    return next((v for k, v in mapping.value if k.value == key), None)


def _comment(line: str) -> bool:
    """Whether a line holds a YAML comment: a `#` at its start or after a blank, outside
    quotes."""
    quote, before, i = "", " ", 0
    while i < len(line):
        c = line[i]
        if quote == '"' and c == "\\":
            i += 1  # the escaped character is skipped
        elif quote == "'" and c == "'" and line[i + 1 : i + 2] == "'":
            i += 1  # '' in single quotes
        elif quote and c == quote:
            quote = ""
        elif not quote and c in "\"'" and before in " \t[{,:-":
            quote = c
        elif not quote and c == "#" and before in " \t":
            return True
        before, i = c, i + 1
    return False


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
