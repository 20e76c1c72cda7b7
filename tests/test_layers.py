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
    "frontmatter",
    "folder",
    "remote",
}
MAY_IMPORT = {
    "core": {"core"},
    "build": {"core", "build"},
    "serve": {"core", "serve"},
    "link": {"core", "build", "serve", "link"},
    "web": {"core", "serve", "link", "web"},
    "top": {"core", "build", "serve", "link", "web", "top"},
}


def layer(module: str) -> str:
    """The layer of a module of the package: `lod.build.steps` -> build."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in ("build", "serve", "link", "web"):
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
            known = target.split(".")[1] in CORE | {"build", "serve", "link", "web", "cli"}
            if known and their not in MAY_IMPORT[own]:
                found.append(f"{module} ({own}) imports {target} ({their})")
    return found


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
        ("lod.serve.store", "from ..build.steps import write"),
        ("lod.serve.current", "import lod.build.builder"),
        ("lod.web.pages", "from ..build import convert"),
        ("lod.build.steps", "from ..serve.store import EmbeddedStore"),
        ("lod.build.listings", "from ..link.reconcile import NameIndex"),
        ("lod.folder", "from .serve import store"),
        ("lod.serve.pool", "from flask import g"),
    ],
)
def test_the_check_catches_a_layer_broken(module, source):
    assert violations(module, source)


def test_the_check_lets_the_map_through():
    assert violations("lod.web.resources", "from ..serve.store import INCOMING_PAGE") == []
    assert violations("lod.link.reconcile", "from ..text import normalise") == []
    assert violations("lod.cli", "from .build import build\nfrom .web import create_app") == []
