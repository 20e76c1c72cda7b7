"""Mixed load on a real server: resource pages (HTML and Turtle), dump downloads, small
SPARQL queries and /healthz from concurrent clients; latency percentiles, throughput and
errors per kind of request. A benchmark, not a test: it prints figures.

    python bench/load.py                                  # data/, 32 clients, 30 s
    python bench/load.py --clients 32 --seconds 30 --workers 2 --threads 8
    python bench/load.py --data bench/corpus/10k --out bench/out/dist-10k

gunicorn serves `app:app` on 127.0.0.1 (a free port; nothing else is ever addressed) over
the build in --out, made from --data first when --out has none. Each client is a thread
with its own keep-alive `requests.Session`; it picks a kind of request at random by the
weights of --mix and a resource at random from the build's lists.json. Times are measured
with time.perf_counter around each request, body read included. An error is any answer
other than the one expected (200, or 206 for a range request) or a failed connection; the
run exits 1 when there is any. The server is stopped at the end, whatever happens.

LOD_QUERY_CONCURRENCY is set to --threads unless given in the environment: a gunicorn
worker runs at most --threads requests at once, so no query is refused with 429 by a bound
lower than what the worker can hold. The clients run on the same machine as the server and
share its CPUs (and the GIL of this process): the figures are a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shlex
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests
from benchlib import PYTHON, ROOT, Gunicorn, percentile

KINDS = ("html", "turtle", "dump", "sparql", "healthz")
DEFAULT_MIX = "html=30,turtle=30,dump=10,sparql=15,healthz=15"
SPARQL = """PREFIX schema: <https://schema.org/>
SELECT ?s ?name WHERE {{ ?s a schema:{type} ; schema:name ?name }} LIMIT 10"""
TYPES = ("Organization", "Person", "Event", "Place", "DefinedTerm")
RANGE = 64 * 1024
WIDTHS = (9, 7, 8, 8, 8, 7)


@dataclass
class Tally:
    """What one client saw, per kind of request."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    received: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)  # a few error descriptions


def ensure_build(data: Path, out: Path) -> dict:
    """The manifest of out/current, building data/ into out first when there is none."""
    manifest = out / "current" / "manifest.json"
    if not manifest.exists():
        print(f"building {data} -> {out} ...", flush=True)
        subprocess.run(
            [PYTHON, "-m", "lod", "build", "--data", str(data), "--out", str(out)],
            cwd=ROOT,
            check=True,
        )
    return json.loads(manifest.read_text("utf-8"))


def resources(out: Path) -> list[str]:
    """/doc paths of every record of the build (from lists.json)."""
    lists = json.loads((out / "current" / "lists.json").read_text("utf-8"))
    base = json.loads((out / "current" / "manifest.json").read_text("utf-8"))["base"]
    paths = []
    for entries in lists.values():
        for entry in entries:
            iri = entry["iri"]
            if iri.startswith(f"{base}id/"):
                paths.append("/doc/" + iri[len(base) + 3 :])
    if not paths:
        raise SystemExit("the build lists no resources")
    return paths


def request(session, url: str, kind: str, rng: random.Random, paths: list[str]):
    """One request of `kind`: (response, expected status)."""
    if kind == "html":
        return session.get(url + rng.choice(paths), headers={"Accept": "text/html"}), 200
    if kind == "turtle":
        return session.get(url + rng.choice(paths), headers={"Accept": "text/turtle"}), 200
    if kind == "dump":
        name = rng.choice(["dataset.nt.gz", "dataset.ttl.gz", "dataset.jsonld.gz"])
        if rng.random() < 0.5:
            return session.get(
                f"{url}/dumps/{name}", headers={"Range": f"bytes=0-{RANGE - 1}"}
            ), 206
        return session.get(f"{url}/dumps/{name}"), 200
    if kind == "sparql":
        query = SPARQL.format(type=rng.choice(TYPES))
        return session.get(
            f"{url}/sparql",
            params={"query": query},
            headers={"Accept": "application/sparql-results+json"},
        ), 200
    return session.get(f"{url}/healthz"), 200


def client(number, url, paths, mix, deadline, tally: Tally) -> None:
    rng = random.Random(number)
    kinds, weights = zip(*mix.items(), strict=True)
    with requests.Session() as session:
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            started = time.perf_counter()
            try:
                response, expected = request(session, url, kind, rng, paths)
                size = len(response.content)
                took = time.perf_counter() - started
                if response.status_code != expected and not (
                    kind == "dump"
                    and expected == 206
                    and response.status_code == 200
                    and size <= RANGE  # a dump smaller than the range is sent whole
                ):
                    tally.errors[kind] += 1
                    if len(tally.samples) < 5:
                        tally.samples.append(f"{kind}: {response.status_code} {response.url}")
                    continue
            except requests.RequestException as failure:
                tally.errors[kind] += 1
                if len(tally.samples) < 5:
                    tally.samples.append(f"{kind}: {failure!r}")
                continue
            tally.times[kind].append(took)
            tally.received[kind] += size


def report(tallies: list[Tally], seconds: float, mix: dict[str, float]) -> int:
    times: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    received: dict[str, int] = defaultdict(int)
    for tally in tallies:
        for kind in KINDS:
            times[kind] += tally.times[kind]
            errors[kind] += tally.errors[kind]
            received[kind] += tally.received[kind]
    names = ("requests", "errors", "req/s", "p50 ms", "p99 ms", "MB/s")
    header = f"{'kind':<8} " + " ".join(f"{n:>{w}}" for n, w in zip(names, WIDTHS, strict=True))
    print(header)
    print("-" * len(header))
    rows = [kind for kind in KINDS if mix.get(kind)]
    for kind in [*rows, "overall"]:
        if kind == "overall":
            print("-" * len(header))
            values = [t for k in rows for t in times[k]]
            failed = sum(errors[k] for k in rows)
            volume = sum(received[k] for k in rows)
        else:
            values, failed, volume = times[kind], errors[kind], received[kind]
        print(
            f"{kind:<8} {len(values):>9} {failed:>7} {len(values) / seconds:>8.1f} "
            f"{percentile(sorted(values), 0.50) * 1000:>8.1f} "
            f"{percentile(sorted(values), 0.99) * 1000:>8.1f} "
            f"{volume / seconds / 1e6:>7.2f}"
        )
    total_errors = sum(errors.values())
    print(f"\nerrors: {total_errors}")
    for tally in tallies:
        for sample in tally.samples:
            print(f"  {sample}")
    return total_errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="source folder")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "out" / "dist-load",
        help="build folder (built from --data when it holds no build)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load not counted")
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"weights (default {DEFAULT_MIX})")
    args = parser.parse_args()
    mix = {}
    for part in args.mix.split(","):
        kind, _, weight = part.partition("=")
        if kind.strip() not in KINDS:
            parser.error(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
        mix[kind.strip()] = float(weight)

    concurrency = os.environ.get("LOD_QUERY_CONCURRENCY", str(args.threads))
    manifest = ensure_build(args.data, args.out)
    paths = resources(args.out)
    print(f"command: {shlex.join([Path(PYTHON).name, *sys.argv])}")
    print(
        f"build {manifest['id']}: {manifest['triples']} triples, {len(paths)} resources; "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        f"gunicorn app:app on 127.0.0.1: {args.workers} workers x {args.threads} threads, "
        f"LOD_QUERY_CONCURRENCY={concurrency}; "
        f"{args.clients} clients for {args.seconds:g} s (+{args.warmup:g} s warm-up); "
        f"mix {args.mix}"
    )
    env = {"LOD_OUT": args.out.resolve(), "LOD_QUERY_CONCURRENCY": concurrency}
    server = Gunicorn("app:app", workers=args.workers, threads=args.threads, env=env)
    url = server.url
    try:
        if args.warmup > 0:
            warm = [Tally() for _ in range(args.clients)]
            ends = time.monotonic() + args.warmup
            _run(args.clients, url, paths, mix, ends, warm)
        tallies = [Tally() for _ in range(args.clients)]
        started = time.perf_counter()
        _run(args.clients, url, paths, mix, time.monotonic() + args.seconds, tallies)
        elapsed = time.perf_counter() - started
        print(f"load average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    finally:
        server.stop()
    return 1 if report(tallies, elapsed, mix) else 0


def _run(clients, url, paths, mix, deadline, tallies) -> None:
    threads = [
        threading.Thread(target=client, args=(n, url, paths, mix, deadline, tallies[n]))
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=deadline - time.monotonic() + 120)


if __name__ == "__main__":
    sys.exit(main())
