"""`lod build` wall time and peak memory per corpus size, split by phase, against what
rdflib and pyoxigraph alone pay for the same triples, and a rebuild after one edit.

    python bench/build.py 1k 10k            # 3 runs each (median)
    python bench/build.py 100k              # 1 run at 100k and above unless --runs
    python bench/build.py 10k --runs 5 --json bench/out/build-10k.json

Each run is a fresh Python process that calls lod.make.build on a copy of the corpus
into an empty out folder (no validation cache), with the environment's LOD_* settings
as `lod build` takes them (LOD_BUILD_MEMORY_MB, LOD_KEEP_STATE, ...), and prints the start
time of each phase and its own ru_maxrss (and its largest reaped child's: a helper process
of lod.make.apart, the validation pool's workers, or the fork that starts the detached
snapshot writer, whose RSS counts the pages it shares with the build). The parent also
samples the memory of the whole process tree (benchlib.TreeMemory: RSS of the build alone,
PSS summed over the tree while the pool runs). Baselines, in the same run, on the
build's N-Triples dump: rdflib parsing it into a Graph and serialising the Graph to Turtle
(what a build on rdflib alone pays at the least), and pyoxigraph bulk-loading it into an
on-disk store (and parsing + writing Turtle). Last, "rebuild": what `lod build --watch`
does, in one process: a lod.make.Builder builds the corpus, then one article's headline
is edited and the Builder builds again, --runs times.

Disk: after the last run's build, its build folder per part and the state it keeps in
dist/cache; after the cold rebuilds, every build kept (pruning keeps three) and the whole
out folder; each also as a multiple of the gzipped dumps. Bytes are file sizes (`du -sb`),
a file hard-linked into several builds (the store's files, the change stream's full
pages) counted once.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import benchlib
from benchlib import PYTHON, ROOT, TreeMemory, median, ratio

PHASES = (
    "resume",
    "load",
    "convert",
    "validate",
    "ntriples",
    "dumps",
    "store",
    "lists",
    "changes",
    "search",
    "switch",
    "keep",
)
PHASE_NOTES = {
    "resume": "the last build's state read from dist/cache (lod.make.state)",
    "load": "read and parse the source files",
    "convert": "sources -> triples, VoID description",
    "validate": "SHACL validation",
    "ntriples": "the graph serialised as sorted N-Triples",
    "dumps": "gzip dumps (nt, ttl, jsonld), void.ttl, validation report",
    "store": "Oxigraph bulk load of the N-Triples",
    "lists": "lists.json, reconcile.json, manifest",
    "changes": "the change stream: what changed since the last build (ldes/)",
    "search": "the full-text index (search.sqlite)",
    "switch": "rename, switch current, prune old builds",
    "keep": "this build's step written to dist/cache for the next process (a snapshot: after)",
}

# The parts of a build folder, by the names lod.layout gives them (this process does not
# import lod: the children import the checkout's).
DISK_PARTS = {
    "store": "the Oxigraph store (store/)",
    "dumps": "the gzipped dumps (dataset.nt.gz, .ttl.gz, .jsonld.gz)",
    "changes": "the change stream's history (ldes/)",
    "search": "the full-text index (search.sqlite)",
    "lists": "lists (.json, .sqlite), versions.json, reconcile.json, extend.jsonl, mixnmatch.tsv",
    "answers": "what some SPARQL queries are answered from (answers.sqlite)",
    "other": "the manifest, VoID, validation report, redirects, sums",
}
LISTS = {
    "lists.json",
    "lists.sqlite",
    "versions.json",
    "reconcile.json",
    "extend.jsonl",
    "mixnmatch.tsv",
}


# The child: a build as `lod build` makes it (lod.cli: a due snapshot of the state left to
# a detached writer, then an exit that leaves the state unfreed), with a progress callback
# that notes when each phase starts.
CHILD = r"""
import json, os, resource, sys, time
started = time.perf_counter()
from lod.make import Builder
from lod.config import Settings
sys.path.insert(0, "bench")
from benchlib import Phases
imported = time.perf_counter()
progress = Phases()
begin, begin_cpu = time.perf_counter(), progress.cpu()
builder = Builder(Settings.from_env(data=sys.argv[1], out=sys.argv[2]), progress)  # LOD_* apply
result = builder.build()
builder.save(in_background=True)
end, end_cpu = time.perf_counter(), progress.cpu()
phases, phases_cpu = progress.spent(end, end_cpu)
print(json.dumps({
    "import_s": imported - started,
    "build_s": end - begin,
    "cpu_s": end_cpu - begin_cpu,
    "phases": phases,
    "phases_cpu": phases_cpu,
    "triples": result.manifest["triples"],
    "build_path": str(result.path),
    "maxrss_self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "maxrss_children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
}), flush=True)
if builder.shared_with_writer:
    os._exit(0)
"""

# The rebuilds: what `lod build --watch` does. One process builds the corpus with a
# lod.make.Builder, then for each run edits one headline and builds again.
WATCH = r"""
import json, resource, sys, time
from pathlib import Path
from lod.make import Builder
from lod.config import Settings
sys.path.insert(0, "bench")
from benchlib import Phases
from build import edit_headline
data, runs = Path(sys.argv[1]), int(sys.argv[3])
progress = Phases()
builder = Builder(Settings.from_env(data=data, out=sys.argv[2]), progress)  # LOD_* apply
begin = time.perf_counter()
builder.build()
first = time.perf_counter() - begin
progress.marks = []
rebuilds = []
for run in range(runs):
    edited = edit_headline(data, 100 + run)
    begin, begin_cpu = time.perf_counter(), progress.cpu()
    result = builder.build({str(edited)})  # the file named, as the system tells --watch
    end, end_cpu = time.perf_counter(), progress.cpu()
    phases, phases_cpu = progress.spent(end, end_cpu)
    rebuilds.append({
        "edited": str(edited.relative_to(data)),
        "build_s": end - begin,
        "cpu_s": end_cpu - begin_cpu,
        "phases": phases,
        "phases_cpu": phases_cpu,
        "triples": result.manifest["triples"],
    })
print(json.dumps({
    "first_s": first,
    "rebuilds": rebuilds,
    "maxrss_self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
"""

RDFLIB = r"""
import gzip, json, resource, sys, time
import rdflib
data = gzip.open(sys.argv[1]).read()
t0, c0 = time.perf_counter(), time.process_time()
graph = rdflib.Graph()
graph.parse(data=data, format="nt")
t1 = time.perf_counter()
turtle = graph.serialize(format="turtle", encoding="utf-8")
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"parse_s": t1 - t0, "turtle_s": t2 - t1, "cpu_s": c2 - c0,
                  "triples": len(graph),
                  "maxrss_self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

# The dump decompressed to a file first (untimed), which the loader and the parser read
# themselves: held in memory, a million articles' 4.5 GB would not fit beside the loader.
OXIGRAPH = r"""
import gzip, json, os, resource, shutil, sys, time
import pyoxigraph as ox
nt, ttl = sys.argv[2] + ".nt", sys.argv[2] + ".ttl"
with gzip.open(sys.argv[1]) as dump, open(nt, "wb") as plain:
    shutil.copyfileobj(dump, plain, 1 << 20)
t0, c0 = time.perf_counter(), time.process_time()
store = ox.Store(sys.argv[2])
store.bulk_load(path=nt, format=ox.RdfFormat.N_TRIPLES)
store.flush()
t1, c1 = time.perf_counter(), time.process_time()
ox.serialize(ox.parse(path=nt, format=ox.RdfFormat.N_TRIPLES), ttl, ox.RdfFormat.TURTLE)
t2 = time.perf_counter()
os.remove(nt), os.remove(ttl)
print(json.dumps({"store_s": t1 - t0, "store_cpu_s": c1 - c0, "turtle_s": t2 - t1,
                  "triples": len(store),
                  "maxrss_self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def child(code: str, *args: str, timeout: float | None = None) -> dict:
    """Run code in a fresh interpreter; its last stdout line (JSON), with the process's wall
    time and the peak PSS of its process tree."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [PYTHON, "-c", code, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    memory = TreeMemory(process.pid)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        memory.stop()
        raise RuntimeError(f"timed out after {timeout} s") from None
    peak = memory.stop()
    if process.returncode != 0:
        raise RuntimeError(f"child failed ({process.returncode}): {stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - started
    result["tree_pss_peak_kb"] = peak
    return result


def writer(out: Path) -> dict:
    """The detached writer of a snapshot a build left (lod.make.Builder.save), measured
    until it releases the build lock of `out`: the seconds it held it once the build's
    process was gone, and its peak memory (VmRSS, sampled)."""
    started = time.perf_counter()
    pids = [pid for pid in benchlib.processes() if str(out) in benchlib.cmdline(pid)]
    memory = [TreeMemory(pid) for pid in pids]
    with open(out / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
    return {
        "keep_later_s": time.perf_counter() - started if pids else 0.0,
        "keep_later_rss_kb": max((m.stop() for m in memory), default=0),
    }


def with_writer(result: dict, out: Path) -> dict:
    """A build's figures, with those of the snapshot writer it left, if any."""
    result.update(writer(out))
    return result


def later(result: dict) -> str:
    """What the detached writer took, if the build left one."""
    if not result["keep_later_s"]:
        return ""
    return (
        f"; then its snapshot written in the background in {result['keep_later_s']:.2f} s "
        f"(writer peak RSS {mb(result['keep_later_rss_kb'])})"
    )


def edit_headline(source: Path, generation: int) -> Path:
    """Change the headline of the corpus's first article; the file edited."""
    article = next(iter(sorted((source / "articles").glob("*/article-0.md"))))
    text = article.read_text("utf-8")
    text, count = re.subn(
        r'^headline: "(Article 0):[^"\n]*"',
        f'headline: "\\1: edited headline number {generation}"',
        text,
        count=1,
        flags=re.MULTILINE,
    )
    if count != 1:
        raise RuntimeError(f"no headline line in {article}")
    article.write_text(text, "utf-8")
    return article


def _bytes(path: Path, seen: set) -> int:
    """The size of the files under `path` (or of `path`), each inode counted once."""
    total = 0
    files = [path] if not path.is_dir() else (p for p in path.rglob("*") if not p.is_dir())
    for file in files:
        found = os.lstat(file)
        if (found.st_dev, found.st_ino) not in seen:
            seen.add((found.st_dev, found.st_ino))
            total += found.st_size
    return total


def _part(name: str) -> str:
    if name == "store":
        return "store"
    if name.startswith("dataset.") and name.endswith(".gz"):
        return "dumps"
    if name == "ldes":
        return "changes"
    if name == "search.sqlite":
        return "search"
    if name == "answers.sqlite":
        return "answers"
    return "lists" if name in LISTS else "other"


def disk(out: Path) -> dict:
    """Bytes on disk of the out folder `out`: its current build per part (a file shared
    with an older build counted in the older: what this build added), every build kept,
    the kept state (cache/), the whole folder."""
    builds = sorted(p.resolve() for p in (out / "builds").iterdir() if p.is_dir())
    current = (out / "current").resolve()
    seen: set = set()
    for older in builds:
        if older != current:
            _bytes(older, seen)
    parts = dict.fromkeys(DISK_PARTS, 0)
    for entry in current.iterdir():
        parts[_part(entry.name)] += _bytes(entry, seen)
    return {
        "parts": parts,
        "build": sum(parts.values()),
        "builds_kept": len(builds),
        "builds": _bytes(out / "builds", set()),
        "cache": _bytes(out / "cache", set()),
        "out": _bytes(out, set()),
        "dumps": parts["dumps"],
    }


def disk_lines(found: dict, alone: bool) -> list[str]:
    """The disk figures, one line each: a build's parts (`alone`: the first build), or
    the builds kept."""
    dumps = found["dumps"] or float("nan")
    lines = []
    if alone:
        for part, what in DISK_PARTS.items():
            size = found["parts"][part]
            lines.append(f"    {part:<8} {size / 1e6:>9.1f} MB {size / dumps:>6.2f}x  {what}")
        lines.append(
            f"    {'build':<8} {found['build'] / 1e6:>9.1f} MB {found['build'] / dumps:>6.2f}x  "
            "the build folder"
        )
    else:
        lines.append(
            f"    {'builds':<8} {found['builds'] / 1e6:>9.1f} MB "
            f"{found['builds'] / dumps:>6.2f}x  the {found['builds_kept']} builds kept "
            "(files they share counted once)"
        )
    lines.append(
        f"    {'cache':<8} {found['cache'] / 1e6:>9.1f} MB {found['cache'] / dumps:>6.2f}x  "
        "the state kept for the next build (dist/cache)"
    )
    lines.append(
        f"    {'out':<8} {found['out'] / 1e6:>9.1f} MB {found['out'] / dumps:>6.2f}x  "
        "the whole out folder"
    )
    return lines


def phase_times(result: dict) -> str:
    """A run's time per phase, on one line."""
    return " ".join(f"{p} {result['phases'].get(p, 0):.2f}" for p in PHASES)


def mb(kb: float) -> str:
    return f"{kb / 1024:,.0f} MB" if kb == kb else "-"


def bench_size(size: str, runs: int, args) -> dict:
    source = benchlib.corpus(size)
    label = benchlib.name(size)
    work = benchlib.OUT / f"build-{label}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    data = work / "corpus"
    started = time.perf_counter()
    shutil.copytree(source, data)
    print(
        f"\n== {label}: {benchlib.articles(size)} articles, {runs} run(s); "
        f"corpus copied to {data} in {time.perf_counter() - started:.1f} s",
        flush=True,
    )

    builds, rdf, oxi = [], [], []
    out = None
    for run in range(runs):
        if out is not None and run < runs:
            shutil.rmtree(out, ignore_errors=True)  # keep only the last run's out folder
        out = work / f"dist-{run}"
        result = with_writer(child(CHILD, str(data), str(out), timeout=args.timeout), out)
        builds.append(result)
        phases = phase_times(result)
        print(
            f"  build run {run + 1}: {result['build_s']:.2f} s, CPU {result['cpu_s']:.2f} s "
            f"({phases}); "
            f"process {result['process_s']:.2f} s; peak RSS {mb(result['maxrss_self_kb'])} "
            f"(largest child {mb(result['maxrss_children_kb'])}, tree "
            f"{mb(result['tree_pss_peak_kb'])}); {result['triples']} triples{later(result)}",
            flush=True,
        )
        space = disk(out)
        dump = Path(result["build_path"]) / "dataset.nt.gz"
        if not args.no_baseline:
            r = child(RDFLIB, str(dump), timeout=args.timeout)
            rdf.append(r)
            print(
                f"  rdflib run {run + 1}: parse {r['parse_s']:.2f} s + Turtle "
                f"{r['turtle_s']:.2f} s (CPU {r['cpu_s']:.2f} s); peak RSS "
                f"{mb(r['maxrss_self_kb'])}",
                flush=True,
            )
            store = work / "oxigraph-baseline"
            shutil.rmtree(store, ignore_errors=True)
            o = child(OXIGRAPH, str(dump), str(store), timeout=args.timeout)
            shutil.rmtree(store, ignore_errors=True)
            oxi.append(o)
            print(
                f"  pyoxigraph run {run + 1}: store load {o['store_s']:.2f} s (CPU "
                f"{o['store_cpu_s']:.2f} s); parse + "
                f"Turtle {o['turtle_s']:.2f} s; peak RSS {mb(o['maxrss_self_kb'])}",
                flush=True,
            )

    rebuilds, cold, kept = [], [], None
    if not args.no_rebuild:
        edits = args.rebuilds or runs
        for run in range(edits):
            edited = edit_headline(data, 200 + run)
            result = with_writer(child(CHILD, str(data), str(out), timeout=args.timeout), out)
            cold.append(result)
            phases = phase_times(result)
            print(
                f"  cold rebuild run {run + 1} (edited {edited.relative_to(data)}): "
                f"{result['build_s']:.2f} s, process {result['process_s']:.2f} s ({phases}); "
                f"peak RSS {mb(result['maxrss_self_kb'])}{later(result)}",
                flush=True,
            )
        kept = disk(out) if cold else None
        shutil.rmtree(out, ignore_errors=True)
        watched = child(WATCH, str(data), str(out), str(edits), timeout=args.timeout)
        print(
            f"  lod build --watch: first build {watched['first_s']:.2f} s; peak RSS "
            f"{mb(watched['maxrss_self_kb'])} (tree {mb(watched['tree_pss_peak_kb'])})",
            flush=True,
        )
        for run, result in enumerate(watched["rebuilds"]):
            rebuilds.append(result)
            phases = phase_times(result)
            print(
                f"  rebuild run {run + 1} (edited {result['edited']}): "
                f"{result['build_s']:.2f} s, CPU {result['cpu_s']:.2f} s ({phases})",
                flush=True,
            )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)

    summary = {
        "size": label,
        "articles": benchlib.articles(size),
        "runs": runs,
        "triples": builds[-1]["triples"],
        "build": builds,
        "rdflib": rdf,
        "oxigraph": oxi,
        "cold_rebuild": cold,
        "rebuild": rebuilds,
        "disk": space,
        "disk_kept": kept,
    }
    report(summary)
    return summary


def report(s: dict) -> None:
    builds = s["build"]
    total = median(b["build_s"] for b in builds)
    cpu = median(b.get("cpu_s") for b in builds)
    print(
        f"\n-- {s['size']} ({s['articles']} articles, {s['triples']:,} triples), "
        f"median of {s['runs']} run(s)"
    )
    print(f"  {'phase':<10} {'wall s':>9} {'share':>7} {'CPU s':>9}  what")
    for phase in PHASES:
        seconds = median(b["phases"].get(phase, 0.0) for b in builds)
        used = median(b.get("phases_cpu", {}).get(phase) for b in builds)
        print(
            f"  {phase:<10} {seconds:>9.2f} {seconds / total:>7.0%} {used:>9.2f}  "
            f"{PHASE_NOTES[phase]}"
        )
    spread = [b["build_s"] for b in builds]
    print(
        f"  {'build()':<10} {total:>9.2f} {'':>7} {cpu:>9.2f}  min {min(spread):.2f}, max "
        f"{max(spread):.2f} (phase medians need not add up to the median)"
    )
    print(
        f"  {'process':<10} {median(b['process_s'] for b in builds):>9.2f}          "
        f"with interpreter start and imports "
        f"({median(b['import_s'] for b in builds):.2f} s imports)"
    )
    print(
        "  CPU s: this process and its reaped children (helpers, the validation pool), so it can "
        "exceed wall time; wall time on a loaded machine is CPU plus waiting for a CPU."
    )
    print(
        f"  {'keep later':<10} {median(b['keep_later_s'] for b in builds):>9.2f}          "
        f"the snapshot, written by a detached process after build() returned (peak RSS "
        f"{mb(median(b['keep_later_rss_kb'] for b in builds))})"
    )
    print(
        f"  peak RSS: build process {mb(median(b['maxrss_self_kb'] for b in builds))}, "
        f"largest child {mb(median(b['maxrss_children_kb'] for b in builds))}, "
        f"whole tree (sampled, PSS while the pool runs) "
        f"{mb(median(b['tree_pss_peak_kb'] for b in builds))}"
    )
    if s["rdflib"]:
        parse = median(r["parse_s"] for r in s["rdflib"])
        turtle = median(r["turtle_s"] for r in s["rdflib"])
        rcpu = median(r.get("cpu_s") for r in s["rdflib"])
        store = median(o["store_s"] for o in s["oxigraph"])
        ocpu = median(o.get("store_cpu_s") for o in s["oxigraph"])
        oturtle = median(o["turtle_s"] for o in s["oxigraph"])
        print("  baseline on the same triples (the build's N-Triples dump):")
        print(
            f"    rdflib parse {parse:.2f} s + Turtle {turtle:.2f} s = {parse + turtle:.2f} s "
            f"(CPU {rcpu:.2f} s), peak RSS {mb(median(r['maxrss_self_kb'] for r in s['rdflib']))}"
            f"; lod build / rdflib = {ratio(total, parse + turtle)} wall, "
            f"{ratio(cpu, rcpu)} CPU"
        )
        print(
            f"    pyoxigraph store load {store:.2f} s (CPU {ocpu:.2f} s; parse + Turtle "
            f"{oturtle:.2f} s), peak RSS {mb(median(o['maxrss_self_kb'] for o in s['oxigraph']))}"
            f"; lod build / pyoxigraph load = {ratio(total, store)} wall, {ratio(cpu, ocpu)} CPU"
        )
    print("  disk after the build (MB of 10^6 bytes; x: times the gzipped dumps):")
    print("\n".join(disk_lines(s["disk"], alone=True)))
    if s["disk_kept"]:
        print(f"  disk after {len(s['cold_rebuild'])} cold rebuild(s):")
        print("\n".join(disk_lines(s["disk_kept"], alone=False)))
    if s["cold_rebuild"]:
        cold = s["cold_rebuild"]
        again, process = median(r["build_s"] for r in cold), median(r["process_s"] for r in cold)
        phases = ", ".join(f"{p} {median(r['phases'].get(p, 0) for r in cold):.2f}" for p in PHASES)
        print(
            f"  cold rebuild (`lod build` again after editing one headline): {again:.2f} s, "
            f"{process:.2f} s with the interpreter's start: {phases}; peak RSS "
            f"{mb(median(r['maxrss_self_kb'] for r in cold))}; cold rebuild / first build = "
            f"{ratio(again, total)} wall"
        )
    if s["rebuild"]:
        again = median(r["build_s"] for r in s["rebuild"])
        again_cpu = median(r.get("cpu_s") for r in s["rebuild"])
        phases = ", ".join(
            f"{p} {median(r['phases'].get(p, 0) for r in s['rebuild']):.2f}" for p in PHASES
        )
        print(
            f"  rebuild after editing one headline: {again:.2f} s (CPU {again_cpu:.2f} s): "
            f"{phases}; rebuild / first build = {ratio(again, total)} wall, "
            f"{ratio(again_cpu, cpu)} CPU"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="+", help="corpus sizes: 1k 10k 100k or a number")
    parser.add_argument("--runs", type=int, help="runs per size (default 3; 1 from 100k)")
    parser.add_argument("--no-baseline", action="store_true", help="skip rdflib/pyoxigraph")
    parser.add_argument("--no-rebuild", action="store_true", help="skip the rebuild")
    parser.add_argument("--rebuilds", type=int, help="edits rebuilt (default: --runs)")
    parser.add_argument("--keep", action="store_true", help="keep bench/out/build-<size>/")
    parser.add_argument("--timeout", type=float, default=3600, help="per child, seconds")
    parser.add_argument("--json", type=Path, help="also write all figures here")
    args = parser.parse_args()

    benchlib.header(f"bench/build.py {' '.join(args.sizes)}")
    results = []
    for size in args.sizes:
        runs = args.runs or (1 if benchlib.articles(size) >= 100_000 else 3)
        results.append(bench_size(size, runs, args))
    benchlib.finish(results, args.json)


if __name__ == "__main__":
    main()
