"""Where a build's memory goes: the process tree's memory per phase, and what each part of
the Builder's state holds once the build is done.

    python bench/memory.py 20k                 # phases and the state's parts
    python bench/memory.py 100k --no-sizes     # phases only (sizing walks every object)
    python bench/memory.py 100k --no-sizes --code /tmp/lod-before   # another checkout's lod

One fresh process builds the corpus (bench/corpus/<size>, generated when missing) into an
empty out folder with a lod.make.Builder, as `lod build` does, and saves its state in the
foreground. The parent samples the process tree (benchlib.TreeMemory's way: RSS alone, PSS
summed while there are children) and notes, per phase, the memory at its start and the
peak while it ran. Then the child walks the state's parts (gc.get_referents, each object
counted once, in the order listed: a term shared by the graph and the listings counts in
the graph) and prints the bytes each holds (sys.getsizeof's: an object holding more than
it says, as the bytes orjson.dumps returns, each on a 4 KB buffer, is undercounted; the
process's memory per phase is not), and the state file's size on disk.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import benchlib
from benchlib import PYTHON, ROOT, descendants, pss_kb, status_kb

CHILD = r"""
import gc, json, os, sys, time
from pathlib import Path
from lod.make import Builder
from lod.config import Settings

def mark(phase):
    print("PHASE", phase, time.perf_counter(), flush=True)

settings = Settings.from_env(data=sys.argv[1], out=sys.argv[2])  # LOD_* apply
builder = Builder(settings, mark)
begin = time.perf_counter()
builder.build()
mark("keep")
builder.save()
mark("end")
figures = {"build_s": time.perf_counter() - begin}
state_file = Path(sys.argv[2]) / "cache"
figures["state_bytes"] = sum(f.stat().st_size for f in state_file.rglob("*") if f.is_file())
if sys.argv[3] == "sizes":
    state = builder.state
    seen = set()

    def deep(root):
        total, todo = 0, [root]
        while todo:
            obj = todo.pop()
            if id(obj) in seen or isinstance(obj, type):
                continue
            seen.add(id(obj))
            total += sys.getsizeof(obj)
            todo.extend(gc.get_referents(obj))
        return total

    v = state.validated
    parts = [
        ("blocks (sorted N-Triples lines per subject)", state.blocks),
        ("graph (terms per subject, those not left to the blocks' lines)", v.conversion.triples),
        ("records (by_file, conversion.records, index)",
         (state.by_file, v.conversion.records, v.conversion.index)),
        ("validation index (shacl.Data)", v.data),
        ("findings and report", (state.findings, v.report)),
        ("members (gzip members of every part, 3 formats)", state.members),
        ("listings", state.listings),
        ("hashed (change stream)", state.hashed),
        ("answers (counts and date orders)", state.answers),
        ("census, description, found", (v.census, v.description, state.found)),
    ]
    figures["parts"] = {name: deep(obj) for name, obj in parts}
print("RESULT", json.dumps(figures), flush=True)
"""


class Sampler:
    """The process tree's memory (kB) every `interval` s: RSS of the process alone, PSS
    summed over the tree while it has children."""

    def __init__(self, pid: int, interval: float = 0.25):
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            tree = descendants(self.pid)
            if tree:
                kb = sum(pss_kb(pid) or 0 for pid in [self.pid, *tree])
            else:
                kb = status_kb(self.pid, "VmRSS") or 0
            self.samples.append((time.perf_counter(), kb))
            self._stop.wait(self.interval)

    def stop(self) -> list[tuple[float, int]]:
        self._stop.set()
        self._thread.join()
        return self.samples


def profile(size: str, sizes: bool, code: Path = ROOT) -> dict:
    source = benchlib.corpus(size)
    out = benchlib.OUT / f"memory-{benchlib.name(size)}"
    shutil.rmtree(out, ignore_errors=True)
    process = subprocess.Popen(
        [PYTHON, "-c", CHILD, str(source), str(out), "sizes" if sizes else "no"],
        cwd=code,  # whose lod the child imports
        stdout=subprocess.PIPE,
        text=True,
    )
    sampler = Sampler(process.pid)
    marks: list[tuple[str, float]] = []
    result: dict = {}
    for line in process.stdout:
        if line.startswith("PHASE "):
            _, phase, _ = line.split()
            marks.append((phase, time.perf_counter()))
        elif line.startswith("RESULT "):
            result = json.loads(line[7:])
    process.wait()
    samples = sampler.stop()
    shutil.rmtree(out, ignore_errors=True)
    if process.returncode:
        raise SystemExit(f"the build failed ({process.returncode})")
    phases = []
    ends = [at for _, at in marks[1:]] + [float("inf")]
    for (phase, start), end in zip(marks, ends, strict=True):
        inside = [kb for at, kb in samples if start <= at < end]
        before = [kb for at, kb in samples if at < start]
        phases.append(
            {
                "phase": phase,
                "seconds": (end if end != float("inf") else samples[-1][0]) - start,
                "start_kb": before[-1] if before else 0,
                "peak_kb": max(inside, default=0),
            }
        )
    result["phases"] = phases
    result["peak_kb"] = max(kb for _, kb in samples)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size")
    parser.add_argument("--no-sizes", action="store_true", help="skip sizing the state's parts")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="a checkout whose lod to build with (A/B runs)"
    )
    args = parser.parse_args()
    benchlib.header(f"bench/memory.py {args.size}")
    result = profile(args.size, not args.no_sizes, args.code)
    peak = result["peak_kb"] / 1024
    print(f"\n-- {args.size}: build {result['build_s']:.1f} s, tree peak {peak:,.0f} MB")
    print(f"  {'phase':<10} {'s':>7} {'at start MB':>12} {'peak MB':>9}")
    for p in result["phases"]:
        print(
            f"  {p['phase']:<10} {p['seconds']:>7.1f} {p['start_kb'] / 1024:>12,.0f} "
            f"{p['peak_kb'] / 1024:>9,.0f}"
        )
    print(f"  state on disk: {result['state_bytes'] / 1e6:,.0f} MB")
    for name, size in result.get("parts", {}).items():
        print(f"  {size / 1e6:>9,.0f} MB  {name}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=2)


if __name__ == "__main__":
    sys.exit(main())
