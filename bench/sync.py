"""`lod sync` against a real WordPress: a first sync of N posts, then an incremental sync of
10 changes, then one of none.

    python bench/sync.py                 # 1,000 posts
    python bench/sync.py --posts 5000 --json bench/out/sync.json

The site is the tests' (tests/wordpress.py: Debian's WordPress on MariaDB, behind PHP's
built-in server, one worker), filled through its REST API in batches of 25
(/wp-json/batch/v1): N posts with Gutenberg-block bodies, 8 categories (3 of them
children), 12 tags, 3 authors, 20 featured images with captions. Each sync runs in a fresh
process, without credentials (as a public reader): wall time, HTTP requests made (retries
included), posts read, peak memory (ru_maxrss). Baselines, same run: a process that only
imports the sync (memory), and the same reads done with plain requests (every page of
posts with `_embed`, the id listing; no conversion, nothing written): what the network
and WordPress cost, against what `lod sync` adds.

The 10 changes: 7 posts edited, 1 unpublished (a draft), 1 given a new slug, 1 deleted.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib  # noqa: E402

from tests.wordpress import WordPress, available  # noqa: E402

WORK = benchlib.OUT / "sync"
BATCH = 25  # WordPress's most per batch request
WORDS = (
    "water coast mangrove community fishing drought flood rights sanitation climate "
    "alliance partners volunteers delta harbour lagoon report policy youth women reef"
).split()

WORKER = """
import json, resource, sys, time
mode, url, data = sys.argv[1:4]
started = time.perf_counter()
if mode == "sync":
    from lod.ingest.sync import sync
    report = sync(url, data)
    extra = {"summary": report.summary(), "requests": report.requests, "read": report.read}
elif mode == "fetch":
    import requests
    session, made, read = requests.Session(), 0, 0
    for query in ({"_fields": "id,modified_gmt"}, {"_embed": "author,wp:term,wp:featuredmedia"}):
        page, pages = 1, 1
        while page <= pages:
            answer = session.get(url + "/wp-json/wp/v2/posts", timeout=60,
                                 params={**query, "per_page": 100, "page": page})
            answer.raise_for_status()
            made += 1
            read += len(answer.json()) if "_embed" in query else 0
            pages = int(answer.headers["X-WP-TotalPages"])
            page += 1
    extra = {"requests": made, "read": read}
else:
    import lod.ingest.sync  # noqa: F401
    extra = {}
print(json.dumps({"seconds": time.perf_counter() - started,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra}))
"""


def worker(mode: str, url: str, data: Path) -> dict:
    done = subprocess.run(
        [benchlib.PYTHON, "-c", WORKER, mode, url, str(data)],
        capture_output=True,
        text=True,
        cwd=benchlib.ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def sentence(rng: random.Random, n: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(n))
    return text[0].upper() + text[1:]


def body(rng: random.Random, n: int) -> str:
    parts = [
        f'<!-- wp:paragraph -->\n<p>{sentence(rng, 30)} &amp; <a href="/p/{n}-{p}">'
        f"{sentence(rng, 2)}</a>, <em>{sentence(rng, 3)}</em>.</p>\n<!-- /wp:paragraph -->"
        for p in range(4)
    ]
    parts.append(
        "<!-- wp:list -->\n<ul><li>"
        + "</li><li>".join(sentence(rng, 3) for _ in range(3))
        + "</li></ul>\n<!-- /wp:list -->"
    )
    return "\n\n".join(parts)


def fill(wp: WordPress, posts: int) -> tuple[list[int], float]:
    """The site's content; the post ids and the seconds it took."""
    started = time.perf_counter()
    rng = random.Random(7)
    parents = [wp.category(f"Section {n}")["id"] for n in range(5)]
    categories = parents + [wp.category(f"Desk {n}", parent=parents[n])["id"] for n in range(3)]
    tags = [wp.tag(f"{word} {n}")["id"] for n, word in enumerate(WORDS[:12])]
    authors = [1] + [wp.author(f"writer{n}", f"Writer {n}")["id"] for n in range(2)]
    images = [
        wp.image(f"photo-{n}.png", caption=f"Photo {n}: {sentence(rng, 5)}", red=n * 10)["id"]
        for n in range(20)
    ]
    ids: list[int] = []
    for start in range(0, posts, BATCH):
        made = wp.batch(
            [
                {
                    "method": "POST",
                    "path": "/wp/v2/posts",
                    "body": {
                        "title": f"{sentence(rng, 6)} {n}",
                        "status": "publish",
                        "content": body(rng, n),
                        "categories": [rng.choice(categories)],
                        "tags": rng.sample(tags, 2),
                        "author": rng.choice(authors),
                        "featured_media": images[n % 20] if n % 5 == 0 else 0,
                        "date": f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T09:00:00",
                    },
                }
                for n in range(start, min(start + BATCH, posts))
            ]
        )
        ids += [answer["id"] for answer in made]
    return ids, time.perf_counter() - started


def change(wp: WordPress, ids: list[int]) -> None:
    """10 changes: 7 edits, 1 unpublished, 1 new slug, 1 deleted."""
    time.sleep(1)  # a later second than the newest post the first sync read
    for n, ident in enumerate(ids[10:17]):
        wp.edit(ident, title=f"Edited post {n}", content=f"<p>Edited body {n}.</p>")
    wp.edit(ids[20], status="draft")
    wp.edit(ids[30], slug=f"renamed-post-{ids[30]}")
    wp.rest("DELETE", f"posts/{ids[40]}", params={"force": "true"})


def line(what: str, result: dict) -> None:
    print(
        f"{what:34} {result['seconds']:>8.2f} {result.get('requests', 0):>9} "
        f"{result.get('read', 0):>6} {result['peak_mb']:>8.0f}  {result.get('summary', '')}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not available():
        raise SystemExit("needs Debian's wordpress, mariadb-server, php-cli and php-mysql")
    benchlib.header(f"lod sync of {args.posts} posts from a real WordPress")
    shutil.rmtree(WORK, ignore_errors=True)
    wp = WordPress(WORK / "wordpress")
    results: dict = {"posts": args.posts}
    try:
        wp.start()
        ids, seconds = fill(wp, args.posts)
        print(f"site filled through its REST API: {len(ids)} posts in {seconds:.0f} s\n")
        data = WORK / "data"
        print(f"{'':34} {'seconds':>8} {'requests':>9} {'read':>6} {'peak MB':>8}")
        results["idle"] = worker("idle", wp.url, data)
        line("a process importing the sync", results["idle"])
        results["fetch"] = worker("fetch", wp.url, data)
        line("reading it only (plain requests)", results["fetch"])
        results["first"] = worker("sync", wp.url, data)
        line("first sync", results["first"])
        change(wp, ids)
        results["incremental"] = worker("sync", wp.url, data)
        line("incremental sync (10 changes)", results["incremental"])
        results["nothing"] = worker("sync", wp.url, data)
        line("sync with nothing changed", results["nothing"])
    finally:
        wp.stop()
    benchlib.finish(results, args.json)


if __name__ == "__main__":
    main()
