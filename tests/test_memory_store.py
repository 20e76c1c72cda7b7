"""Query workers answer from a copy of the build's store in memory when it fits
LOD_QUERY_MEMORY_STORE_MB (lod.serve.store.MemoryStore), from the store's files otherwise:
the answers are the same bytes either way."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox

from lod import Settings, config
from lod.formats import Format, ResultFormat
from lod.serve.guard import read
from lod.serve.pool import QueryService
from lod.serve.store import EmbeddedStore, MemoryStore

QUERIES = [
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o",
    "SELECT ?c (COUNT(?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY ?c",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "ASK { ?s a <https://schema.org/NewsArticle> }",
]


def test_the_copy_in_memory_holds_every_quad_of_the_store(built):
    disk = EmbeddedStore(built.store_path)
    memory = MemoryStore(built.store_path)
    assert (built.path / "dataset.nt.gz").exists()  # the copy was loaded from the dump
    assert memory.in_memory and not disk.in_memory
    assert set(memory.oxigraph) == set(disk.oxigraph)
    assert len(memory.oxigraph) == built.manifest["triples"] > 0
    iri = next(q.subject.value for q in disk.oxigraph if isinstance(q.subject, ox.NamedNode))
    assert set(memory.describe(iri).triples) == set(disk.describe(iri).triples)


def run_all(service: QueryService, store) -> list[bytes]:
    return [
        service.run(store, query, Format.NTRIPLES if query.is_graph else ResultFormat.JSON).body
        for query in map(read, QUERIES)
    ]


def test_workers_answer_the_same_from_memory_and_from_disk(built):
    store = EmbeddedStore(built.store_path)
    with QueryService(timeout=30, concurrency=1, memory_mb=512) as on_disk:
        assert on_disk._copy_mb(built.store_path) == 0
        expected = run_all(on_disk, store)
    with QueryService(timeout=30, concurrency=1, memory_mb=512, memory_store_mb=64) as in_memory:
        assert in_memory._copy_mb(built.store_path) > 0
        # the first answers may come from disk while the worker copies the store; then
        # from the copy: the same bytes throughout
        for _ in range(20):
            assert run_all(in_memory, store) == expected


def test_a_build_over_the_budget_stays_on_disk(built, tmp_path):
    with QueryService(timeout=30, concurrency=1, memory_mb=512, memory_store_mb=1) as service:
        # 1 MB holds about 1,600 triples: the sample build (hundreds) fits, a copy of its
        # manifest claiming millions does not
        (tmp_path / "store").mkdir()
        manifest = dict(built.manifest, triples=10_000_000)
        (tmp_path / "manifest.json").write_text(__import__("json").dumps(manifest))
        assert service._copy_mb(tmp_path / "store") == 0
        assert service._copy_mb(built.store_path) > 0
        (tmp_path / "other").mkdir()
        assert service._copy_mb(tmp_path / "other") == 0  # no manifest: on disk


def test_a_store_alone_is_copied_from_its_own_quads(built, tmp_path):
    import shutil

    shutil.copytree(built.store_path, tmp_path / "store")
    memory = MemoryStore(tmp_path / "store")
    assert set(memory.oxigraph) == set(EmbeddedStore(built.store_path).oxigraph)


def test_the_default_budget_is_each_query_workers_share_of_a_quarter_of_the_memory(
    monkeypatch, tmp_path
):
    """Unset, LOD_QUERY_MEMORY_STORE_MB is a quarter of the machine's memory (as
    /proc/meminfo says) split among the query workers, or of a container's limit when
    lower; set, it is what it says."""
    total_mb = int(re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())[1]) // 1024
    monkeypatch.setattr(config, "CGROUP_MEMORY_MAX", tmp_path / "memory.max")
    (tmp_path / "memory.max").write_text("max\n")
    assert Settings(query_concurrency=2).query_memory_store_mb == total_mb // 8
    assert Settings(query_concurrency=8).query_memory_store_mb == total_mb // 32
    (tmp_path / "memory.max").write_text(f"{1 << 30}\n")  # a container given 1 GiB
    assert Settings(query_concurrency=2).query_memory_store_mb == 128
    assert Settings.from_env({"LOD_QUERY_MEMORY_STORE_MB": "64"}).query_memory_store_mb == 64
    assert Settings.from_env({"LOD_QUERY_MEMORY_STORE_MB": "0"}).query_memory_store_mb == 0
