"""`lod link mentions`: find the names of the records a dataset knows in its articles, and
propose `mentions` (and `about`, where the name is in the headline).

Names: organisations (name, alternateName), people, places, events, documents (name),
topics (name, altLabel). Both names and text are compared after `text.normalise`
(casefolded, accents folded, punctuation to spaces), so matching is case- and
accent-insensitive and on word boundaries. One exception keeps precision: a name written
as an acronym (`UN`, `WHO`, `MIA-MGA`: two to eight capitals and digits) matches only where
the text writes it in capitals, or "who" and "us" would be organisations.

The matcher is an Aho-Corasick automaton (pyahocorasick) over every name at once, so an
article is scanned once whatever the number of names; of overlapping matches the longest
wins ("United Nations Headquarters" over "United Nations"). A name that belongs to two
records is ambiguous: reported, never guessed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick

from .. import edit
from ..make import sources
from ..text import normalise

NAME_FIELDS = {
    "organisation": ("name", "alternateName"),
    "person": ("name",),
    "place": ("name",),
    "event": ("name",),
    "document": ("name",),
    "topic": ("name", "altLabel"),
}
ACRONYM = re.compile(r"[A-Z0-9][A-Z0-9&.\-]{1,7}")


def _is_acronym(name: str) -> bool:
    return bool(ACRONYM.fullmatch(name)) and sum(c.isupper() for c in name) >= 2


@dataclass
class Found:
    ref: str
    name: str  # the name as the dataset writes it
    count: int = 0
    in_headline: bool = False


@dataclass
class Proposal:
    """What the matcher proposes for one article."""

    ref: str  # article/slug
    file: str
    about: list[Found] = field(default_factory=list)  # new: not yet in about
    mentions: list[Found] = field(default_factory=list)  # new: not yet in mentions or about
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # name -> refs


class Matcher:
    """Every name of the dataset, compiled once."""

    def __init__(self, names: Iterable[tuple[str, str]]):
        by_key: dict[str, dict[str, str]] = defaultdict(dict)  # key -> ref -> name
        acronyms: dict[str, dict[str, str]] = defaultdict(dict)
        for ref, name in names:
            if _is_acronym(name.strip()):
                acronyms[name.strip()][ref] = name
                continue
            key = normalise(name)
            if key:
                by_key[key].setdefault(ref, name)
        self.automaton = ahocorasick.Automaton()
        for key, refs in by_key.items():
            self.automaton.add_word(f" {key} ", (key, tuple(refs.items())))
        self.automaton.make_automaton()
        self.acronyms = {a: tuple(refs.items()) for a, refs in acronyms.items()}
        self.acronym_pattern = (
            re.compile(
                r"(?<![\w-])("
                + "|".join(map(re.escape, sorted(acronyms, key=len, reverse=True)))
                + r")(?![\w-])"
            )
            if acronyms
            else None
        )
        self.size = len(by_key) + len(acronyms)

    def find(self, text: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        """The names in text, longest first where they overlap: (matched key, its
        (ref, name) pairs), once per occurrence."""
        padded = f" {normalise(text)} "
        spans = []
        if self.size and len(self.automaton):
            for end, (key, refs) in self.automaton.iter(padded):
                start = end - len(key)  # the key's first character (after the space)
                spans.append((start, end, key, refs))
        spans.sort(key=lambda s: (-(s[1] - s[0]), s[0]))
        taken: list[tuple[int, int]] = []
        found = []
        for start, end, key, refs in spans:
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append((key, refs))
        if self.acronym_pattern is not None:
            for match in self.acronym_pattern.finditer(text):
                found.append((match.group(1), self.acronyms[match.group(1)]))
        return found


def names_of(records: list[sources.Record]) -> Iterable[tuple[str, str]]:
    for record in records:
        fields = NAME_FIELDS.get(record.kind)
        if not fields or not isinstance(record.id, str):
            continue
        ref = f"{record.kind}/{record.id}"
        for name in fields:
            value = record.values.get(name)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item.strip():
                    yield ref, item.strip()


def _refs(value) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return [str(i).strip() for i in items if isinstance(i, str)]


def propose(data: Path | str, only: set[str] | None = None) -> list[Proposal]:
    """A proposal for every article of data/ (or those whose ref is in `only`)."""
    loaded = sources.load(Path(data))
    matcher = Matcher(names_of(loaded.records))
    proposals = []
    for record in loaded.records:
        if record.kind != "article" or not isinstance(record.id, str):
            continue
        ref = f"article/{record.id}"
        if only is None or ref in only:
            proposals.append(_proposal(matcher, ref, record))
    return proposals


def _proposal(matcher: Matcher, ref: str, record: sources.Record) -> Proposal:
    headline = record.values.get("headline") or ""
    headline = headline if isinstance(headline, str) else ""
    linked = set(_refs(record.values.get("about"))) | set(_refs(record.values.get("mentions")))
    found: dict[str, Found] = {}
    ambiguous: dict[str, list[str]] = {}
    for part, text in (("headline", headline), ("body", record.body or "")):
        for _key, refs in matcher.find(text):
            if len(refs) > 1:
                ambiguous[refs[0][1]] = sorted(r for r, _ in refs)
                continue
            target, name = refs[0]
            hit = found.setdefault(target, Found(target, name))
            hit.count += 1
            hit.in_headline |= part == "headline"
    proposal = Proposal(ref, record.file, ambiguous=ambiguous)
    for hit in sorted(found.values(), key=lambda h: h.ref):
        if hit.ref not in linked:  # linked already, either way: the publisher's choice stands
            (proposal.about if hit.in_headline else proposal.mentions).append(hit)
    return proposal


def review(proposals: list[Proposal]) -> list[str]:
    """The review list: per article, what would be added, and the ambiguous names."""
    lines = []
    for proposal in proposals:
        if not (proposal.about or proposal.mentions or proposal.ambiguous):
            continue
        lines.append(f"{proposal.ref}  ({proposal.file})")
        for name, hits in (("about", proposal.about), ("mentions", proposal.mentions)):
            for hit in hits:
                times = f" x{hit.count}" if hit.count > 1 else ""
                lines.append(f'  {name:9} + {hit.ref}  "{hit.name}"{times}')
        for name, refs in sorted(proposal.ambiguous.items()):
            lines.append(f'  ambiguous   "{name}": {", ".join(refs)} (add by hand)')
    count = sum(len(p.about) + len(p.mentions) for p in proposals)
    articles = sum(1 for p in proposals if p.about or p.mentions)
    lines.append(f"{count} link{'s' if count != 1 else ''} proposed in {articles} article(s)")
    return lines


def write(proposals: list[Proposal]) -> int:
    """Add the proposals to the articles' files (front matter, YAML or CSV), editing only
    the `about` and `mentions` lines (lod.edit); the number of files changed."""
    changed = set()
    for proposal in proposals:
        slug = proposal.ref.split("/", 1)[1]
        for name, hits in (("about", proposal.about), ("mentions", proposal.mentions)):
            if hits and edit.add_values(proposal.file, slug, name, [h.ref for h in hits]):
                changed.add(proposal.file)
    return len(changed)


def score(proposed: set[str], truth: set[str]) -> tuple[float, float]:
    """(precision, recall) of proposed links against hand-made ones."""
    hits = len(proposed & truth)
    precision = hits / len(proposed) if proposed else 1.0
    recall = hits / len(truth) if truth else 1.0
    return precision, recall
