"""Front matter edited as text: fields set or replaced line by line, never by a YAML load and
dump, so a publisher's layout, comments and quoting stay as they wrote them.

A Markdown source is `---`, YAML lines, `---`, then the body. A top-level field is a line
`key: …` at column 0 with the lines that follow it (indented lines, list items, blank
lines); a comment at column 0 stands alone. Values written here are one line each: plain
where YAML reads them back as the same text (the sources reader keeps every scalar as
text, so `2021-02-20` or `no` need no quotes), JSON-quoted otherwise.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:(?:\s|$)")
_PLAIN = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`][^\n\r\t]*")


def scalar(value: str) -> str:
    """A string as a one-line YAML scalar that reads back as the same text."""
    value = str(value)
    if (
        _PLAIN.fullmatch(value)
        and ": " not in value
        and " #" not in value
        and not value.endswith((":", " "))
        and value.strip() == value
    ):
        return value
    return json.dumps(value, ensure_ascii=False)


def field(key: str, value) -> list[str]:
    """The lines of one field: `key: value`, or `key:` and `  - item` lines for a list."""
    if isinstance(value, list | tuple):
        return [f"{key}:\n", *(f"  - {scalar(item)}\n" for item in value)]
    return [f"{key}: {scalar(value)}\n"]


@dataclass
class Block:
    key: str | None  # None: a comment or blank line at column 0
    lines: list[str]


@dataclass
class Document:
    """A Markdown source split into its front matter blocks and the rest of the file."""

    blocks: list[Block]
    rest: str  # the closing `---` line and the body, exactly as they were

    @classmethod
    def parse(cls, text: str) -> Document:
        lines = text.splitlines(keepends=True)
        if not lines or lines[0].rstrip("\r\n") != "---":
            raise ValueError("no front matter (the file does not start with `---`)")
        for end in range(1, len(lines)):
            if lines[end].rstrip("\r\n") == "---":
                break
        else:
            raise ValueError("the front matter is not closed")
        blocks = [Block("---", [lines[0]])]
        for line in lines[1:end]:
            found = _KEY.match(line)
            if found:
                blocks.append(Block(found.group(1), [line]))
            elif line.startswith("#") or (not line.strip() and blocks[-1].key in (None, "---")):
                blocks.append(Block(None, [line]))
            else:
                blocks[-1].lines.append(line)
        return cls(blocks, "".join(lines[end:]))

    def keys(self) -> list[str]:
        return [b.key for b in self.blocks if b.key not in (None, "---")]

    def get(self, key: str) -> Block | None:
        return next((b for b in self.blocks if b.key == key), None)

    def set(self, key: str, value) -> None:
        """Replace the field's lines where it stands (blank lines after it are kept), or
        add it at the end of the front matter."""
        lines = field(key, value)
        block = self.get(key)
        if block is None:
            self.blocks.append(Block(key, lines))
            return
        trailing = []
        while block.lines and not block.lines[-1].strip() and len(block.lines) > 1:
            trailing.insert(0, block.lines.pop())
        block.lines = lines + trailing

    def add_items(self, key: str, items: list[str]) -> None:
        """Append items to a list field, after its last line (its other lines, comments
        included, stay as they are); a missing field is added."""
        block = self.get(key)
        if block is None or not block.lines[0].split(":", 1)[1].strip() == "":
            current = list_items(block) if block else []
            self.set(key, current + [i for i in items if i not in current])
            return
        current = list_items(block)
        new = [f"  - {scalar(i)}\n" for i in items if i not in current]
        at = len(block.lines)
        while at > 1 and not block.lines[at - 1].strip():
            at -= 1
        block.lines[at:at] = new

    def set_body(self, body: str) -> None:
        closing = self.rest.splitlines(keepends=True)[0]
        self.rest = closing + (body.rstrip("\n") + "\n" if body else "")

    def text(self) -> str:
        return "".join(line for block in self.blocks for line in block.lines) + self.rest


def list_items(block: Block) -> list[str]:
    """The plain items of a list field's block, as written (`  - organisation/x`)."""
    items = []
    for line in block.lines[1:]:
        stripped = line.strip()
        if stripped.startswith("- "):
            item = stripped[2:].split(" #")[0].strip()
            if item.startswith('"'):
                try:
                    item = json.loads(item)
                except ValueError:
                    pass
            elif item.startswith("'") and item.endswith("'"):
                item = item[1:-1].replace("''", "'")
            items.append(item)
    inline = block.lines[0].split(":", 1)[1].strip()
    if inline.startswith("[") and inline.endswith("]"):
        items += [i.strip().strip("'\"") for i in inline[1:-1].split(",") if i.strip()]
    elif inline and not inline.startswith("#"):
        items.append(inline.strip("'\""))
    return items
