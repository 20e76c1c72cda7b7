"""CSV of articles: one row per article, the columns the article's fields, and a `body`
column (HTML or Markdown) for its text; each row becomes a Markdown file. (The same CSV
also builds as it is in data/articles/: the CSV reader takes a `body` column.)"""

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


def read(path: str, options: Options) -> Iterator[Event]:
    xmlsafe.check_size(path, options.max_bytes)
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        raise ImportSourceError(
            path, 0, "", f"not UTF-8 ({bad.reason})", "save it as UTF-8"
        ) from None
    csv.field_size_limit(options.max_item_bytes)
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        for position, row in enumerate(reader, start=1):
            row = {
                ALIASES.get(k.strip(), k.strip()): (v or "").strip() for k, v in row.items() if k
            }
            label = row.get("id") or row.get("url") or f"row {position}"
            line = reader.line_num
            problems = []
            if not row.get("headline"):
                problems.append(fault(path, label, "headline", "missing", line=line))
            if not row.get("datePublished"):
                problems.append(fault(path, label, "datePublished", "missing", line=line))
            fields: dict = {}
            for name, value in row.items():
                if not value or name in ("id", "body"):
                    continue
                if name in ("datePublished", "dateModified"):
                    try:
                        value = date(value)
                    except BadDate as bad:
                        problems.append(fault(path, label, name, f"not a date: {bad}", line=line))
                        continue
                if name in LISTS:
                    value = [v.strip() for v in value.split(";") if v.strip()]
                fields[name] = value
            if problems:
                yield from problems
                continue
            if "publisher" not in fields and options.publisher:
                fields["publisher"] = options.publisher
            body = row.get("body", "")
            if "<" in body and ">" in body:
                body = html.to_markdown(body, row.get("url") or None)
            slug = slugs.slug_for(row.get("id"), slugs.from_url(row.get("url")), row["headline"])
            yield Entity("article", slug, fields, body=body, identity=row.get("url") or slug)
    except csv.Error as bad:
        raise ImportSourceError(path, reader.line_num, "", f"invalid CSV: {bad}") from None
