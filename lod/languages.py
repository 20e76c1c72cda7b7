"""The reader's language: which of a dataset's languages to answer in, which of a value's
languages to show, and how a language is named and written.

A dataset lists its languages in order (dataset.yaml `languages`): the first is the default,
the order is the fallback. Negotiation is werkzeug's (RFC 4647 lookup, `fr-CH` falls back to
`fr`); names and script direction are Babel's (CLDR), so no table of languages lives here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header


def negotiate(accept_language: str | None, offered: Sequence[str]) -> str:
    """The offered language the reader prefers (Accept-Language), else the first offered.

    >>> negotiate("fr-CH, fr;q=0.9, en;q=0.8", ["en", "ar", "fr"])
    'fr'
    >>> negotiate("de", ["en", "fr"])
    'en'
    """
    accept = parse_accept_header(accept_language or "", LanguageAccept)
    found = accept.best_match([tag for tag in offered], default=offered[0])
    return found if found in offered else offered[0]


def chosen(asked: str | None, offered: Sequence[str]) -> str | None:
    """An explicit choice (`?lang=fr`) among the offered languages, matched without case;
    None when nothing or something not offered was asked."""
    if not asked:
        return None
    return next((tag for tag in offered if tag.lower() == asked.lower()), None)


def fallback(language: str, languages: Sequence[str]) -> tuple[str, ...]:
    """The order to look for a text in: the reader's language, its primary tag, then the
    dataset's languages in their order.

    >>> fallback("fr-CA", ["en", "fr"])
    ('fr-ca', 'fr', 'en')
    """
    order = [language.lower(), language.lower().split("-")[0]]
    order += [tag.lower() for tag in languages]
    return tuple(dict.fromkeys(order))


def within(tag: str, language: str) -> bool:
    """Whether a text in `tag` is in `language` (RFC 4647 basic filtering: `fr` takes
    `fr-CA`, not the other way round).

    >>> within("fr-CA", "fr"), within("fr", "fr-CA"), within("fro", "fr")
    (True, False, False)
    """
    tag, language = tag.lower(), language.lower()
    return tag == language or tag.startswith(f"{language}-")


def rank(tag: str | None, order: Sequence[str]) -> tuple[int, str]:
    """Where a value in `tag` comes in `order`: those in it first and in its order, then a
    value with no language, then any other language by its tag (never by chance)."""
    tag = (tag or "").lower()
    if tag in order:
        return (0, f"{order.index(tag):04d}")
    return (1, "") if not tag else (2, tag)


def best(
    texts: Iterable[tuple[str | None, str]], order: Sequence[str]
) -> tuple[str | None, str] | None:
    """The (language, text) to show of such pairs, by `rank`, two in one language by their
    text (never by the order they came in); None when there is none.

    >>> best([("en", "United Nations"), ("fr", "Organisation des Nations Unies")], ("fr",))
    ('fr', 'Organisation des Nations Unies')
    >>> best([("en", "UN"), ("de", "UNO"), ("en", "U.N.")], ("fr",))  # en and de: by tag
    ('de', 'UNO')
    >>> best([("en", "UN"), ("en", "U.N.")], ("en",))  # one language: by text
    ('en', 'U.N.')
    """
    return min(texts, key=lambda pair: (rank(pair[0], order), pair[1]), default=None)


def pick(texts: Iterable[tuple[str | None, str]], order: Sequence[str]) -> str | None:
    """The text of `best`.

    >>> pick([("en", "United Nations"), ("fr", "Organisation des Nations Unies")], ("fr", "en"))
    'Organisation des Nations Unies'
    """
    found = best(texts, order)
    return None if found is None else found[1]


@lru_cache(maxsize=256)
def _locale(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag, sep="-")
    except (ValueError, UnknownLocaleError):
        return None


def autonym(tag: str) -> str:
    """The language's name in itself (`français`, `العربية`); the tag when CLDR lacks it.

    >>> autonym("ar"), autonym("x-unknown")
    ('العربية', 'x-unknown')
    """
    locale = _locale(tag)
    name = locale.get_display_name(locale) if locale else None
    return name or tag


def direction(tag: str) -> str:
    """`rtl` for a language written right to left (Arabic, Hebrew, Persian, Urdu …), else
    `ltr`: the value of an HTML `dir` attribute."""
    locale = _locale(tag)
    return locale.text_direction if locale else "ltr"
