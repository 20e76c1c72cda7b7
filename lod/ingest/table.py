"""CSV of articles: one row per article, the columns the article's fields, and a `body`
column (HTML or Markdown) for its text; each row becomes a Markdown file. (The same CSV
also builds as it is in data/articles/: the build's CSV reader, in lod.make.sources, takes
a `body` column.)

The delimiter is `,`, `;` or tab, whichever cuts the header row into the most cells (as the
build reads it: lod.edit.csv_delimiter). A column that is no article field is
refused with the file, the header's line and the column, and the field it most likely
means (`tags`: `keywords`), before anything is written: accepted, it would only fail the
build. A row that names no publisher (and no --publisher) is published, as a feed's items
are, under an organisation made for the site, named by the host of the first row's `url`
(else by the file); that site, like a feed's channel, gives a new data folder its
dataset.yaml.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from ..edit import csv_delimiter
from ..errors import ImportSourceError
from ..make.convert import article as article_kind
from . import html, languages, slugs, xmlsafe
from .common import BadDate, date, site_entity
from .model import Entity, Event, Options, Site, fault

ALIASES = {"title": "headline", "date": "datePublished", "link": "url", "content": "body"}
LISTS = {"author", "about", "mentions", "keywords", "sameAs"}
NOT_FIELDS = {"id", "body"}  # the slug and the Markdown body, not front matter


def _list(value: str) -> list[str]:
    """A list cell: values separated by `;`, as the build reads a CSV's list cells
    (lod.make.convert.fields)."""
    return [v.strip() for v in value.split(";") if v.strip()]


class BadLanguage(ValueError):
    pass


def _language(value: str) -> str:
    """A language cell as BCP 47 writes it (`en_US`, `EN-us`: `en-US`)."""
    found = languages.tag(value)
    if not found:
        raise BadLanguage(f"not a language tag: `{value}`")
    return found


CELLS = {
    "datePublished": date,
    "dateModified": date,
    "inLanguage": _language,
    **dict.fromkeys(LISTS, _list),
}
"""How a column's cell becomes a field (any other column: its text)."""


COLUMNS = {field.name for field in article_kind.KIND.fields} | NOT_FIELDS
"""The columns a CSV of articles may have (and ALIASES' names for some of them)."""
MEANT = {
    "tags": "keywords",
    "tag": "keywords",
    "categories": "keywords",
    "category": "keywords",
    "section": "keywords",
    "summary": "description",
    "excerpt": "description",
    "lead": "description",
    "authors": "author",
    "byline": "author",
    "published": "datePublished",
    "pubdate": "datePublished",
    "modified": "dateModified",
    "updated": "dateModified",
    "language": "inLanguage",
    "lang": "inLanguage",
    "slug": "id",
    "permalink": "url",
    "text": "body",
    "html": "body",
}
"""What a spreadsheet's usual column names mean, for the hint of an unknown column."""


def read(path: str, options: Options) -> Iterator[Event]:
    text = _text(path, options)
    csv.field_size_limit(options.max_item_bytes)
    reader = csv.DictReader(
        io.StringIO(text, newline=""), delimiter=csv_delimiter(text), strict=True
    )
    site = _Site(path, options)
    try:
        _check_header(path, reader)
        for position, row in enumerate(reader, start=1):
            yield from site.events(row)
            yield from _row(path, position, reader.line_num, row, options, site.slug)
    except csv.Error as bad:
        raise ImportSourceError(path, reader.line_num, "", f"invalid CSV: {bad}") from None


def _check_header(path: str, reader: csv.DictReader) -> None:
    """ImportSourceError for a column that is no article field, or that is there twice."""
    names = [(name or "").strip() for name in reader.fieldnames or []]
    for number, name in enumerate(names, start=1):
        field = ALIASES.get(name, name)
        if field not in COLUMNS:
            message = f"unknown article column (column {number})"
            raise ImportSourceError(path, reader.line_num, name, message, _meant(name))
        if [ALIASES.get(n, n) for n in names].count(field) > 1:
            raise ImportSourceError(
                path, reader.line_num, name, f"the column {field} is given twice"
            )


def _meant(name: str) -> str:
    close = MEANT.get(name.lower()) or next(
        iter(difflib.get_close_matches(name, sorted(COLUMNS | set(ALIASES)), n=1)), ""
    )
    if close:
        return f"did you mean `{ALIASES.get(close, close)}`?"
    return "article columns: " + ", ".join(sorted(COLUMNS))


class _Site:
    """The site rows without a publisher are published under (see the module's doc):
    its Site once, before the first row (for a new dataset.yaml), and its organisation
    before the first row that needs it."""

    def __init__(self, path: str, options: Options):
        self.path, self.options = path, options
        self.site: Site | None = None
        self.slug: str | None = options.publisher  # an organisation's, once one is needed

    def events(self, row: dict) -> Iterator[Event]:
        if self.site is None:
            self.site = _site_of(self.path, row)
            yield self.site
        if self.slug is None and not (row.get("publisher") or "").strip():
            organisation = site_entity(self.site, self.options)
            self.slug = organisation.slug
            yield organisation


def _site_of(path: str, row: dict) -> Site:
    url = next((v for k, v in row.items() if ALIASES.get(k, k) == "url" and v), "") or ""
    parts = urlsplit(url.strip())
    if parts.scheme in ("http", "https") and parts.netloc:
        return Site(slugs.host(url), f"{parts.scheme}://{parts.netloc}/")
    return Site(Path(path).stem)


def _text(path: str, options: Options) -> str:
    xmlsafe.check_size(path, options.max_bytes)
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        raise ImportSourceError(
            path, 0, "", f"not UTF-8 ({bad.reason})", "save it as UTF-8"
        ) from None


def _row(
    path: str, position: int, line: int, row: dict, options: Options, publisher: str | None
) -> Iterator[Event]:
    """One row's article, or its faults (a row with no headline or date, or a date that
    is not one)."""
    row = {ALIASES.get(k.strip(), k.strip()): (v or "").strip() for k, v in row.items() if k}
    label = row.get("id") or row.get("url") or f"row {position}"
    fields, problems = _fields(path, label, line, row)
    if problems:
        yield from problems
        return
    if "publisher" not in fields and publisher:
        fields["publisher"] = publisher
    slug = slugs.slug_for(row.get("id"), slugs.from_url(row.get("url")), row["headline"])
    yield Entity("article", slug, fields, body=_body(row), identity=row.get("url") or slug)


def _fields(path: str, label: str, line: int, row: dict) -> tuple[dict, list]:
    """The row's fields in column order (empty cells left out), and its faults: a
    headline or date missing, a date or a language that is not one."""
    problems = [
        fault(path, label, name, "missing", line=line)
        for name in ("headline", "datePublished")
        if not row.get(name)
    ]
    fields: dict = {}
    for name, value in row.items():
        if not value or name in NOT_FIELDS:
            continue
        try:
            fields[name] = CELLS.get(name, str)(value)
        except BadDate as bad:
            problems.append(fault(path, label, name, f"not a date: {bad}", line=line))
        except BadLanguage as bad:
            hint = "BCP 47, e.g. `en` or `pt-BR`"
            problems.append(fault(path, label, name, str(bad), line=line, hint=hint))
    return fields, problems


def _body(row: dict) -> str:
    """The `body` cell as Markdown: HTML converted (and cleaned), Markdown as written."""
    body = row.get("body", "")
    if "<" in body and ">" in body:
        return html.to_markdown(body, row.get("url") or None)
    return body
