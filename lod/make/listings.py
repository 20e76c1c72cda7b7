"""What a build lists of each record: its entry in lists.json (label, date, for the list
pages, the home page and the sitemap) and in reconcile.json (names, types, sameAs keys, for
the reconciliation service), kept per record so that a rebuild makes again only the entries
of the records that changed.

Both keep a record's label (and description) in the first of the dataset's languages it is
written in (lod.languages.rank), with that language's tag (`lang`, "" for a text with no
language) unless it is the dataset's first language. A record written in several languages
also has them all, as {tag: text} (`labels`, and `descriptions` in reconcile.json); one in
one language does not repeat them, as every app process holds both files. In lists.json an
article or document has its `language` (inLanguage), again unless it is the first."""

from __future__ import annotations

import re
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import cache
from itertools import accumulate
from operator import attrgetter
from sys import intern
from typing import NamedTuple

import orjson
from rdflib import Literal, URIRef
from rdflib.namespace import RDFS

from ..languages import best, fallback
from ..layout import RECONCILE_INDEX_VERSION
from ..text import normalise, same_as_key
from ..triples import Triples
from ..versions import WORKS
from ..vocab import (
    ALTERNATE_NAMES,
    DESCRIPTIVE_DATES,
    KINDS,
    LABELS,
    LISTING_DATES,
    RDF,
    SAME_AS,
    SDO,
    id_prefix,
    kind_and_slug,
    schema_classes,
)
from .convert import Conversion
from .mixnmatch import WIKIDATA_TYPES

SCHEMA = str(SDO._NS)
DESCRIPTION_CHARS = 200
# runs of the scripts written without spaces between words: Han, Hiragana and Katakana
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")


def tokens(name: str) -> list[str]:
    """What the reconciliation index finds a normalised name by: its words, and in the
    scripts written without spaces between words (Chinese, Japanese) each pair of
    characters too, so that part of such a name finds it (`联合国` in `联合国总部`).

    >>> tokens("联合国总部 un")
    ['联合国总部', 'un', '联合', '合国', '国总', '总部']
    """
    words = name.split()
    if name.isascii():  # most names: no need to look for those scripts
        return words
    runs = (run for word in words for run in _UNSPACED.findall(word))
    return words + [run[i : i + 2] for run in runs for i in range(len(run) - 1)]


class Ancestors:
    """A schema.org class and the classes above it, as local names (`NGO` ->
    NGO, Organization, Thing), from the hierarchy shipped in lod/shapes/; memoised."""

    def __init__(self):
        self.known: dict[str, list[str]] = {}  # kept in a Builder's state, not the hierarchy

    def __call__(self, cls: str) -> list[str]:
        if cls not in self.known:
            above = schema_classes().transitive_objects(URIRef(cls), RDFS.subClassOf)
            self.known[cls] = [
                str(c).removeprefix(SCHEMA) for c in above if str(c).startswith(SCHEMA)
            ]
        return self.known[cls]


def _short(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= DESCRIPTION_CHARS:
        return text
    cut = text[: DESCRIPTION_CHARS - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + "…"


def build_index(graph, conversion) -> dict:
    """The reconciliation index of a build's records (JSON-ready, deterministic).

    `graph` is the build's graph (a lod.triples.Triples or an rdflib Graph);
    `conversion` the build's lod.make.convert.Conversion: its dataset's base, languages and
    records (subject -> record of a kind)."""
    base, languages = conversion.dataset.base, conversion.dataset.languages
    ancestors = Ancestors()
    return index_of(
        [
            names_entry(Said.of(graph, s), s, record, base, ancestors, languages)
            for s, record in conversion.records.items()
        ],
        base,
        languages,
    )


class Said:
    """What a record says, its objects by property, grouped once for all its entries. The
    properties are keys as plain text: rdflib's `__eq__` is Python code, and a lookup with
    a term of another identity would call it."""

    def __init__(self, pairs: Iterable[tuple]):
        self.by_property: dict[str, list] = {}
        for predicate, obj in pairs:
            self.by_property.setdefault(str(predicate), []).append(obj)

    @classmethod
    def of(cls, graph, subject: URIRef) -> Said:
        """From a lod.triples.Triples or an rdflib Graph."""
        if hasattr(graph, "by_subject"):
            return cls(graph.by_subject.get(subject, ()))
        return cls(graph.predicate_objects(subject))

    def objects(self, *predicates: URIRef) -> list:
        """The objects of each predicate in turn, each one's sorted (as rdflib sorts terms)."""
        return [o for p in predicates for o in sorted(self.by_property.get(str(p), ()))]

    def value(self, predicate: URIRef):
        """The first of the predicate's objects, or None (lod.triples.Triples.value)."""
        return next(iter(self.objects(predicate)), None)

    def text(self, *predicates: URIRef) -> list[str]:
        return [str(o) for o in self.objects(*predicates)]

    def by_language(self, *predicates: URIRef) -> dict[str, str]:
        """The first text of the predicates (in their order) in each language: {tag: text},
        "" for a text with no language tag."""
        found: dict[str, str] = {}
        for text in self.objects(*predicates):
            found.setdefault(getattr(text, "language", None) or "", str(text))
        return found


def shown(texts: dict[str, str], languages) -> tuple[str, str] | None:
    """(tag, text) of {tag: text} shown by default: in the first of the dataset's
    `languages` it is written in (then one with no language, then by tag); None for none."""
    return best(texts.items(), fallback(languages[0], languages))


def names_entry(
    said: Said, subject: URIRef, record, base: str, ancestors: Ancestors, languages
) -> dict:
    """One record's entry in the index (`languages`: the dataset's, in order)."""
    slug = kind_and_slug(base, str(subject))[1]
    names = said.text(*LABELS)
    labels = said.by_language(*LABELS)
    direct = sorted(c for c in said.text(RDF.type) if c.startswith(SCHEMA))
    descriptions = {tag: _short(text) for tag, text in said.by_language(SDO.description).items()}
    date = next(iter(said.text(*DESCRIPTIVE_DATES)), None)
    tag, name = shown(labels, languages) or shown(descriptions, languages) or ("", slug)
    found = {
        "id": f"{record.kind}/{slug}",
        "name": labels.get(tag, slug),
        "kind": record.kind,
        "types": [c.removeprefix(SCHEMA) for c in direct],
        "classes": sorted({a for cls in direct for a in ancestors(cls)}),
        "names": sorted({normalise(n) for n in names} - {""}),
        "sameAs": sorted({same_as_key(v) for v in said.text(*SAME_AS)}),
    }
    if tag != languages[0]:
        found["lang"] = tag
    if len(labels.keys() | descriptions.keys()) > 1:
        found["labels"] = labels
        if descriptions:
            found["descriptions"] = descriptions
    alternates = {normalise(n) for n in said.text(*ALTERNATE_NAMES)} - {""}
    found["alternates"] = sorted(alternates - set(found["names"]))
    if descriptions:
        found["description"] = shown(descriptions, languages)[1]
    if date is not None:
        found["date"] = date
    found["values"] = property_values(said, base)
    return found


# what data extension (lod.link.extend) answers: each record's own statements, by property
SKIPPED = frozenset(map(str, (RDF.type, SDO.articleBody, SDO.description)))
VALUE_CHARS = 1000


def property_values(said: Said, base: str) -> dict[str, list[list[str]]]:
    """A record's statements as {property: [[tag, value], …]}, sorted: tag `ref` for
    another record (`kind/slug`), `iri` for any other IRI, `date`, `int`, `float` or `str`
    for a literal; a text in a language is [`str`, value, language]. Hash nodes, types and
    long prose are left out."""
    prefix = id_prefix(base)
    found: dict[str, set[tuple[str, ...]]] = {}
    for predicate, objects in said.by_property.items():
        if predicate in SKIPPED:
            continue
        values: set[tuple[str, ...]] = set()
        for obj in objects:
            if isinstance(obj, URIRef):
                iri = str(obj)
                if iri.startswith(prefix):
                    if "#" not in iri:
                        values.add(("ref", iri.removeprefix(prefix)))
                else:
                    values.add(("iri", iri))
            elif isinstance(obj, Literal) and obj.language:
                values.add(("str", str(obj)[:VALUE_CHARS], obj.language))
            elif isinstance(obj, Literal):
                values.add((_tag(str(obj.datatype or "")), str(obj)[:VALUE_CHARS]))
        if values:
            found.setdefault(_local(predicate), set()).update(values)
    return {name: sorted(map(list, values)) for name, values in sorted(found.items())}


def _local(iri: str) -> str:
    if iri.startswith(SCHEMA):
        return iri.removeprefix(SCHEMA)
    for prefix, name in PREFIXES.items():
        if iri.startswith(prefix):
            return f"{name}:{iri.removeprefix(prefix)}"
    return iri


PREFIXES = {
    "http://www.w3.org/2002/07/owl#": "owl",
    "http://www.w3.org/2004/02/skos/core#": "skos",
    "http://purl.org/dc/terms/": "dcterms",
}


@cache
def _tag(datatype: str) -> str:
    if datatype.endswith(("#date", "#dateTime")):
        return "date"
    if datatype.endswith(("#integer", "#int", "#long")):
        return "int"
    if datatype.endswith(("#decimal", "#double", "#float")):
        return "float"
    return "str"


def index_of(entries: list[dict], base: str, languages) -> dict:
    """The index of the entries: sorted by id, with its token and sameAs lookups."""
    return indexes(entries, base, languages)[0]


def indexes(entries: list[dict], base: str, languages) -> tuple[dict, bytes]:
    """The index of the entries (reconcile.json) and their property values (extend.jsonl),
    with the dataset's `languages` (in order: the reconciliation service falls back in it).

    The values are kept out of the index, which every app process holds in memory: they
    are one JSON line per entry, in the index's order, found by the index's
    `extend.offsets` (line i is bytes offsets[i] to offsets[i + 1]) and read only for the
    records a data extension query names. `extend.properties` counts, per kind and per
    schema.org class, the records having each property (for property proposals)."""
    indexed = sorted((Indexed.of(entry) for entry in entries), key=attrgetter("id"))
    counts = Counter(pair for entry in indexed for pair in entry.counted)
    index, values = _index(indexed, counts, (base, tuple(languages)), Lookups(indexed))
    return orjson.loads(b"".join(index)), b"".join(values)


class Indexed(NamedTuple):
    """What the index takes from one entry, made once per entry (a Listings keeps it)."""

    id: str
    bare: bytes  # the entry without its values, as JSON (its keys sorted)
    line: bytes  # its values, a line of extend.jsonl
    tokens: tuple[str, ...]  # the words of its names, sorted
    same_as: list[str]
    types: tuple[str, ...]  # its kind and classes, each counting
    has: tuple[str, ...]  # the properties it has

    @property
    def kind(self) -> str:
        return self.types[0]

    @property
    def counted(self) -> Iterator[tuple[str, str]]:
        """The (kind or class, property) pairs it counts in extend.properties."""
        return ((type_id, name) for type_id in self.types for name in self.has)

    @classmethod
    def of(cls, entry: dict) -> Indexed:
        """Held as compactly as it is read (a Listings holds one for every record: at a
        million records, each 100 bytes held is 100 MB): the entry as JSON, its words and
        its tuples of names shared with the other entries'."""
        values = entry.get("values", {})
        has = list(values) + (["description"] if entry.get("description") else [])
        words = {t for n in entry["names"] + entry["alternates"] for t in tokens(n)}
        bare = {k: v for k, v in entry.items() if k != "values"}
        return cls(
            entry["id"],
            # copied: what orjson.dumps returns keeps its 4 KB buffer, whatever its length
            bytes(memoryview(orjson.dumps(bare, option=orjson.OPT_SORT_KEYS))),
            orjson.dumps(values, option=orjson.OPT_SORT_KEYS) + b"\n",
            tuple(sorted(map(intern, words))),
            entry["sameAs"],
            _shared((entry["kind"], *entry["classes"])),
            _shared(tuple(has)),
        )

    def entry(self) -> dict:
        """The entry without its values."""
        return orjson.loads(self.bare)


_SHARING: dict[tuple, tuple] = {}  # few: the kinds and classes, the sets of properties


def _shared(names: tuple[str, ...]) -> tuple[str, ...]:
    return _SHARING.setdefault(names, names)


class Lookups:
    """Where each token and each sameAs key occurs in the index: the positions (in id
    order) of the entries that have it. Kept by a Listings and brought up to date when an
    entry changes, as long as none comes or goes (which would shift the positions)."""

    def __init__(self, entries: list[Indexed]):
        self.position = {entry.id: position for position, entry in enumerate(entries)}
        self.tokens: dict[str, list[int]] = {}
        self.same_as: dict[str, list[int]] = {}
        for position, entry in enumerate(entries):
            for token in entry.tokens:
                self.tokens.setdefault(token, []).append(position)
            for key in entry.same_as:
                self.same_as.setdefault(key, []).append(position)

    def replace(self, old: Indexed, new: Indexed) -> None:
        """The entry `old` is now `new` (the same record: the same id and position)."""
        position = self.position[new.id]
        for lookup, before, after in (
            (self.tokens, old.tokens, new.tokens),
            (self.same_as, old.same_as, new.same_as),
        ):
            for key in set(before) - set(after):
                lookup[key].remove(position)
                if not lookup[key]:
                    del lookup[key]
            for key in set(after) - set(before):
                insort(lookup.setdefault(key, []), position)


def _index(
    entries: list[Indexed], counts: Counter, dataset: tuple, lookups: Lookups
) -> tuple[Iterator[bytes], Iterator[bytes]]:
    """The index (reconcile.json) and extend.jsonl of the entries (sorted by id;
    `dataset`: its base and languages), in pieces written one after the other: at a million
    records each is about a gigabyte, which a build would otherwise hold whole, with every
    entry decoded. The index is what orjson.dumps writes of it with its keys sorted, each
    entry's JSON as kept. `lookups`' dicts are read as the pieces are: write them first."""
    properties: dict[str, dict[str, int]] = {}
    for (type_id, name), count in sorted(counts.items()):
        if count:
            properties.setdefault(type_id, {})[name] = count
    extend = {"offsets": [0, *accumulate(len(entry.line) for entry in entries)]}
    extend["properties"] = properties

    def json(value) -> bytes:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)

    def index() -> Iterator[bytes]:  # its keys in order
        yield b'{"base":' + json(dataset[0]) + b',"entries":['
        for number, entry in enumerate(entries):
            yield b"," + entry.bare if number else entry.bare
        yield b'],"extend":' + json(extend)
        yield b',"languages":' + json(list(dataset[1]))
        yield b',"sameAs":' + json(lookups.same_as)
        yield b',"tokens":' + json(lookups.tokens)
        yield b',"version":' + json(RECONCILE_INDEX_VERSION) + b"}"

    return index(), (entry.line for entry in entries)


class Listings:
    """Each record's entry in lists.json and what reconcile.json takes from it, kept (by a
    Builder) so that a rebuild makes again only the entries of the records that changed."""

    def __init__(self) -> None:
        self.lists: dict[URIRef, dict] = {}
        self.names: dict[URIRef, Indexed] = {}
        self.counts: Counter = Counter()  # extend.properties, kept up to date
        self.lookups: Lookups | None = None  # those of the last index made, kept up to date
        self.ancestors = Ancestors()
        self.languages: tuple[str, ...] = ()  # the dataset's
        # the records whose entries were made again since the lists were last written
        # (None: every record's, as after a full build)
        self.touched: set[str] | None = None
        # whether an entry Mix'n'match catalogues came, went or changed since then
        self.catalogue_changed = True
        # each kind's records in the lists' order, kept in order as entries change (None:
        # to sort again)
        self.order: dict[str, list[URIRef]] | None = None
        # whether a record came, went or changed its place since the lists were written,
        # and the build they were written in (lists.sqlite is patched in place from it)
        self.moved = True
        self.written: str | None = None
        # the works with language versions of their own (lod.versions): translations, and
        # works in a language the dataset lacks
        self.versioned: set[URIRef] = set()

    def update(self, graph: Triples, conversion: Conversion, changed=None) -> None:
        """The entries of the records whose subject is in `changed` (every record's when
        None) made again; those of records no longer there dropped."""
        records = conversion.records
        for gone in [s for s in self.lists if s not in records]:
            del self.lists[gone]
            self.versioned.discard(gone)
            self.order, self.moved = None, True
            entry = self.names.pop(gone)
            self.counts.subtract(entry.counted)
            self.lookups = None
            self.catalogue_changed |= entry.kind in WIKIDATA_TYPES
        if changed is None:
            self.touched = None
            self.order, self.moved = None, True  # sorted once, not placed record by record
        elif self.touched is not None:
            self.touched.update(str(s) for s in changed)
        for subject in records if changed is None else [s for s in changed if s in records]:
            self.add(subject, graph.about(subject), conversion)

    def add(self, subject: URIRef, pairs: Iterable[tuple], conversion: Conversion) -> None:
        """The entries of the record `subject` made (again) of its pairs."""
        base, languages = conversion.dataset.base, conversion.dataset.languages
        self.languages = languages  # a change of dataset.yaml is a full build, a new Listings
        said = Said(pairs)
        record = conversion.records[subject]
        listed = list_entry(said, subject, languages)
        was = None  # its place in its kind's list, if it had one
        if self.order is not None and subject in self.lists:
            entries = self.order[record.kind]
            was = bisect_left(entries, self._rank(subject), key=self._rank)
            del entries[was]
        self.lists[subject] = listed
        if record.kind in WORKS and (
            "translationOf" in listed or listed.get("language", languages[0]) not in languages
        ):
            self.versioned.add(subject)
        else:
            self.versioned.discard(subject)
        if self.order is None:
            self.moved = True
        else:  # into its place
            entries = self.order[record.kind]
            place = bisect_left(entries, self._rank(subject), key=self._rank)
            entries.insert(place, subject)
            self.moved |= place != was
        entry = Indexed.of(names_entry(said, subject, record, base, self.ancestors, languages))
        old = self.names.get(subject)
        if entry.kind in WIKIDATA_TYPES and (old is None or old.bare != entry.bare):
            self.catalogue_changed = True
        if old is None:
            self.lookups = None
        else:
            self.counts.subtract(old.counted)
            if self.lookups is not None:
                self.lookups.replace(old, entry)
        self.names[subject] = entry
        self.counts.update(entry.counted)

    def works(self) -> list[dict]:
        """What lod.versions.Versions.of_works needs of lists.json's works, in its order:
        the works with versions of their own and the originals they translate (a few,
        not every article)."""
        chosen = set(self.versioned)
        for subject in self.versioned:
            original = URIRef(self.lists[subject].get("translationOf", ""))
            if original in self.names and self.names[original].kind in WORKS:
                chosen.add(original)
        in_order = sorted(chosen, key=lambda s: (WORKS.index(self.names[s].kind), self._rank(s)))
        return [self.lists[subject] for subject in in_order]

    def _rank(self, subject: URIRef) -> tuple:
        """Where the record's entry is in its kind's list, as lists_by_kind sorts it."""
        entry = self.lists[subject]
        return _Newest(entry["date"]), entry["label"].casefold(), str(subject)

    def serialised(self, base: str) -> tuple[Iterator[bytes], Iterator[bytes]]:
        """reconcile.json and extend.jsonl in pieces, as `indexes` makes them of every
        entry."""
        entries = sorted(self.names.values(), key=attrgetter("id"))
        if self.lookups is None:
            self.lookups = Lookups(entries)
        return _index(entries, self.counts, (base, self.languages), self.lookups)


def list_entry(said: Said, subject: URIRef, languages) -> dict:
    """A record's entry in lists.json: its label (in the first of the dataset's `languages`
    it has one in) with its `lang`, and its `labels` ({tag: text}) when it has them in
    several languages; dates; an article's or document's language (its inLanguage), by
    which feeds and lists choose (`lang` and `language` only when not the first), and the
    original it translates (`translationOf`)."""
    labels = said.by_language(*LABELS)
    tag, label = shown(labels, languages) or ("", "")
    dated = next(filter(None, (said.value(p) for p in LISTING_DATES)), None)
    modified = said.value(SDO.dateModified) or dated  # the sitemap's lastmod
    found = {
        "iri": str(subject),
        "label": label,
        "date": str(dated) if dated is not None else "",
        "modified": str(modified) if modified is not None else "",
    }
    if tag != languages[0]:
        found["lang"] = tag
    if len(labels) > 1:
        found["labels"] = labels
    language = said.value(SDO.inLanguage)
    if language is not None and str(language) != languages[0]:
        found["language"] = str(language)
    original = said.value(SDO.translationOfWork)
    if original is not None:  # for the pages' and the sitemap's language versions
        found["translationOf"] = str(original)
    return found


def lists_by_kind(listings: Listings, conversion: Conversion) -> dict[str, list[dict]]:
    """Each kind's records, newest first where dated, then by label, then by IRI: the list
    pages and the home page read these instead of querying per request. Sorted once; a
    Listings then keeps each record in its place as its entry changes (Listings.add)."""
    if listings.order is None:
        listings.order = {kind: [] for kind in KINDS}
        for subject, record in conversion.records.items():
            listings.order[record.kind].append(subject)
        for subjects in listings.order.values():
            subjects.sort(key=str)
            subjects.sort(key=lambda s: listings.lists[s]["label"].casefold())
            subjects.sort(key=lambda s: listings.lists[s]["date"], reverse=True)
    return {
        kind: [listings.lists[subject] for subject in subjects]
        for kind, subjects in listings.order.items()
    }


class _Newest(str):
    """A date that sorts newest first."""

    def __lt__(self, other: str) -> bool:
        return str.__gt__(self, other)

    def __gt__(self, other: str) -> bool:
        return str.__lt__(self, other)
