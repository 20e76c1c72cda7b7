"""The module map holds: each layer imports only what it may (README, "How the code is
laid out"), and Flask only in the web layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "lod"
CORE = {
    "config",
    "errors",
    "vocab",
    "formats",
    "triples",
    "text",
    "fulltext",
    "edit",
    "languages",
    "layout",
    "remote",
    "versions",
    "lists",
}
# Every folder of lod/ is a layer; ARCHITECTURE.md draws the same map.
MAY_IMPORT = {
    "core": {"core"},
    "publish": {"core", "publish"},
    "make": {"core", "publish", "make"},
    "ingest": {"core", "make", "ingest"},
    "serve": {"core", "serve"},
    "link": {"core", "make", "serve", "link"},
    "check": {"core", "check"},
    "web": {"core", "serve", "link", "web"},
    "top": {"core", "publish", "make", "ingest", "serve", "link", "check", "web", "top"},
}
LAYERS = set(MAY_IMPORT) - {"core", "top"}


def layer(module: str) -> str:
    """The layer of a module of the package: `lod.make.steps` -> make."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    if len(parts) > 1 and parts[1] in CORE:
        return "core"
    return "top"  # lod/__init__, __main__, cli


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(module: str, source: str, is_package: bool) -> set[str]:
    """The modules `source` imports, absolute (relative imports resolved)."""
    found = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """What `module` imports against the map: lod modules of a layer it may not import,
    and Flask outside the web layer."""
    own = layer(module)
    found = []
    for target in sorted(imports(module, source, is_package)):
        if target.split(".")[0] == "flask" and own != "web":
            found.append(f"{module} imports {target}: Flask belongs to lod.web")
        if target.startswith("lod.") and target.count(".") >= 1:
            their = layer(target)
            known = target.split(".")[1] in CORE | LAYERS | {"cli"}
            if known and their not in MAY_IMPORT[own]:
                found.append(f"{module} ({own}) imports {target} ({their})")
    return found


def test_every_folder_is_a_layer_and_every_module_is_placed():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == LAYERS
    loose = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__", "cli"}
    assert loose == CORE


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield module_name(path), path


@pytest.mark.parametrize("module, path", list(modules()), ids=lambda v: str(v))
def test_each_module_imports_only_what_its_layer_may(module, path):
    source = path.read_text("utf-8")
    assert violations(module, source, path.name == "__init__.py") == []


@pytest.mark.parametrize(
    "module, source",
    [
        ("lod.serve.store", "from ..make.steps import write"),
        ("lod.serve.current", "import lod.make.builder"),
        ("lod.web.pages", "from ..make import convert"),
        ("lod.make.steps", "from ..serve.store import EmbeddedStore"),
        ("lod.make.listings", "from ..link.reconcile import NameIndex"),
        ("lod.layout", "from .serve import store"),
        ("lod.serve.pool", "from flask import g"),
        ("lod.make.sources", "from ..ingest import writer"),
        ("lod.publish.remote", "from ..make import steps"),
        ("lod.check.audit", "from ..serve.store import EmbeddedStore"),
        ("lod.ingest.writer", "from ..link import mentions"),
    ],
)
def test_the_check_catches_a_layer_broken(module, source):
    assert violations(module, source)


def test_the_check_lets_the_map_through():
    assert violations("lod.web.resources", "from ..serve.store import INCOMING_PAGE") == []
    assert violations("lod.link.reconcile", "from ..text import normalise") == []
    assert violations("lod.ingest.writer", "from ..make import sources") == []
    assert violations("lod.cli", "from .make import build\nfrom .web import create_app") == []
