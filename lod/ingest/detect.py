"""Which format a source is, from its content (never from its name)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import ImportSourceError

HEAD = 65536
_ROOT = re.compile(rb"<([A-Za-z_][\w:.-]*)")
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
        head = handle.read(HEAD)
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            if bom != b"\xef\xbb\xbf":
                head = head.decode("utf-16", errors="replace").encode("utf-8")
            else:
                head = head[len(bom) :]
            break
    stripped = head.lstrip()
    if stripped.startswith(b"{"):
        return "jsonfeed" if b"jsonfeed.org/version" in head else None
    if stripped.startswith(b"<"):
        rest = stripped
        while True:
            skipped = _SKIP.match(rest)
            if not skipped or skipped.end() == 0:
                break
            rest = rest[skipped.end() :]
        lower_head = head.lower()
        if re.match(rb"\s*<!doctype\s+html", stripped, re.I):
            return "html"
        found = _ROOT.match(rest.lstrip())
        name = found.group(1).decode("ascii", "replace").lower() if found else ""
        if name == "rss":
            return "wxr" if b"wordpress.org/export/" in head else "rss2"
        if name.endswith(":rdf") or name == "rdf":
            return "rss1"
        if name == "feed":
            return "atom"
        if name in ("html", "head", "body") or b"<html" in lower_head or b"<body" in lower_head:
            return "html"
        return None
    first = stripped.split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    cells = {cell.strip().strip('"') for cell in first.split(",")}
    if cells & {"headline", "title"}:
        return "csv"  # a CSV of articles: a header row naming the headline
    return None


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
