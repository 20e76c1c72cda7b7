"""Language tags as sources write them -> BCP 47 tags as the build reads them.

Feeds, pages and CMSs write a language in many ways: `en-us` (RSS), `en_US` (WordPress
locales, og:locale), `EN`, `eng`, `iw` (retired for `he`), `zh-hans` (WPML). langcodes (a
maintained library over the IANA subtag registry) checks the tag and writes it as BCP 47
does (`en-US`, `zh-Hans`, `he`); a value that is no language tag (`English`, `sr_RS@latin`,
a private-use `x-klingon`) or says no language at all (`und`, `zxx`) gives '' and the next
source of the language is asked (an entry's, then its feed's). Language names are not
looked up: that needs langcodes' name tables (another dependency) for a rare case.
"""

from __future__ import annotations

import langcodes

from ..languages import within
from ..make.convert.values import LANGUAGE_TAG

NO_LANGUAGE = {"und", "zxx"}  # undetermined; no linguistic content


def tag(raw: object) -> str:
    """The BCP 47 tag a source's value names, written as the standard writes it; '' for a
    value that names no language."""
    if not isinstance(raw, str):
        return ""
    text = raw.strip().replace("_", "-")
    if not text or not langcodes.tag_is_valid(text):
        return ""
    standard = langcodes.standardize_tag(text)
    if standard in NO_LANGUAGE or not LANGUAGE_TAG.fullmatch(standard):
        return ""
    return standard


def first(*candidates: object) -> str:
    """The tag of the first candidate that names a language ('' when none does): the
    sources of an item's language, the most particular first."""
    for candidate in candidates:
        found = tag(candidate)
        if found:
            return found
    return ""


def same(one: str, other: str) -> bool:
    """Two tags of one language, one maybe more particular (`en` and `en-GB`): a site
    whose locale is en-US writes its posts in `en`."""
    return bool(one and other) and (within(one, other) or within(other, one))
