"""Search quality per language: precision at 10 with each language's Snowball stemmer,
against the same index with words folded only (no stemming), on a labelled set.

    python bench/search_quality.py                 # every language of the set
    python bench/search_quality.py fr es -v        # two languages, each query's results
    python bench/search_quality.py --json bench/out/search-quality.json

The set, bench/search_quality.yaml, holds per language topics of short sentences and
queries that name a topic. Articles are made of three sentences of three topics of one
language (the first sentence the headline, the others the body, tagged with the
language), each topic in 12 articles; all languages go into one index, as
lod.make.search_index writes it from triples. A query is asked as a reader of its
language asks it (`language=`, their hits first), and its 10 first results are judged:
relevant when they hold a sentence of the query's topic. Precision at 10 is the relevant
share of those 10 (every query has 12 relevant articles, so 1.0 is reachable; a query
that finds 3 relevant articles scores 0.3). Also printed: recall, the share of the 12
found anywhere in the results.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import yaml
from rdflib import Literal, URIRef

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib  # noqa: E402

from lod.make import search_index  # noqa: E402
from lod.serve.search import SearchIndex  # noqa: E402
from lod.triples import Triples  # noqa: E402
from lod.vocab import RDF, SDO  # noqa: E402

SET = Path(__file__).with_suffix(".yaml")
BASE = "https://bench.example.org/"
PER_TOPIC = 12  # articles holding each topic
TOPICS_PER_ARTICLE = 3
OFFSETS = (0, 3, 7)  # article i holds topics i, i+3 and i+7 (mod the number of topics)
K = 10


def articles(language: str, topics: dict[str, list[str]]) -> dict[str, tuple[list, set]]:
    """The language's articles: slug -> (sentences, topics), every topic in PER_TOPIC."""
    names = list(topics)
    if len(names) <= max(OFFSETS):
        raise SystemExit(f"{language}: at least {max(OFFSETS) + 1} topics are needed")
    count = PER_TOPIC * len(names) // TOPICS_PER_ARTICLE
    used = dict.fromkeys(names, 0)
    made = {}
    for i in range(count):
        chosen = [names[(i + offset) % len(names)] for offset in OFFSETS]
        sentences = []
        for topic in chosen:
            sentences.append(topics[topic][used[topic] % len(topics[topic])])
            used[topic] += 1
        made[f"{language}-{i:03d}"] = (sentences, set(chosen))
    return made


def graph_of(made: dict[str, dict[str, tuple[list, set]]]) -> tuple[Triples, dict]:
    graph, records = Triples(), {}
    for language, items in made.items():
        for slug, (sentences, _) in items.items():
            subject = URIRef(f"{BASE}id/article/{slug}")
            records[subject] = SimpleNamespace(kind="article")
            graph.add((subject, RDF.type, SDO.NewsArticle))
            graph.add((subject, SDO.headline, Literal(sentences[0], lang=language)))
            body = " ".join(sentences[1:])
            graph.add((subject, SDO.articleBody, Literal(body, lang=language)))
            graph.add((subject, SDO.datePublished, Literal("2024-01-01")))
    return graph, records


def judged(index: SearchIndex, query: str, language: str, relevant: set[str]) -> dict:
    found = index.search(query, language=language, page_size=50)
    slugs = [hit.iri.rsplit("/", 1)[-1] for hit in found.hits]
    first = slugs[:K]
    return {
        "precision": sum(s in relevant for s in first) / K,
        "recall": sum(s in relevant for s in slugs) / len(relevant),
        "first": first,
        "total": found.total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("languages", nargs="*", help="languages of the set (all)")
    parser.add_argument("-v", "--verbose", action="store_true", help="each query's results")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    benchlib.header("search quality: precision at 10, stemmed against folded only")
    labelled = yaml.safe_load(SET.read_text("utf-8"))
    languages = args.languages or list(labelled)
    made = {language: articles(language, labelled[language]["topics"]) for language in labelled}
    graph, records = graph_of(made)
    results: dict = {}
    with tempfile.TemporaryDirectory() as work:
        indexes = {}
        for mode, stemmed in (("stemmed", True), ("folded", False)):
            folder = Path(work) / mode
            folder.mkdir()
            search_index.write(folder, graph, records, BASE, "en", stemmed=stemmed)
            indexes[mode] = SearchIndex(folder)
        print(
            f"{sum(map(len, made.values()))} articles in {len(made)} languages, "
            f"{PER_TOPIC} relevant articles a query\n"
        )
        print(f"{'language':<9} {'queries':>7} {'P@10 stemmed':>13} {'folded':>7}   recall")
        for language in languages:
            items = made[language]
            per_query = []
            for asked in labelled[language]["queries"]:
                relevant = {slug for slug, (_, topics) in items.items() if asked["topic"] in topics}
                scores = {
                    mode: judged(index, asked["query"], language, relevant)
                    for mode, index in indexes.items()
                }
                per_query.append({"query": asked["query"], "topic": asked["topic"], **scores})
            mean = {
                mode: {
                    measure: sum(q[mode][measure] for q in per_query) / len(per_query)
                    for measure in ("precision", "recall")
                }
                for mode in indexes
            }
            results[language] = {"mean": mean, "queries": per_query}
            print(
                f"{language:<9} {len(per_query):>7} {mean['stemmed']['precision']:>13.2f} "
                f"{mean['folded']['precision']:>7.2f}   "
                f"{mean['stemmed']['recall']:.2f} / {mean['folded']['recall']:.2f}",
                flush=True,
            )
            if args.verbose:
                for q in per_query:
                    print(
                        f"    {q['query']:<16} P@10 {q['stemmed']['precision']:.1f} "
                        f"/ {q['folded']['precision']:.1f}   found {q['stemmed']['total']} "
                        f"/ {q['folded']['total']}"
                    )
        overall = {
            mode: sum(r["mean"][mode]["precision"] for r in results.values()) / len(results)
            for mode in indexes
        }
        print(
            f"{'mean':<9} {'':>7} {overall['stemmed']:>13.2f} {overall['folded']:>7.2f}",
            flush=True,
        )
    benchlib.finish(results, args.json)


if __name__ == "__main__":
    main()
