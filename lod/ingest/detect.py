"""Which format a source is, from its content (never from its name)."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from pathlib import Path

from ..edit import csv_delimiter
from ..errors import ImportSourceError

HEAD = 65536
_ROOT = re.compile(rb"<([A-Za-z_][\w:.-]*)")
_DOCTYPE_HTML = re.compile(rb"\s*<!doctype\s+html", re.I)
_SKIP = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)", re.S | re.I)

FORMATS = {
    "wxr": "WordPress export (WXR)",
    "rss2": "RSS 2.0 feed",
    "rss1": "RSS 1.0 feed",
    "atom": "Atom feed",
    "jsonfeed": "JSON Feed",
    "html": "web page",
    "csv": "CSV of articles",
}


def detect(path: str) -> str | None:
    """One of FORMATS, or None for content none of them is."""
    with open(path, "rb") as handle:
        head = _without_bom(handle.read(HEAD))
    stripped = head.lstrip()
    if stripped.startswith(b"{"):
        # `https:\/\/jsonfeed.org\/version\/1`: JSON may escape its slashes (PHP does)
        return "jsonfeed" if b"jsonfeed.org/version" in head.replace(b"\\/", b"/") else None
    if stripped.startswith(b"<"):
        return _markup(head, stripped)
    return _table(stripped)


def _without_bom(head: bytes) -> bytes:
    """UTF-8 with its byte order mark dropped; UTF-16 (either order) as UTF-8."""
    if head.startswith(b"\xef\xbb\xbf"):
        return head[3:]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace").encode("utf-8")
    return head


ROOTS = {
    "rss": "rss2",
    "rdf": "rss1",
    "feed": "atom",
    "html": "html",
    "head": "html",
    "body": "html",
}
"""The format of an XML or HTML document by the name of its first element."""


def _markup(head: bytes, stripped: bytes) -> str | None:
    """A feed or an export by its root element (RSS 2.0 with WordPress's namespace is an
    export); a web page by its doctype, its root, or an <html> or <body> anywhere in the
    head (a page saved with something before its root)."""
    if _DOCTYPE_HTML.match(stripped):
        return "html"
    name = _root(stripped)
    if name.endswith(":rdf"):
        name = "rdf"  # RSS 1.0's rdf:RDF, whatever its prefix
    found = ROOTS.get(name)
    if found == "rss2" and b"wordpress.org/export/" in head:
        return "wxr"
    if found is None and (b"<html" in head.lower() or b"<body" in head.lower()):
        return "html"
    return found


def _root(text: bytes) -> str:
    """The name of the first element, lowercased, past the XML declaration, processing
    instructions, comments and the doctype."""
    while (skipped := _SKIP.match(text)) and skipped.end():
        text = text[skipped.end() :]
    found = _ROOT.match(text.lstrip())
    return found.group(1).decode("ascii", "replace").lower() if found else ""


def _table(stripped: bytes) -> str | None:
    """A CSV of articles: a header row naming the headline (its delimiter `,`, `;` or
    tab, as lod.edit.csv_delimiter finds it)."""
    first = stripped.split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    row = next(csv.reader([first], delimiter=csv_delimiter(first)), [])
    cells = {cell.strip() for cell in row}
    return "csv" if cells & {"headline", "title"} else None


def expand(sources: list[str]) -> Iterator[tuple[str, str | None, bool]]:
    """(file, format, named) for each source: a file as given, or each file under a
    folder (hidden ones skipped, sorted); `named` is False for files found in a folder,
    where one that is no source (a saved page's images, styles) is passed over."""
    for source in sources:
        path = Path(source)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.startswith("."):
                        continue
                    file = os.path.join(root, name)
                    yield file, detect(file), False
        elif path.is_file():
            yield str(path), detect(str(path)), True
        else:
            raise ImportSourceError(str(path), 0, "", "no such file or folder")
