"""The two engines side by side on one build: embedded Oxigraph and a real Virtuoso (the
remote engine, lod.remote), at --size articles (bench/generate.py's corpus).

    python bench/engines.py --size 10k
    python bench/engines.py --size 10k --runs 9 --buffers 200000

1. Publish time: `lod.publish.remote.publish` of the build into a fresh Virtuoso (its own database
   under bench/out/virtuoso-<size>, removed at the end unless --keep), by phase (load by the
   Graph Store Protocol in chunks, verify the count, switch the pointer); then a roll-back
   and a switch back (graphs in the store already: no load).
2. The query mix of bench/sparql.py, each query timed four ways, interleaved (one warm-up,
   then the median of --runs): Oxigraph in-process (EmbeddedStore.query and serialisation,
   as the endpoint's worker does); Virtuoso direct (one SPARQL Protocol POST to its /sparql,
   its own serialisation); and over HTTP through the app (gunicorn, 2 workers, POST to
   /sparql) on each engine. "app overhead" is the app's time less its engine's own.
3. Resource documents: describe() in-process on each engine (EmbeddedStore, RemoteStore)
   and /doc/{kind}/{slug}.ttl through the app on each, over --resources random resources.

The figures are the machine's of the moment: the load average is printed at the start and
the end. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time

import benchlib
import requests
from benchlib import OUT, ROOT, median, percentile, ratio
from sparql import http_runner, inprocess_runner, pick, query_mix

sys.path.insert(0, str(ROOT))
from tests.virtuoso import Virtuoso, available  # noqa: E402

RESULTS = {"SELECT": "application/sparql-results+json", "CONSTRUCT": "text/turtle"}
ASKED = {"SELECT": "application/sparql-results+xml", "CONSTRUCT": "application/n-triples"}


def rows_of(form: str, body: bytes, media_type: str) -> int:
    import pyoxigraph as ox

    if media_type == RESULTS["SELECT"]:
        return len(json.loads(body)["results"]["bindings"])
    if media_type == ASKED["SELECT"]:
        return len(list(ox.parse_query_results(body, format=ox.QueryResultsFormat.XML)))
    return sum(1 for _ in ox.parse(body, format=ox.RdfFormat.from_media_type(media_type)))


def direct_runner(session, virtuoso: Virtuoso, graph: str, form: str, text: str):
    """One POST to Virtuoso's /sparql with the build's graph as the default graph, asking
    for what the app asks (SPARQL XML, N-Triples): the app less its check, HTTP hop and
    re-serialisation."""
    from lod.remote import EMPTY_GRAPH

    accept = ASKED[form]

    def run() -> tuple[bytes, str]:
        response = session.post(
            virtuoso.endpoint,
            data={"query": text, "default-graph-uri": graph, "named-graph-uri": EMPTY_GRAPH},
            headers={"Accept": accept},
            timeout=300,
        )
        if response.status_code != 200:
            raise RuntimeError(f"Virtuoso {response.status_code}: {response.text[:300]}")
        return response.content, response.headers["Content-Type"].split(";")[0]

    return run


def timed_round(functions: dict, runs: int) -> dict:
    """Each function once to warm up, then `runs` rounds calling each in turn: name ->
    (times in ms, last result)."""
    results = {name: function() for name, function in functions.items()}
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(runs):
        for name, function in functions.items():
            started = time.perf_counter()
            results[name] = function()
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: (times[name], results[name]) for name in functions}


def publish_phases(build, client) -> tuple[dict, object]:
    """upload.publish with the time of each phase (from its progress callback)."""
    from lod.publish import remote as upload

    marks = [("start", time.perf_counter())]
    done = upload.publish(build, client, lambda phase: marks.append((phase, time.perf_counter())))
    marks.append(("end", time.perf_counter()))
    phases = {}
    for (phase, at), (_, following) in zip(marks[1:], marks[2:], strict=False):
        phases[phase] = following - at
    phases["total"] = marks[-1][1] - marks[0][1]
    return phases, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="10k", help="corpus size (default 10k)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per query (default 7)")
    parser.add_argument("--resources", type=int, default=200, help="documents (default 200)")
    parser.add_argument("--buffers", type=int, default=100_000, help="Virtuoso's NumberOfBuffers")
    parser.add_argument("--words", default="climate finance", help="the text filter's words")
    parser.add_argument("--keep", action="store_true", help="keep Virtuoso's database")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    if not available():
        sys.exit("virtuoso-t is not installed (apt-get install virtuoso-opensource-7-bin)")

    from lod import remote
    from lod.layout import open_build
    from lod.serve.remote import RemoteStore
    from lod.serve.store import EmbeddedStore

    benchlib.header(f"bench/engines.py --size {args.size}")
    out = benchlib.built(args.size)
    build = open_build(out)
    triples = build.manifest["triples"]
    print(f"build {build.id}: {triples:,} triples")
    store = EmbeddedStore(build.store_path)
    article, organisation = pick(store.oxigraph)
    queries = query_mix(article, organisation, args.words)

    folder = OUT / f"virtuoso-{benchlib.name(args.size)}"
    shutil.rmtree(folder, ignore_errors=True)
    virtuoso = Virtuoso(folder, buffers=args.buffers)
    started = time.perf_counter()
    virtuoso.start()
    print(f"Virtuoso: up in {time.perf_counter() - started:.1f} s ({args.buffers} buffers)")
    figures: dict = {"triples": triples}
    servers = []
    try:
        client = virtuoso.client(timeout=300)
        phases, done = publish_phases(build, client)
        figures["publish"] = phases
        print(
            "publish into Virtuoso: "
            + ", ".join(f"{phase} {seconds:.2f} s" for phase, seconds in phases.items())
            + f" ({triples / phases['total']:,.0f} triples/s overall; "
            f"{remote.CHUNK_BYTES // 2**20} MiB of N-Triples a request)"
        )
        graph = done.graph
        # roll-backs: both graphs in the store, so a switch and no load
        twin = _second_graph(client, build)
        switches = [publish_phases(target, client)[0]["total"] for target in (build, twin, build)]
        figures["switch_s"] = switches
        print("roll-back / forward (no load): " + ", ".join(f"{s:.3f} s" for s in switches))

        common = {"LOD_OUT": out, "LOD_QUERY_TIMEOUT": 120, "LOD_QUERY_CONCURRENCY": 8}
        embedded_app = benchlib.Gunicorn("app:app", workers=2, threads=4, env=common)
        servers.append(embedded_app)
        virtuoso_app = benchlib.Gunicorn(
            "app:app", workers=2, threads=4, env={**common, **virtuoso.env()}
        )
        servers.append(virtuoso_app)
        session = requests.Session()
        for app in (embedded_app, virtuoso_app):
            for _ in range(8):  # start each gunicorn worker's query workers
                http_runner(session, app.url, "SELECT", "ASK { ?s ?p ?o }")()

        print(f"\nquery mix: median of {args.runs} runs after a warm-up, interleaved")
        print(
            f"{'query':<22} {'rows':>6} {'oxigraph':>9} {'virtuoso':>9} {'virt/ox':>8} "
            f"{'app+ox':>8} {'app+virt':>9} {'overhead ox':>12} {'overhead virt':>14}  note"
        )
        figures["queries"] = {}
        for name, form, text in queries:
            measured = timed_round(
                {
                    "oxigraph": inprocess_runner(store, form, text),
                    "virtuoso": direct_runner(session, virtuoso, graph, form, text),
                    "app+ox": http_runner(session, embedded_app.url, form, text),
                    "app+virt": http_runner(session, virtuoso_app.url, form, text),
                },
                args.runs,
            )
            ms = {key: median(times) for key, (times, _) in measured.items()}
            counts = {
                rows_of(form, measured["oxigraph"][1], RESULTS[form]),
                rows_of(form, measured["virtuoso"][1][0], ASKED[form]),
                rows_of(form, measured["app+ox"][1], RESULTS[form]),
                rows_of(form, measured["app+virt"][1], RESULTS[form]),
            }
            note = "" if len(counts) == 1 else f"counts differ: {sorted(counts)}"
            figures["queries"][name] = {**ms, "rows": sorted(counts)}
            print(
                f"{name:<22} {min(counts):>6} {ms['oxigraph']:>9.1f} {ms['virtuoso']:>9.1f} "
                f"{ratio(ms['virtuoso'], ms['oxigraph']):>8} {ms['app+ox']:>8.1f} "
                f"{ms['app+virt']:>9.1f} {ms['app+ox'] - ms['oxigraph']:>12.1f} "
                f"{ms['app+virt'] - ms['virtuoso']:>14.1f}  {note}",
                flush=True,
            )
        print("ms; oxigraph: in-process (EmbeddedStore.query, JSON or Turtle written); virtuoso:")
        print("one POST to its /sparql for SPARQL XML or N-Triples, as the app asks; app+…: POST")
        print("to the app's /sparql on that engine, JSON or Turtle; overhead: app less engine")

        lists = json.loads((build.path / "lists.json").read_text("utf-8"))
        iris = [entry["iri"] for entries in lists.values() for entry in entries]
        sample = random.Random(7).sample(iris, min(args.resources, len(iris)))
        remote_store = RemoteStore(client, graph)
        base = build.base
        paths = [iri.replace(base + "id/", "/doc/") + ".ttl" for iri in sample]
        for path in paths[:10]:  # warm both apps
            session.get(embedded_app.url + path, timeout=60)
            session.get(virtuoso_app.url + path, timeout=60)
        times: dict[str, list[float]] = {
            k: [] for k in ("oxigraph", "virtuoso", "app+ox", "app+virt")
        }
        for iri, path in zip(sample, paths, strict=True):
            for key, call in (
                ("oxigraph", lambda: store.describe(iri)),  # noqa: B023
                ("virtuoso", lambda: remote_store.describe(iri)),  # noqa: B023
                ("app+ox", lambda: session.get(embedded_app.url + path, timeout=60)),  # noqa: B023
                ("app+virt", lambda: session.get(virtuoso_app.url + path, timeout=60)),  # noqa: B023
            ):
                started = time.perf_counter()
                result = call()
                times[key].append((time.perf_counter() - started) * 1000)
                if key.startswith("app") and result.status_code != 200:
                    raise RuntimeError(f"{key} {path}: {result.status_code}")
        ms = {key: median(values) for key, values in times.items()}
        p90 = {key: percentile(sorted(values), 0.9) for key, values in times.items()}
        figures["documents"] = {"median": ms, "p90": p90}
        print(f"\nresource documents, {len(sample)} random resources: median (p90) ms")
        print(
            f"  describe() in-process: oxigraph {ms['oxigraph']:.2f} ({p90['oxigraph']:.2f}), "
            f"virtuoso {ms['virtuoso']:.2f} ({p90['virtuoso']:.2f}), "
            f"{ratio(ms['virtuoso'], ms['oxigraph'])}"
        )
        print(
            f"  /doc/….ttl through the app: oxigraph {ms['app+ox']:.2f} ({p90['app+ox']:.2f}), "
            f"virtuoso {ms['app+virt']:.2f} ({p90['app+virt']:.2f}); app overhead "
            f"{ms['app+ox'] - ms['oxigraph']:.2f} and {ms['app+virt'] - ms['virtuoso']:.2f}"
        )
    finally:
        for server in servers:
            server.stop()
        virtuoso.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    benchlib.loadavg("end")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)


def _second_graph(client, build):
    """A second build graph in the store for the roll-back: the same build under another
    id (a copy of its manifest), loaded once."""
    from lod.layout import Build
    from lod.publish import remote as upload

    twin = Build(build.path, dict(build.manifest, id=build.id[:-8] + "00000000"))
    upload.publish(twin, client)
    return twin


if __name__ == "__main__":
    main()
