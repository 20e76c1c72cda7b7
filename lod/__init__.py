"""lod: publish an organisation's news content as Linked Open Data.

>>> from lod import Settings, build, open_store
>>> result = build(Settings(data="data", out="dist"))      # doctest: +SKIP
>>> store = open_store("dist")                              # doctest: +SKIP
"""

from pathlib import Path

from .config import Settings
from .errors import LodError
from .layout import Build, open_build
from .make import build, validated
from .serve.store import EmbeddedStore

__all__ = [
    "Build",
    "EmbeddedStore",
    "LodError",
    "Settings",
    "build",
    "open_build",
    "open_store",
    "validated",
]


def open_store(out: Path | str = "dist") -> EmbeddedStore:
    """The current build's store, read-only."""
    return EmbeddedStore(open_build(out).store_path)
