"""JSON-LD as CMS themes write it, read leniently.

A page's `<script type="application/ld+json">` is written by templates, not by a JSON
encoder, and the ones news sites serve carry `//` and `/* */` comments, trailing commas,
single-quoted strings, raw newlines inside strings, two objects one after the other, a
stray `}` or a closing `;`. Browsers never parse these blocks, so nobody notices; search
engines and extruct read them leniently, and so does `lod import`:

1. strict JSON (`json.loads`), the common case;
2. JSON with raw control characters in strings (`strict=False`): exact, nothing guessed;
3. json-repair (MIT, https://github.com/mangiucugna/json_repair), which removes comments,
   trailing commas and stray brackets, reads single quotes, and returns several top-level
   objects as a list.

What comes back is kept only when it holds at least one object: a block that is no JSON at
all (an unrendered template tag, an error message) is `Unreadable`, with the strict
parser's message, and is never made into data.
"""

from __future__ import annotations

import json
from typing import Any

from json_repair import repair_json


class Unreadable(ValueError):
    """A block from which no object could be read: the strict parser's complaint."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.message, self.line = message, line


def loads(text: str) -> tuple[Any, bool]:
    """(the block's data, whether it had to be repaired); Unreadable for a block in which
    no JSON object can be found."""
    try:
        return json.loads(text), False
    except json.JSONDecodeError as strict:
        first = strict
    try:
        return json.loads(text, strict=False), True
    except json.JSONDecodeError:
        pass
    repaired = repair_json(text, return_objects=True, skip_json_loads=True)
    if _has_object(repaired):
        return repaired, True
    raise Unreadable(first.msg, first.lineno)


def _has_object(data: Any) -> bool:
    if isinstance(data, dict):
        return bool(data)
    if isinstance(data, list):
        return any(isinstance(item, dict) and item for item in data)
    return False
