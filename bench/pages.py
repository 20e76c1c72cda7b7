"""Resource documents served per second under concurrent clients, against the ceiling of the
same gunicorn settings serving a trivial WSGI app, and each worker's memory after the run.

    python bench/pages.py --size 10k --clients 16 --seconds 20
    python bench/pages.py --size 10k --workers 4 --threads 4 --seconds 30

gunicorn (--workers, --threads) serves the build of bench/corpus/<size> (built into
bench/out/dist-<size> when missing) on 127.0.0.1. --clients keep-alive HTTP/1.1 clients
(threads spread over --client-processes processes, so that the clients are not held to one
CPU by the GIL) request random resources from the build's lists.json for --seconds each:
first Turtle (/doc/{kind}/{slug}.ttl), then HTML (.html). Then the same gunicorn settings
serve `ceiling` below, a WSGI app returning a fixed 13-byte body, to the same clients: the
most requests per second this machine, gunicorn and the client give; and `flask_floor`, the
same body from a one-route Flask app: the framework's own cost per request, which every
document pays before lod's work. The clients run on the
same machine and share its CPUs with the server, as they do in the ceiling run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import random
import shutil
import time
from pathlib import Path

import benchlib
from benchlib import BENCH, median, percentile, ratio, status_kb

BODY = b"Hello, world\n"


def ceiling(environ, start_response):
    """The trivial WSGI app: the same fixed small body for every request."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]


def _flask_floor():
    """The least a Flask app does per request (routing, request and response objects):
    what lod's own work per document adds to is measured from here."""
    from flask import Flask, Response

    app = Flask("floor")
    app.get("/")(lambda: Response(BODY, mimetype="text/plain"))
    return app


flask_floor = _flask_floor()


# --- the load generator ---------------------------------------------------------------------


def _random_paths(paths, seed, deadline):
    """Paths drawn at random until the deadline: a client of the load test."""
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        yield rng.choice(paths)


def _walk(port, paths, results):
    """GET each path in turn on one kept-alive connection; (latencies, statuses, bytes
    received, errors) appended to `results`."""
    latencies, statuses, received, errors = [], {}, 0, 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for path in paths:
        started = time.perf_counter()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        latencies.append(time.perf_counter() - started)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        received += len(body)
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.close()
    results.append((latencies, statuses, received, errors))


def _client_process(port, walks, queue):
    """One process of client threads, one per sequence of paths in `walks`."""
    import threading

    results: list = []
    threads = [threading.Thread(target=_walk, args=(port, paths, results)) for paths in walks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(results)


def _gathered(workers, queue, started: float, timeout: float) -> dict:
    """Start the client processes, gather what each measured (latencies, statuses, bytes,
    errors): requests/s and latency percentiles over them all."""
    for worker in workers:
        worker.start()
    results = []
    for _ in workers:
        results.extend(queue.get(timeout=timeout))
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    latencies = sorted(x for r in results for x in r[0])
    statuses: dict = {}
    for r in results:
        for status, n in r[1].items():
            statuses[status] = statuses.get(status, 0) + n
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": (latencies[-1] * 1000) if latencies else float("nan"),
        "statuses": statuses,
        "bytes_per_request": sum(r[2] for r in results) / max(1, len(latencies)),
        "errors": sum(r[3] for r in results),
    }


def load(
    port: int, paths: list[str], clients: int, processes: int, seconds: float, seed: int = 1
) -> dict:
    """`clients` concurrent clients for `seconds`: requests/s, latency percentiles."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = max(1, min(processes, clients))
    seeds = [
        list(range(seed * 1000 + p, seed * 1000 + clients, processes)) for p in range(processes)
    ]
    started = time.monotonic()
    deadline = started + seconds
    workers = [  # forked: the path generators are copied, not pickled
        context.Process(
            target=_client_process,
            args=(port, [_random_paths(paths, one, deadline) for one in mine], queue),
        )
        for mine in seeds
    ]
    return _gathered(workers, queue, started, timeout=seconds + 120)


def prime(port: int, paths: list[str], clients: int, processes: int) -> dict:
    """Every path requested once, by `clients` concurrent clients each walking its share:
    the first request of each document (rendered, then kept by the build's cache)."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = max(1, min(processes, clients))
    shares = [paths[c::clients] for c in range(clients)]
    per_process = [shares[p::processes] for p in range(processes)]
    started = time.monotonic()
    workers = [
        context.Process(target=_client_process, args=(port, mine, queue)) for mine in per_process
    ]
    return _gathered(workers, queue, started, timeout=3600)


def show(name: str, r: dict) -> None:
    bad = {s: n for s, n in r["statuses"].items() if s != 200}
    print(
        f"  {name:<10} {r['rps']:>8.1f} req/s  p50 {r['p50_ms']:>7.1f} ms  p99 "
        f"{r['p99_ms']:>7.1f} ms  max {r['max_ms']:>7.1f} ms  {r['requests']} requests, "
        f"{r['bytes_per_request']:,.0f} B each"
        + (f"  NON-200: {bad}" if bad else "")
        + (f"  connection errors: {r['errors']}" if r["errors"] else ""),
        flush=True,
    )


def memory(server: benchlib.Gunicorn) -> list[dict]:
    return [
        {"pid": pid, "rss_kb": status_kb(pid, "VmRSS"), "hwm_kb": status_kb(pid, "VmHWM")}
        for pid in server.worker_pids()
    ]


def resource_paths(build_path: Path, base: str, extension: str) -> list[str]:
    lists = json.loads((build_path / "lists.json").read_text("utf-8"))
    paths = []
    for entries in lists.values():
        for entry in entries:
            iri = entry["iri"]
            if not iri.startswith(base + "id/"):
                continue
            paths.append("/doc/" + iri[len(base) + 3 :] + "." + extension)
    return sorted(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="10k")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20, help="per measurement")
    parser.add_argument("--warmup", type=float, default=3, help="seconds before each")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--sample", type=int, default=0, help="request only this many random resources (0: all)"
    )
    parser.add_argument(
        "--no-prime",
        action="store_true",
        help="skip the pass that requests every document once before the timed run",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the app (LOD_CACHE_MB=0: no cache)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from lod.layout import open_build

    benchlib.header(
        f"bench/pages.py --size {args.size}: gunicorn --workers {args.workers} --threads "
        f"{args.threads}; {args.clients} clients in {min(args.client_processes, args.clients)} "
        f"processes; {args.seconds:g} s each after {args.warmup:g} s warm-up"
    )
    out = benchlib.built(args.size, rebuild=args.rebuild)
    build = open_build(out)
    print(f"build {build.id}: {build.manifest['triples']:,} triples")
    formats = {
        "turtle": resource_paths(build.path, build.base, "ttl"),
        "html": resource_paths(build.path, build.base, "html"),
    }
    print(f"{len(formats['turtle']):,} resources to choose from")

    results: dict = {}
    shutil.rmtree(out / "cache" / "serve" / build.id, ignore_errors=True)  # first requests: cold
    server = benchlib.Gunicorn(
        "app:app",
        workers=args.workers,
        threads=args.threads,
        env={
            "LOD_OUT": out,
            "LOD_DATA": benchlib.corpus(args.size),
            **dict(e.split("=", 1) for e in args.env),
        },
    )
    try:
        time.sleep(2)  # the workers finish importing the app
        results["memory_start"] = memory(server)
        for seed, (fmt, paths) in enumerate(formats.items(), start=1):
            if args.sample and args.sample < len(paths):
                paths = sorted(random.Random(seed).sample(paths, args.sample))
            if not args.no_prime:  # each document once: rendered, then kept by the cache
                results[f"{fmt}_first"] = prime(
                    server.port, paths, args.clients, args.client_processes
                )
                show(fmt + " 1st", results[f"{fmt}_first"])
            load(server.port, paths, args.clients, args.client_processes, args.warmup, seed + 10)
            results[fmt] = load(
                server.port, paths, args.clients, args.client_processes, args.seconds, seed
            )
            show(fmt, results[fmt])
        results["memory_end"] = memory(server)
    finally:
        server.stop()

    for name, app in (("ceiling", "pages:ceiling"), ("flask", "pages:flask_floor")):
        server = benchlib.Gunicorn(
            app, workers=args.workers, threads=args.threads, pythonpath=BENCH, ready="/"
        )
        try:
            load(server.port, ["/"], args.clients, args.client_processes, args.warmup)
            results[name] = load(
                server.port, ["/"], args.clients, args.client_processes, args.seconds
            )
            show(name, results[name])
            results[f"{name}_memory"] = memory(server)
        finally:
            server.stop()

    top = results["ceiling"]
    print(
        f"\nresource documents at {benchlib.name(args.size)} "
        f"({build.manifest['triples']:,} triples), {args.clients} clients, "
        f"gunicorn {args.workers} workers x {args.threads} threads, {args.seconds:g} s each"
    )
    flask = results["flask"]
    print(
        f"  {'what':<26} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'of ceiling':>11} "
        f"{'of Flask':>9}"
    )
    for fmt in formats:
        for name, r in (
            (f"{fmt}: first request", results.get(f"{fmt}_first")),
            (f"{fmt}: served before", results[fmt]),
        ):
            if r is None:
                continue
            print(
                f"  {name:<26} {r['rps']:>8.1f} {r['p50_ms']:>8.1f} "
                f"{r['p99_ms']:>8.1f} {ratio(r['rps'], top['rps']):>11} "
                f"{ratio(r['rps'], flask['rps']):>9}"
            )
    print(
        f"  {'minimal Flask app':<26} {flask['rps']:>8.1f} {flask['p50_ms']:>8.1f} "
        f"{flask['p99_ms']:>8.1f} {ratio(flask['rps'], top['rps']):>11} {'1.00x':>9}"
    )
    print(
        f"  {'trivial WSGI (ceiling)':<26} {top['rps']:>8.1f} {top['p50_ms']:>8.1f} "
        f"{top['p99_ms']:>8.1f} {'1.00x':>11} {ratio(top['rps'], flask['rps']):>9}"
    )
    print("  worker memory (VmRSS from /proc, children of the gunicorn master):")
    start = {m["pid"]: m for m in results["memory_start"]}
    for m in results["memory_end"]:
        before = start.get(m["pid"], {}).get("rss_kb")
        print(
            f"    worker {m['pid']}: {m['rss_kb'] / 1024:.0f} MB after the run "
            f"(peak {m['hwm_kb'] / 1024:.0f} MB; "
            f"{before / 1024 if before else float('nan'):.0f} MB idle after start-up)"
        )
    trivial = median(m["rss_kb"] for m in results["ceiling_memory"])
    print(f"    trivial WSGI worker: {trivial / 1024:.0f} MB")
    benchlib.finish(results, args.json)


if __name__ == "__main__":
    main()
