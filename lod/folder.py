"""A build folder as every layer reads it: dist/builds/<id>/ with its manifest and files,
and dist/current, the build served (lod.make writes them; lod.serve and lod.web read them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import NoBuild, NotPublished
from .formats import Format

DUMP_FORMATS = (Format.NTRIPLES, Format.TURTLE, Format.JSONLD)
RECONCILE_INDEX_VERSION = 1  # the shape of reconcile.json
EXTEND_VALUES = "extend.jsonl"  # each record's property values, for data extension
BUILD_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]*")


def dump_name(fmt: Format) -> str:
    """The file name of the dump in `fmt`: dataset.nt.gz, dataset.ttl.gz, dataset.jsonld.gz."""
    return f"dataset.{fmt.extension}.gz"


@dataclass(frozen=True)
class Build:
    """A finished build on disk."""

    path: Path
    manifest: dict
    # The validation warnings (lod.make.validate.Result), when this process made the build;
    # validation.txt in its folder holds them too.
    warnings: tuple = field(default=(), compare=False, repr=False)
    # The published IRIs this build dropped (lod build --allow-removals), when it made it.
    removed: tuple = field(default=(), compare=False, repr=False)

    @property
    def id(self) -> str:
        return self.manifest["id"]

    @property
    def base(self) -> str:
        return self.manifest["base"]

    @property
    def store_path(self) -> Path:
        return self.path / "store"

    def dump(self, fmt: Format) -> Path:
        return self.path / dump_name(fmt)


def open_build(out: Path | str, build_id: str | None = None) -> Build:
    """The build dist/current points to, or the build `build_id` of dist/builds/ (the one
    a remote store serves: NotPublished when this machine's build folder lacks it)."""
    if build_id is None:
        current = Path(out) / "current"
    elif BUILD_ID.fullmatch(build_id):
        current = Path(out) / "builds" / build_id
    else:
        raise NotPublished(f"the store serves a build with a bad id: {build_id[:80]!r}")
    try:
        path = current.resolve(strict=True)
        manifest = json.loads((path / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        if build_id is None:
            raise NoBuild(out) from None
        raise NotPublished(
            f"the store serves build {build_id}, which {Path(out) / 'builds'} lacks: every "
            "app machine needs the build folder of each build published (share it or copy it)"
        ) from None
    return Build(path, manifest)
