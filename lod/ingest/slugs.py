"""Slugs from a source's own identifiers (a permalink slug, a GUID, an `@id`, a name),
normalised to the rule of a record's id, lod.vocab.SLUG: `[a-z0-9]+(-[a-z0-9]+)*`.

Percent-encoding is decoded (WordPress stores non-ASCII slugs percent-encoded), accents are
folded, other scripts are transliterated with anyascii (ISC licence: permissive, unlike
Unidecode's GPL), and what is left empty is hashed, so every identifier gives a slug, always
the same one.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import unquote, urlsplit

from anyascii import anyascii

from ..vocab import SLUG

MAX_LENGTH = 80
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_PAGE_SUFFIX = re.compile(r"\.(?:html?|php|aspx?|jsp)$", re.IGNORECASE)
_TRIVIAL = {"", "index", "default", "feed", "amp"}


def digest(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def slugify(text: str) -> str:
    """`Économie & société` -> `economie-societe`; `Москва` -> `moskva`; `` -> ``."""
    text = unquote(text) if "%" in text else text
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    ascii_text = anyascii(folded).lower()
    slug = _NOT_SLUG.sub("-", ascii_text).strip("-")
    if len(slug) > MAX_LENGTH:
        slug = slug[:MAX_LENGTH].rstrip("-")
    return slug


def slug_for(*candidates: str | None, fallback: str = "item") -> str:
    """The slug of the first candidate that gives one; else `fallback-<hash>` of the
    first non-empty candidate (so the same source always gives the same slug)."""
    for candidate in candidates:
        if candidate:
            slug = slugify(candidate)
            if slug and SLUG.fullmatch(slug):
                return slug
    seed = next((c for c in candidates if c), fallback)
    return f"{fallback}-{digest(seed)}"


def from_url(url: str | None) -> str:
    """The last meaningful path segment of a permalink (`/2021/02/my-post/` -> `my-post`),
    else its fragment, else its query's `p=`/`id=` value, else ''."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    return _from_path(parts.path, parts.netloc) or parts.fragment or _from_query(parts.query)


def _from_path(path: str, netloc: str) -> str:
    """The last segment that is not trivial (`index.html`, `feed`) nor a number (a date's);
    a path of one number (`/123`) gives `<host's first label>-123`."""
    segments = [s for s in path.split("/") if s]
    while segments:
        last = _PAGE_SUFFIX.sub("", segments.pop())
        if last.lower() not in _TRIVIAL and not last.isdigit():
            return last
        if last.isdigit() and not segments:
            return f"{netloc.split('.')[0]}-{last}" if netloc else last
    return ""


def _from_query(query: str) -> str:
    """`?p=123` -> `p-123` (WordPress's plain permalinks), `?id=`, `?page_id=` alike."""
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key in ("p", "id", "page_id") and value:
            return f"{key}-{value}"
    return ""


def with_suffix(slug: str, identity: str) -> str:
    """A colliding slug made unique, deterministically, by its source identity."""
    return f"{slug[: MAX_LENGTH - 7].rstrip('-')}-{digest(identity, 6)}"


def host(url: str | None) -> str:
    """`https://www.example.org/news` -> `example.org`."""
    if not url:
        return ""
    netloc = urlsplit(url.strip()).netloc.split("@")[-1].split(":")[0].lower()
    return netloc.removeprefix("www.")
