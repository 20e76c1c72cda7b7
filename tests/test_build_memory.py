"""A build within a memory budget (LOD_BUILD_MEMORY_MB): the steps it bounds work in
batches, and a build whose budget forces many batches writes what a build in one batch
writes, byte for byte (the store as its quads)."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest

from lod import Settings, build
from lod.make import parts as parts_module
from lod.make.parts import Part
from lod.make.steps import BULK_LOAD_FACTOR, batches, load_store

from .test_rebuild import SAME_BYTES


def quads(path: Path) -> list[str]:
    return sorted(str(quad) for quad in pyoxigraph.Store.read_only(str(path)))


@pytest.mark.parametrize(
    ("sizes", "limit", "expected"),
    [
        ([3, 3, 3], 0, [[3, 3, 3]]),  # no budget: one batch
        ([3, 3, 3], 6, [[3, 3], [3]]),
        ([3, 3, 3], 5, [[3], [3], [3]]),
        ([9, 1, 1], 5, [[9], [1, 1]]),  # a part larger than a batch alone
    ],
)
def test_parts_are_batched_in_order_within_the_size(sizes, limit, expected):
    parts = [Part.of(b"x" * size) for size in sizes]
    assert [[p.size for p in batch] for batch in batches(parts, limit)] == expected


def test_a_store_loaded_in_many_batches_holds_what_one_batch_holds(tmp_path):
    lines = [f'<http://example.org/s{i:05}> <http://example.org/p> "{i}" .\n' for i in range(20000)]
    parts = [Part.of("".join(lines[i : i + 2000]).encode()) for i in range(0, 20000, 2000)]
    assert len(list(batches(parts, (1 << 20) // BULK_LOAD_FACTOR))) > 1  # 110 kB parts
    load_store(tmp_path / "one", parts)
    load_store(tmp_path / "many", parts, memory_mb=1)
    assert quads(tmp_path / "many") == quads(tmp_path / "one")
    assert len(quads(tmp_path / "one")) == 20000


def test_a_build_within_a_small_budget_is_the_build_without_one(corpus_1k, tmp_path):
    roomy = build(Settings(data=corpus_1k, out=tmp_path / "roomy", keep_state=0))
    # 1 MB: the 1k corpus's 4 MB of N-Triples in about twenty bulk loads
    tight = build(Settings(data=corpus_1k, out=tmp_path / "tight", keep_state=0, build_memory_mb=1))
    for name in SAME_BYTES:
        assert (tight.path / name).read_bytes() == (roomy.path / name).read_bytes(), name
    assert tight.id.rsplit("-", 1)[1] == roomy.id.rsplit("-", 1)[1]
    assert quads(tight.store_path) == quads(roomy.store_path)


def test_parts_compressed_apart_are_those_compressed_here(monkeypatch):
    lines = [
        f'<http://example.org/s{i:06}> <http://example.org/p> "value {i}"@en .\n'
        for i in range(80000)
    ]
    parts = [Part.of("".join(lines[i : i + 4000]).encode()) for i in range(0, 80000, 4000)]
    monkeypatch.setattr(parts_module, "APART_BYTES", 0)  # on helper processes
    apart = parts_module._compress_all(parts)
    monkeypatch.setattr(parts_module, "APART_BYTES", 1 << 40)  # here, in this process
    assert apart == parts_module._compress_all(parts)
