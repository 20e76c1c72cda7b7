"""What linking adds to a build and to the reconciliation service: the size, load time and
memory of reconcile.json with its data-extension part (offsets into extend.jsonl and the
property counts per type) against the same index without it, extend.jsonl itself, data
extension (values read by offset) against matching, and the Mix'n'match catalogue.

    python bench/link.py 10k [100k …] [--runs 3] [--rebuild] [--json bench/out/link.json]

Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
from pathlib import Path

import orjson
from benchlib import built, finish, header, median, name, ratio

from lod.link.extend import Extension
from lod.link.reconcile import NameIndex
from lod.make.mixnmatch import catalogue

PROPERTIES = ["name", "datePublished", "about", "author", "sameAs"]


def timed(run, runs: int) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return median(times)


def peak_mb(make) -> float:
    gc.collect()
    tracemalloc.start()
    kept = make()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del kept
    return peak / 1e6


def measure(size: str, runs: int, rebuild: bool) -> dict:
    out = built(size, rebuild=rebuild)
    path = out / "current" / "reconcile.json"
    raw = path.read_bytes()
    data = orjson.loads(raw)
    bare = {k: v for k, v in data.items() if k != "extend"}
    values_file = out / "current" / "extend.jsonl"
    bare_raw = orjson.dumps(bare, option=orjson.OPT_SORT_KEYS)
    load_with = timed(lambda: NameIndex(orjson.loads(raw)), runs)
    load_without = timed(lambda: NameIndex(orjson.loads(bare_raw)), runs)
    mem_with = peak_mb(lambda: NameIndex(orjson.loads(raw)))
    mem_without = peak_mb(lambda: NameIndex(orjson.loads(bare_raw)))

    index = NameIndex(data)
    extension = Extension(index, values_file)
    ids = [e["id"] for e in index.entries[:: max(1, len(index.entries) // 50)]][:50]
    names = [index.entry(i)["name"] for i in ids]
    extend_50 = timed(
        lambda: [Extension(index, values_file).values(i, p) for i in ids for p in PROPERTIES], runs
    )
    match_50 = timed(lambda: [index.match(n) for n in names], runs)
    propose = timed(lambda: extension.propose("article"), runs)
    tsv_time = timed(lambda: catalogue(index.entries, index.base), runs)
    tsv = (out / "current" / "mixnmatch.tsv").read_bytes()
    figures = {
        "size": name(size),
        "records": len(index.entries),
        "reconcile.json MB": round(len(raw) / 1e6, 1),
        "without extend MB": round(len(bare_raw) / 1e6, 1),
        "extend.jsonl MB": round(values_file.stat().st_size / 1e6, 1),
        "load s": round(load_with, 3),
        "load without extend s": round(load_without, 3),
        "load peak MB": round(mem_with),
        "load peak without extend MB": round(mem_without),
        "extend 50 ids x 5 properties ms": round(extend_50 * 1000, 2),
        "match 50 names ms": round(match_50 * 1000, 2),
        "propose for article ms": round(propose * 1000, 1),
        "mixnmatch.tsv rows": tsv.count(b"\n") - 1,
        "mixnmatch.tsv KB": round(len(tsv) / 1e3),
        "mixnmatch catalogue ms": round(tsv_time * 1000, 1),
    }
    print(f"\n{name(size)}: {len(index.entries)} records")
    print(
        f"  reconcile.json {figures['reconcile.json MB']} MB, without its extend part "
        f"{figures['without extend MB']} MB ({ratio(len(raw), len(bare_raw))}); "
        f"extend.jsonl {figures['extend.jsonl MB']} MB"
    )
    print(
        f"  NameIndex load {load_with:.3f} s vs {load_without:.3f} s without extend "
        f"({ratio(load_with, load_without)}); peak {mem_with:.0f} MB vs {mem_without:.0f} MB"
    )
    print(
        f"  extend 50 ids x 5 properties {extend_50 * 1000:.2f} ms vs match 50 names "
        f"{match_50 * 1000:.2f} ms ({ratio(extend_50, match_50)}); propose {propose * 1000:.1f} ms"
    )
    print(
        f"  mixnmatch.tsv {figures['mixnmatch.tsv rows']} rows, {figures['mixnmatch.tsv KB']} KB, "
        f"made in {tsv_time * 1000:.1f} ms"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", default=["10k"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--rebuild", action="store_true", help="Build the corpus again.")
    args = parser.parse_args()
    header("link: reconcile.json values, data extension, Mix'n'match")
    results = [measure(size, args.runs, args.rebuild) for size in args.sizes]
    finish(results, args.json)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
