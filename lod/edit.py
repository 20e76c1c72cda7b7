"""data/ files edited as text: a record's field set or given more values, a Markdown
file's body replaced. Never a YAML load and dump: every line an edit does not touch stays
byte for byte what the publisher wrote (comments, quoting, order, blank lines, line
endings, a byte-order mark). lod.ingest.writer writes and re-imports files with it;
lod.link.mentions and lod.link.review add links with it.

Records are in Markdown front matter (`.md`: a line `---`, YAML, a line `---`, the body),
YAML files of one record (a mapping) or of many (a list of mappings), and CSV rows (`;`
separates the values of a cell).

One rule writes a value (`scalar`): plain where YAML reads it back as the same text (the
sources reader keeps every scalar as text, so `2021-02-20` or `no` need no quotes; in a
flow list `[…]` a comma or a bracket needs them too), JSON-quoted otherwise.

Values are added (`add_values`, `Record.add`) where the field is:

- a block list (`field:` then `- value` lines): a `- value` line after its last item;
- a flow list (`field: [a, b]`) on one line: `, value` before the `]`;
- one value (`field: a`) on one line: it becomes a flow list `[a, value]`;
- empty (`field:`, `field: ~`, `field: ""`) or absent: `field:` and `- value` lines, in
  its place or after the record's last line, at the record's indentation;
- a CSV cell: the row is written again with `;value` added to the cell (the other rows
  are untouched); a CSV file without that column gains it: `,field` on the header and
  one more cell on every row (empty but for the record's).

A field set (`Record.set`) takes the place of the lines from its key to its value's last
line (blank lines after it stay), or goes after the record's last line. Anything else (a
flow mapping record, a value over several lines to add to) is an EditError naming the
file and the record: edit it by hand.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from .errors import LodError

BOM = "\ufeff"
NULL_TAG = "tag:yaml.org,2002:null"
_PLAIN = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`][^\n\r\t]*")
_FLOW = re.compile(r"[,\[\]{}]")
_NULL = re.compile(r"~|null|Null|NULL")  # what YAML reads as no value at all
# Characters YAML refuses, or reads as a line break, even in a quoted scalar: escaped there.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


class EditError(LodError):
    """A record that cannot be edited as text (its file, record and why)."""

    def __init__(self, path: Path | str, record_id: str, message: str):
        self.path, self.record_id, self.message = str(path), record_id, message
        super().__init__(f"{path}: {record_id}: {message}")


# values as YAML text


def scalar(value: Any, flow: bool = False) -> str:
    """A value as a one-line YAML scalar that reads back as the same text: plain where
    that is safe (in a flow list `[…]` too, when `flow`), JSON-quoted otherwise."""
    value = str(value)
    plain = (
        _PLAIN.fullmatch(value) is not None
        and _NULL.fullmatch(value) is None
        and _UNPRINTABLE.search(value) is None
        and ": " not in value
        and " #" not in value
        and not value.endswith((":", " "))
        and value.strip() == value
        and not (flow and _FLOW.search(value))
    )
    if plain:
        return value
    quoted = json.dumps(value, ensure_ascii=False)
    return _UNPRINTABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", quoted)


def field(key: str, value: Any, indent: str = "", newline: str = "\n") -> list[str]:
    """The lines of one field: `key: value`, or `key:` and `  - item` lines for a list."""
    if isinstance(value, list | tuple):
        items = [f"{indent}  - {scalar(item)}{newline}" for item in value]
        return [f"{indent}{key}:{newline}", *items]
    return [f"{indent}{key}: {scalar(value)}{newline}"]


# files


def add_values(path: Path | str, record_id: str, field: str, values: Sequence[str]) -> list[str]:
    """Add `values` to `field` of the record `record_id` (a slug; a one-record file with
    no `id` is its stem) in the file at `path`, writing the file only when something is
    added; the values added, in order (those already there are skipped)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise EditError(path, record_id, "not UTF-8") from None
    source = Source(text, path)
    if path.suffix == ".csv":
        added = _add_to_row(source, record_id, field, values)
    else:
        added = source.record(record_id).add(field, values)
    if added:  # written beside, then renamed: a reader sees the old file or the new one
        temporary = path.with_name(f".{path.name}.edit-{os.getpid()}")
        temporary.write_bytes(source.text().encode("utf-8"))
        os.replace(temporary, path)
    return added


class Source:
    """A data/ file's text open for editing: its lines (each with its own ending) and its
    byte-order mark; `path` says what kind of file it is (and names it in errors)."""

    def __init__(self, text: str, path: Path | str):
        self.path = Path(path)
        self.bom = BOM if text.startswith(BOM) else ""
        self.lines = _lines(text.removeprefix(BOM))

    def text(self) -> str:
        return self.bom + "".join(self.lines)

    @property
    def newline(self) -> str:
        """The file's line ending (its first line's), `\\n` when it has none."""
        for line in self.lines:
            if line.endswith("\r\n"):
                return "\r\n"
            if line.endswith(("\n", "\r")):
                return line[-1]
        return "\n"

    def record(self, record_id: str | None = None) -> Record:
        """A record of the file (`None`: the file's one record, whatever its id), in the
        front matter of a `.md` file or in a `.yaml` file."""
        if self.path.suffix == ".md":
            start, end = self._front_matter(record_id)
            return Record(self, start, end, record_id)
        if self.path.suffix in (".yaml", ".yml"):
            return Record(self, 0, len(self.lines), record_id)
        raise EditError(
            self.path, record_id or self.path.stem, "not a .md, .yaml, .yml or .csv file"
        )

    def body(self) -> str:
        """What follows a Markdown file's front matter (after its closing `---` line)."""
        return "".join(self.lines[self._front_matter(None)[1] + 1 :])

    def set_body(self, body: str) -> None:
        self.lines[self._front_matter(None)[1] + 1 :] = _lines(body)

    def _front_matter(self, record_id: str | None) -> tuple[int, int]:
        """The front matter's first line, and its closing `---` line."""
        lines, named = self.lines, record_id or self.path.stem
        if not lines or lines[0].rstrip("\r\n") != "---":
            raise EditError(self.path, named, "no front matter (the file must start with `---`)")
        for end in range(1, len(lines)):
            if lines[end].rstrip("\r\n") == "---":
                return 1, end
        raise EditError(self.path, named, "the front matter has no closing `---`")


def _lines(text: str) -> list[str]:
    return io.StringIO(text, newline="").readlines()


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


# a record in YAML


class Record:
    """One record of the YAML document in `source.lines[start:end]` (a whole file, or a
    front matter): its fields read, set and added to in place."""

    def __init__(self, source: Source, start: int, end: int, record_id: str | None):
        self.source, self.start, self.end = source, start, end
        self.record_id = record_id
        self.named = record_id or source.path.stem
        self._node: yaml.MappingNode | None = None

    def get(self, key: str) -> Any:
        """The field's value as written (every scalar as its text, lists and mappings of
        them), or None when the record has no such field."""
        entry = _entry(self._mapping(), key)
        return None if entry is None else _value(entry[1])

    def set(self, key: str, value: Any) -> None:
        """The field given `value` (a text or a list), in place of its lines or, when the
        record has no such field, after the record's last line."""
        mapping = self._mapping()
        entry = _entry(mapping, key)
        if entry is None:
            indent = " " * mapping.value[0][0].start_mark.column
            self._insert(self._last(mapping), field(key, value, indent, self.source.newline))
            return
        name, node = entry
        first = self.start + name.start_mark.line
        column = name.start_mark.column
        new = field(key, value, " " * column, self.source.newline)
        new[0] = self.source.lines[first][:column] + new[0][column:]  # a list item's `- `
        self._replace(first, self._last(node) + 1, new)

    def add(self, key: str, values: Sequence[str]) -> list[str]:
        """Values added to the field (those it has already are skipped); those added."""
        entry = _entry(self._mapping(), key)
        node = entry[1] if entry is not None else None
        added = [v for v in dict.fromkeys(values) if v not in _texts(node)]
        if not added:
            return []
        if node is None or _empty(node):
            self.set(key, added)
        elif isinstance(node, yaml.SequenceNode) and not node.flow_style:
            dash = " " * node.start_mark.column + "- "
            new = [f"{dash}{scalar(v)}{self.source.newline}" for v in added]
            self._insert(self._last(node), new)
        elif node.start_mark.line == node.end_mark.line:
            self._extend_line(node, added)
        else:
            raise self._error(f"`{key}` spans lines: add the values by hand")
        return added

    def _extend_line(self, node: yaml.Node, added: list[str]) -> None:
        """A one-line value made a flow list, or a flow list made longer, in its line."""
        number = self.start + node.start_mark.line
        line = self.source.lines[number]
        left, right = node.start_mark.column, node.end_mark.column
        inner = ", ".join(scalar(v, flow=True) for v in added)
        if isinstance(node, yaml.SequenceNode):
            body = line[left : right - 1].rstrip()
            joined = f"{body}, {inner}]" if node.value else f"[{inner}]"
        else:
            written = line[left:right]
            plain = isinstance(node, yaml.ScalarNode) and node.style is None
            if plain and _FLOW.search(written):  # `a, b` is not one item in […]
                written = scalar(node.value, flow=True)
            joined = f"[{written}, {inner}]"
        self._replace(number, number + 1, [line[:left] + joined + line[right:]])

    def _mapping(self) -> yaml.MappingNode:
        if self._node is None:
            text = "".join(self.source.lines[self.start : self.end])
            found = _find(self._compose(text), self.source.path.stem, self.record_id)
            if found is None:
                raise self._error("no such record in this file")
            if found.flow_style:
                raise self._error("a flow mapping `{…}`: add the values by hand")
            self._node = found
        return self._node

    def _compose(self, text: str) -> yaml.Node | None:
        """The document's nodes; aliases are refused, as the sources reader does."""
        try:
            if "*" in text and any(
                isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=yaml.SafeLoader)
            ):
                raise self._error("YAML aliases (*name) are not allowed")
            return yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as bad:
            raise self._error(f"not valid YAML: {bad}") from None
        except RecursionError:
            raise self._error("nested too deeply") from None

    def _last(self, node: yaml.Node) -> int:
        """The last line of the file holding some of the node's text (not a blank line
        after it)."""
        first, last = self.start + node.start_mark.line, self.start + _last_line(node)
        while last > first and not self.source.lines[last].strip():
            last -= 1
        return last

    def _insert(self, after: int, new: list[str]) -> None:
        lines = self.source.lines
        if not lines[after].endswith(("\n", "\r")):
            lines[after] += self.source.newline
        self._replace(after + 1, after + 1, new)

    def _replace(self, first: int, stop: int, new: list[str]) -> None:
        self.source.lines[first:stop] = new
        self.end += len(new) - (stop - first)
        self._node = None  # the nodes' marks are out of date

    def _error(self, message: str) -> EditError:
        return EditError(self.source.path, self.named, message)


def _find(root: yaml.Node | None, stem: str, record_id: str | None) -> yaml.MappingNode | None:
    if isinstance(root, yaml.MappingNode):
        if record_id is None:
            return root
        found = _id_of(root)
        return root if found == record_id or (found is None and stem == record_id) else None
    if isinstance(root, yaml.SequenceNode) and record_id is not None:
        for item in root.value:
            if isinstance(item, yaml.MappingNode) and _id_of(item) == record_id:
                return item
    return None


def _id_of(mapping: yaml.MappingNode) -> str | None:
    for key, node in mapping.value:
        if key.value == "id" and isinstance(node, yaml.ScalarNode):
            return node.value.strip()
    return None


def _entry(mapping: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    return next(((k, v) for k, v in mapping.value if k.value == key), None)


def _value(node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_value(item) for item in node.value]
    return {str(_value(k)): _value(v) for k, v in node.value}


def _texts(node: yaml.Node | None) -> set[str]:
    """The values a field has (to skip adding them again)."""
    if isinstance(node, yaml.ScalarNode):
        return {node.value.strip()} if node.value.strip() else set()
    if isinstance(node, yaml.SequenceNode):
        return {v.value.strip() for v in node.value if isinstance(v, yaml.ScalarNode)}
    return set()


def _empty(node: yaml.Node) -> bool:
    """A field with no value: `field:`, `field: ~`, `field: ""`."""
    return isinstance(node, yaml.ScalarNode) and (node.tag == NULL_TAG or not node.value.strip())


def _last_line(node: yaml.Node) -> int:
    """The last line (0-based, of the document) holding some of the node's text."""
    if isinstance(node, yaml.ScalarNode):
        if node.end_mark.column == 0 and node.end_mark.line > node.start_mark.line:
            return node.end_mark.line - 1  # a block scalar ends at the next line's start
        return node.end_mark.line
    if node.flow_style or not node.value:
        return node.end_mark.line
    last = node.value[-1]
    return _last_line(last[1] if isinstance(last, tuple) else last)


# a record in CSV

DELIMITERS = ",;\t"


def csv_delimiter(text: str) -> str:
    """A CSV's delimiter, from its header row: whichever of `,`, `;` and tab cuts it into
    the most cells (`,` on a tie). Spreadsheets set to a language that writes decimal
    commas (German, French, Spanish …) save CSV with `;`. (Not csv.Sniffer: it guesses from
    character frequencies, and takes the letter `e` for the delimiter of a one-column file
    such as `name\nAcme\n`; the build, the importer and the editor must agree.)"""
    first = (text.lstrip("\ufeff").splitlines() or [""])[0]  # \r alone ends a line too

    def cells(delimiter: str) -> int:
        try:
            return len(next(csv.reader([first], delimiter=delimiter), []))
        except csv.Error:  # not CSV at all: the reader that follows says so, with its line
            return 0

    return max(DELIMITERS, key=lambda d: (cells(d), d == ","))


def _add_to_row(source: Source, record_id: str, field: str, values: Sequence[str]) -> list[str]:
    delimiter = csv_delimiter(source.lines[0] if source.lines else "")
    rows, spans = _csv_rows(source, record_id, delimiter)
    names = [name.strip() for name in rows[0]]
    found = _row_of(source, rows, names, record_id)
    if field not in names:
        added = list(dict.fromkeys(values))
        if added:
            _add_column(source, (rows, spans, delimiter), field, found, ";".join(added))
        return added
    row, column = list(rows[found]), names.index(field)
    existing = [v.strip() for v in row[column].split(";") if v.strip()]
    added = [v for v in dict.fromkeys(values) if v not in existing]
    if added:  # the row written again, the cell longer
        row[column] = ";".join(existing + added)
        first, after = spans[found]
        out = io.StringIO()
        ending = _ending(source.lines[after - 1])
        csv.writer(out, delimiter=delimiter, lineterminator=ending).writerow(row)
        source.lines[first:after] = [out.getvalue()]
    return added


def _row_of(source: Source, rows: list[list[str]], names: list[str], record_id: str) -> int:
    """The record's row (by its `id` cell)."""
    if "id" not in names:
        raise EditError(source.path, record_id, "the CSV file has no `id` column")
    key = names.index("id")
    for i, row in enumerate(rows[1:], start=1):
        if len(row) > key and row[key].strip() == record_id:
            return i
    raise EditError(source.path, record_id, "no such record in this file")


def _csv_rows(
    source: Source, record_id: str, delimiter: str
) -> tuple[list[list[str]], list[tuple[int, int]]]:
    """The rows, and where each is: (its first line, the line after it)."""
    text = io.StringIO("".join(source.lines), newline="")
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    rows, spans, before = [], [], 0
    try:
        for row in reader:
            spans.append((before, reader.line_num))
            rows.append(row)
            before = reader.line_num
    except csv.Error as bad:
        raise EditError(source.path, record_id, f"invalid CSV: {bad}") from None
    if not rows:
        raise EditError(source.path, record_id, "an empty CSV file")
    return rows, spans


def _add_column(source: Source, table, field: str, found: int, cell: str) -> None:
    """A new last column `field`: the header's name, `cell` on row `found`, empty on the
    others (`table`: the rows, where each is, the file's delimiter)."""
    rows, spans, delimiter = table
    lines = source.lines
    for i, (_first, after) in enumerate(spans):
        if not rows[i]:
            continue
        last = after - 1
        text = field if i == 0 else (cell if i == found else "")
        ending = _ending(lines[last]) or (source.newline if last < len(lines) - 1 else "")
        lines[last] = lines[last].rstrip("\r\n") + delimiter + _csv_cell(text, delimiter) + ending


def _csv_cell(text: str, delimiter: str) -> str:
    if not text:
        return ""  # the writer would quote a lone empty cell
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow([text])
    return out.getvalue()
