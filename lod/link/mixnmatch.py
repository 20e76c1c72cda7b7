"""`lod export mixnmatch`: the Mix'n'match catalogue of data/ without a build (the same
bytes a build writes as mixnmatch.tsv)."""

from __future__ import annotations

from pathlib import Path

from ..errors import BuildFailed
from ..make.convert import convert
from ..make.listings import build_index
from ..make.mixnmatch import catalogue
from ..make.sources import load


def export(data: Path | str, base: str | None = None) -> bytes:
    """The TSV of the records in `data` (BuildFailed when the data does not convert)."""
    conversion = convert(load(Path(data)), base)
    if conversion.errors or conversion.dataset is None:
        raise BuildFailed(conversion.errors)
    index = build_index(conversion.triples, conversion)
    return catalogue(index["entries"], conversion.dataset.base)
