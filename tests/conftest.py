"""Shared fixtures: the default dataset built once per session, paths to shared/ vocab."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lod import Settings, build

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SHARED = ROOT.parent / "shared"
VOCAB = SHARED / "vocab"


def copy_data(target: Path) -> Path:
    """A private copy of data/ that a test may break."""
    shutil.copytree(DATA, target)
    return target


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """data/ built into a session-wide dist folder: the Build."""
    out = tmp_path_factory.mktemp("dist")
    return build(Settings(data=DATA, out=out))


@pytest.fixture(scope="session")
def schema_vocab():
    path = VOCAB / "schemaorg-current-https.ttl"
    assert path.exists(), f"{path} is missing: ../shared/ must sit beside the checkout"
    return path
