"""IRIs that last: a build may not drop a resource an earlier build published.

Every successful build adds the IRIs of its records to a ledger kept beside the builds,
`dist/ledger/published-iris.txt` (sorted, one IRI a line; lod.layout.Output.ledger). The
next build compares its records with the ledger; an IRI of the ledger that is no longer a
record must be accounted for in data/, by the publisher:

- moved: the record that took its place lists the old slug in `formerIds`; the dump says
  `<old> dcterms:isReplacedBy <new>` and the app answers 301 from the old /id and /doc;
- gone: `data/gone.yaml` lists it with a reason and a date; the app answers 410 Gone.

Anything else fails the build, naming each IRI and the two ways out, and changes nothing
published. `allow_removals` (lod build --allow-removals) is for a deliberate clean start:
the IRIs dropped leave the ledger, and the build says which.

The build folder gets `redirects.json` ({old IRI: new IRI}) and `gone.json` ({IRI:
{reason, date}}), which the web layer reads once per build.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from .. import layout
from ..errors import BuildFailed, PublishError, SourceError
from ..layout import Output
from ..vocab import KINDS, id_prefix, mint
from .convert import Conversion, values
from .sources import read

GONE = "gone.yaml"  # in data/
SHOWN = 10  # dropped IRIs named in an error, the rest counted


@dataclass
class Permanence:
    """What a build publishes about IRIs that are no longer records."""

    redirects: dict[str, str] = field(default_factory=dict)  # old IRI -> its record's IRI
    gone: dict[str, dict[str, str]] = field(default_factory=dict)  # IRI -> reason, date
    published: list[str] = field(default_factory=list)  # the ledger after this build
    removed: list[str] = field(default_factory=list)  # dropped under allow_removals
    lasting: bool = True  # False for a trial build: its IRIs stay out of the ledger
    remembered: bool = False  # the ledger holds `published` (remember wrote it)

    def write(self, folder: Path) -> None:
        """redirects.json and gone.json into a build folder."""
        for name, data in ((layout.REDIRECTS, self.redirects), (layout.GONE, self.gone)):
            (folder / name).write_bytes(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))


def check(
    out: Output,
    data: Path,
    conversion: Conversion,
    allow_removals: bool = False,
    trial: bool = False,
) -> Permanence:
    """The IRIs this build publishes checked against the ledger in `out`; BuildFailed when
    one is dropped unaccounted for (unless `allow_removals`) or data/gone.yaml is wrong. A
    `trial` build is checked the same, but its IRIs are not added to the ledger."""
    base = conversion.dataset.base
    errors: list[SourceError] = []
    records = {str(iri) for iri in conversion.records}
    redirects: dict[str, str] = {}
    for new, record, slug in _former_ids(conversion):
        old = str(mint(base, record.kind, slug))
        if old in records:
            problem = f"`{slug}` is still the id of a {record.kind}"
        elif old in redirects:
            problem = f"`{slug}` is a former id of {_short(redirects[old], base)} too"
        else:
            redirects[old] = str(new)
            continue
        errors.append(
            SourceError(
                record.file,
                record.line_of("formerIds"),
                "formerIds",
                problem,
                "a former id names one record that is no longer there",
            )
        )
    gone = _gone(Path(data) / GONE, base, records, errors)
    ledger = read_ledger(out)
    dropped = sorted(ledger - records - redirects.keys() - gone.keys())
    if errors:
        raise BuildFailed(errors)
    if dropped and not allow_removals:
        raise BuildFailed([_dropped(dropped, base, data)])
    published = sorted((ledger - set(dropped)) | records | redirects.keys() | gone.keys())
    return Permanence(redirects, gone, published, dropped, lasting=not trial)


def _former_ids(conversion: Conversion):
    """(record IRI, record, old slug) of every formerIds item (the converter reported the
    items that are not slugs)."""
    for subject, record in conversion.records.items():
        raw = record.values.get("formerIds")
        for item in raw if isinstance(raw, list) else [raw] if raw else []:
            for slug in str(item).split(";") if record.from_csv else [item]:
                try:
                    yield subject, record, values.slug(slug)
                except values.Invalid:
                    continue


def stamp(path: Path) -> tuple | None:
    """A file's time, size and inode (None when there is none): whether data/gone.yaml or
    the ledger changed."""
    try:
        found = Path(path).stat()
    except OSError:
        return None
    return (found.st_mtime_ns, found.st_size, found.st_ino)


def read_ledger(out: Output) -> set[str]:
    """The IRIs published so far: the ledger, or the one an older version kept at the top
    of the output folder (moved by the next `remember`)."""
    for path in (out.ledger, out.former_ledger):
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise PublishError(path, exc.strerror or str(exc)) from None
        return {line for line in text.splitlines() if line}
    return set()


def remember(out: Output, kept: Permanence) -> None:
    """The ledger after a build was switched to (written whole, then renamed); a ledger
    left where an older version kept it is removed once this one is written."""
    path = out.ledger
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(exist_ok=True)
        partial.write_text("".join(f"{iri}\n" for iri in kept.published), "utf-8")
        os.replace(partial, path)
        out.former_ledger.unlink(missing_ok=True)
        kept.remembered = True
    except OSError as exc:
        raise PublishError(path, exc.strerror or str(exc)) from None


def _dropped(dropped: list[str], base: str, data: Path) -> SourceError:
    shown = ", ".join(_short(iri, base) for iri in dropped[:SHOWN])
    more = f" and {len(dropped) - SHOWN} more" if len(dropped) > SHOWN else ""
    return SourceError(
        str(data),
        0,
        "",
        f"{len(dropped)} published IRI{'s' if len(dropped) != 1 else ''} would disappear: "
        f"{shown}{more}",
        "say where each went (`formerIds: [old-slug]` in the record that replaces it: "
        f"301) or that it is gone (an entry in {Path(data) / GONE}: 410), or run "
        "`lod build --allow-removals` for a deliberate clean start",
    )


def _short(iri: str, base: str) -> str:
    return iri.removeprefix(id_prefix(base)) if iri.startswith(base) else iri


def _gone(path: Path, base: str, records: set[str], errors: list[SourceError]) -> dict:
    """data/gone.yaml: a list of {id: kind/slug, reason, date}."""
    if not path.is_file():
        return {}
    found: dict[str, dict[str, str]] = {}
    for entry in read(path, "gone", errors):
        fault = _fault(entry, errors)
        unknown = set(entry.values) - {"id", "reason", "date"}
        for name in sorted(unknown):
            fault(name, "unknown field", "allowed: id, reason, date")
        try:
            kind, _, slug = values.text(entry.id or "").partition("/")
            if kind not in KINDS:
                raise values.Invalid(
                    f"`{entry.id}` does not say its kind", "write kind/slug, e.g. article/old"
                )
            iri = str(mint(base, kind, values.slug(slug)))
        except values.Invalid as bad:
            fault("id", bad.message, bad.hint)
            continue
        if iri in records:
            fault("id", f"`{entry.id}` is declared gone but is still a record")
        details = {}
        for name, parse in (("reason", values.text), ("date", values.date_or_datetime)):
            try:
                details[name] = str(parse(entry.values.get(name)))
            except values.Invalid as bad:
                fault(name, bad.message if name in entry.values else "missing", bad.hint)
        found[iri] = details
    return found


def _fault(entry, errors: list[SourceError]):
    def fault(name: str, message: str, hint: str = "") -> None:
        errors.append(SourceError(entry.file, entry.line_of(name), name, message, hint))

    return fault
