"""Read data/ (Markdown with front matter, YAML, CSV) into records that remember file:line.

Parsing is strict and safe: YAML is read with the safe loader, aliases and explicit tags are
refused (no alias bombs, no `!!python/object`), duplicate keys are errors, and every scalar
stays the text the publisher wrote (typing is the converters' job, so `2021-02-30` or `no`
are never silently turned into something else). Faults are collected, not raised, so a
build reports all of them at once.
"""

from __future__ import annotations

import csv
import io
import os
from bisect import insort
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from stat import S_ISREG
from sys import intern
from typing import Any

import yaml

from ..edit import csv_delimiter
from ..errors import SourceError
from ..vocab import KINDS

SCALAR_TAGS = {
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")
}
NULL_TAG = "tag:yaml.org,2002:null"
SHORT = 40  # characters of a value held once however many records have it
FOLDER_KINDS = {folder: kind for kind, folder in KINDS.items()}
SUFFIXES = (".md", ".yaml", ".yml", ".csv")
Stamp = tuple[int, int, int]  # a file's modification time (ns), size and inode


@dataclass
class Record:
    """One record as written: raw values (text, lists, mappings) and where each field sits."""

    kind: str
    file: str
    line: int
    values: dict[str, Any]
    lines: dict[str, int]
    item_lines: dict[str, list[int]] = field(default_factory=dict)
    id: str | None = None
    body: str | None = None
    body_line: int = 0
    from_csv: bool = False
    header_line: int = 0  # a CSV row's header (where its column names are written)

    def texts(self, name: str) -> list[tuple[str | None, str]]:
        """A text field's values as written, each with its language (None: the record's),
        from every form a text takes: a string, a list, a language map, `name@fr` keys."""
        found: list[tuple[str | None, str]] = []
        for key, value in self.values.items():
            field_name, _, tag = key.partition("@")
            if field_name != name:
                continue
            by_language = value if isinstance(value, dict) else {tag or None: value}
            for language, items in by_language.items():
                for item in items if isinstance(items, list) else [items]:
                    if isinstance(item, str) and item.strip():
                        found.append((language, item.strip()))
        return found

    def line_of(self, name: str, item: int | None = None) -> int:
        """The line of a field, or of one item of a list field."""
        items = self.item_lines.get(name, [])
        if item is not None and item < len(items):
            return items[item]
        return self.lines.get(name, self.line)


@dataclass
class Sources:
    dataset: Record | None
    records: list[Record] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)


def first_language(dataset: Record | None) -> str | None:
    """dataset.yaml's first language as written (`languages: [en, fr]` or `language: en`),
    for readers of data/ that do not convert it; None when it says none."""
    if dataset is None:
        return None
    written = dataset.values.get("languages", dataset.values.get("language"))
    first = written[0] if isinstance(written, list) and written else written
    return first if isinstance(first, str) else None


class _Refused(Exception):
    def __init__(self, line: int, message: str):
        self.line, self.message = line, message


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 15x faster when present


def _refuse_aliases(text: str, offset: int) -> None:
    """Aliases are refused before anything is composed, so no alias bomb is ever expanded
    (and the fast C composer needs no hook)."""
    if "*" not in text:
        return
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            line = event.start_mark.line + 1 + offset
            raise _Refused(line, "YAML aliases (*name) are not allowed")


def load(data_dir: Path) -> Sources:
    """Every record under data_dir, in a stable order (folder, file name, position)."""
    errors: list[SourceError] = []
    found = files(Path(data_dir), errors)
    by_file = {path: list(read(path, kind, errors)) for path, (kind, _) in found.items()}
    return assemble(found, by_file, errors)


Found = dict[str, tuple[str, Stamp]]  # source file -> its kind and stamp


def assemble(found: Found, by_file: dict[str, list[Record]], errors: list[SourceError]) -> Sources:
    """The records of the files `found` (as `files` gives them), in that order, and
    dataset.yaml's record apart."""
    dataset = None
    records: list[Record] = []
    for path, (kind, _) in found.items():
        if kind != "dataset":
            records.extend(by_file[path])
        elif len(by_file[path]) == 1:
            dataset = by_file[path][0]
        elif by_file[path]:
            errors.append(SourceError(path, 1, "", "must hold one mapping"))
    return Sources(dataset, records, errors)


def files(data_dir: Path, errors: list[SourceError]) -> Found:
    """The source files under data_dir (as text: a rebuild compares them by the hundred
    thousand), in load order, each with its kind ("dataset" for dataset.yaml) and its
    stamp, which changes when the file does. Folders, links and files that cannot be
    sources are errors."""
    data_dir = Path(data_dir)
    found: Found = {}
    if not data_dir.is_dir():
        errors.append(SourceError(str(data_dir), 0, "", "the data folder does not exist"))
        return found
    dataset_file = data_dir / "dataset.yaml"
    if dataset_file.is_file():
        found[str(dataset_file)] = ("dataset", _stamp(dataset_file.stat()))
    else:
        errors.append(SourceError(str(dataset_file), 0, "", "missing: the dataset description"))
    root = data_dir.resolve()
    for entry in sorted(data_dir.iterdir()):
        if entry.name.startswith(".") or entry == dataset_file or entry.name == "gone.yaml":
            continue  # (data/gone.yaml: removed records, read by lod.make.permanence)
        kind = FOLDER_KINDS.get(entry.name)
        if entry.is_symlink() and not entry.resolve().is_relative_to(root):
            errors.append(
                SourceError(
                    str(entry), 0, "", "links outside the data folder", "copy it into place"
                )
            )
            continue
        if kind is None or not entry.is_dir():
            errors.append(
                SourceError(
                    str(entry),
                    0,
                    "",
                    "not a folder of a known kind",
                    "expected one of: "
                    + ", ".join(f"{f}/" for f in FOLDER_KINDS)
                    + ", dataset.yaml",
                )
            )
            continue
        walked: list[tuple[str, os.stat_result]] = []
        _walk(str(entry), root, errors, walked)
        for path, stat in walked:
            if not path.endswith(SUFFIXES):
                errors.append(
                    SourceError(
                        path, 0, "", "unsupported file type", "use .md, .yaml, .yml or .csv"
                    )
                )
                continue
            found[path] = (kind, _stamp(stat))
    return found


def refreshed(found: Found, data_dir: Path, paths: Iterable[str]) -> Found | None:
    """What `files` finds, from what it found (`found`) and the files that changed since
    (`paths`: edited, created, removed or moved, as the operating system said; lod.make.
    watching): only they are looked at, not every file. None when one of them asks for the
    look at every file (`files` reports it): not a regular file of a known folder and type.
    Hidden files are not sources; data/gone.yaml is read by lod.make.permanence."""
    prefix = os.path.join(str(data_dir), "")
    dataset = str(Path(data_dir) / "dataset.yaml")
    updated, added = dict(found), []
    for path in paths:
        names = path.removeprefix(prefix).split(os.sep)
        if not path.startswith(prefix) or any(name.startswith(".") for name in names):
            continue
        if names == ["gone.yaml"]:
            continue
        kind = "dataset" if path == dataset else FOLDER_KINDS.get(names[0])
        try:
            stat = os.lstat(path)
        except FileNotFoundError:
            if kind == "dataset":
                return None
            updated.pop(path, None)
            continue
        if kind is None or len(names) < 2 and kind != "dataset" or not S_ISREG(stat.st_mode):
            return None
        if not path.endswith(SUFFIXES):
            return None
        if path not in updated:
            added.append(path)
        updated[path] = (kind, _stamp(stat))
    if not added:
        return updated
    order = [path for path in found if path in updated]  # in load order: dataset.yaml, then
    for path in added:  # by folder, then name (as `_walk` sorts)
        insort(order, path, key=lambda p: (p != dataset, p.split(os.sep)))
    return {path: updated[path] for path in order}


def _walk(folder: str, root: Path, errors: list[SourceError], found: list) -> None:
    """Add the regular files under `folder` (hidden files and folders skipped) with their
    stat to `found`, sorted as paths are (by folder, then name), by scandir, whose entries
    know their type without a system call each. A file or folder removed while it is being
    looked at (an editor saving) is simply not there."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=attrgetter("name"))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_symlink() and not _linked_file(entry, root, errors):
            continue
        if entry.is_dir(follow_symlinks=False):
            _walk(entry.path, root, errors, found)
        elif entry.is_file():
            try:
                found.append((entry.path, entry.stat()))
            except FileNotFoundError:
                continue
        else:
            errors.append(
                SourceError(
                    entry.path,
                    0,
                    "",
                    "not a regular file",
                    "a broken link, a pipe or a device cannot be read",
                )
            )


def _linked_file(entry: os.DirEntry, root: Path, errors: list[SourceError]) -> bool:
    """Whether a symbolic link may be read: a link to a file inside the data folder. Links
    out of it are refused (a contributed link must not publish any file the build can
    read), and links to folders are not followed."""
    target = Path(entry.path).resolve()
    if not target.is_relative_to(root):
        message, hint = "links outside the data folder", "copy the file into the data folder"
    elif target.is_dir():
        message, hint = "a link to a folder, not followed", "move the folder into place"
    else:
        return True
    errors.append(SourceError(entry.path, 0, "", message, hint))
    return False


def _stamp(stat: os.stat_result) -> Stamp:
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def read(path: Path | str, kind: str, errors: list[SourceError]) -> Iterator[Record]:
    """The records of one source file; its faults go to `errors`."""
    path = Path(path)
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        errors.append(SourceError(file, 0, "", f"cannot be read: {exc.strerror or exc}"))
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        errors.append(
            SourceError(
                file, line, "", f"not UTF-8 (byte 0x{raw[exc.start]:02x})", "save the file as UTF-8"
            )
        )
        return
    text = text.removeprefix("\ufeff")
    if not text.strip():
        errors.append(SourceError(file, 1, "", "the file is empty"))
        return
    try:
        if path.suffix == ".md":
            yield from _read_markdown(file, text, kind, path.stem)
        elif path.suffix == ".csv":
            yield from _read_csv(file, text, kind)
        else:
            yield from _read_yaml(file, text, kind, path.stem, offset=0)
    except SourceError as error:
        errors.append(error)
    except _Refused as refused:
        errors.append(SourceError(file, refused.line, "", refused.message))


def _read_markdown(file: str, text: str, kind: str, stem: str) -> Iterator[Record]:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != "---":
        raise SourceError(file, 1, "", "front matter missing", "start the file with a line `---`")
    for number, line in enumerate(lines[1:], start=2):
        if line.rstrip("\r\n") == "---":
            front = "".join(lines[1 : number - 1])
            body = "".join(lines[number:]).strip("\n")
            break
    else:
        raise SourceError(
            file, 1, "", "front matter is not closed", "end it with a line `---` before the body"
        )
    if not front.strip():
        raise SourceError(file, 2, "", "front matter is empty")
    records = list(_read_yaml(file, front, kind, stem, offset=1))
    if len(records) != 1:
        raise SourceError(file, 2, "", "front matter must be one mapping")
    record = records[0]
    record.body = body or None
    record.body_line = number + 1
    yield record


def _read_yaml(file: str, text: str, kind: str, stem: str, offset: int) -> Iterator[Record]:
    loader = _Loader(text)
    try:
        _refuse_aliases(text, offset)
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        line = _error_line(exc, text) + offset
        raise SourceError(file, line, "", f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise SourceError(file, 1 + offset, "", f"invalid YAML: {exc}") from None
    except RecursionError:
        raise SourceError(file, 1 + offset, "", "nested too deeply") from None
    finally:
        loader.dispose()
    if node is None:
        raise SourceError(file, 1 + offset, "", "the file holds no record")
    reader = _NodeReader(file, offset)
    try:
        if isinstance(node, yaml.MappingNode):
            yield reader.record(kind, node, default_id=stem)
        elif isinstance(node, yaml.SequenceNode):
            reader.plain(node, "")
            for item in node.value:
                if not isinstance(item, yaml.MappingNode):
                    raise SourceError(
                        file, reader.line(item), "", "each list item must be a mapping (a record)"
                    )
                yield reader.record(kind, item, default_id=None)
        else:
            raise SourceError(
                file, reader.line(node), "", "expected a mapping (one record) or a list of mappings"
            )
    except RecursionError:
        raise SourceError(file, 1 + offset, "", "nested too deeply") from None


def _error_line(exc: yaml.MarkedYAMLError, text: str) -> int:
    """Where a YAML error is: the problem, unless it is the end of the file (an unclosed
    quote or bracket), where the construct that was left open is the useful place."""
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return 1
    if exc.context_mark is not None and mark.index >= len(text.rstrip()):
        mark = exc.context_mark
    return mark.line + 1


def _record(kind, file, line, values, lines, default_id, item_lines=None) -> Record:
    ident = values.pop("id", default_id)
    lines.setdefault("id", line)
    return Record(
        kind=kind,
        file=file,
        line=line,
        values=values,
        lines=lines,
        item_lines=item_lines or {},
        id=ident,
    )


class _NodeReader:
    """Turns a composed YAML node tree into plain values, keeping each key's line."""

    def __init__(self, file: str, offset: int):
        self.file, self.offset = file, offset

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1 + self.offset

    def record(self, kind: str, node: yaml.MappingNode, default_id: str | None) -> Record:
        values, lines = self.mapping(node, "")
        item_lines = {  # a list's items, or a language map's keys
            intern(key.value): [self.line(item) for item in value.value]
            for key, value in node.value
            if isinstance(value, yaml.SequenceNode)
        } | {
            intern(key.value): [self.line(language) for language, _ in value.value]
            for key, value in node.value
            if isinstance(value, yaml.MappingNode)
        }
        # those whose items are all on the field's line are not kept: line_of gives it
        item_lines = {
            key: found for key, found in item_lines.items() if set(found) != {lines.get(key)}
        }
        return _record(kind, self.file, self.line(node), values, lines, default_id, item_lines)

    def mapping(
        self, node: yaml.MappingNode, field_name: str
    ) -> tuple[dict[str, Any], dict[str, int]]:
        self.plain(node, field_name)
        values: dict[str, Any] = {}
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if (
                not isinstance(key_node, yaml.ScalarNode)
                or key_node.tag == NULL_TAG
                or key_node.tag not in SCALAR_TAGS
            ):
                raise SourceError(
                    self.file,
                    self.line(key_node),
                    field_name,
                    "a key must be plain text (no tags, lists or mappings)",
                )
            key = intern(key_node.value)  # the same few names in every record: held once
            if key in values:
                raise SourceError(
                    self.file,
                    self.line(key_node),
                    key,
                    f"duplicate key (first on line {lines[key]})",
                )
            lines[key] = self.line(key_node)
            values[key] = self.value(value_node, key)
        return values, lines

    def value(self, node: yaml.Node, field_name: str) -> Any:
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in SCALAR_TAGS:
                raise SourceError(
                    self.file, self.line(node), field_name, f"YAML tag {node.tag} is not allowed"
                )
            if node.tag == NULL_TAG:
                return None
            # short values recur (links, dates, keywords): held once, not once a record
            return intern(node.value) if len(node.value) <= SHORT else node.value
        if isinstance(node, yaml.SequenceNode):
            self.plain(node, field_name)
            return [self.value(item, field_name) for item in node.value]
        return self.mapping(node, field_name)[0]

    def plain(self, node: yaml.Node, field_name: str) -> None:
        """Refuse explicit tags on collections (`!!python/object:…` on a mapping)."""
        if node.tag not in ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"):
            raise SourceError(
                self.file, self.line(node), field_name, f"YAML tag {node.tag} is not allowed"
            )


def _read_csv(file: str, text: str, kind: str) -> Iterator[Record]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=csv_delimiter(text), strict=True)
    try:
        header = next(reader)
        header_line = reader.line_num
        names = [name.strip() for name in header]
        for position, name in enumerate(names, start=1):
            if not name:
                raise SourceError(file, header_line, "", f"column {position} has no name")
            if names.index(name) != position - 1:
                raise SourceError(file, header_line, name, "duplicate column")
        start = header_line + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if not row:  # a blank line; a row of empty cells is still a record
                continue
            if len(row) != len(names):
                raise SourceError(
                    file, line, "", f"{len(row)} cells where the header has {len(names)}"
                )
            values = {name: cell.strip() or None for name, cell in zip(names, row, strict=True)}
            body = values.pop("body", None)  # a `body` column: the Markdown body
            record = _record(kind, file, line, values, dict.fromkeys(values, line), None)
            record.from_csv = True
            record.body, record.body_line = body, line
            record.header_line = header_line
            yield record
    except csv.Error as exc:
        raise SourceError(file, reader.line_num or 1, "", f"invalid CSV: {exc}") from None
