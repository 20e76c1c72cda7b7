"""What an importer yields: records to write, items skipped (with why), and faults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ImportSourceError


@dataclass
class Entity:
    """One record to write as a data/ file: its kind and slug, its fields in the order they
    are written (text, or lists of text and `kind/slug` references), a Markdown body, and
    the source's identifier for it (a URL, GUID or `@id`), which tells an item updated in
    place from a different item whose slug happens to be the same."""

    kind: str
    slug: str
    fields: dict[str, Any]
    body: str = ""
    identity: str = ""
    origin: str = ""  # file and item, for messages

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.slug}"


@dataclass
class Skipped:
    file: str
    item: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: item {self.item}: skipped ({self.reason})"


@dataclass
class Site:
    """The site a source comes from: its publisher, and defaults for a new dataset.yaml."""

    title: str
    url: str = ""
    language: str = ""
    description: str = ""


@dataclass
class Options:
    pages: bool = False  # WordPress pages, imported as documents
    max_bytes: int = 512 * 1024 * 1024  # a larger source file is refused
    max_item_bytes: int = 16 * 1024 * 1024  # a larger item (body) is refused
    publisher: str | None = None  # an organisation slug to publish under, else the site's
    language: str = ""  # the dataset's first language (a translation's original is in it)


@dataclass
class Fault:
    """A fault found while reading a source (the importer goes on with the next item)."""

    error: ImportSourceError


Event = Entity | Skipped | Fault | Site


def fault(file: str, item: str, field_name: str, message: str, line: int = 0, hint: str = ""):
    return Fault(ImportSourceError(file, line, field_name, message, hint, item=item))


@dataclass
class Tally:
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # exists, differs; not updated
    skipped: list[Skipped] = field(default_factory=list)
    invalid: list[ImportSourceError] = field(default_factory=list)
