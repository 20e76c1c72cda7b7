"""The catalogue Wikidata's Mix'n'match imports (`mixnmatch.tsv` in each build).

Tab-separated, one header row (`id name description type url`, the column names
Mix'n'match recognises), one row per organisation, person, place, event and topic, sorted
by id. `id` is the record's `kind/slug`, so the external-identifier property's formatter
URL is `{base}id/$1`; `type` is the Wikidata class of the kind (Q43229 organisation,
Q5 human …); `url` is the record's IRI. Tabs and line breaks inside a value become spaces,
so every row is one line and no cell needs quoting.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..vocab import id_prefix

COLUMNS = ("id", "name", "description", "type", "url")
WIKIDATA_TYPES = {
    "organisation": "Q43229",  # organization
    "person": "Q5",  # human
    "place": "Q2221906",  # geographic location
    "event": "Q1656682",  # event
    "topic": "Q151885",  # concept
}


def _cell(text: str) -> str:
    return " ".join(str(text).split())


def catalogue(entries: Iterable[dict], base: str) -> bytes:
    """The TSV of the index entries (lod.make.listings.names_entry) of the kinds above."""
    rows = sorted((e for e in entries if e["kind"] in WIKIDATA_TYPES), key=lambda e: e["id"])
    lines = ["\t".join(COLUMNS)]
    for entry in rows:
        cells = (
            entry["id"],
            entry["name"],
            entry.get("description", ""),
            WIKIDATA_TYPES[entry["kind"]],
            f"{id_prefix(base)}{entry['id']}",
        )
        lines.append("\t".join(_cell(c) for c in cells))
    return ("\n".join(lines) + "\n").encode("utf-8")
