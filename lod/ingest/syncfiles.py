"""What `lod sync` keeps in data/ besides records, and how it writes: the state of each
site (data/.sync/<site>.yaml), entries of data/gone.yaml, the lock, and SyncWriter (the
importer's all-or-nothing Writer, which also moves a renamed record and removes a gone
one in the same commit).

The state file is the sync's own (written whole each time something changed, never
edited by hand): per section (`posts`, `pages`) the site time of the newest change read
(`modifiedAfter`, what the next sync asks from), each WordPress id the record it became
with the `modified_gmt` it had, and the ids the sync declared gone. It sits in a hidden
folder, which a build ignores, and is committed with the data: another checkout goes on
from where this one got to.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from .. import edit
from ..errors import PublishError, SyncFailed
from ..make.permanence import GONE
from . import slugs
from .model import Entity
from .writer import BODY_KINDS, Planned, Writer, merge, render

FOLDER = ".sync"
HEADER = (
    "# Written by `lod sync`: how far the sync of {site} got. Commit it with data/;\n"
    "# do not edit it (delete it to read the whole site again).\n"
)
GONE_HEADER = "# Records no longer published: each IRI answers 410 Gone.\n"


def state_path(data: Path, site: str) -> Path:
    """data/.sync/<host>[-<port>][-<path>].yaml: one file per site."""
    parts = urlsplit(site)
    name = slugs.slugify(f"{parts.netloc}{parts.path}".replace(".", "-")) or "site"
    return Path(data) / FOLDER / f"{name}.yaml"


@dataclass
class Section:
    """One collection of the site (posts, pages) as the last sync left it."""

    mark: str = ""  # modifiedAfter: site time of the newest change read
    records: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (ref, modified)
    gone: dict[int, str] = field(default_factory=dict)  # id -> ref, declared gone by a sync


@dataclass
class State:
    path: Path
    site: str
    sections: dict[str, Section] = field(default_factory=dict)
    original: str = ""  # the file's text as read

    @classmethod
    def load(cls, data: Path, site: str) -> State:
        path = state_path(data, site)
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            return cls(path, site)
        except (OSError, UnicodeDecodeError) as error:
            raise SyncFailed(site, f"cannot read {path}: {error}") from None
        try:
            raw = yaml.load(text, Loader=yaml.BaseLoader) or {}  # every scalar as text
            sections = {name: _section(raw[name]) for name in ("posts", "pages") if name in raw}
        except (yaml.YAMLError, AttributeError, TypeError, ValueError) as error:
            raise SyncFailed(
                site, f"{path} is not a sync state ({error}); delete it to read the site again"
            ) from None
        return cls(path, site, sections, text)

    def section(self, name: str) -> Section:
        return self.sections.setdefault(name, Section())

    def text(self) -> str:
        lines = [HEADER.format(site=self.site), *edit.field("site", self.site)]
        for name in ("posts", "pages"):
            section = self.sections.get(name)
            if section is None:
                continue
            lines.append(f"{name}:\n")
            if section.mark:
                lines += edit.field("modifiedAfter", section.mark, indent="  ")
            lines.append("  records:\n" if section.records else "  records: {}\n")
            for ident, (ref, modified) in sorted(section.records.items()):
                lines.append(f"    {ident}: [{ref}, {edit.scalar(modified, flow=True)}]\n")
            if section.gone:
                lines.append("  gone:\n")
                lines += [f"    {ident}: {ref}\n" for ident, ref in sorted(section.gone.items())]
        return "".join(lines)


def _section(raw: dict) -> Section:
    records = {
        int(ident): (str(value[0]), str(value[1]))
        for ident, value in (raw.get("records") or {}).items()
    }
    gone = {int(ident): str(ref) for ident, ref in (raw.get("gone") or {}).items()}
    return Section(str(raw.get("modifiedAfter") or ""), records, gone)


class GoneList:
    """data/gone.yaml edited as text: entries added at its end, entries the sync wrote
    removed again (a post published again); every other line kept as written."""

    def __init__(self, data: Path, site: str):
        self.path = Path(data) / GONE
        self.site = site
        try:
            self.original = self.path.read_text("utf-8")
        except FileNotFoundError:
            self.original = ""
        except (OSError, UnicodeDecodeError) as error:
            raise SyncFailed(site, f"cannot read {self.path}: {error}") from None
        self.text = self.original
        self._check()

    def _check(self) -> None:
        """The refs listed; SyncFailed for a file entries cannot be added to as text."""
        try:
            node = yaml.compose(self.text, Loader=yaml.BaseLoader)
            entries = yaml.load(self.text, Loader=yaml.BaseLoader)
        except yaml.YAMLError as error:
            raise SyncFailed(self.site, f"{self.path} is not YAML: {_one_line(error)}") from None
        if entries is not None and not isinstance(entries, list):
            raise SyncFailed(self.site, f"{self.path} is not a list of entries")
        self.listed = {entry.get("id") for entry in entries or [] if isinstance(entry, dict)}
        self.flow = isinstance(node, yaml.SequenceNode) and bool(node.flow_style)
        if self.flow and entries:
            raise SyncFailed(self.site, f"{self.path}: write it as a block list (`- id: …`)")

    @property
    def changed(self) -> bool:
        return self.text != self.original

    def add(self, ref: str, reason: str, date: str) -> None:
        if ref in self.listed:
            return
        if not self.text.strip() or self.flow:  # none yet, or `[]`
            self.text = GONE_HEADER
            self.flow = False
        elif not self.text.endswith("\n"):
            self.text += "\n"
        self.text += "".join(
            [f"- id: {ref}\n", *edit.field("reason", reason, "  "), *edit.field("date", date, "  ")]
        )
        self.listed.add(ref)

    def revive(self, ref: str) -> bool:
        """The entry `- id: <ref>` (as the sync writes it) and its lines removed."""
        lines = self.text.splitlines(keepends=True)
        for start, line in enumerate(lines):
            if line.rstrip() == f"- id: {ref}":
                stop = start + 1
                while stop < len(lines) and lines[stop].startswith("  "):
                    stop += 1
                self.text = "".join(lines[:start] + lines[stop:])
                self.listed.discard(ref)
                return True
        return False


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


@contextmanager
def locked(data: Path, site: str) -> Iterator[None]:
    """Hold data/'s sync lock (flock on the folder itself: no file left behind);
    SyncFailed at once when another sync holds it."""
    handle = os.open(data, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncFailed(
                site, f"another `lod sync` is writing to {data}; try again once it is done"
            ) from None
        yield
    finally:
        os.close(handle)


class SyncWriter(Writer):
    """The importer's Writer (same files, slugs and update rules), which also knows the
    record each post became in the last sync (`expect`): a post whose slug changed moves
    its file (the fields added by hand kept, the old slug added to `formerIds`), and
    `remove` takes a record out; both happen in the one commit, or not at all."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.expected: dict[str, str] = {}  # identity -> ref the last sync wrote
        self.renamed: list[tuple[str, str]] = []  # (old ref, new ref)
        self.removals: list[Path] = []
        self.backups = self.data / f".sync-{uuid.uuid4().hex[:12]}"
        self.gone: set[str] = set()  # refs data/gone.yaml lists

    def expect(self, identity: str, ref: str) -> None:
        self.expected[identity] = ref

    def add(self, entity: Entity) -> None:
        """As the importer adds, but a ref data/gone.yaml lists is taken: another item
        gets a suffix (the post that was gone and is published again takes it back)."""
        if entity.ref in self.gone and self.expected.get(entity.identity) != entity.ref:
            entity.slug = slugs.with_suffix(entity.slug, entity.identity or entity.ref)
        super().add(entity)

    def file_of(self, ref: str) -> Path | None:
        kind, _, slug = ref.partition("/")
        found = self.known.get((kind, slug))
        return Path(found) if found else None

    def _add_work(self, entity: Entity) -> None:
        """A post the last sync wrote keeps its record (the slug it got then, even with a
        suffix), whatever its URL is now; others are placed as the importer places them."""
        old = self.expected.get(entity.identity, "")
        kind, _, slug = old.partition("/")
        same = slug in (entity.slug, slugs.with_suffix(entity.slug, entity.identity))
        if kind == entity.kind and same and old not in self.seen:
            known = self.file_of(old)
            if known is None or known == self.target(Entity(kind, slug, {})):
                entity.slug = slug
                self.seen[entity.ref] = entity.identity
                self._plan(entity)
                return
        super()._add_work(entity)

    def _plan(self, entity: Entity) -> Planned | None:
        old = self.expected.get(entity.identity)
        if entity.kind in BODY_KINDS and old and old != entity.ref:
            old_file = self.file_of(old)
            if old_file is not None and old_file.is_file() and old_file not in self.removals:
                self._rename(entity, old, old_file)
                return None
        return super()._plan(entity)

    def _rename(self, entity: Entity, old: str, old_file: Path) -> None:
        """The record moved to its new slug: the old file merged with the post, `id` and
        `formerIds` updated, staged at the new place; the old file removed on commit."""
        target = self.target(entity)
        text = old_file.read_text("utf-8")
        try:
            former = edit.Source(text, old_file).record().get("formerIds")
        except edit.EditError:
            former = None
        former = former if isinstance(former, list) else [former] if former else []
        kept = [str(f) for f in [*former, old.partition("/")[2]] if str(f) != entity.slug]
        entity.fields = {"id": entity.slug, **entity.fields, "formerIds": list(dict.fromkeys(kept))}
        try:
            content = merge(text, entity, target)
        except edit.EditError:
            content = render(Entity(entity.kind, entity.slug, entity.fields, entity.body))
        self.stage_file(str(target.relative_to(self.data)), content, entity.ref)
        self.removals.append(old_file)
        self.renamed.append((old, entity.ref))
        self.seen[entity.ref] = entity.identity

    def remove(self, path: Path) -> None:
        if path not in self.removals:
            self.removals.append(path)

    def stage_file(self, relative: str, content: str, ref: str | None = None) -> None:
        """A file written whole into data/ on commit (gone.yaml, the state, a moved
        record)."""
        planned = Planned(ref or relative, relative, "changed")
        if not self.dry_run:
            staged = self.stage / relative
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_text(content, "utf-8")
            planned.staged = True
        self.planned.append(planned)

    def abort(self) -> None:
        super().abort()
        shutil.rmtree(self.backups, ignore_errors=True)

    def commit(self) -> None:
        """The removals (each moved aside first), then the importer's commit; on any
        failure, what was moved aside is put back."""
        if self.dry_run:
            return
        moved: list[tuple[Path, Path]] = []
        try:
            for path in self.removals:
                backup = self.backups / path.relative_to(self.data)
                backup.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, backup)
                moved.append((path, backup))
            super().commit()
        except BaseException as failure:
            for path, backup in reversed(moved):
                try:
                    os.replace(backup, path)
                except OSError:
                    pass
            shutil.rmtree(self.backups, ignore_errors=True)
            if isinstance(failure, OSError):
                raise PublishError(self.data, f"{failure}; nothing was changed") from None
            raise
        shutil.rmtree(self.backups, ignore_errors=True)
