"""A deterministic synthetic news corpus in the data/ format, for benchmarks.

    python bench/generate.py 10000 bench/corpus/10k      # 10k articles

N articles (1-3 authors, a publisher, 1-5 mentions, 1-3 topics, a Markdown body of about
1 KB), and in proportion N/10 organisations, N/5 people, N/20 events (a quarter of them
sub-events of another), N/50 places and N/20 topics (in a small hierarchy). The same N and
seed always give the same files. The corpus passes `lod validate`.
"""

from __future__ import annotations

import argparse
import random
import shutil
from datetime import date, timedelta
from pathlib import Path

WORDS = (
    "social development digital inclusion policy commission session forum declaration "
    "migration displacement technology transition equality poverty protection floors "
    "governance rights privacy education health care services access women youth "
    "climate finance partnership agenda goals resilience community network report review "
    "dialogue cooperation innovation data infrastructure skills employment housing"
).split()
ORG_TYPES = ["NGO", "GovernmentOrganization", "Corporation", "EducationalOrganization", ""]
MODES = ["offline", "online", "mixed"]


def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def body(rng: random.Random) -> str:
    """About 1 KB of Markdown: paragraphs, one list, emphasis."""
    paragraphs = [" ".join(sentence(rng, rng.randint(8, 16)) for _ in range(3)) for _ in range(3)]
    items = "\n".join(f"- *{rng.choice(WORDS)}* {sentence(rng, 5)}" for _ in range(3))
    return "\n\n".join([paragraphs[0], items, *paragraphs[1:]])


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate(articles: int, out: Path, seed: int = 1) -> dict[str, int]:
    rng = random.Random(seed)
    sizes = {
        "organisation": max(2, articles // 10),
        "person": max(2, articles // 5),
        "event": max(2, articles // 20),
        "place": max(2, articles // 50),
        "topic": max(2, articles // 20),
    }
    if out.exists():
        shutil.rmtree(out)
    for folder in ("articles", "organisations", "events", "people", "places", "topics"):
        (out / folder).mkdir(parents=True)
    (out / "dataset.yaml").write_text(
        "title: Synthetic news\n"
        f"description: A synthetic corpus of {articles} articles for benchmarks.\n"
        "license: https://creativecommons.org/licenses/by/4.0/\n"
        "publisher: org-0\nlanguage: en\nbase: https://bench.example.org/\n",
        "utf-8",
    )

    with open(out / "places" / "places.csv", "w", encoding="utf-8") as places:
        places.write("id,name,latitude,longitude,containedInPlace\n")
        for i in range(sizes["place"]):
            parent = f"place-{rng.randrange(i)}" if i and rng.random() < 0.5 else ""
            places.write(
                f"place-{i},Place {i},{rng.uniform(-80, 80):.4f},"
                f"{rng.uniform(-170, 170):.4f},{parent}\n"
            )

    with open(out / "topics" / "topics.yaml", "w", encoding="utf-8") as topics:
        for i in range(sizes["topic"]):
            topics.write(f"- id: topic-{i}\n  name: {quote(sentence(rng, 2)[:-1])}\n")
            if i >= 10:
                topics.write(f"  broader: topic-{rng.randrange(10)}\n")
            if i % 7 == 0:
                topics.write(f"  altLabel: [{quote(rng.choice(WORDS))}]\n")

    with open(out / "organisations" / "organisations.csv", "w", encoding="utf-8") as orgs:
        orgs.write("id,name,type,alternateName,location,parentOrganization,sameAs\n")
        for i in range(sizes["organisation"]):
            parent = f"org-{rng.randrange(i)}" if i and rng.random() < 0.2 else ""
            same = f"http://www.wikidata.org/entity/Q{1000 + i}" if rng.random() < 0.1 else ""
            orgs.write(
                f"org-{i},Organisation {i} {rng.choice(WORDS).title()},"
                f"{rng.choice(ORG_TYPES)},ORG{i},place-{rng.randrange(sizes['place'])},"
                f"{parent},{same}\n"
            )

    with open(out / "people" / "people.csv", "w", encoding="utf-8") as people:
        people.write("id,name,jobTitle,worksFor\n")
        for i in range(sizes["person"]):
            people.write(
                f"person-{i},Person {i},{rng.choice(WORDS).title()} officer,"
                f"org-{rng.randrange(sizes['organisation'])}\n"
            )

    start = date(2015, 1, 1)
    with open(out / "events" / "events.yaml", "w", encoding="utf-8") as events:
        for i in range(sizes["event"]):
            day = start + timedelta(days=rng.randrange(3650))
            events.write(
                f"- id: event-{i}\n  name: {quote('Event ' + str(i) + ' ' + sentence(rng, 3))}\n"
                f"  startDate: {day}\n  endDate: {day + timedelta(days=rng.randrange(5))}\n"
                f"  location: place-{rng.randrange(sizes['place'])}\n"
                f"  attendanceMode: {rng.choice(MODES)}\n"
                f"  organizer: [organisation/org-{rng.randrange(sizes['organisation'])}]\n"
                f"  about: [topic/topic-{rng.randrange(sizes['topic'])}]\n"
            )
            if i >= 4 and rng.random() < 0.25:
                events.write(f"  superEvent: event-{rng.randrange(i)}\n")
            if rng.random() < 0.3:
                events.write(
                    f"  contributors:\n    - ref: person/person-"
                    f"{rng.randrange(sizes['person'])}\n      role: moderator\n"
                )

    per_folder = 1000  # keep folders a reasonable size
    for i in range(articles):
        folder = out / "articles" / f"{i // per_folder:04d}"
        if i % per_folder == 0:
            folder.mkdir()
        day = start + timedelta(days=rng.randrange(3650))
        authors = [
            f"person/person-{rng.randrange(sizes['person'])}" for _ in range(rng.randint(1, 3))
        ]
        kinds = [
            ("organisation", "org"),
            ("person", "person"),
            ("event", "event"),
            ("place", "place"),
        ]
        mentions = set()
        for _ in range(rng.randint(1, 5)):
            kind, prefix = rng.choice(kinds)
            mentions.add(f"{kind}/{prefix}-{rng.randrange(sizes[kind])}")
        about = {f"topic/topic-{rng.randrange(sizes['topic'])}" for _ in range(rng.randint(1, 3))}
        (folder / f"article-{i}.md").write_text(
            "---\n"
            f"headline: {quote('Article ' + str(i) + ': ' + sentence(rng, 8))}\n"
            f"datePublished: {day}\n"
            f"publisher: org-{rng.randrange(sizes['organisation'])}\n"
            f"author: [{', '.join(sorted(set(authors)))}]\n"
            f"about: [{', '.join(sorted(about))}]\n"
            f"mentions: [{', '.join(sorted(mentions))}]\n"
            f"keywords: [{rng.choice(WORDS)}, {rng.choice(WORDS)}]\n"
            f"image: https://bench.example.org/images/{i}.jpg\n"
            "---\n" + body(rng) + "\n",
            "utf-8",
        )
    return {"article": articles, **sizes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("articles", type=int, help="number of articles")
    parser.add_argument("out", type=Path, help="folder to write (replaced)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sizes = generate(args.articles, args.out, args.seed)
    print(", ".join(f"{n} {kind}" for kind, n in sizes.items()), "->", args.out)


if __name__ == "__main__":
    main()
