"""`lod import` and `lod link mentions` at scale.

    python bench/import.py            # WXR and RSS, 1k and 10k items; mentions at 10k, 100k
    python bench/import.py --items 1k 10k 20k --mentions 10k

Import: a generated WordPress export (WXR 1.2: posts with Gutenberg blocks, shortcodes,
nested categories, tags, several authors; one item in ten a draft, an attachment or a
revision) and a generated RSS 2.0 feed, each imported into an empty folder in a fresh
process: wall time and peak memory (ru_maxrss). The baseline, measured in the same run, is
the same file only parsed by the same streaming safe parser (defusedxml iterparse,
each item cleared) and a process that only imports `lod`. The import streams when its
peak memory stays flat from 1k to 10k items while the file grows tenfold.

Mentions: `lod link mentions` (review only) on the generated corpus: loading data/,
compiling the names, matching every article; the baseline is the same matching done with
one compiled regular-expression alternation of every name instead of pyahocorasick, on the
first 10k articles at most (it is the slow one), compared per article.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

WORK = benchlib.OUT / "import"
REGEX_SAMPLE = 10_000
WORDS = (
    "water coast mangrove community fishing drought flood rights sanitation climate "
    "alliance partners volunteers delta harbour lagoon report policy youth women reef"
).split()


def sentence(rng: random.Random, n: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(n))
    return text[0].upper() + text[1:]


def html_body(rng: random.Random, n: int) -> str:
    parts = []
    for p in range(4):
        parts.append(
            f'<!-- wp:paragraph -->\n<p>{sentence(rng, 25)} &amp; <a href="/p/{n}-{p}">'
            f"{sentence(rng, 2)}</a>, <em>{sentence(rng, 3)}</em>.</p>\n<!-- /wp:paragraph -->"
        )
    parts.append(
        f'[caption id="attachment_{n}" width="640"]<img src="/u/{n}.jpg" alt="x" width="640">'
        f" {sentence(rng, 4)}[/caption]"
    )
    parts.append("<ul><li>" + "</li><li>".join(sentence(rng, 3) for _ in range(3)) + "</li></ul>")
    return "\n\n".join(parts)


def wxr(items: int, path: Path) -> Path:
    rng = random.Random(7)
    with open(path, "w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            "<title>Bench Alliance</title><link>https://bench.example.org</link>"
            "<language>en</language><wp:wxr_version>1.2</wp:wxr_version>\n"
        )
        for a in range(20):
            out.write(
                f"<wp:author><wp:author_login><![CDATA[user{a}]]></wp:author_login>"
                f"<wp:author_display_name><![CDATA[Author {a} {rng.choice(WORDS)}]]>"
                "</wp:author_display_name></wp:author>\n"
            )
        for c in range(30):
            parent = f"cat-{c // 5}" if c >= 5 else ""
            out.write(
                f"<wp:category><wp:category_nicename><![CDATA[cat-{c}]]></wp:category_nicename>"
                f"<wp:category_parent><![CDATA[{parent}]]></wp:category_parent>"
                f"<wp:cat_name><![CDATA[Category {c}]]></wp:cat_name></wp:category>\n"
            )
        for n in range(items):
            kind = n % 10
            post_type = {7: "attachment", 8: "revision"}.get(kind, "post")
            status = "draft" if kind == 9 else "inherit" if post_type != "post" else "publish"
            day = 1 + n % 28
            out.write(
                f"<item><title><![CDATA[{sentence(rng, 6)} {n}]]></title>"
                f"<link>https://bench.example.org/2024/{1 + n % 12:02d}/post-{n}/</link>"
                f"<dc:creator><![CDATA[user{n % 20}]]></dc:creator>"
                f'<guid isPermaLink="false">https://bench.example.org/?p={n}</guid>'
                f"<content:encoded><![CDATA[{html_body(rng, n)}]]></content:encoded>"
                f"<wp:post_date><![CDATA[2024-{1 + n % 12:02d}-{day:02d} 10:00:00]]></wp:post_date>"
                f"<wp:post_date_gmt><![CDATA[2024-{1 + n % 12:02d}-{day:02d} 09:00:00]]>"
                "</wp:post_date_gmt>"
                f"<wp:post_name><![CDATA[post-{n}]]></wp:post_name>"
                f"<wp:status><![CDATA[{status}]]></wp:status>"
                f"<wp:post_type><![CDATA[{post_type}]]></wp:post_type>"
                f'<category domain="category" nicename="cat-{n % 30}">'
                "<![CDATA[Category]]></category>"
                f'<category domain="post_tag" nicename="tag-{n % 50}"><![CDATA[Tag {n % 50}]]>'
                "</category></item>\n"
            )
        out.write("</channel>\n</rss>\n")
    return path


def rss(items: int, path: Path) -> Path:
    rng = random.Random(11)
    with open(path, "w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Bench feed</title>'
            "<link>https://feed.example.org/</link><language>fr</language>\n"
        )
        for n in range(items):
            out.write(
                f"<item><title>{sentence(rng, 6)} {n}</title>"
                f"<link>https://feed.example.org/news/item-{n}</link>"
                f"<guid>https://feed.example.org/?p={n}</guid>"
                f"<pubDate>Mon, {1 + n % 28:02d} Jan 2024 09:00:00 +0100</pubDate>"
                f"<dc:creator>Writer {n % 15}</dc:creator><category>{rng.choice(WORDS)}</category>"
                f"<content:encoded><![CDATA[{html_body(rng, n)}]]></content:encoded></item>\n"
            )
        out.write("</channel></rss>\n")
    return path


WORKER = """
import json, resource, sys, time
mode, source, data = sys.argv[1:4]
started = time.perf_counter()
if mode == "import":
    from lod.ingest import import_sources
    report = import_sources([source], data)
    extra = {"created": len(report.tally.created), "skipped": len(report.tally.skipped)}
elif mode == "parse":
    from lod.ingest import xmlsafe
    extra = {"items": sum(1 for e in xmlsafe.stream(source, {"item"}, 1 << 40) if e[0] == "item")}
else:
    import lod.ingest  # noqa: F401
    extra = {}
print(json.dumps({"seconds": time.perf_counter() - started,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra}))
"""


def run_worker(mode: str, source: Path, data: Path) -> dict:
    if data.exists():
        shutil.rmtree(data)
    done = subprocess.run(
        [benchlib.PYTHON, "-c", WORKER, mode, str(source), str(data)],
        capture_output=True,
        text=True,
        check=True,
        cwd=benchlib.ROOT,
    )
    return json.loads(done.stdout)


def bench_import(sizes: list[str]) -> list[dict]:
    WORK.mkdir(parents=True, exist_ok=True)
    results = []
    idle = run_worker("idle", Path("-"), WORK / "idle")
    print(f"\nbaseline: a process that imports lod.ingest: {idle['peak_mb']:.0f} MB")
    print(
        f"\n{'source':22} {'items':>6} {'file MB':>8} {'import s':>9} {'peak MB':>8}"
        f" {'parse only s':>13} {'parse peak MB':>14} {'created':>8} {'skipped':>8}"
    )
    for size in sizes:
        n = benchlib.articles(size)
        for name, make in (("WordPress WXR", wxr), ("RSS 2.0", rss)):
            source = make(n, WORK / f"{name.split()[0].lower()}-{n}.xml")
            parsed = run_worker("parse", source, WORK / "parse")
            imported = run_worker("import", source, WORK / "data")
            mb = source.stat().st_size / 1e6
            print(
                f"{name:22} {n:>6} {mb:>8.1f} {imported['seconds']:>9.2f} "
                f"{imported['peak_mb']:>8.0f} {parsed['seconds']:>13.2f} "
                f"{parsed['peak_mb']:>14.0f} {imported['created']:>8} {imported['skipped']:>8}",
                flush=True,
            )
            results.append(
                {
                    "source": name,
                    "items": n,
                    "file_mb": mb,
                    "import": imported,
                    "parse": parsed,
                    "idle": idle,
                }
            )
    return results


def bench_mentions(sizes: list[str]) -> list[dict]:
    from lod.link import mentions
    from lod.make import sources
    from lod.text import normalise

    results = []
    print(
        f"\n{'articles':>8} {'names':>7} {'load s':>7} {'compile s':>10} {'match s':>8}"
        f" {'ms/art.':>8} {'found':>9} | regex: {'compile s':>8} {'ms/art.':>10} {'slower':>8}"
    )
    for size in sizes:
        data = benchlib.corpus(size)
        started = time.perf_counter()
        loaded = sources.load(data)
        load = time.perf_counter() - started
        names = list(mentions.names_of(loaded.records))
        started = time.perf_counter()
        matcher = mentions.Matcher(names)
        compile_s = time.perf_counter() - started
        articles = [r for r in loaded.records if r.kind == "article"]
        started = time.perf_counter()
        proposed = 0
        for record in articles:
            proposed += len(matcher.find(record.values.get("headline") or ""))
            proposed += len(matcher.find(record.body or ""))
        match = time.perf_counter() - started
        # baseline: one regular-expression alternation of every normalised name
        keys = sorted({normalise(n) for _, n in names if normalise(n)}, key=len, reverse=True)
        started = time.perf_counter()
        pattern = re.compile(r"(?<!\S)(?:" + "|".join(map(re.escape, keys)) + r")(?!\S)")
        regex_compile = time.perf_counter() - started
        started = time.perf_counter()
        regex_found = 0
        sample = articles[:REGEX_SAMPLE]
        for record in sample:
            regex_found += len(pattern.findall(normalise(record.values.get("headline") or "")))
            regex_found += len(pattern.findall(normalise(record.body or "")))
        regex_match = time.perf_counter() - started
        per_article = match / len(articles) * 1000
        regex_per_article = regex_match / len(sample) * 1000
        print(
            f"{len(articles):>8} {len(keys):>7} {load:>7.2f} {compile_s:>10.3f} {match:>8.2f}"
            f" {per_article:>8.3f} {proposed:>9} {regex_compile:>8.3f} {regex_per_article:>10.3f}"
            f" {benchlib.ratio(regex_per_article, per_article):>8}",
            flush=True,
        )
        results.append(
            {
                "articles": len(articles),
                "names": len(keys),
                "load": load,
                "compile": compile_s,
                "match": match,
                "regex_compile": regex_compile,
                "regex_match": regex_match,
                "found": proposed,
                "regex_found": regex_found,
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", nargs="*", default=["1k", "10k"])
    parser.add_argument("--mentions", nargs="*", default=["10k", "100k"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    benchlib.header("lod import / lod link mentions")
    results = {"import": bench_import(args.items), "mentions": bench_mentions(args.mentions)}
    benchlib.loadavg("end")
    benchlib.finish(results, args.json)


if __name__ == "__main__":
    main()
