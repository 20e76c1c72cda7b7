"""lod: publish an organisation's news content as Linked Open Data.

>>> from lod import Settings, build, open_store
>>> result = build(Settings(data="data", out="dist"))      # doctest: +SKIP
>>> store = open_store("dist")                              # doctest: +SKIP
"""

from pathlib import Path

from .config import Settings
from .errors import LodError
from .publish import Build, build, check, open_build
from .store import EmbeddedStore

__all__ = [
    "Build",
    "EmbeddedStore",
    "LodError",
    "Settings",
    "build",
    "check",
    "open_build",
    "open_store",
]


def open_store(out: Path | str = "dist") -> EmbeddedStore:
    """The current build's store, read-only."""
    return EmbeddedStore(open_build(out).store_path)
