"""What the search index's writer (lod.make.search_index) and its reader (lod.serve.search)
share: how text becomes the words the index keeps, and how its rows are numbered.

Words: text is cut into tokens (a run of letters, digits and marks; a Chinese or Japanese
character alone), and each token becomes its key: compatibility forms composed (NFKC),
lower-cased, stemmed by its language's Snowball stemmer (PyStemmer, the Snowball project's
own C library), then folded (Latin and Greek accents gone). A language without a Snowball
stemmer is folded only. The same function reads the text when the index is written and the
query when it is asked, so they always agree.

Why stem before folding: Snowball's rules are written for the language as it is spelled
(French `créées`, Spanish `había`). A query typed without its accents still finds most
words: for 81 % of the 20,000 commonest accented French words (79 % of Spanish), the stem
of the word typed without accents is the stem of the word folded.

Chinese and Japanese write no spaces between words, and Snowball has no stemmer for them:
each Han, hiragana or katakana character is a token, and a query's characters are a phrase,
so `联合国` finds those three characters in that order anywhere. This is what FTS5's
trigram tokenizer would find, but from one character up (most Chinese words are two), with
no dictionary of words to segment by, and in the same table as every other language.

Rows: the index keeps each language's text of a record apart, in a row numbered
`language << SHIFT | record id`, so one language's rows are a range of row ids that a
full-text query can be limited to.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import cache
from itertools import chain

import regex
import Stemmer

VERSION = 3  # of search.sqlite: a build rewrites an index of another version whole
SHIFT = 40  # a row id is language << SHIFT | record id
MASK = (1 << SHIFT) - 1
STEMMER = f"PyStemmer {Stemmer.version()}"  # a new version may stem differently
MAX_KEYS = 500_000  # keys remembered per language (then forgotten, and made again)

_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}"
TOKEN = regex.compile(rf"[{_CJK}]|[[\p{{L}}\p{{N}}\p{{M}}]--[{_CJK}]]+", regex.V1)
_ASCII = re.compile(r"[A-Za-z0-9]+")
_WORD = re.compile(r"[^\W_]+")

# BCP 47 primary language subtag -> Snowball algorithm (those PyStemmer has)
SNOWBALL = {
    "ar": "arabic",
    "hy": "armenian",
    "eu": "basque",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "eo": "esperanto",
    "et": "estonian",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "ga": "irish",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "no": "norwegian",
    "nb": "norwegian",
    "nn": "norwegian",
    "fa": "persian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "st": "sesotho",
    "es": "spanish",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}


def _folding() -> dict[int, str | None]:
    """str.translate's table taking accents off Latin and Greek letters (what FTS5's
    `remove_diacritics` does, and Greek), and dropping combining accents left alone."""
    table: dict[int, str | None] = {}
    latin_and_greek = chain(range(0xC0, 0x250), range(0x370, 0x400), range(0x1E00, 0x2000))
    for code in latin_and_greek:
        decomposed = unicodedata.normalize("NFD", chr(code))
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        if base and base != chr(code):
            table[code] = base
    table.update(dict.fromkeys(range(0x300, 0x370)))
    return table


_FOLDING = _folding()


def _special() -> re.Pattern:
    """A character of text that TOKEN cuts otherwise than Python's `\\w`: a mark, a
    Chinese or Japanese character, one Python's Unicode database does not know (the
    regex module's may be newer), and any beyond the first plane."""
    cjk = regex.compile(rf"[{_CJK}]")
    ranges: list[list[int]] = []
    for code in range(0x80, 0x10000):
        category = unicodedata.category(chr(code))
        if category[0] == "M" or category == "Cn" or cjk.match(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    spans = "".join(f"\\u{first:04x}-\\u{last:04x}" for first, last in ranges)
    return re.compile(f"[{spans}\\U00010000-\\U0010ffff]")


_SPECIAL = _special()


def _pattern(text: str) -> re.Pattern | regex.Pattern:
    """The quickest pattern that cuts the text as TOKEN does: for ASCII text, ASCII
    letters and digits; for text without a character of _SPECIAL (most text), Python's
    own `\\w` (tests/test_search_languages.py checks every character of the first
    plane); else TOKEN, at three times the cost."""
    if text.isascii():
        return _ASCII
    return _WORD if _SPECIAL.search(text) is None else TOKEN


def tokens(text: str) -> list[str]:
    """The tokens of a text, in order: TOKEN.findall(text)."""
    return _pattern(text).findall(text)


def primary(tag: str) -> str:
    """A language tag's primary subtag: `pt-BR` -> `pt`."""
    return tag.split("-", 1)[0].lower()


@cache
def canonical(tag: str) -> str:
    """A BCP 47 tag in its usual case (tags are compared without case): `zh-hant-tw` ->
    `zh-Hant-TW`.

    >>> canonical("EN-gb"), canonical("zh-hant"), canonical("es-419")
    ('en-GB', 'zh-Hant', 'es-419')
    """
    subtags = tag.lower().split("-")
    for i, subtag in enumerate(subtags[1:], 1):
        if len(subtags[i - 1]) == 1:
            break  # after `x-` (private use) or an extension's letter, all lower case
        if len(subtag) == 4 and subtag.isalpha():
            subtags[i] = subtag.title()
        elif len(subtag) == 2 and subtag.isalpha():
            subtags[i] = subtag.upper()
    return "-".join(subtags)


class Words:
    """One language's words: the key the index keeps for each token."""

    def __init__(self, language: str, stemmed: bool = True):
        algorithm = SNOWBALL.get(primary(language)) if stemmed else None
        self.stemmer = Stemmer.Stemmer(algorithm) if algorithm else None
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()  # a Stemmer is not safe across threads

    def key(self, token: str, stem: bool = True) -> str:
        """The key of a token (empty for one of marks alone); not stemmed when `stem` is
        false (the word a prefix query starts with)."""
        found = self._keys.get(token) if stem else None
        if found is None:
            form = unicodedata.normalize("NFKC", token).lower()
            if not form.isascii():  # NFKC may make separators: `½` is 1⁄2
                form = "".join(TOKEN.findall(form))
            if stem and self.stemmer is not None:
                with self._lock:
                    form = self.stemmer.stemWord(form) or form
            found = form.translate(_FOLDING)
            if stem:
                if len(self._keys) >= MAX_KEYS:
                    self._keys.clear()
                self._keys[token] = found
        return found

    def keys(self, text: str) -> list[str]:
        """The keys of a text's tokens, in order: what the index keeps of it."""
        found = tokens(text)
        keys = list(map(self._keys.get, found))  # most are known: one C loop
        if None in keys:
            keys = [self.key(t) if k is None else k for t, k in zip(found, keys, strict=True)]
        return [key for key in keys if key] if "" in keys else keys

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """Each token of the text with its key: (start, end, key), in order."""
        known, spans = self._keys, []
        for found in _pattern(text).finditer(text):
            token = found.group()
            key = known.get(token) or self.key(token)
            if key:
                spans.append((found.start(), found.end(), key))
        return spans


def words_of(language: str, stemmed: bool = True) -> Words:
    """The Words of a language tag (one per primary subtag: `pt-BR` stems as `pt`)."""
    return _words(primary(language), stemmed)


@cache
def _words(language: str, stemmed: bool) -> Words:
    return Words(language, stemmed)
