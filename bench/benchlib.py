"""Helpers shared by the benchmarks: corpus sizes, corpora and builds on demand, gunicorn on
127.0.0.1, process memory from /proc, medians and the load average.

Benchmarks print figures; they assert nothing about timings.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CORPUS = BENCH / "corpus"
OUT = BENCH / "out"
PYTHON = sys.executable


def _languages(size: str) -> list[str]:
    """The languages a size asks for: `10k:en,fr,es` (bench/generate.py --languages)."""
    _, _, languages = size.partition(":")
    return languages.split(",") if languages else []


def articles(size: str) -> int:
    """`1k` -> 1000, `100k` -> 100000, `2500` -> 2500, `10k:en,fr` -> 10000."""
    text = size.partition(":")[0].strip().lower()
    if text.endswith("k"):
        return int(float(text[:-1]) * 1000)
    if text.endswith("m"):
        return int(float(text[:-1]) * 1_000_000)
    return int(text)


def name(size: str) -> str:
    """The canonical folder name of a size: 10000 -> 10k, 10k:en,fr -> 10k-en-fr."""
    n = articles(size)
    return (f"{n // 1000}k" if n % 1000 == 0 else str(n)) + "".join(
        f"-{tag}" for tag in _languages(size)
    )


def corpus(size: str) -> Path:
    """bench/corpus/<name>, generated (deterministically) when missing or incomplete."""
    path = CORPUS / name(size)
    if _complete(path, articles(size)):
        return path
    partial = CORPUS / f".partial-{name(size)}-{os.getpid()}"
    print(f"generating {articles(size)} articles -> {path} ...", flush=True)
    started = time.perf_counter()
    languages = ["--languages", ",".join(_languages(size))] if _languages(size) else []
    subprocess.run(
        [PYTHON, str(BENCH / "generate.py"), str(articles(size)), str(partial), *languages],
        check=True,
    )
    if path.exists():
        shutil.rmtree(path)
    os.rename(partial, path)
    print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def _complete(path: Path, n: int) -> bool:
    """The corpus exists and holds its last article (generate.py writes it last)."""
    last = path / "articles" / f"{(n - 1) // 1000:04d}" / f"article-{n - 1}.md"
    return (path / "dataset.yaml").exists() and last.exists()


def built(size: str, *, rebuild: bool = False) -> Path:
    """bench/out/dist-<name>: a build of the corpus, reused when present. The out folder."""
    source = corpus(size)
    out = OUT / f"dist-{name(size)}"
    if rebuild or not (out / "current" / "manifest.json").exists():
        print(f"building {source} -> {out} ...", flush=True)
        started = time.perf_counter()
        subprocess.run(
            [PYTHON, "-m", "lod", "build", "--data", str(source), "--out", str(out)],
            check=True,
            cwd=ROOT,
        )
        print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    else:
        manifest = json.loads((out / "current" / "manifest.json").read_text())
        print(f"reusing build {manifest['id']} in {out} (--rebuild to build again)", flush=True)
    return out


class Phases:
    """A build's `progress` callback that notes when each phase starts (wall and CPU time,
    this process's and its reaped children's); `spent` adds up each phase's time."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float, float]] = []

    def __call__(self, phase: str) -> None:
        self.marks.append((phase, time.perf_counter(), self.cpu()))

    @staticmethod
    def cpu() -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    def spent(self, end: float, end_cpu: float) -> tuple[dict, dict]:
        wall: dict[str, float] = {}
        cpu: dict[str, float] = {}
        following = self.marks[1:] + [("end", end, end_cpu)]
        for (phase, at, at_cpu), (_, then, then_cpu) in zip(self.marks, following, strict=True):
            wall[phase] = wall.get(phase, 0.0) + then - at
            cpu[phase] = cpu.get(phase, 0.0) + then_cpu - at_cpu
        self.marks = []
        return wall, cpu


def median(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, int(round(fraction * len(sorted_values))) - 1))
    return sorted_values[rank]


def loadavg(when: str) -> tuple[float, float, float]:
    load = os.getloadavg()
    print(
        f"load average ({when}): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        f"on {os.cpu_count()} CPUs",
        flush=True,
    )
    return load


def finish(results, json_path: Path | None) -> None:
    """The end of a benchmark: the load average, and the figures as JSON when asked."""
    loadavg("end")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=2, default=str))


def code_version() -> str:
    """The commit benchmarked, and whether lod/ differs from it (others commit meanwhile)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "lod", "app.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.split("\n")
    except OSError:
        return "unknown (no git)"
    changed = [line[3:] for line in dirty if line.strip()]
    return head + (f" with {len(changed)} uncommitted change(s) in lod/" if changed else "")


def header(what: str) -> tuple[float, float, float]:
    """The first lines of a benchmark's output: what runs where, on which code."""
    print(f"{what}; python {sys.version.split()[0]}, {os.cpu_count()} CPUs; code {code_version()}")
    return loadavg("start")


def ratio(a: float, b: float) -> str:
    if not b or b != b or a != a:
        return "-"
    return f"{a / b:.2f}x"


# --- processes and memory ----------------------------------------------------------------


def children(pid: int) -> list[int]:
    """Direct children of pid (Linux /proc)."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(p) for p in handle.read().split())
        except OSError:
            pass
    return found


def processes() -> list[int]:
    """Every process's pid (Linux /proc)."""
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def cmdline(pid: int) -> str:
    """A process's command line, its arguments joined by spaces ('' once it is gone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(pid: int) -> list[int]:
    pending, found = [pid], []
    while pending:
        for child in children(pending.pop()):
            found.append(child)
            pending.append(child)
    return found


def status_kb(pid: int, field: str) -> int | None:
    """A /proc/<pid>/status field in kB (VmRSS, VmHWM ...)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def pss_kb(pid: int) -> int | None:
    """Proportional set size: shared pages divided among the processes sharing them, so
    the PSS of a process tree adds up to the memory it really holds."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        return status_kb(pid, "VmRSS")
    return None


class TreeMemory:
    """The peak memory of a process and its descendants, sampled: `peak_kb` is the largest
    value seen. A process alone is sampled every `interval` s by its VmRSS (cheap); while it
    has children (forked workers sharing its pages) the PSS summed over the tree is sampled
    every `pss_interval` s. PSS is dear to read (/proc/<pid>/smaps_rollup walks the page
    tables: about 30 ms per 2 GB, holding the process's mmap lock), hence the slower rate.
    A spike shorter than the interval can be missed."""

    def __init__(self, pid: int, interval: float = 0.2, pss_interval: float = 1.0):
        self.pid = pid
        self.interval = interval
        self.pss_interval = pss_interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last_pss = 0.0
        while not self._stop.is_set():
            tree = descendants(self.pid)
            if not tree:
                self.peak_kb = max(self.peak_kb, status_kb(self.pid, "VmRSS") or 0)
            elif time.monotonic() - last_pss >= self.pss_interval:
                last_pss = time.monotonic()
                total = sum(pss_kb(pid) or 0 for pid in [self.pid, *tree])
                self.peak_kb = max(self.peak_kb, total)
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak_kb


# --- gunicorn ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """gunicorn on 127.0.0.1 (as tests/conftest.py starts it), stopped by stop()."""

    def __init__(
        self,
        app: str,
        *,
        workers: int = 2,
        threads: int = 4,
        env: dict | None = None,
        pythonpath: Path | None = None,
        ready: str = "/healthz",
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            PYTHON,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--graceful-timeout",
            "2",
            "--timeout",
            "300",
        ]
        if pythonpath is not None:
            command += ["--pythonpath", str(pythonpath)]
        self.process = subprocess.Popen(
            [*command, app],
            cwd=ROOT,
            env={**os.environ, **{k: str(v) for k, v in (env or {}).items()}},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.workers = workers
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode()[-2000:]
                self.process.stderr.close()
                raise RuntimeError("gunicorn exited: " + error)
            try:
                if requests.get(self.url + ready, timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError("gunicorn did not start within 120 s")
        # every worker up (each answers /healthz once it has imported the app)
        deadline = time.monotonic() + 60
        while len(children(self.process.pid)) < workers and time.monotonic() < deadline:
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        """The worker processes: children of the master (their own children, such as query
        workers or a forkserver, are not counted as workers)."""
        return sorted(children(self.process.pid))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stderr.close()
