"""Entity reconciliation: the name index a build writes, and matching over it.

Pure, no HTTP: `build_index` runs at build time and gives the JSON written as the build's
`reconcile.json`; `NameIndex` reads it back (once per build in the app) and answers
`match` (reconciliation queries), `suggest` (auto-completion) and `entry` (previews).

Names are compared after `normalise` (NFKD, combining marks dropped, casefolded,
punctuation to spaces), so accents, case and punctuation never stop a match. Candidates
come from an inverted index of normalised tokens (lod.make.listings.tokens: words, and
pairs of characters in Chinese and Japanese), rarest tokens first, so a query never
scans every record; only the shortlist is scored:

    100  the query is a record's name, or its id, or a `sameAs` value given names it
     95  the query is one of its alternate names (alternateName, skos:altLabel)
    <90  otherwise: the better of a fuzzy character ratio and an IDF-weighted token
         overlap, scaled to 90, so a near miss never outranks an exact name

`match` is true only for one exact candidate (name, alternate name, id or sameAs) that
is at least MATCH_MARGIN ahead of the next one.

Names and alternate names in every language are matched alike; a candidate is named in the
language asked for (`language`), else the next of the dataset's languages it has a name in
(lod.languages.fallback), and says which (`lang`); its description is one in that same
language or none, so that a candidate's texts are in the one language it declares.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from rapidfuzz import fuzz

from ..languages import best, fallback, rank
from ..layout import RECONCILE_INDEX_VERSION
from ..make.listings import tokens
from ..text import normalise, same_as_key
from ..vocab import KINDS, SDO, doc_prefix, id_prefix

SCHEMA = str(SDO._NS)

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_QUERY_CHARS = 1000
EXACT, ALTERNATE, FUZZY_CEILING = 100.0, 95.0, 90.0
MATCH_MARGIN = 10.0
MIN_SCORE = 30.0
SHORTLIST = 200
COMMON_TOKEN = 0.05  # a token in more than this share of records only scores, never retrieves
SAME_AS_CAP = 90.0  # a candidate without the sameAs given stays below one that has it

SAME_AS_PROPERTIES = {
    "sameas",
    "schema:sameas",
    "owl:sameas",
    "exactmatch",
    "skos:exactmatch",
    "https://schema.org/sameas",
    "http://schema.org/sameas",
    "http://www.w3.org/2002/07/owl#sameas",
    "http://www.w3.org/2004/02/skos/core#exactmatch",
}
ID_PROPERTY = "id"
"""The property id under which `match` takes entity ids (the 1.0 draft's `matchType: id`)."""

PROPERTIES = [
    {
        "id": "sameAs",
        "name": "same as",
        "description": "The same thing elsewhere: a Wikidata id (Q1065) or any IRI "
        "(Wikidata, ROR, GeoNames …); an exact hit reconciles at once.",
    },
    {
        "id": "owl:sameAs",
        "name": "owl:sameAs",
        "description": "The same as `sameAs`.",
    },
    {
        "id": "exactMatch",
        "name": "exact match (skos:exactMatch)",
        "description": "For topics: the same concept in another scheme; matched like `sameAs`.",
    },
]


class BadQuery(ValueError):
    """A reconciliation query the index cannot answer as asked (an unknown type …)."""


def _authority(key: str) -> str:
    """The scheme's owner of an identifier (`www.wikidata.org`), to tell a conflicting
    identifier from one that merely is of another scheme."""
    return key.split("/")[2] if key.startswith("http://") and key.count("/") >= 3 else ""


def _class_name(iri: str) -> str:
    """A schema.org class as the reconciliation manifest names its type, in words.

    >>> _class_name("https://schema.org/GovernmentOrganization")
    'Government Organization'
    """
    local = iri.removeprefix(SCHEMA)
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local)


@dataclass(frozen=True)
class Condition:
    """A property constraint of a query: `pid` (sameAs, owl:sameAs, exactMatch, or `id`
    for entity ids) and the values given. Unknown properties are ignored, unless
    `required`, which no record can then satisfy.

    quantifier: any (one value must hit), all (every value), none (no value may)."""

    pid: str
    values: tuple[str, ...]
    required: bool = False
    quantifier: str = "any"


@dataclass
class _Conditions:
    """A query's property conditions, resolved against the index."""

    hits: dict[int, str] = field(default_factory=dict)  # record -> "sameAs" or "id"
    required: set[int] | None = None  # None: no condition is required
    excluded: set[int] = field(default_factory=set)
    given_keys: set[str] = field(default_factory=set)  # identifiers given for the entity

    def admits(self, position: int) -> bool:
        return position not in self.excluded and (
            self.required is None or position in self.required
        )


def _decided(candidates: list[tuple[float, str, int]]) -> bool:
    """Whether the first candidate is a match: the one certain candidate (by name, alternate
    name, id or sameAs; by id or sameAs over names), MATCH_MARGIN ahead of the next."""
    certain = [c for c in candidates if c[1] in ("name", "alternate", "id", "sameAs")]
    strongest = [c for c in certain if c[1] in ("id", "sameAs")] or certain
    return (
        len(strongest) == 1
        and candidates[0] is strongest[0]
        and (len(candidates) == 1 or candidates[0][0] - candidates[1][0] >= MATCH_MARGIN)
    )


@dataclass(frozen=True)
class Candidate:
    id: str
    name: str
    score: float
    match: bool
    kind: str
    types: tuple[str, ...]
    description: str | None = None
    reason: str = ""  # name, alternate, id, sameAs or fuzzy
    lang: str | None = None  # the language of its name and description, when it has one

    def type_list(self) -> list[dict[str, str]]:
        """[{id, name}]: the kind first, then the record's schema.org classes (other than
        one that only repeats the kind: `Event` for an event)."""
        return [{"id": self.kind, "name": self.kind.capitalize()}] + [
            {"id": t, "name": _class_name(t)} for t in self.types if t.casefold() != self.kind
        ]


class NameIndex:
    """A build's reconciliation index, ready to answer queries."""

    def __init__(self, data: dict):
        if data.get("version") != RECONCILE_INDEX_VERSION:
            raise ValueError(f"reconciliation index version {data.get('version')!r}")
        self.base: str = data["base"]
        self.languages: tuple[str, ...] = tuple(data["languages"])
        self.entries: list[dict] = data["entries"]
        self.tokens: dict[str, list[int]] = data["tokens"]
        self.same_as: dict[str, list[int]] = data["sameAs"]
        # data extension: where each record's values lie in extend.jsonl, and per type how
        # many records have each property (lod.link.extend reads them)
        self.extension: dict = data.get("extend", {"offsets": [], "properties": {}})
        self._sorted_tokens = sorted(self.tokens)
        self._positions = {e["id"]: i for i, e in enumerate(self.entries)}
        total = max(len(self.entries), 1)
        self._idf = {t: math.log(1 + total / len(p)) for t, p in self.tokens.items()}
        self._unseen = math.log(1 + total)
        self._common = max(COMMON_TOKEN * total, 50)
        by_kind: dict[str, set[int]] = {kind: set() for kind in KINDS}
        by_class: dict[str, set[int]] = {}
        for position, entry in enumerate(self.entries):
            by_kind.setdefault(entry["kind"], set()).add(position)
            for cls in entry["classes"]:
                by_class.setdefault(cls, set()).add(position)
        self._types: dict[str, frozenset[int]] = {}
        self.types: list[dict[str, str]] = []
        for kind in KINDS:
            self._add_type(kind, kind.capitalize(), frozenset(by_kind[kind]), (kind,))
        for cls, members in sorted(by_class.items()):
            forms = (cls, f"schema:{cls}", f"{SCHEMA}{cls}", f"http://schema.org/{cls}")
            self._add_type(cls, _class_name(cls), frozenset(members), forms)
        self._by_length = sorted(
            range(len(self.entries)),
            key=lambda i: (len(self.entries[i]["name"]), self.entries[i]["name"].casefold(), i),
        )

    def _add_type(self, type_id: str, name: str, members: frozenset[int], forms) -> None:
        if type_id.casefold() not in self._types:  # `Event` the class is `event` the kind
            self.types.append({"id": type_id, "name": name})
        for form in forms:
            self._types.setdefault(form.casefold(), members)

    @classmethod
    def load(cls, path: Path | str) -> NameIndex:
        return cls(orjson.loads(Path(path).read_bytes()))

    def __len__(self) -> int:
        return len(self.entries)

    def order(self, language: str | None = None) -> tuple[str, ...]:
        """Where to look for a text asked in `language` (None: the dataset's first)."""
        return fallback(language or self.languages[0], self.languages)

    def first(self, tags: Iterable[str], language: str | None = None) -> str | None:
        """Of the language tags a text is written in, the one to show it in for `language`
        (lod.languages.rank over `order`); None when there is none."""
        order = self.order(language)
        return min(tags, key=lambda tag: rank(tag, order), default=None)

    def texts(self, entry: dict) -> tuple[dict[str, str], dict[str, str]]:
        """A record's names and descriptions by language ({tag: text}; the index keeps
        them apart only for a record written in several languages, and the tag of its
        name only when it is not the dataset's first language)."""
        if "labels" in entry:
            return entry["labels"], entry.get("descriptions", {})
        lang = entry.get("lang", self.languages[0])
        described = {lang: entry["description"]} if "description" in entry else {}
        return {lang: entry["name"]}, described

    def shown(self, texts: dict[str, str], language: str | None = None) -> tuple[str, str] | None:
        """The (tag, text) of {tag: text} to show in `language`, falling back in the
        dataset's order; None when there is none. The tag is "" for a text in no language."""
        return best(texts.items(), self.order(language))

    # types and entries

    def members(self, type_id: str) -> frozenset[int]:
        """Positions of the records of a type: a kind (`organisation`) or a schema.org
        class (`Organization`, `schema:NGO`, its IRI); BadQuery for any other."""
        found = self._types.get(type_id.strip().casefold())
        if found is None:
            kinds = ", ".join(KINDS)
            raise BadQuery(
                f"unknown type `{type_id[:80]}`: use a kind ({kinds}) or a schema.org class "
                "the data uses (see /reconcile/suggest/type)"
            )
        return found

    def position(self, entity_id: str) -> int | None:
        """The position of an id's record (`kind/slug`, or its IRI) in `entries`."""
        return self._position(entity_id)

    def entry(self, entity_id: str) -> dict | None:
        """The indexed record of an id (`kind/slug`, or its IRI), or None."""
        position = self._position(entity_id)
        return None if position is None else self.entries[position]

    def candidate(self, entity_id: str, language: str | None = None) -> Candidate | None:
        """An id's record as a (scoreless) candidate: name, types, description."""
        position = self._position(entity_id)
        if position is None:
            return None
        return self._candidate(position, 0.0, False, "id", language)

    def _position(self, entity_id: str) -> int | None:
        entity_id = entity_id.strip()
        for prefix in (id_prefix(self.base), doc_prefix(self.base)):
            if entity_id.startswith(prefix):
                entity_id = entity_id.removeprefix(prefix)
        return self._positions.get(entity_id)

    def _allowed(self, types: Sequence[str], strict: str) -> frozenset[int] | None:
        """The records a query may return: of any of its types (`all`: of every one).

        `should` filters like `any`: OpenRefine sends it with every typed query, and its
        users pick a type to restrict the candidates."""
        types = [t for t in types if t.strip()]
        if not types:
            return None
        sets = [self.members(t) for t in types]
        if strict == "all":
            return frozenset.intersection(*sets)
        return frozenset.union(*sets)

    # reconciliation

    def match(
        self,
        query: str | Sequence[str] | None,
        type: str | Sequence[str] | None = None,
        properties: Iterable[Condition] = (),
        limit: int = DEFAULT_LIMIT,
        type_strict: str = "any",
        language: str | None = None,
    ) -> list[Candidate]:
        """Candidates for one query, best first: `query` names (one or several, in any
        language), an optional type (or types: a record of any of them, or with
        `type_strict="all"` of every one) and property conditions; at most `limit` of them,
        named in `language`."""
        names = [query] if isinstance(query, str) else list(query or [])
        types = [type] if isinstance(type, str) else list(type or [])
        allowed = self._allowed(types, type_strict)
        limit = max(1, min(limit, MAX_LIMIT))
        conditions = self._conditions(properties)
        scored = self._scores(names, allowed, conditions)
        candidates = sorted(
            (
                (score, reason, position)
                for position, (score, reason) in scored.items()
                if conditions.admits(position) and (allowed is None or position in allowed)
            ),
            key=lambda c: (-c[0], self.entries[c[2]]["name"].casefold(), c[2]),
        )
        decided = _decided(candidates)
        return [
            self._candidate(position, round(score, 1), decided and i == 0, reason, language)
            for i, (score, reason, position) in enumerate(candidates[:limit])
        ]

    def _conditions(self, properties: Iterable[Condition]) -> _Conditions:
        """What a query's property conditions (sameAs-like values, entity ids) say of the
        records: which they identify, require and exclude."""
        found = _Conditions()
        for condition in properties:
            sets = self._condition_hits(condition)
            if sets is None:  # not a property we know: ignored, unless required
                if condition.required:
                    found.required = set()
                continue
            if condition.quantifier == "none":
                found.excluded.update(*sets)
                continue
            reason = "id" if condition.pid.strip().casefold() == ID_PROPERTY else "sameAs"
            if reason == "sameAs":
                found.given_keys.update(same_as_key(v) for v in condition.values)
            if condition.quantifier == "all":
                hit = set(sets[0]).intersection(*sets[1:]) if sets else set()
            else:
                hit = set().union(*sets)
            found.hits.update(dict.fromkeys(hit, reason))
            if condition.required:
                found.required = hit if found.required is None else found.required & hit
        return found

    def _scores(
        self, names: list[str], allowed: frozenset[int] | None, conditions: _Conditions
    ) -> dict[int, tuple[float, str]]:
        """Each candidate record's score and why: by id, by name over the shortlist, by a
        condition's hit; capped where the query gives identifiers the record lacks."""
        scored = self._by_id(names)
        for position, score in self._by_name(names, allowed):
            if score[0] > scored.get(position, (-1, ""))[0]:
                scored[position] = score
        for position, reason in conditions.hits.items():
            scored[position] = (EXACT, reason)
        given = {_authority(k) for k in conditions.given_keys}
        if given:
            self._cap(scored, conditions.hits, given)
        return scored

    def _by_id(self, names: list[str]) -> dict[int, tuple[float, str]]:
        """The records of the names that are an entity id (`organisation/x` or its IRI):
        an exact match."""
        found = (self._position(name) for name in names if "/" in name)
        return {position: (EXACT, "id") for position in found if position is not None}

    def _by_name(
        self, names: list[str], allowed: frozenset[int] | None
    ) -> Iterable[tuple[int, tuple[float, str]]]:
        """Each name's shortlisted records with their score, those scoring at least
        MIN_SCORE (a record of several names once a name)."""
        for text in (t for t in (normalise(n[:MAX_QUERY_CHARS]) for n in names) if t):
            for position in self._retrieve(tokens(text), allowed):
                score = self._score_name(text, self.entries[position])
                if score[0] >= MIN_SCORE:
                    yield position, score

    def _cap(
        self, scored: dict[int, tuple[float, str]], hits: dict[int, str], given: set[str]
    ) -> None:
        """An exact name without the identifier the query gives is less certain: each
        record not hit by an identifier is capped at SAME_AS_CAP, at half of it when it has
        an identifier of an authority given (another entity, there, it seems)."""
        for position, (score, reason) in list(scored.items()):
            if position in hits:
                continue
            keys = {_authority(k) for k in self.entries[position]["sameAs"]}
            cap = SAME_AS_CAP / 2 if (keys & given) - {""} else SAME_AS_CAP
            scored[position] = (min(score, cap), reason)

    def _condition_hits(self, condition: Condition) -> list[list[int]] | None:
        pid = condition.pid.strip().casefold()
        if pid == ID_PROPERTY:
            return [[p] if (p := self._position(v)) is not None else [] for v in condition.values]
        if pid in SAME_AS_PROPERTIES:
            return [self.same_as.get(same_as_key(v), []) for v in condition.values]
        return None

    def _retrieve(self, tokens: list[str], allowed: frozenset[int] | None) -> list[int]:
        """The shortlist for a query's tokens: records sharing its rarer tokens, ranked by
        the IDF weight they share; a very common token alone never pulls in records."""
        known = sorted({t for t in tokens if t in self.tokens}, key=lambda t: len(self.tokens[t]))
        weights: dict[int, float] = {}
        for i, token in enumerate(known):
            postings = self.tokens[token]
            if i > 0 and len(postings) > self._common:
                break  # the rarer tokens have retrieved; common ones only score
            idf = self._idf[token]
            for position in postings:
                if allowed is None or position in allowed:
                    weights[position] = weights.get(position, 0.0) + idf
        if len(weights) <= SHORTLIST:
            return list(weights)
        return sorted(weights, key=lambda p: (-weights[p], p))[:SHORTLIST]

    def _score_name(self, text: str, entry: dict) -> tuple[float, str]:
        if text in entry["names"]:
            return EXACT, "name"
        if text in entry["alternates"]:
            return ALTERNATE, "alternate"
        best = 0.0
        query_tokens = set(tokens(text))
        query_weight = self._weight(query_tokens)
        for factor, labels in ((1.0, entry["names"]), (0.95, entry["alternates"])):
            for label in labels:
                label_tokens = set(tokens(label))
                shared = self._weight(query_tokens & label_tokens)
                recall, precision = shared / query_weight, shared / self._weight(label_tokens)
                words = (2 * recall + precision) / 3
                chars = max(fuzz.ratio(text, label), fuzz.token_sort_ratio(text, label)) / 100
                best = max(best, factor * max(words, chars))
        return FUZZY_CEILING * best, "fuzzy"

    def _weight(self, tokens: set[str]) -> float:
        """The IDF weight of some tokens: rare words count for more than common ones."""
        return sum(self._idf.get(t, self._unseen) for t in tokens) or 1.0

    def _candidate(
        self, position: int, score: float, match: bool, reason: str, language: str | None
    ) -> Candidate:
        entry = self.entries[position]
        labels, descriptions = self.texts(entry)
        tag, name = self.shown(labels, language) or ("", entry["name"])
        return Candidate(
            id=entry["id"],
            name=name,
            score=score,
            match=match,
            kind=entry["kind"],
            types=tuple(entry["types"]),
            description=descriptions.get(tag),
            reason=reason,
            lang=tag or None,
        )

    # auto-completion

    def suggest(
        self,
        prefix: str,
        type: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: int = 0,
        language: str | None = None,
    ) -> list[Candidate]:
        """Records whose name or alternate name in any language starts with `prefix` (each
        word of it a word start), names that start with it first; every record for an
        empty prefix; named in `language`."""
        allowed = self.members(type) if type else None
        words = normalise(prefix[:MAX_QUERY_CHARS]).split()
        if not words:  # everything, shortest names first
            chosen = (p for p in self._by_length if allowed is None or p in allowed)
            return [
                self._candidate(position, 0.0, False, "suggest", language)
                for position in itertools.islice(chosen, cursor, cursor + limit)
            ]
        longest = max(words, key=len)
        start = bisect.bisect_left(self._sorted_tokens, longest)
        pool: set[int] = set()
        for token in self._sorted_tokens[start:]:
            if not token.startswith(longest):
                break
            pool.update(self.tokens[token])
        text = " ".join(words)
        ranked = []
        for position in pool:
            if allowed is not None and position not in allowed:
                continue
            entry = self.entries[position]
            rank = self._suggest_rank(text, words, entry)
            if rank is not None:
                ranked.append((rank, len(entry["name"]), entry["name"].casefold(), position))
        ranked.sort()
        return [
            self._candidate(position, 0.0, False, "suggest", language)
            for *_, position in ranked[cursor : cursor + limit]
        ]

    @staticmethod
    def _suggest_rank(text: str, words: list[str], entry: dict) -> int | None:
        for tier, labels in ((0, entry["names"]), (1, entry["alternates"])):
            if any(label.startswith(text) for label in labels):
                return tier
        for labels in (entry["names"], entry["alternates"]):
            for label in labels:
                tokens = label.split()
                if all(any(t.startswith(w) for t in tokens) for w in words):
                    return 2
        return None

    def suggest_types(self, prefix: str, limit: int = DEFAULT_LIMIT, cursor: int = 0):
        text = normalise(prefix)
        found = [
            t
            for t in self.types
            if normalise(t["name"]).startswith(text) or t["id"].casefold().startswith(text)
        ]
        return found[cursor : cursor + limit]

    def suggest_properties(self, prefix: str, limit: int = DEFAULT_LIMIT, cursor: int = 0):
        text = normalise(prefix)
        found = [
            p
            for p in PROPERTIES
            if any(w.startswith(text) for w in normalise(p["id"] + " " + p["name"]).split())
            or normalise(p["name"]).startswith(text)
        ]
        return found[cursor : cursor + limit]
