"""The house style holds for every module: ruff's lint (with complexity at most 15, as
pyproject.toml sets it) and its formatting, over the package, the tests and the benchmarks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT

TREES = ["lod", "tests", "bench", "app.py"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_passes(command):
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *command, *TREES],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
