"""Records -> data/ files, all or nothing.

Each record is rendered as it comes (a Markdown file with front matter for articles and
documents, a YAML file for the others) and written into a hidden staging folder inside
data/ (which a build ignores), so memory does not grow with the source; only when the
whole import is good are the staged files renamed into place, and a failure while
renaming puts back what was replaced. A failed or refused import leaves data/ as it was.

An existing file is compared with what the import would make of it: the same is
`unchanged`; otherwise it is re-imported in place only with `update` (the fields the
source has are replaced, `about` keeps the topics added by hand, every other field and
comment stays as written); without it, it is `kept`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .. import edit
from ..errors import ImportFailed, ImportSourceError, PublishError
from ..make import sources
from ..vocab import KINDS
from . import languages, slugs
from .model import Entity, Site, Tally

BODY_KINDS = {"article", "document"}
MERGED = {"about"}  # list fields that keep the items a publisher added


def render(entity: Entity) -> str:
    lines = edit.field("id", entity.slug)
    for key, value in entity.fields.items():
        lines += edit.field(key, value)
    if entity.kind in BODY_KINDS:
        body = entity.body.rstrip("\n") + "\n" if entity.body else ""
        return "---\n" + "".join(lines) + "---\n" + body
    return "".join(lines)


def merge(existing: str, entity: Entity, path: Path) -> str:
    """The existing file at `path` with the source's fields and body put in, edited line
    by line (lod.edit); EditError for a file that cannot be edited so."""
    source = edit.Source(existing, path)
    record = source.record()
    for key, value in entity.fields.items():
        if key in MERGED and isinstance(value, list):
            _merge_items(record, key, value)
        elif record.get(key) != value:
            record.set(key, value)
    if entity.kind in BODY_KINDS:
        body = entity.body.rstrip("\n") + "\n" if entity.body else ""
        if source.body().strip("\n") != body.strip("\n"):
            source.set_body(body)
    return source.text()


def _merge_items(record: edit.Record, key: str, items: list[str]) -> None:
    """The source's items added to a list field, the publisher's kept."""
    try:
        record.add(key, items)
    except edit.EditError:  # a value over several lines: written again, as a block list
        current = record.get(key)
        current = current if isinstance(current, list) else [current]
        record.set(key, [*current, *(i for i in items if i not in current)])


def _url_of(text: str, path: Path) -> str | None:
    try:
        return edit.Source(text, path).record().get("url")
    except edit.EditError:
        return None


@dataclass(slots=True)
class Planned:
    """A file to write: small, since one is kept per item until the import ends."""

    ref: str  # kind/slug, or dataset
    path: str  # relative to data/ (and to the staging folder)
    status: str  # created or changed
    staged: bool = False


@dataclass
class Writer:
    data: Path
    update: bool = False
    dry_run: bool = False
    tally: Tally = field(default_factory=Tally)
    planned: list[Planned] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.data = Path(self.data)
        self.stage = self.data / f".import-{uuid.uuid4().hex[:12]}"
        self.known: dict[tuple[str, str], str] = {}  # (kind, slug) -> file, already in data/
        self.language = ""  # the dataset's first language, when it has a dataset.yaml
        if self.data.is_dir():
            loaded = sources.load(self.data)
            for record in loaded.records:
                if isinstance(record.id, str):
                    self.known.setdefault((record.kind, record.id), record.file)
            if loaded.dataset is not None:
                self.language = _first_language(loaded.dataset.values)
        self.languages: dict[str, None] = {}  # of the works imported, in the order met
        self.moved: dict[str, str] = {}  # a work's ref as read -> as written (a suffix added)
        self.pending: list[tuple[Planned, str]] = []  # translations whose original is unmet
        self.seen: dict[str, str] = {}  # kind/slug -> identity, in this import
        self.site: Site | None = None
        self.publisher: str | None = None  # of the first article: dataset.yaml's
        self.created_data = not self.data.exists()

    def target(self, entity: Entity) -> Path:
        suffix = ".md" if entity.kind in BODY_KINDS else ".yaml"
        return self.data / KINDS[entity.kind] / f"{entity.slug}{suffix}"

    def add(self, entity: Entity) -> None:
        if self.publisher is None and entity.kind == "article":
            self.publisher = entity.fields.get("publisher")
        if entity.kind in BODY_KINDS:
            self._add_work(entity)
            return
        if entity.ref in self.seen:
            return  # the same person, topic or organisation named again
        self.seen[entity.ref] = entity.identity
        file = self.known.get((entity.kind, entity.slug))
        if file is not None and Path(file) != self.target(entity):
            self.tally.unchanged.append(f"{entity.ref} (already in {file})")
            return
        self._plan(entity)

    def _add_work(self, entity: Entity) -> None:
        read_as = entity.ref
        original = entity.fields.get("translationOf")
        if original in self.moved:
            entity.fields["translationOf"] = self.moved[original]
        for _ in range(2):
            first = self.seen.get(entity.ref)
            if first is not None:
                if first == entity.identity:
                    return  # the same item twice in the source
                entity.slug = slugs.with_suffix(entity.slug, entity.identity)
                continue
            file = self.known.get((entity.kind, entity.slug))
            target = self.target(entity)
            if file is not None and Path(file) != target:
                entity.slug = slugs.with_suffix(entity.slug, entity.identity)
                continue
            if target.exists():
                # the same item has the same url; a file without one (written by hand, or
                # another item's) is never overwritten by an item that has one
                url = _url_of(target.read_text("utf-8"), target)
                if url != entity.fields.get("url"):
                    entity.slug = slugs.with_suffix(entity.slug, entity.identity)
                    continue
            break
        if entity.ref != read_as:
            self.moved[read_as] = entity.ref
        self.seen[entity.ref] = entity.identity
        if entity.fields.get("inLanguage"):
            self.languages.setdefault(entity.fields["inLanguage"], None)
        planned = self._plan(entity)
        if planned is not None and original and original not in self.seen:
            self.pending.append((planned, original))

    def _plan(self, entity: Entity) -> Planned | None:
        target = self.target(entity)
        if target.exists():
            try:
                existing = target.read_text("utf-8")
                content = merge(existing, entity, target)
            except (OSError, UnicodeDecodeError, edit.EditError):
                existing, content = None, render(entity)
            if content == existing:
                self.tally.unchanged.append(entity.ref)
                return None
            if not self.update:
                self.tally.kept.append(entity.ref)
                return None
            status = "changed"
        else:
            content = render(entity)
            status = "created"
        planned = Planned(entity.ref, str(target.relative_to(self.data)), status)
        if not self.dry_run:
            staged = self.stage / planned.path
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_text(content, "utf-8")
            planned.staged = True
        getattr(self.tally, status).append(entity.ref)
        self.planned.append(planned)
        return planned

    def _relink(self) -> None:
        """Translations written before their original, whose original was then written
        under another slug (a suffix added): made to name it as written."""
        for planned, original in self.pending:
            moved = self.moved.get(original)
            if moved is None or not planned.staged:
                continue
            staged = self.stage / planned.path
            source = edit.Source(staged.read_text("utf-8"), staged)
            source.record().set("translationOf", moved)
            staged.write_text(source.text(), "utf-8")

    def found_site(self, site: Site) -> None:
        if self.site is None:
            self.site = site

    def finish(self) -> None:
        """Translations named as written; a new data/dataset.yaml, when there is none, from
        the first source's site, the first article's publisher and the languages of what
        was imported."""
        self._relink()
        target = self.data / "dataset.yaml"
        if target.exists() or self.site is None or self.publisher is None:
            return
        site, publisher = self.site, self.publisher
        title = site.title or "Imported news"
        found = self.dataset_languages()
        lines = [
            "# Written by `lod import` from the first source imported: check every line.\n",
            *edit.field("title", title),
            *edit.field("description", site.description or f"News of {title}"),
            "# the licence your content is published under\n",
            *edit.field("license", "https://creativecommons.org/licenses/by/4.0/"),
            *edit.field("publisher", publisher),
            *(edit.field("languages", found) if len(found) > 1 else ()),
            *(edit.field("language", found[0]) if len(found) == 1 else ()),
            "# the address the data will be published at (ends with /)\n",
            *edit.field("base", "https://lod.example.org/"),
        ]
        planned = Planned("dataset", "dataset.yaml", "created")
        if not self.dry_run:
            self.stage.mkdir(parents=True, exist_ok=True)
            (self.stage / planned.path).write_text("".join(lines), "utf-8")
            planned.staged = True
        self.tally.created.append("dataset.yaml")
        self.planned.append(planned)

    def dataset_languages(self) -> list[str]:
        """The languages of a new dataset: those of the works imported, the site's own
        first (a site in en-US whose posts say `en` is in `en`), then in the order met;
        the site's alone when no work says one, `en` when neither does."""
        site = self.site.language if self.site else ""
        found = list(self.languages)
        ordered = [tag for tag in found if languages.same(tag, site)]
        ordered += [tag for tag in found if tag not in ordered]
        return ordered or [site or "en"]

    def abort(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)
        if self.created_data and self.data.exists() and not any(self.data.iterdir()):
            self.data.rmdir()

    def commit(self) -> None:
        """Rename every staged file into place; on any failure put everything back."""
        if self.dry_run:
            return
        backups = self.stage / ".replaced"
        done: list[tuple[Path, Path | None]] = []
        made_dirs: list[Path] = []
        try:
            for planned in self.planned:
                if not planned.staged:
                    continue
                target = self.data / planned.path
                parent = target.parent
                if not parent.exists():
                    parent.mkdir(parents=True)
                    made_dirs.append(parent)
                backup = None
                if target.exists():
                    backup = backups / planned.path
                    backup.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(target, backup)
                done.append((target, backup))
                os.replace(self.stage / planned.path, target)
        except OSError as failure:
            for target, backup in reversed(done):
                try:
                    if backup is not None:
                        os.replace(backup, target)
                    elif target.exists():
                        target.unlink()
                except OSError:
                    pass
            for folder in reversed(made_dirs):
                try:
                    folder.rmdir()
                except OSError:
                    pass
            self.abort()
            raise PublishError(self.data, f"{failure}; nothing was changed") from None
        shutil.rmtree(self.stage, ignore_errors=True)


def _first_language(dataset: dict) -> str:
    """The first language a dataset.yaml names (`languages: [fr, en]`, or the older
    `language: fr`), '' when it names none."""
    named = dataset.get("languages") or dataset.get("language")
    named = named[0] if isinstance(named, list) and named else named
    return languages.tag(named)


def fail(errors: list[ImportSourceError], writer: Writer) -> None:
    writer.abort()
    raise ImportFailed(errors)
