"""Data extension for the reconciliation service: which properties a type's records have
(`propose`) and their values for some records (`extend`), from the build's reconciliation
index (per type, how many records have each property) and its extend.jsonl (each record's
values, one JSON line per record, read by offset for the records asked about; written by
lod.make.listings.indexes). No HTTP: lod.web.reconcile shapes the answers as API 0.2
or the 1.0 draft wants them.

Property ids are the names the data uses: schema.org local names (`name`, `startDate`,
`location`, `parentOrganization`, `sameAs` …), `owl:sameAs`, `skos:…` for topics, and
`description`. A schema.org IRI or `schema:` name is the same property. A value is
`{"id", "name"}` for another record (a reconciled entity), `{"date"}` (ISO date-time),
`{"int"}`, `{"float"}` or `{"str"}` (other IRIs, such as `sameAs` links, are strings).

Texts written in several languages (names, alternate names, job titles …) are given in the
language asked for, else in the next of the dataset's languages that has any, as a
record's name is; the 1.0 draft's answers say each text's `lang` and `dir`, which API 0.2
has no field for.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import orjson

from ..languages import direction
from ..text import normalise
from ..vocab import KINDS
from .reconcile import SCHEMA, NameIndex

MAX_IDS = 500
MAX_PROPERTIES = 50
DEFAULT_PROPOSALS = 20


def property_id(raw: str) -> str:
    """The property as the index names it (`https://schema.org/x` and `schema:x` are `x`)."""
    raw = raw.strip()
    for prefix in (SCHEMA, "http://schema.org/", "schema:"):
        if raw.startswith(prefix):
            return raw.removeprefix(prefix)
    return raw


def property_name(pid: str) -> str:
    """`parentOrganization` -> `parent organization`; `owl:sameAs` -> `same as (owl)`."""
    prefix, _, local = pid.rpartition(":")
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local).lower()
    return f"{words} ({prefix})" if prefix else words


class Extension:
    """Proposals and values over one build's NameIndex and its extend.jsonl (`values`:
    the file's path; None, or a build without one, answers no values)."""

    def __init__(self, index: NameIndex, values: Path | None = None):
        self.index = index
        self.path = values
        self.offsets: list[int] = index.extension.get("offsets", [])
        self.counts: dict[str, dict[str, int]] = index.extension.get("properties", {})
        self._rows: dict[int, dict] = {}

    def row(self, entity_id: str) -> dict[str, list]:
        """A record's values by property, read from its line of extend.jsonl."""
        position = self.index.position(entity_id)
        if position is None or self.path is None or position + 1 >= len(self.offsets):
            return {}
        if position not in self._rows:
            start, end = self.offsets[position], self.offsets[position + 1]
            try:
                with open(self.path, "rb") as handle:
                    handle.seek(start)
                    self._rows[position] = orjson.loads(handle.read(end - start))
            except (OSError, ValueError):
                self._rows[position] = {}
        return self._rows[position]

    def propose(self, type_id: str | None, limit: int = DEFAULT_PROPOSALS) -> list[dict]:
        """The properties the records of a type have (any type: every record), the most
        common first; BadQuery for an unknown type."""
        counts: Counter = Counter()
        if type_id:
            self.index.members(type_id)  # BadQuery for an unknown type
            wanted = property_id(type_id).casefold()
            for key, found in self.counts.items():
                if key.casefold() == wanted:
                    counts.update(found)
                    break
        else:
            for kind in KINDS:
                counts.update(self.counts.get(kind, {}))
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return [
            {"id": pid, "name": property_name(pid), "description": f"{n} of the records have it"}
            for pid, n in ranked[:limit]
        ]

    def suggest(self, prefix: str, skip: set[str] = frozenset()) -> list[dict]:
        """Properties any record has whose id or a word of its name starts with `prefix`
        (auto-completion for clients choosing a column to add), the most common first."""
        text = normalise(prefix)
        return [
            p
            for p in self.propose(None, MAX_PROPERTIES)
            if p["id"] not in skip
            and p["id"].removeprefix("skos:") not in skip  # exactMatch is skos:exactMatch
            and (
                p["id"].casefold().startswith(prefix.strip().casefold())
                or any(w.startswith(text) for w in normalise(p["name"]).split())
            )
        ]

    def meta(self, pids: Iterable[str], ids: Iterable[str] = ()) -> list[dict]:
        """The columns of an answer: each property's id and name, and the type of the
        records it links to (when it links to records) among `ids`'."""
        found = []
        rows = [self.row(i) for i in ids]
        for raw in pids:
            pid = property_id(raw)
            column = {"id": raw, "name": property_name(pid)}
            kinds = Counter(
                value.split("/", 1)[0]
                for row in rows
                for tag, value, *_ in row.get(pid, [])
                if tag == "ref"
            )
            if kinds:
                kind = kinds.most_common(1)[0][0]
                column["type"] = {"id": kind, "name": kind.capitalize()}
            found.append(column)
        return found

    def values(
        self, entity_id: str, raw_pid: str, language: str | None = None, tagged: bool = False
    ) -> list[dict]:
        """One record's values of one property (none for an unknown record or property),
        texts and the names of linked records in `language` (see the module); `tagged`:
        each with its `lang` and `dir` (the 1.0 draft)."""
        entry = self.index.entry(entity_id)
        if entry is None:
            return []
        pid = property_id(raw_pid)
        if pid == "description":
            found = self.index.shown(self.index.texts(entry)[1], language)
            return [] if found is None else [_in({"str": found[1]}, found[0], tagged)]
        row = self.row(entity_id).get(pid, [])
        chosen = self.index.first({extra[0] for _, _, *extra in row if extra}, language)
        found = []
        for tag, value, *extra in row:
            if extra:  # a text in a language: only those of the language chosen
                if extra[0] == chosen:
                    found.append(_in({"str": value}, chosen, tagged))
            elif tag == "ref":
                target = self.index.entry(value)
                name = self.index.shown(self.index.texts(target)[0], language) if target else None
                lang, text = name or ("", target["name"] if target else value)
                found.append(_in({"id": value, "name": text}, lang, tagged))
            elif tag == "date":
                found.append({"date": _datetime(value)} if _datetime(value) else {"str": value})
            elif tag == "int":
                found.append({"int": int(value)})
            elif tag == "float":
                found.append({"float": float(value)})
            else:
                found.append({"str": value})
        return found


def _in(value: dict, lang: str, tagged: bool) -> dict:
    """A value with the language of its text and its direction, when `tagged` and it has
    a language."""
    if tagged and lang:
        value.update(lang=lang, dir=direction(lang))
    return value


def _datetime(value: str) -> str | None:
    """An xsd:date or dateTime as the full ISO date-time the API asks for."""
    try:
        moment = datetime.fromisoformat(value if "T" in value else f"{value}T00:00:00+00:00")
    except ValueError:
        return None
    text = moment.isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")
