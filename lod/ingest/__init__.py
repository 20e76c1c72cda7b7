"""Other formats -> data/ files: `lod import`.

detect (the format, from content) -> a reader per format (feeds, wordpress, pages, table),
each yielding records, skipped items and faults one item at a time -> writer (staged
files, renamed into place only when the whole import is good).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ImportFailed, ImportSourceError
from . import detect as detection
from . import feeds, pages, table, wordpress
from .model import Entity, Event, Fault, Options, Site, Skipped, Tally
from .writer import Writer

__all__ = ["Options", "Report", "import_sources"]

READERS: dict[str, Callable[[str, Options], Iterator[Event]]] = {
    "wxr": wordpress.read,
    "rss2": feeds.read_rss2,
    "rss1": feeds.read_rss1,
    "atom": feeds.read_atom,
    "jsonfeed": feeds.read_json_feed,
    "html": pages.read,
    "csv": table.read,
}


@dataclass
class Report:
    tally: Tally
    dry_run: bool
    planned: list  # (status, ref, path) in the order met

    def lines(self, every: bool = False) -> list[str]:
        """What was (or, dry, would be) created and changed when `every`, then what was
        skipped (each item when `every`, else counted by reason, per file) or invalid,
        then the counts."""
        out = []
        verb = "would " if self.dry_run else ""
        if every:
            for status, ref, path in self.planned:
                out.append(f"{verb}{'create' if status == 'created' else 'change'} {ref} -> {path}")
            for ref in self.tally.kept:
                out.append(f"kept {ref}: differs from the source (--update re-imports it)")
            out.extend(str(skipped) for skipped in self.tally.skipped)
        else:
            out.extend(skipped_by_reason(self.tally.skipped))
        for error in self.tally.invalid:
            out.append(f"skipped as invalid: {error}")
        t = self.tally
        out.append(
            f"{verb}{'create' if self.dry_run else 'created'} {len(t.created)}, "
            f"{'change' if self.dry_run else 'changed'} {len(t.changed)}; "
            f"{len(t.unchanged)} unchanged, {len(t.kept)} kept as edited, "
            f"{len(t.skipped)} skipped, {len(t.invalid)} invalid"
        )
        return out


def skipped_by_reason(skipped: list[Skipped]) -> list[str]:
    """One line per file: `file: skipped 12: 9× attachment, 2× draft, 1× nav menu item`,
    the most frequent reason first (a file that skipped one item: that item's line)."""
    by_file: dict[str, list[Skipped]] = {}
    for item in skipped:
        by_file.setdefault(item.file, []).append(item)
    lines = []
    for file, items in by_file.items():
        reasons = Counter(item.reason for item in items)
        counted = ", ".join(f"{count}× {reason}" for reason, count in reasons.most_common())
        lines.append(
            str(items[0]) if len(items) == 1 else f"{file}: skipped {len(items)}: {counted}"
        )
    return lines


def import_sources(
    sources: list[str | Path],
    data: str | Path,
    *,
    update: bool = False,
    dry_run: bool = False,
    skip_invalid: bool = False,
    options: Options | None = None,
) -> Report:
    """Import every source into data/; raise ImportFailed (data/ unchanged) on any fault,
    or, with skip_invalid, on a fault that is not one item's."""
    options = options or Options()
    writer = Writer(Path(data), update=update, dry_run=dry_run)
    if not options.language:  # a translation's original is in the dataset's first language
        options = replace(options, language=writer.language)
    errors: list[ImportSourceError] = []
    try:
        for file, kind, named in detection.expand([str(s) for s in sources]):
            if kind is None:
                if named:
                    errors.append(
                        ImportSourceError(
                            file,
                            0,
                            "",
                            "not a feed, WordPress export, web page or CSV",
                            "RSS, Atom, JSON Feed, WXR, .html with schema.org, or CSV",
                        )
                    )
                continue
            _read(file, kind, options, writer, errors, skip_invalid)
    except ImportSourceError as error:
        errors.append(error)
    except BaseException:
        writer.abort()
        raise
    if errors:
        writer.abort()
        raise ImportFailed(errors)
    try:
        writer.finish()
        writer.commit()
    finally:
        writer.abort()
    planned = [(p.status, p.ref, str(Path(data) / p.path)) for p in writer.planned]
    return Report(writer.tally, dry_run, planned)


def _read(file, kind, options, writer: Writer, errors, skip_invalid) -> None:
    try:
        for event in READERS[kind](file, options):
            if isinstance(event, Entity):
                writer.add(event)
            elif isinstance(event, Site):
                writer.found_site(event)
            elif isinstance(event, Skipped):
                writer.tally.skipped.append(event)
            elif isinstance(event, Fault):
                if skip_invalid:
                    writer.tally.invalid.append(event.error)
                else:
                    errors.append(event.error)
    except ImportSourceError as error:
        errors.append(error)  # the file as a whole: never skipped


__all__ += ["ImportFailed"]
