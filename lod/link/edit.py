"""Adding values to a field of a record in data/, by editing the file's text lines.

Never a YAML load/dump round trip: the lines of the file other than those the new values
go on stay byte for byte what the publisher wrote (comments, quoting, order, blank lines,
line endings, a byte-order mark). The one call:

    add_values(path, record_id, field, values) -> the values added (those not already there)

Records may be in Markdown front matter (`.md`), YAML files of one record (a mapping) or
of many (a list of mappings), and CSV rows (`;` separates the values of a cell). Where the
field is:

- a block list (`field:` then `- value` lines): a `- value` line after its last item;
- a flow list (`field: [a, b]`) on one line: `, value` before the `]`;
- one value (`field: a`) on one line: it becomes a flow list `[a, value]`;
- absent: `field:` and `- value` lines after the record's last line, at its indentation;
- a CSV cell: the row is written again with `;value` added to the cell (the other rows
  are untouched); a CSV file without that column gains it: `,field` on the header and
  one more cell on every row (empty but for the record's).

Anything else (a flow mapping record, a multi-line value) is an EditError naming the file
and the record: edit it by hand. lod.link.sameas and lod.link.mentions write their links with it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import yaml

from ..errors import LodError

PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s#,\[\]{}'\"]*|[A-Za-z0-9][\w./-]*")
BOM = "\ufeff"


class EditError(LodError):
    """A record that cannot be edited as text (its file, record and why)."""

    def __init__(self, path: Path | str, record_id: str, message: str):
        self.path, self.record_id, self.message = str(path), record_id, message
        super().__init__(f"{path}: {record_id}: {message}")


def add_values(path: Path | str, record_id: str, field: str, values: Sequence[str]) -> list[str]:
    """Add `values` to `field` of the record `record_id` (a slug; a one-record file with
    no `id` is its stem) in the file at `path`, writing the file only when something is
    added; the values added, in order (those already there are skipped)."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise EditError(path, record_id, "not UTF-8") from None
    bom = BOM if text.startswith(BOM) else ""
    text = text.removeprefix(BOM)
    lines = io.StringIO(text, newline="").readlines()
    if path.suffix == ".csv":
        added = _csv(lines, path, record_id, field, values)
    elif path.suffix == ".md":
        added = _front_matter(lines, path, record_id, field, values)
    elif path.suffix in (".yaml", ".yml"):
        added = _yaml(lines, 0, len(lines), path, record_id, field, values)
    else:
        raise EditError(path, record_id, "not a .md, .yaml, .yml or .csv file")
    if added:  # written beside, then renamed: a reader sees the old file or the new one
        temporary = path.with_name(f".{path.name}.edit-{os.getpid()}")
        temporary.write_bytes((bom + "".join(lines)).encode("utf-8"))
        os.replace(temporary, path)
    return added


def _newline(lines: list[str]) -> str:
    for line in lines:
        if line.endswith("\r\n"):
            return "\r\n"
        if line.endswith(("\n", "\r")):
            return line[-1]
    return "\n"


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def _scalar(value: str) -> str:
    """A value as YAML: plain when that is safe in block and flow context, else quoted."""
    return value if PLAIN.fullmatch(value) else json.dumps(value, ensure_ascii=False)


# YAML and front matter


def _front_matter(lines, path, record_id, field, values) -> list[str]:
    if not lines or lines[0].rstrip("\r\n") != "---":
        raise EditError(path, record_id, "no front matter (the file must start with `---`)")
    for end in range(1, len(lines)):
        if lines[end].rstrip("\r\n") == "---":
            return _yaml(lines, 1, end, path, record_id, field, values)
    raise EditError(path, record_id, "the front matter has no closing `---`")


def _yaml(lines, start, end, path, record_id, field, values) -> list[str]:
    """Edit the record in lines[start:end] (a YAML document) in place."""
    try:
        root = yaml.compose("".join(lines[start:end]), Loader=yaml.SafeLoader)
    except yaml.YAMLError as bad:
        raise EditError(path, record_id, f"not valid YAML: {bad}") from None
    mapping = _record_node(root, Path(path).stem, record_id)
    if mapping is None:
        raise EditError(path, record_id, "no such record in this file")
    if mapping.flow_style:
        raise EditError(path, record_id, "a flow mapping `{…}`: add the values by hand")
    newline = _newline(lines)
    for key, node in mapping.value:
        if key.value != field:
            continue
        existing = _strings(node)
        added = [v for v in dict.fromkeys(values) if v not in existing]
        if not added:
            return []
        if isinstance(node, yaml.SequenceNode) and not node.flow_style:
            last = start + _last_line(node)
            dash = " " * node.start_mark.column + "- "
            if not lines[last].endswith(("\n", "\r")):
                lines[last] += newline
            new = [f"{dash}{_scalar(v)}{newline}" for v in added]
            lines[last + 1 : last + 1] = new
        elif node.start_mark.line == node.end_mark.line and (
            isinstance(node, yaml.SequenceNode) or node.value != ""
        ):
            number = start + node.start_mark.line
            line = lines[number]
            left, right = node.start_mark.column, node.end_mark.column
            inner = ", ".join(_scalar(v) for v in added)
            if isinstance(node, yaml.SequenceNode):
                body = line[left : right - 1].rstrip()
                joined = f"{body}, {inner}]" if node.value else f"[{inner}]"
            else:
                joined = f"[{line[left:right]}, {inner}]"
            lines[number] = line[:left] + joined + line[right:]
        else:
            raise EditError(path, record_id, f"`{field}` spans lines: add the values by hand")
        return added
    added = list(dict.fromkeys(values))
    if not added:
        return []
    last = start + _last_line(mapping)
    indent = " " * mapping.value[0][0].start_mark.column
    if not lines[last].endswith(("\n", "\r")):
        lines[last] += newline
    new = [f"{indent}{field}:{newline}"] + [f"{indent}  - {_scalar(v)}{newline}" for v in added]
    lines[last + 1 : last + 1] = new
    return added


def _record_node(root, stem: str, record_id: str):
    if isinstance(root, yaml.MappingNode):
        found = _id_of(root)
        return root if found == record_id or (found is None and stem == record_id) else None
    if isinstance(root, yaml.SequenceNode):
        for item in root.value:
            if isinstance(item, yaml.MappingNode) and _id_of(item) == record_id:
                return item
    return None


def _id_of(mapping) -> str | None:
    for key, node in mapping.value:
        if key.value == "id" and isinstance(node, yaml.ScalarNode):
            return node.value.strip()
    return None


def _strings(node) -> set[str]:
    if isinstance(node, yaml.ScalarNode):
        return {node.value.strip()} if node.value.strip() else set()
    if isinstance(node, yaml.SequenceNode):
        return {v.value.strip() for v in node.value if isinstance(v, yaml.ScalarNode)}
    return set()


def _last_line(node) -> int:
    """The last line (0-based, of the document) holding some of the node's text."""
    if isinstance(node, yaml.ScalarNode):
        if node.end_mark.column == 0 and node.end_mark.line > node.start_mark.line:
            return node.end_mark.line - 1  # a block scalar ends at the next line's start
        return node.end_mark.line
    if node.flow_style or not node.value:
        return node.end_mark.line
    last = node.value[-1]
    return _last_line(last[1] if isinstance(last, tuple) else last)


# CSV


def _csv(lines, path, record_id, field, values) -> list[str]:
    reader = csv.reader(io.StringIO("".join(lines), newline=""), strict=True)
    spans = []  # (first line, line after) of each row
    rows = []
    before = 0
    try:
        for row in reader:
            spans.append((before, reader.line_num))
            rows.append(row)
            before = reader.line_num
    except csv.Error as bad:
        raise EditError(path, record_id, f"invalid CSV: {bad}") from None
    if not rows:
        raise EditError(path, record_id, "an empty CSV file")
    names = [name.strip() for name in rows[0]]
    if "id" not in names:
        raise EditError(path, record_id, "the CSV file has no `id` column")
    key = names.index("id")
    found = next(
        (i for i, row in enumerate(rows) if i and len(row) > key and row[key].strip() == record_id),
        None,
    )
    if found is None:
        raise EditError(path, record_id, "no such record in this file")
    newline = _newline(lines)
    if field not in names:  # a new last column: an empty cell on every other row
        added = list(dict.fromkeys(values))
        if not added:
            return []
        for i, (_first, after) in enumerate(spans):
            if not rows[i]:
                continue
            last = after - 1
            line = lines[last]
            cell = field if i == 0 else (";".join(added) if i == found else "")
            ending = _ending(line) or (newline if last < len(lines) - 1 else "")
            lines[last] = line.rstrip("\r\n") + "," + _csv_cell(cell) + ending
        return added
    column = names.index(field)
    row = rows[found]
    existing = [v.strip() for v in row[column].split(";") if v.strip()]
    added = [v for v in dict.fromkeys(values) if v not in existing]
    if not added:
        return []
    row = list(row)
    row[column] = ";".join(existing + added)
    first, after = spans[found]
    ending = _ending(lines[after - 1])
    out = io.StringIO()
    csv.writer(out, lineterminator=ending).writerow(row)
    lines[first:after] = [out.getvalue()]
    return added


def _csv_cell(text: str) -> str:
    if not text:
        return ""  # the writer would quote a lone empty cell
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([text])
    return out.getvalue()
