"""`lod link mentions`: find the names of the records a dataset knows in its articles, and
propose `mentions` (and `about`, where the name is in the headline).

Names: organisations (name, alternateName), people, places, events, documents (name),
topics (name, altLabel), in every language a record gives them in (a language map,
`name@fr` keys and columns), whatever the article's. Both names and text are compared
after `text.normalise`
(casefolded, accents folded, punctuation to spaces), so matching is case- and
accent-insensitive and on word boundaries. One exception keeps precision: a name written
as an acronym (`UN`, `WHO`, `MIA-MGA`: two to eight capitals and digits) matches only where
the text writes it in capitals, or "who" and "us" would be organisations.

Names that are common words are left out, or "post", "link" and "content" (WordPress tags
become topics) would be linked from every article that says "this post". A name of one
word is a common word when its frequency in the article's language (its `inLanguage`, else
the dataset's `language`) is at least COMMON_ZIPF on the Zipf scale of wordfreq's lists
(4: ten times in a million words, the high-frequency half of the scale). A topic or a
document with such a name is never proposed by it; an organisation, a person, a place or
an event (London, Geneva, China: frequent words because they are names) is proposed only
where the text writes the name with a capital. Names of two words or more, acronyms and
rarer words are matched as before; so is every name in a language wordfreq has no list
for (or needs an extra tokeniser for: Chinese, Japanese, Korean). What was left out is
counted per article (`Proposal.left_out`) and listed at the end of the review.

Text inside a URL (`https://…`, `www.…`: a Markdown link's target, a bare link) is not
read: `wpthemetestdata.files.wordpress.com/…` does not mention WordPress, though the
link's text and title may.

The matcher is an Aho-Corasick automaton (pyahocorasick) over every name at once, so an
article is scanned once whatever the number of names; of overlapping matches the longest
wins ("United Nations Headquarters" over "United Nations"). A name that belongs to two
records is ambiguous: reported, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import ahocorasick
import wordfreq

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
COMMON_ZIPF = 4.0  # ten times in a million words: the high-frequency half of the scale
SUBJECTS = ("topic", "document")  # named by what they are about: a common word says nothing
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>()\[\]\"'`]+", re.IGNORECASE)


def _is_acronym(name: str) -> bool:
    return bool(ACRONYM.fullmatch(name)) and sum(c.isupper() for c in name) >= 2


@lru_cache(maxsize=100_000)
def common_word(name: str, language: str | None) -> bool:
    """Whether a one-word name is a common word of the language (a BCP 47 tag: `en`,
    `en-US`): its Zipf frequency in wordfreq's list is COMMON_ZIPF or more. False for a
    language with no list."""
    primary = (language or "").split("-")[0].casefold()
    if primary not in _languages():
        return False
    try:
        return wordfreq.zipf_frequency(name.casefold(), primary, wordlist="small") >= COMMON_ZIPF
    except ImportError:  # Chinese, Japanese, Korean: a tokeniser wordfreq does not bring
        return False


@lru_cache(maxsize=1)
def _languages() -> frozenset[str]:
    return frozenset(wordfreq.available_languages(wordlist="small"))


def _cased(text: str, folded: str) -> str | None:
    """`text` normalised as lod.text.normalise does, but with its case kept, when it lines
    up with `folded` (its normalised form) character for character; else None."""
    if text.isascii():
        cased = _NOT_ALNUM.sub(" ", text).strip()
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        kept = "".join(
            c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c)
        )
        cased = " ".join(kept.split())
    return cased if len(cased) == len(folded) and cased.casefold() == folded else None


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
    left_out: Counter = field(default_factory=Counter)  # (ref, name) -> times: common words


class Matcher:
    """Every name of the dataset, compiled once. `common(name, language)` says whether a
    one-word name is a common word (common_word: wordfreq's lists)."""

    def __init__(
        self,
        names: Iterable[tuple[str, str]],
        common: Callable[[str, str | None], bool] = common_word,
    ):
        self.common = common
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

    def find(
        self, text: str, language: str | None = None, left_out: Counter | None = None
    ) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        """The names in text, longest first where they overlap: (matched key, its
        (ref, name) pairs), once per occurrence; one-word names that are common words of
        `language` left out (see the module's doc), and counted in `left_out` by (ref,
        name). URLs are not read."""
        text = URL.sub(" ", text)
        folded = normalise(text)
        padded, cased = f" {folded} ", None
        spans = []  # (start, end, key, the pairs kept, the pairs left out)
        if self.size and len(self.automaton):
            for end, (key, refs) in self.automaton.iter(padded):
                start = end - len(key)  # the key's first character (after the space)
                dropped: tuple = ()
                if " " not in key:  # one word: a common word?
                    if cased is None:
                        cased = f" {_cased(text, folded) or folded} "
                    refs, dropped = self._not_common(refs, language, cased[start].isupper())
                spans.append((start, end, key, refs, dropped))
        spans.sort(key=lambda s: (-(s[1] - s[0]), s[0]))
        taken: list[tuple[int, int]] = []
        found = []
        for start, end, key, refs, dropped in spans:
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue  # in a longer name
            if refs:
                taken.append((start, end))
                found.append((key, refs))
            elif left_out is not None:
                left_out.update(dropped)
        if self.acronym_pattern is not None:
            for match in self.acronym_pattern.finditer(text):
                found.append((match.group(1), self.acronyms[match.group(1)]))
        return found

    def _not_common(self, refs, language: str | None, capital: bool) -> tuple[tuple, tuple]:
        """The (ref, name) pairs of a one-word name that stay (not a common word, or a
        proper name, not a topic or a document, written with a capital), and those left
        out."""
        kept, dropped = [], []
        for ref, name in refs:
            subject = ref.split("/", 1)[0] in SUBJECTS
            stays = not self.common(name, language) or (capital and not subject)
            (kept if stays else dropped).append((ref, name))
        return tuple(kept), tuple(dropped)


def names_of(records: list[sources.Record]) -> Iterable[tuple[str, str]]:
    for record in records:
        fields = NAME_FIELDS.get(record.kind)
        if not fields or not isinstance(record.id, str):
            continue
        ref = f"{record.kind}/{record.id}"
        for name in fields:  # in every language: an article may name it in its own
            for _, text in record.texts(name):
                yield ref, text


def _refs(value) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return [str(i).strip() for i in items if isinstance(i, str)]


def propose(data: Path | str, only: set[str] | None = None) -> list[Proposal]:
    """A proposal for every article of data/ (or those whose ref is in `only`)."""
    loaded = sources.load(Path(data))
    matcher = Matcher(names_of(loaded.records))
    default = sources.first_language(loaded.dataset)
    proposals = []
    for record in loaded.records:
        if record.kind != "article" or not isinstance(record.id, str):
            continue
        ref = f"article/{record.id}"
        if only is None or ref in only:
            language = record.values.get("inLanguage") or default
            language = language if isinstance(language, str) else None
            proposals.append(_proposal(matcher, ref, record, language))
    return proposals


def _proposal(
    matcher: Matcher, ref: str, record: sources.Record, language: str | None = None
) -> Proposal:
    headline = record.values.get("headline") or ""
    headline = headline if isinstance(headline, str) else ""
    linked = set(_refs(record.values.get("about"))) | set(_refs(record.values.get("mentions")))
    found: dict[str, Found] = {}
    ambiguous: dict[str, list[str]] = {}
    left_out: Counter[tuple[str, str]] = Counter()
    for part, text in (("headline", headline), ("body", record.body or "")):
        for _key, refs in matcher.find(text, language, left_out):
            if len(refs) > 1:
                ambiguous[refs[0][1]] = sorted(r for r, _ in refs)
                continue
            target, name = refs[0]
            hit = found.setdefault(target, Found(target, name))
            hit.count += 1
            hit.in_headline |= part == "headline"
    left_out = Counter({k: n for k, n in left_out.items() if k[0] not in linked})
    proposal = Proposal(ref, record.file, ambiguous=ambiguous, left_out=left_out)
    for hit in sorted(found.values(), key=lambda h: h.ref):
        if hit.ref not in linked:  # linked already, either way: the publisher's choice stands
            (proposal.about if hit.in_headline else proposal.mentions).append(hit)
    return proposal


def review(proposals: list[Proposal]) -> list[str]:
    """The review list: per article, what would be added, and the ambiguous names; then
    the count of links proposed, and the names left out as common words."""
    lines = [line for proposal in proposals for line in _reviewed(proposal)]
    count = sum(len(p.about) + len(p.mentions) for p in proposals)
    articles = sum(1 for p in proposals if p.about or p.mentions)
    lines.append(f"{count} link{'s' if count != 1 else ''} proposed in {articles} article(s)")
    common = Counter(key for p in proposals for key in p.left_out)  # articles, not times
    if common:
        shown = ", ".join(f'"{name}" ({ref}) in {n}' for (ref, name), n in common.most_common())
        lines.append(f"left out as common words (articles): {shown}")
    return lines


def _reviewed(proposal: Proposal) -> list[str]:
    """One article's lines of the review: none when it has nothing to add or to ask."""
    if not (proposal.about or proposal.mentions or proposal.ambiguous):
        return []
    lines = [f"{proposal.ref}  ({proposal.file})"]
    for name, hits in (("about", proposal.about), ("mentions", proposal.mentions)):
        for hit in hits:
            times = f" x{hit.count}" if hit.count > 1 else ""
            lines.append(f'  {name:9} + {hit.ref}  "{hit.name}"{times}')
    for name, refs in sorted(proposal.ambiguous.items()):
        lines.append(f'  ambiguous   "{name}": {", ".join(refs)} (add by hand)')
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
