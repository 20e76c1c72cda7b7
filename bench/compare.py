"""Two builds of the same data compared file by file: whether a change to the build path
left its output as it was.

    python bench/compare.py dist-a/current dist-b/current

Every file of the two build folders is compared byte for byte, except what differs
between any two builds of the same data: the build's id and time (manifest.json, the change
stream's index and members), the validation report's blank nodes (validation.ttl, compared
as a graph), the store (compared as its sorted quads) and the search index (compared as
its tables' sorted rows). Prints each difference; exits 1 if there is one.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path

import pyoxigraph
from rdflib import Graph
from rdflib.compare import isomorphic

ID = re.compile(rb"\d{8}T\d{12}Z-[0-9a-f]{8}")
TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?\+00:00")


def files(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and "store" not in p.relative_to(root).parts
    }


def _stamped(data: bytes) -> bytes:
    """The bytes with every build id and time replaced by a placeholder."""
    return TIME.sub(b"<time>", ID.sub(b"<id>", data))


def manifest(path: Path) -> dict:
    found = json.loads(path.read_text("utf-8"))
    found.pop("id", None)
    found.pop("created", None)
    return found


def quads(path: Path) -> list[str]:
    return sorted(str(q) for q in pyoxigraph.Store.read_only(str(path)))


def rows(path: Path) -> dict[str, list]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not re.search(r"_(data|idx|docsize|config|content)$", name)
        ]
        return {t: sorted(map(repr, db.execute(f'SELECT * FROM "{t}"'))) for t in tables}
    finally:
        db.close()


def differences(a: Path, b: Path) -> list[str]:
    found = []
    names_a, names_b = files(a), files(b)
    for name in sorted(names_a ^ names_b):
        found.append(f"only in {'the first' if name in names_a else 'the second'}: {name}")
    for name in sorted(names_a & names_b):
        one, two = a / name, b / name
        if name == "manifest.json":
            same = manifest(one) == manifest(two)
        elif name == "validation.ttl":
            same = isomorphic(Graph().parse(one), Graph().parse(two))
        elif name.endswith(".sqlite"):
            same = rows(one) == rows(two)
        elif name.startswith("ldes/") or name.startswith("ldes\\"):
            same = _stamped(one.read_bytes()) == _stamped(two.read_bytes())
        else:
            same = one.read_bytes() == two.read_bytes()
        if not same:
            found.append(f"differs: {name}")
    if (a / "store").exists() or (b / "store").exists():
        if quads(a / "store") != quads(b / "store"):
            found.append("differs: store (as sorted quads)")
    return found


def main() -> int:
    a, b = (Path(arg).resolve() for arg in sys.argv[1:3])
    found = differences(a, b)
    for line in found:
        print(line)
    print(f"{len(found)} differences between {a} and {b}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
