"""Text and identifiers as compared by matching (reconciliation, search, link proposals):
one normalisation, so that every matcher agrees on what "the same name" is."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
_WIKIDATA_ID = re.compile(r"^(?:wd:)?([QPL][1-9][0-9]*)$", re.IGNORECASE)
_WIKIDATA_IRI = re.compile(
    r"^https?://(?:www\.|m\.)?wikidata\.org/(?:entity|wiki)/(?:Special:EntityPage/)?"
    r"([QPL][1-9][0-9]*)/?$",
    re.IGNORECASE,
)

_NOT_ASCII_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise(text: str) -> str:
    """Text for comparison: casefolded, accents and punctuation gone, spaces collapsed.

    >>> normalise("United Natións!!  (UN)")
    'united nations un'
    """
    folded = text.casefold()
    if folded.isascii():  # the same, for most names, at a tenth of the cost
        return _NOT_ASCII_ALNUM.sub(" ", folded).strip()
    folded = unicodedata.normalize("NFKD", folded)
    kept = "".join(c if c.isalnum() else " " for c in folded if not unicodedata.combining(c))
    return " ".join(kept.split())


def same_as_key(value: str) -> str:
    """An identifier as compared: a Wikidata id (`Q1065`, `wd:Q1065`, its /wiki/ page or
    entity IRI, http or https) becomes its entity IRI; any other IRI loses the difference
    between http and https and a trailing slash.

    >>> same_as_key("https://www.wikidata.org/wiki/Q1065")
    'http://www.wikidata.org/entity/Q1065'
    >>> same_as_key("https://ror.org/05xyz12/")
    'http://ror.org/05xyz12'
    """
    value = value.strip()
    found = _WIKIDATA_ID.match(value) or _WIKIDATA_IRI.match(value)
    if found:
        return WIKIDATA_ENTITY + found.group(1).upper()
    if value.startswith("https://"):
        value = "http://" + value.removeprefix("https://")
    return value.rstrip("/") if value.count("/") > 3 else value


def joined(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans (start, end) in order, each that starts at or before the end of the one
    before joined to it: a text's matches (search snippets), the runs of dump parts to cut
    again (lod.make.parts)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
