"""Full-text search against the same question asked as SPARQL `CONTAINS`, over HTTP.

    python bench/search.py 10k 100k            # both sizes
    python bench/search.py 10k --runs 50       # 50 requests per search (default 30)

Per size, in one run:
1. a `Builder` (what `lod build --watch` runs) builds a copy of the corpus: the time of the
   build's `changes` (the change stream) and `search` (search.sqlite) phases, against the
   whole build, and the index's size against the N-Triples dump's;
2. one article's headline is edited and the Builder builds again: what the two phases add
   to a watched rebuild;
3. gunicorn serves the build; for single words, phrases and rare terms, `/search?q=`
   (JSON) is timed, p50 and p99 over --runs requests each, and so is the baseline: the same
   words as a SPARQL query on /sparql over headline and body with `FILTER(CONTAINS(LCASE(…)))`
   (first 20 matches, and the count, which the search also answers), --sparql-runs each.
"""

from __future__ import annotations

import argparse
import gc
import re
import shutil
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib  # noqa: E402

from lod import Settings  # noqa: E402
from lod.make import Builder  # noqa: E402

WORDS = ["digital", "climate", "governance"]
PHRASES = ['"digital inclusion"', '"climate finance"', '"social protection"']
RARE = ["4242", "7777", "1234"]  # a number: the one article, person, event … it names
SPARQL = """PREFIX schema: <https://schema.org/>
SELECT {select} WHERE {{
  ?article a schema:NewsArticle ; schema:headline ?headline ; schema:articleBody ?body .
  FILTER({test})
}} {tail}"""


def contains(text: str) -> str:
    """The SPARQL filter asking what the search asks (all the words, or the phrase)."""
    words = text.strip('"').lower()
    phrase = text.startswith('"')
    terms = [words] if phrase else words.split()
    either = " && ".join(
        f'(CONTAINS(LCASE(?headline), "{t}") || CONTAINS(LCASE(?body), "{t}"))' for t in terms
    )
    return either


def timed(session: requests.Session, url: str, params: dict, headers: dict, runs: int):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = session.get(url, params=params, headers=headers, timeout=600)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    return sorted(times), response


def edit(data: Path) -> None:
    article = next(iter(sorted((data / "articles").glob("*/article-0.md"))))
    text = article.read_text("utf-8")
    text = re.sub(
        r'^headline: "(Article 0):[^"\n]*"',
        r'headline: "\1: zeppelins return"',
        text,
        count=1,
        flags=re.MULTILINE,
    )
    article.write_text(text, "utf-8")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def bench(size: str, args) -> dict:
    label = benchlib.name(size)
    source = benchlib.corpus(size)
    work = benchlib.OUT / f"search-{label}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    data = work / "data"
    shutil.copytree(source, data)
    out = work / "dist"
    print(f"\n== {label}: {benchlib.articles(size)} articles", flush=True)

    phases = benchlib.Phases()
    builder = Builder(Settings(data=data, out=out), phases)
    started = time.perf_counter()
    built = builder.build()
    total = time.perf_counter() - started
    wall, _ = phases.spent(time.perf_counter(), phases.cpu())
    index = built.path / "search.sqlite"
    dump = built.path / "dataset.nt.gz"
    history = sum(f.stat().st_size for f in (built.path / "ldes").iterdir())
    print(
        f"  build {total:.1f} s: search index {wall.get('search', 0):.2f} s, change stream "
        f"{wall.get('changes', 0):.2f} s ({benchlib.ratio(wall.get('search', 0), total)} and "
        f"{benchlib.ratio(wall.get('changes', 0), total)} of the build)",
        flush=True,
    )
    print(
        f"  search.sqlite {index.stat().st_size / 2**20:,.1f} MB; ldes/ {history / 2**20:,.1f} "
        f"MB; dataset.nt.gz {dump.stat().st_size / 2**20:,.1f} MB",
        flush=True,
    )
    edit(data)
    started = time.perf_counter()
    builder.build()
    rebuild = time.perf_counter() - started
    again, _ = phases.spent(time.perf_counter(), phases.cpu())
    added = again.get("search", 0) + again.get("changes", 0)
    print(
        f"  watched edit: rebuild {rebuild:.2f} s, of which search index "
        f"{again.get('search', 0):.3f} s and change stream {again.get('changes', 0):.3f} s "
        f"({benchlib.ratio(added, rebuild)} of the rebuild)",
        flush=True,
    )
    del builder, built
    gc.collect()

    server = benchlib.Gunicorn(
        "app:app",
        workers=1,
        threads=4,
        env={"LOD_OUT": out, "LOD_DATA": data, "LOD_QUERY_TIMEOUT": 600},
    )
    results = {"size": label, "build_s": total, "phases": wall, "rebuild_phases": again}
    try:
        session = requests.Session()
        found = session.get(
            server.url + "/search",
            params={"q": "zeppelins"},
            headers={"Accept": "application/json"},
        ).json()
        assert found["total"] == 1, found  # the edit is searchable
        print(
            f"  {'query':<24} {'search p50':>12} {'p99':>10} {'SPARQL first 20':>16} "
            f"{'SPARQL count':>14} {'ratio p50':>10}"
        )
        for group, texts in (("word", WORDS), ("phrase", PHRASES), ("rare", RARE)):
            for text in texts:
                times, response = timed(
                    session,
                    server.url + "/search",
                    {"q": text},
                    {"Accept": "application/json"},
                    args.runs,
                )
                total_hits = response.json()["total"]
                first = SPARQL.format(select="?article", test=contains(text), tail="LIMIT 20")
                count = SPARQL.format(
                    select="(COUNT(?article) AS ?n)", test=contains(text), tail=""
                )
                sparql_first, _ = timed(
                    session,
                    server.url + "/sparql",
                    {"query": first},
                    {"Accept": "application/sparql-results+json"},
                    args.sparql_runs,
                )
                sparql_count, answer = timed(
                    session,
                    server.url + "/sparql",
                    {"query": count},
                    {"Accept": "application/sparql-results+json"},
                    args.sparql_runs,
                )
                n = answer.json()["results"]["bindings"][0]["n"]["value"]
                p50 = benchlib.percentile(times, 0.5)
                print(
                    f"  {group + ' ' + text:<24} {ms(p50):>12} "
                    f"{ms(benchlib.percentile(times, 0.99)):>10} "
                    f"{ms(benchlib.median(sparql_first)):>16} "
                    f"{ms(benchlib.median(sparql_count)):>14} "
                    f"{benchlib.ratio(benchlib.median(sparql_count), p50):>10}"
                    f"   ({total_hits} records found; SPARQL counts {n} articles)",
                    flush=True,
                )
                results[text] = {
                    "search": times,
                    "sparql_first": sparql_first,
                    "sparql_count": sparql_count,
                }
    finally:
        server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", default=["10k"], help="corpus sizes (10k 100k)")
    parser.add_argument("--runs", type=int, default=30, help="requests per search (30)")
    parser.add_argument("--sparql-runs", type=int, default=3, help="per SPARQL query (3)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    benchlib.header("search: /search vs SPARQL CONTAINS over HTTP")
    results = [bench(size, args) for size in args.sizes]
    benchlib.finish(results, args.json)


if __name__ == "__main__":
    main()
