"""A fixed SPARQL query mix, timed three ways on the same data: over HTTP on the running
endpoint (gunicorn, 2 workers), in-process on the same Oxigraph store, and with rdflib's own
SPARQL engine on a Graph parsed from the build's N-Triples dump.

    python bench/sparql.py --size 10k                 # builds bench/out/dist-10k if missing
    python bench/sparql.py --size 10k --runs 9 --rdflib-cap 60
    python bench/sparql.py --size 10k --no-rdflib --env LOD_QUERY_MEMORY_STORE_MB=0   # on disk

For each query: one warm-up, then the median of --runs timed runs (HTTP and in-process
alternately), (a) over HTTP
(POST application/sparql-query to /sparql: guard.read, rdflib's parse of the query as a
gate, the query worker, serialisation, IPC and HTTP), (b) in-process (EmbeddedStore.query
and serialisation as the endpoint does it: SPARQL JSON for SELECT, Turtle for CONSTRUCT),
(c) rdflib (graph.query and the same serialisation) in a worker process that is killed at
--rdflib-cap seconds; its repeats are skipped when the first run took over half the cap.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import benchlib
from benchlib import PYTHON, ROOT, median, ratio

PREFIX = "PREFIX schema: <https://schema.org/>\n"


def query_mix(article: str, organisation: str, words: str) -> list[tuple[str, str, str]]:
    """(name, form, text) of each query of the mix."""
    return [
        ("resource SELECT", "SELECT", f"SELECT ?p ?o WHERE {{ <{article}> ?p ?o }}"),
        (
            "latest 10 articles",
            "SELECT",
            PREFIX + "SELECT ?a ?h ?d WHERE { ?a a schema:NewsArticle ; schema:headline ?h ; "
            "schema:datePublished ?d } ORDER BY DESC(?d) LIMIT 10",
        ),
        (
            "articles per org",
            "SELECT",
            PREFIX + "SELECT ?org (COUNT(?a) AS ?n) WHERE { ?a a schema:NewsArticle ; "
            "schema:publisher ?org } GROUP BY ?org",
        ),
        (
            "3-hop join",
            "SELECT",
            PREFIX + "SELECT ?a ?h ?e WHERE { ?e a schema:Event ; schema:organizer "
            f"<{organisation}> . ?a schema:mentions ?e ; schema:headline ?h }}",
        ),
        (
            "headline text filter",
            "SELECT",
            PREFIX + "SELECT ?a ?h WHERE { ?a a schema:NewsArticle ; schema:headline ?h "
            f'FILTER CONTAINS(LCASE(?h), "{words}") }}',
        ),
        ("backlinks of an org", "SELECT", f"SELECT ?s ?p WHERE {{ ?s ?p <{organisation}> }}"),
        (
            "resource CONSTRUCT",
            "CONSTRUCT",
            f"CONSTRUCT {{ <{organisation}> ?p ?o . ?s ?q <{organisation}> }} WHERE "
            f"{{ {{ <{organisation}> ?p ?o }} UNION {{ ?s ?q <{organisation}> }} }}",
        ),
    ]


def pick(store) -> tuple[str, str]:
    """A deterministic article (the median one by IRI) and the organisation that organises
    the most events (its 3-hop join has results)."""
    import pyoxigraph as ox

    rows = list(store.query(PREFIX + "SELECT ?a WHERE { ?a a schema:NewsArticle } ORDER BY ?a"))
    article = rows[len(rows) // 2]["a"].value
    rows = list(
        store.query(
            PREFIX + "SELECT ?o (COUNT(?e) AS ?n) WHERE { ?e schema:organizer "
            "?o } GROUP BY ?o ORDER BY DESC(?n) ?o LIMIT 1"
        )
    )
    organisation = rows[0]["o"].value
    assert isinstance(rows[0]["o"], ox.NamedNode)
    return article, organisation


def timed(function, runs: int) -> tuple[list[float], object]:
    """One warm-up, then `runs` timings in ms; the last result."""
    result = function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def interleaved(*functions, runs: int):
    """Each timed in turn (so that load from elsewhere falls on all alike), after a warm-up
    of each: (times in ms, last result) of each."""
    results = [function() for function in functions]
    times: list[list] = [[] for _ in functions]
    for _ in range(runs):
        for position, function in enumerate(functions):
            started = time.perf_counter()
            results[position] = function()
            times[position].append((time.perf_counter() - started) * 1000)
    return [(times[p], results[p]) for p in range(len(functions))]


def settle(root: int, quiet: float = 3.0, longest: float = 300.0) -> float:
    """Seconds until no query worker's resident memory has grown for `quiet` seconds: the
    copies of the store they load in the background (LOD_QUERY_MEMORY_STORE_MB) are in, and
    no query is timed while one loads (on disk, and sharing the CPUs with the load)."""
    started = last_change = time.monotonic()
    sizes: list[int] = []
    while time.monotonic() - last_change < quiet and time.monotonic() - started < longest:
        now = sorted(e["rss_kb"] for e in process_memory(root) if e["what"] == "query worker")
        if now != sizes:
            sizes, last_change = now, time.monotonic()
        time.sleep(0.5)
    return last_change - started


def process_memory(root: int) -> list[dict]:
    """VmRSS and VmHWM of every process under `root` (the gunicorn master): app workers,
    their forkservers and query workers."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(name))
    found, pending = [], [(root, 0)]
    while pending:
        pid, depth = pending.pop()
        for child in children.get(pid, []):
            pending.append((child, depth + 1))
            try:
                with open(f"/proc/{child}/cmdline", "rb") as handle:
                    command = handle.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if depth == 0:
                what = "app worker"
            elif "resource_tracker" in command:
                what = "tracker"
            elif "forkserver" in command and depth == 1:
                what = "forkserver"
            else:
                what = "query worker"
            found.append(
                {
                    "pid": child,
                    "what": what,
                    "rss_kb": benchlib.status_kb(child, "VmRSS") or 0,
                    "hwm_kb": benchlib.status_kb(child, "VmHWM") or 0,
                }
            )
    return found


def count(form: str, body: bytes) -> int:
    """Solutions in SPARQL JSON, or triples in Turtle."""
    import pyoxigraph as ox

    if form == "SELECT":
        return len(json.loads(body)["results"]["bindings"])
    return sum(1 for _ in ox.parse(body, format=ox.RdfFormat.TURTLE))


# --- (a) HTTP and (b) in-process ------------------------------------------------------------


def http_runner(session, url: str, form: str, text: str, *, fresh: bool = True):
    """A run of the query over HTTP. `fresh`: each run's text differs by a comment, so that
    the build's result cache (lod.serve.cache) never answers it: the engine's first run."""
    accept = "application/sparql-results+json" if form == "SELECT" else "text/turtle"
    runs = iter(range(1 << 30))

    def run() -> bytes:
        sent = f"{text}\n# run {next(runs)} {time.time_ns()}" if fresh else text
        response = session.post(
            url + "/sparql",
            data=sent.encode("utf-8"),
            headers={"Content-Type": "application/sparql-query", "Accept": accept},
            timeout=300,
        )
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
        return response.content

    return run


def inprocess_runner(store, form: str, text: str):
    import pyoxigraph as ox

    from lod.formats import Format, serialize_triples

    def run() -> bytes:
        results = store.query(text)
        if isinstance(results, ox.QueryTriples):
            return serialize_triples(results, Format.TURTLE)
        return results.serialize(format=ox.QueryResultsFormat.JSON)

    return run


# --- (c) rdflib, in a worker process that can be killed -----------------------------------


def rdflib_worker(dump: str) -> None:
    """`sparql.py --rdflib-worker DUMP`: parse the dump once, then answer JSON lines
    {"form", "query"} on stdin with {"ms", "count"} on stdout."""
    import gzip

    import rdflib

    data = gzip.open(dump).read()
    started = time.perf_counter()
    graph = rdflib.Graph()
    graph.parse(data=data, format="nt")
    print(
        json.dumps({"loaded_s": time.perf_counter() - started, "triples": len(graph)}), flush=True
    )
    for line in sys.stdin:
        job = json.loads(line)
        started = time.perf_counter()
        result = graph.query(job["query"])
        if job["form"] == "SELECT":
            body = result.serialize(format="json")
        else:
            body = result.serialize(format="turtle", encoding="utf-8")
        ms = (time.perf_counter() - started) * 1000
        print(json.dumps({"ms": ms, "count": count(job["form"], body)}), flush=True)


class RdflibWorker:
    def __init__(self, dump: Path):
        self.dump = dump
        self.process = None

    def start(self) -> dict:
        self.process = subprocess.Popen(
            [PYTHON, __file__, "--rdflib-worker", str(self.dump)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        return json.loads(self.process.stdout.readline())

    def ask(self, form: str, text: str, cap: float) -> dict | None:
        """The worker's answer, or None when it took longer than cap (it is then killed)."""
        if self.process is None:
            self.start()
        self.process.stdin.write(json.dumps({"form": form, "query": text}) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], cap)
        if not ready:
            self.stop()
            return None
        return json.loads(self.process.stdout.readline())

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def rdflib_times(worker: RdflibWorker, form: str, text: str, runs: int, cap: float):
    """(times in ms, count, note): no warm-up run when the first is slow."""
    first = worker.ask(form, text, cap)
    if first is None:
        return [], None, f"stopped at {cap:g} s"
    if first["ms"] > cap * 1000 / 2:
        return [first["ms"]], first["count"], "1 run (first over cap/2)"
    times = []
    answer = first
    for _ in range(runs):
        answer = worker.ask(form, text, cap)
        if answer is None:
            return times, first["count"], f"a repeat stopped at {cap:g} s"
        times.append(answer["ms"])
    return times, answer["count"], ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="10k", help="corpus size (default 10k)")
    parser.add_argument(
        "--runs", type=int, default=7, help="timed runs per query (HTTP, in-process; default 7)"
    )
    parser.add_argument("--rdflib-runs", type=int, default=3, help="default 3")
    parser.add_argument("--rdflib-cap", type=float, default=60, help="seconds (default 60)")
    parser.add_argument("--no-rdflib", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="build the corpus again")
    parser.add_argument("--words", default="climate finance", help="the text filter's words")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the app (LOD_QUERY_MEMORY_STORE_MB=0: on disk)",
    )
    args = parser.parse_args()

    import requests

    from lod.layout import open_build
    from lod.serve.store import EmbeddedStore, MemoryStore

    benchlib.header(f"bench/sparql.py --size {args.size}")
    out = benchlib.built(args.size, rebuild=args.rebuild)
    build = open_build(out)
    print(f"build {build.id}: {build.manifest['triples']:,} triples")
    store = EmbeddedStore(build.store_path)
    started = time.perf_counter()
    in_memory = MemoryStore(build.store_path)
    print(
        f"in-memory copy (MemoryStore, what query workers load under "
        f"LOD_QUERY_MEMORY_STORE_MB): loaded in {time.perf_counter() - started:.1f} s, "
        f"this process now {benchlib.status_kb(os.getpid(), 'VmRSS') / 1024:.0f} MB",
        flush=True,
    )
    article, organisation = pick(store.oxigraph)
    queries = query_mix(article, organisation, args.words)
    print(f"resource: {article}; organisation X: {organisation}; words: {args.words!r}")

    from lod.serve.guard import check

    rows = {name: {"query": text} for name, _, text in queries}
    server = benchlib.Gunicorn(
        "app:app",
        workers=2,
        threads=4,
        env={
            "LOD_OUT": out,
            "LOD_DATA": benchlib.corpus(args.size),
            "LOD_QUERY_TIMEOUT": 120,
            **dict(e.split("=", 1) for e in args.env),
        },
    )
    try:
        session = requests.Session()
        for _ in range(8):  # start each worker's query workers
            http_runner(session, server.url, "SELECT", "ASK { ?s ?p ?o }")()
        for name, form, text in queries:  # while the copies load: what a first user waits
            started = time.perf_counter()
            http_runner(session, server.url, form, text)()
            rows[name]["cold_ms"] = (time.perf_counter() - started) * 1000
        settled = settle(server.process.pid)
        print(f"query workers settled (copies in memory loaded) in {settled:.1f} s", flush=True)
        for name, form, text in queries:
            (http, body), (inproc, local), (memory, _) = interleaved(
                http_runner(session, server.url, form, text),
                inprocess_runner(store, form, text),
                inprocess_runner(in_memory, form, text),
                runs=args.runs,
            )
            rows[name].update(http_ms=median(http), http_all=http, http_count=count(form, body))
            rows[name].update(
                inproc_ms=median(inproc), inproc_all=inproc, inproc_count=count(form, local)
            )
            rows[name].update(memory_ms=median(memory), memory_all=memory)
            once = f"{text}\n# first and repeated {time.time_ns()}"  # new to the cache
            again = http_runner(session, server.url, form, once, fresh=False)
            started = time.perf_counter()
            again()  # the first run of this text: answered by the engine, then kept
            first = (time.perf_counter() - started) * 1000
            cached, _ = timed(again, args.runs)
            rows[name].update(first_ms=first, cached_ms=median(cached), cached_all=cached)
            times, _ = timed(lambda: check(text), args.runs)  # noqa: B023
            rows[name]["check_ms"] = median(times)
            print(
                f"  {name}: http {rows[name]['http_ms']:.1f} ms, in-process "
                f"{rows[name]['inproc_ms']:.1f} ms",
                flush=True,
            )
        document = server.url + "/doc/" + article.split("/id/", 1)[1] + ".ttl"
        floor, _ = timed(lambda: session.get(document, timeout=60), 20)
        rows["_floor_ms"] = median(floor)
        rows["_memory"] = process_memory(server.process.pid)
    finally:
        server.stop()

    if not args.no_rdflib:
        from lod.formats import Format

        worker = RdflibWorker(build.dump(Format.NTRIPLES))
        loaded = worker.start()
        print(
            f"rdflib: parsed {loaded['triples']:,} triples in {loaded['loaded_s']:.1f} s "
            f"(once, not timed below)",
            flush=True,
        )
        try:
            for name, form, text in queries:
                times, n, note = rdflib_times(worker, form, text, args.rdflib_runs, args.rdflib_cap)
                rows[name].update(
                    rdflib_ms=median(times) if times else None,
                    rdflib_all=times,
                    rdflib_count=n,
                    rdflib_note=note,
                )
                print(
                    f"  {name}: rdflib {rows[name]['rdflib_ms'] or float('nan'):.1f} ms {note}",
                    flush=True,
                )
        finally:
            worker.stop()

    print(
        f"\nSPARQL at {benchlib.name(args.size)} ({build.manifest['triples']:,} triples), "
        f"median of {args.runs} runs after a warm-up (rdflib: {args.rdflib_runs})"
    )
    print(
        f"{'query':<22} {'rows':>6} {'http ms':>9} {'in-proc ms':>11} {'http/in':>8} "
        f"{'check ms':>9} {'rdflib ms':>10} {'rdflib/in':>10} {'http min':>9} "
        f"{'in-proc min':>12}  note"
    )
    for name, _, _ in queries:
        row = rows[name]
        counts = {row["http_count"], row["inproc_count"]}
        if row.get("rdflib_count") is not None:
            counts.add(row["rdflib_count"])
        rdf = row.get("rdflib_ms")
        note = row.get("rdflib_note", "")
        if len(counts) > 1:
            note += (
                f" counts differ: http {row['http_count']}, in-process "
                f"{row['inproc_count']}, rdflib {row.get('rdflib_count')}"
            )
        print(
            f"{name:<22} {row['inproc_count']:>6} {row['http_ms']:>9.1f} "
            f"{row['inproc_ms']:>11.1f} {ratio(row['http_ms'], row['inproc_ms']):>8} "
            f"{row['check_ms']:>9.1f} "
            f"{(f'{rdf:.1f}' if rdf is not None else '-'):>10} "
            f"{ratio(rdf, row['inproc_ms']) if rdf is not None else '-':>10} "
            f"{min(row['http_all']):>9.1f} {min(row['inproc_all']):>12.1f}  {note}"
        )
    print(
        "rows: solutions (SELECT) or triples (CONSTRUCT). check ms: lod.serve.guard.check "
        "(read and verify), the rdflib parse of the query that the endpoint's worker runs "
        "before the engine."
    )
    print(
        f"\nagainst pyoxigraph's in-memory store in-process, and the result cache "
        f"(median of {args.runs})"
    )
    print(
        f"{'query':<22} {'http ms':>9} {'in-memory ms':>13} {'http/mem':>9} "
        f"{'1st run ms':>11} {'repeated ms':>12} {'1st/repeated':>13} {'cold ms':>9}"
    )
    for name, _, _ in queries:
        row = rows[name]
        print(
            f"{name:<22} {row['http_ms']:>9.1f} {row['memory_ms']:>13.1f} "
            f"{ratio(row['http_ms'], row['memory_ms']):>9} {row['first_ms']:>11.1f} "
            f"{row['cached_ms']:>12.2f} {ratio(row['first_ms'], row['cached_ms']):>13} "
            f"{row['cold_ms']:>9.1f}"
        )
    print(
        f"a document served before (answered in front of Flask, as a repeated query is): "
        f"{rows['_floor_ms']:.2f} ms (median of 20)"
    )
    print("memory of the server's processes after the runs (VmRSS, VmHWM; MB):")
    for entry in rows.get("_memory", []):
        print(
            f"  {entry['what']:<14} pid {entry['pid']:>7}: {entry['rss_kb'] / 1024:>7.0f} "
            f"(peak {entry['hwm_kb'] / 1024:.0f})"
        )
    print(
        "http: a new text each run (a comment), so never from the cache; 1st run: the "
        "same text's first run; repeated: that text again, answered from the build's cache; "
        "cold: the first run just after the server started, while the query workers' copies "
        "of the store still load (answered on disk). http is what the endpoint answers "
        "(latest 10 and articles per org from the build's answers, lod.serve.rewrite); "
        "in-process is the engine alone on the query as asked."
    )
    benchlib.finish(rows, args.json)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--rdflib-worker":
        rdflib_worker(sys.argv[2])
    else:
        main()
