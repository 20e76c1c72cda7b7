"""CSV of articles: one row per article, the columns the article's fields, and a `body`
column (HTML or Markdown) for its text; each row becomes a Markdown file. (The same CSV
also builds as it is in data/articles/: the build's CSV reader, in lod.make.sources, takes
a `body` column.)"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from ..errors import ImportSourceError
from . import html, slugs, xmlsafe
from .common import BadDate, date
from .model import Entity, Event, Options, fault

ALIASES = {"title": "headline", "date": "datePublished", "link": "url", "content": "body"}
LISTS = {"author", "about", "mentions", "keywords", "sameAs"}
NOT_FIELDS = {"id", "body"}  # the slug and the Markdown body, not front matter


def _list(value: str) -> list[str]:
    """A list cell: values separated by `;`, as the build reads a CSV's list cells
    (lod.make.convert.fields)."""
    return [v.strip() for v in value.split(";") if v.strip()]


CELLS = {"datePublished": date, "dateModified": date, **dict.fromkeys(LISTS, _list)}
"""How a column's cell becomes a field (any other column: its text)."""


def read(path: str, options: Options) -> Iterator[Event]:
    text = _text(path, options)
    csv.field_size_limit(options.max_item_bytes)
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        for position, row in enumerate(reader, start=1):
            yield from _row(path, position, reader.line_num, row, options)
    except csv.Error as bad:
        raise ImportSourceError(path, reader.line_num, "", f"invalid CSV: {bad}") from None


def _text(path: str, options: Options) -> str:
    xmlsafe.check_size(path, options.max_bytes)
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        raise ImportSourceError(
            path, 0, "", f"not UTF-8 ({bad.reason})", "save it as UTF-8"
        ) from None


def _row(path: str, position: int, line: int, row: dict, options: Options) -> Iterator[Event]:
    """One row's article, or its faults (a row with no headline or date, or a date that
    is not one)."""
    row = {ALIASES.get(k.strip(), k.strip()): (v or "").strip() for k, v in row.items() if k}
    label = row.get("id") or row.get("url") or f"row {position}"
    fields, problems = _fields(path, label, line, row)
    if problems:
        yield from problems
        return
    if "publisher" not in fields and options.publisher:
        fields["publisher"] = options.publisher
    slug = slugs.slug_for(row.get("id"), slugs.from_url(row.get("url")), row["headline"])
    yield Entity("article", slug, fields, body=_body(row), identity=row.get("url") or slug)


def _fields(path: str, label: str, line: int, row: dict) -> tuple[dict, list]:
    """The row's fields in column order (empty cells left out), and its faults: a
    headline or date missing, a date that is not one."""
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
    return fields, problems


def _body(row: dict) -> str:
    """The `body` cell as Markdown: HTML converted (and cleaned), Markdown as written."""
    body = row.get("body", "")
    if "<" in body and ">" in body:
        return html.to_markdown(body, row.get("url") or None)
    return body
