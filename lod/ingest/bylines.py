"""Bylines as feeds and pages write them -> the people they name.

A free-text byline (RSS's `dc:creator` and `author`, a page's `author` meta tag) may name
several people: `Jon Phillips,⏎⇥⇥Alaina Yee` (Macworld), `Kaur, M., Shukla, A., Bhati,
K. K.` (bioRxiv), `Ann Lee and Bo Chan`. It is cut at commas, semicolons, newlines, ` and `
and ` & `; a piece that is only initials (`M.`, `K. K.`, `J.-P.`, `JP`) belongs to the
one-word surname before it (`M. Kaur`); `By ` before the first name and `et al.` after the
last are dropped; spaces are collapsed. A structured author (Atom's `<author><name>`, JSON Feed's
`authors[].name`, a schema.org Person) is one person and is never cut.

Generic bylines are not people: `Staff Writer`, `Macworld Staff`, `DealPost Team`,
`Admin`, `Newsroom`, `Redaktion` and the like name a desk or an account, not someone a
reader could look up, and a person record for each would be a record of nobody. They are
left out; the article keeps its publisher, which is what such a byline stands for. The
rule (GENERIC, GENERIC_LAST) is deliberately narrow: a pen name (`The Macalope`) or an
organisation named as author stays.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"\s*(?:[,;\n\r]|\s(?:and|&)\s)\s*", re.IGNORECASE)
_NO_COMMAS = re.compile(r"\s*(?:[;\n\r]|\s(?:and|&)\s)\s*", re.IGNORECASE)
_INITIALS = re.compile(r"^(?:[A-Z]\.(?:\s*-\s*|\s+)?)+$|^[A-Z]{1,3}$")
_BY = re.compile(r"^(?:by|von|par|por|di|door)\s+", re.IGNORECASE)
_ET_AL = re.compile(r"^et\.?\s+al\.?$", re.IGNORECASE)

GENERIC = {
    "admin",
    "administrator",
    "anonymous",
    "editor",
    "editorial",
    "guest",
    "guest author",
    "news desk",
    "newsroom",
    "our correspondent",
    "redaktion",
    "rédaction",
    "redacción",
    "special correspondent",
    "staff",
    "staff reporter",
    "staff writer",
    "unknown",
    "web desk",
    "webmaster",
}
"""Bylines that are generic as a whole (compared in lower case, `the ` dropped)."""
GENERIC_LAST = {"staff", "team", "desk", "newsroom", "redaktion", "editors", "bureau"}
"""Last words that make a byline a desk's (`Macworld Staff`, `DealPost Team`)."""


def names(raw: str, commas: bool = True) -> list[str]:
    """The people a free-text byline names, in its order, each once, generic ones left
    out; cut at commas only when `commas` (a page's `author` meta tag may be one
    organisation with its town: `Kirche und Leben, Münster, Germany`)."""
    separators = _SEPARATORS if commas else _NO_COMMAS
    pieces = [" ".join(p.split()) for p in separators.split(raw or "")]
    pieces = [p for p in pieces if p and not _ET_AL.match(p)]
    out: list[str] = []
    for piece in _with_initials(pieces):
        piece = _BY.sub("", piece) if not out else piece
        if piece and not is_generic(piece) and piece not in out:
            out.append(piece)
    return out


def _with_initials(pieces: list[str]) -> list[str]:
    """`Kaur`, `M.` -> `M. Kaur`: a piece of initials joined to the surname before it."""
    out: list[str] = []
    for piece in pieces:
        if out and _INITIALS.match(piece) and "." not in out[-1] and " " not in out[-1]:
            out[-1] = f"{piece} {out[-1]}"
        else:
            out.append(piece)
    return out


def is_generic(name: str) -> bool:
    """A byline that names a desk or an account, not a person."""
    text = " ".join(name.lower().split()).removeprefix("the ")
    if text in GENERIC:
        return True
    words = text.split()
    return len(words) > 1 and words[-1] in GENERIC_LAST
