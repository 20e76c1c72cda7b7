"""XML read safely and as a stream.

defusedxml's expat parser with entity declarations and external references refused (so
no billion laughs, no quadratic blowup, no XXE, nothing fetched), a size cap checked
before anything is parsed, and items handed over one at a time and then cleared, so memory
stays flat whatever the size of the file. Every failure becomes one ImportSourceError
naming the file and, where expat knows it, the line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from defusedxml import ElementTree as SafeElementTree

from ..errors import ImportSourceError


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def check_size(path: str, limit: int) -> None:
    size = os.path.getsize(path)
    if size > limit:
        raise ImportSourceError(
            path, 0, "", f"too large ({size} bytes; the limit is {limit})", "split the export"
        )


def stream(path: str, item_tags: set[str], limit: int) -> Iterator[tuple[str, Element, int]]:
    """("start", root, 0) for the root, then ("item", element, position) for each
    element whose local name is in item_tags, complete, and ("end", root, 0) at the end.
    An item is cleared once the caller has it, and the elements before it are dropped."""
    check_size(path, limit)
    try:
        with open(path, "rb") as handle:
            yield from _events(handle, item_tags)
    except EntitiesForbidden as refused:
        raise ImportSourceError(
            path,
            0,
            "",
            f"refused: the XML declares an entity (`{refused.name}`)",
            "entity expansion is off: exports never need it",
        ) from None
    except ExternalReferenceForbidden as refused:
        raise ImportSourceError(
            path,
            0,
            "",
            f"refused: the XML references an external resource ({refused.sysid or refused.pubid})",
            "nothing outside the file is read",
        ) from None
    except DTDForbidden:
        raise ImportSourceError(path, 0, "", "refused: the XML has a DTD") from None
    except DefusedXmlException as refused:
        raise ImportSourceError(path, 0, "", f"refused: {refused}") from None
    except ParseError as bad:
        line = bad.position[0] if bad.position else 0
        raise ImportSourceError(path, line, "", f"not well-formed XML: {bad.msg}") from None
    except LookupError as bad:
        raise ImportSourceError(path, 1, "", f"{bad}", "save it as UTF-8") from None
    except UnicodeDecodeError as bad:
        raise ImportSourceError(path, 0, "", f"bad text encoding: {bad.reason}") from None


def _events(handle: BinaryIO, item_tags: set[str]) -> Iterator[tuple[str, Element, int]]:
    events = SafeElementTree.iterparse(
        handle, events=("start", "end"), forbid_dtd=False, forbid_entities=True
    )
    root = None
    position = 0
    for event, element in events:
        if event == "start":
            if root is None:
                root = element
                yield "start", element, 0
            continue
        if local(element.tag) in item_tags:
            position += 1
            yield "item", element, position
            _drop(element, root)
    if root is not None:
        yield "end", root, 0


def _drop(item: Element, root: Element) -> None:
    """An item the caller is done with cleared, and taken out of its parent (the root or
    one of its children: a channel) so the tree does not grow with the file."""
    item.clear()
    for parent in (root, *root):
        if len(parent) and parent[-1] is item:
            parent.remove(item)
            break


def text(element: Element | None) -> str:
    """All the text of an element, stripped ('' for none)."""
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


def _in(tag: str, ns: str | None) -> bool:
    """ns None: any namespace; '': none; else a namespace starting with ns (WordPress's
    changes with the export version)."""
    if ns is None:
        return True
    return namespace(tag).startswith(ns) if ns else namespace(tag) == ""


def child(element: Element, name: str, ns: str | None = None) -> Element | None:
    """The first child with that local name (in namespace ns, when given)."""
    for sub in element:
        if local(sub.tag) == name and _in(sub.tag, ns):
            return sub
    return None


def children(element: Element, name: str, ns: str | None = None) -> list[Element]:
    return [sub for sub in element if local(sub.tag) == name and _in(sub.tag, ns)]


def child_text(element: Element, name: str, ns: str | None = None) -> str:
    return text(child(element, name, ns))
