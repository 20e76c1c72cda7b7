"""Data extension for the reconciliation service: which properties a type's records have
(`propose`) and their values for some records (`extend`), from the build's reconciliation
index (each entry's `values`, written by lod.build.listings.property_values). Pure, no HTTP:
lod.web.reconcile shapes the answers as API 0.2 or the 1.0 draft wants them.

Property ids are the names the data uses: schema.org local names (`name`, `startDate`,
`location`, `parentOrganization`, `sameAs` …), `owl:sameAs`, `skos:…` for topics, and
`description`. A schema.org IRI or `schema:` name is the same property. A value is
`{"id", "name"}` for another record (a reconciled entity), `{"date"}` (ISO date-time),
`{"int"}`, `{"float"}` or `{"str"}` (other IRIs, such as `sameAs` links, are strings).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from ..text import normalise
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
    """Proposals and values over one build's NameIndex."""

    def __init__(self, index: NameIndex):
        self.index = index

    def propose(self, type_id: str | None, limit: int = DEFAULT_PROPOSALS) -> list[dict]:
        """The properties the records of a type have (any type: every record), the most
        common first; BadQuery for an unknown type."""
        members = self.index.members(type_id) if type_id else range(len(self.index.entries))
        counts: Counter = Counter()
        for position in members:
            entry = self.index.entries[position]
            counts.update(entry.get("values", {}).keys())
            if entry.get("description"):
                counts["description"] += 1
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
        entries = [e for e in (self.index.entry(i) for i in ids) if e is not None]
        for raw in pids:
            pid = property_id(raw)
            column = {"id": raw, "name": property_name(pid)}
            kinds = Counter(
                value.split("/", 1)[0]
                for entry in entries
                for tag, value in entry.get("values", {}).get(pid, [])
                if tag == "ref"
            )
            if kinds:
                kind = kinds.most_common(1)[0][0]
                column["type"] = {"id": kind, "name": kind.capitalize()}
            found.append(column)
        return found

    def values(self, entity_id: str, raw_pid: str) -> list[dict]:
        """One record's values of one property (none for an unknown record or property)."""
        entry = self.index.entry(entity_id)
        if entry is None:
            return []
        pid = property_id(raw_pid)
        if pid == "description":
            return [{"str": entry["description"]}] if entry.get("description") else []
        found = []
        for tag, value in entry.get("values", {}).get(pid, []):
            if tag == "ref":
                target = self.index.entry(value)
                name = target["name"] if target else value
                found.append({"id": value, "name": name})
            elif tag == "date":
                found.append({"date": _datetime(value)} if _datetime(value) else {"str": value})
            elif tag == "int":
                found.append({"int": int(value)})
            elif tag == "float":
                found.append({"float": float(value)})
            else:
                found.append({"str": value})
        return found


def _datetime(value: str) -> str | None:
    """An xsd:date or dateTime as the full ISO date-time the API asks for."""
    try:
        moment = datetime.fromisoformat(value if "T" in value else f"{value}T00:00:00+00:00")
    except ValueError:
        return None
    text = moment.isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")
