"""A deterministic synthetic news corpus in the data/ format, for benchmarks.

    python bench/generate.py 10000 bench/corpus/10k      # 10k articles
    python bench/generate.py 10000 bench/corpus/10k-3 --languages en,fr,es

With several languages the dataset lists them, every name and label has a value in each
(`name@fr` columns, language maps), and the N articles are N/L stories each written in the
first language and translated into the others (`translationOf`): the same N articles, so a
build of one compares with a build of the other. Text is translated word for word.

N articles (1-3 authors, a publisher, 1-5 mentions, 1-3 topics, a Markdown body of about
1 KB), and in proportion N/10 organisations, N/5 people, N/20 events (a quarter of them
sub-events of another), N/50 places and N/20 topics (in a small hierarchy). The same N and
seed always give the same files. The corpus passes `lod validate`.
"""

from __future__ import annotations

import argparse
import random
import re
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
# WORDS in other languages, word for word (the synthetic text needs no grammar).
TRANSLATED = {
    "fr": (
        "social développement numérique inclusion politique commission session forum "
        "déclaration migration déplacement technologie transition égalité pauvreté "
        "protection socles gouvernance droits confidentialité éducation santé soins services "
        "accès femmes jeunesse climat finance partenariat programme objectifs résilience "
        "communauté réseau rapport examen dialogue coopération innovation données "
        "infrastructure compétences emploi logement article organisation personne événement "
        "lieu officier"
    ),
    "es": (
        "social desarrollo digital inclusión política comisión sesión foro declaración "
        "migración desplazamiento tecnología transición igualdad pobreza protección pisos "
        "gobernanza derechos privacidad educación salud atención servicios acceso mujeres "
        "juventud clima finanzas asociación agenda objetivos resiliencia comunidad red informe "
        "examen diálogo cooperación innovación datos infraestructura competencias empleo "
        "vivienda artículo organización persona evento lugar oficial"
    ),
}
NAMED = ("article", "organisation", "person", "event", "place", "officer")
DICTIONARY = {
    language: dict(zip(WORDS + list(NAMED), words.split(), strict=True))
    for language, words in TRANSLATED.items()
}
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


def translate(text: str, language: str) -> str:
    """Each known word in `language`, keeping its capital; English unchanged."""
    if language == "en":
        return text
    words = DICTIONARY[language]

    def one(match: re.Match) -> str:
        word = match.group()
        found = words.get(word.lower(), word)
        return found[0].upper() + found[1:] if word[0].isupper() else found

    return re.sub(r"[A-Za-z]+", one, text)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml_text(field: str, text: str, languages: tuple[str, ...], indent: str = "  ") -> str:
    """`field: text`, or a language map of it when there are several languages."""
    if len(languages) == 1:
        return f"{indent}{field}: {quote(text)}\n"
    values = "".join(f"{indent}  {tag}: {quote(translate(text, tag))}\n" for tag in languages)
    return f"{indent}{field}:\n{values}"


def _csv_text(text: str, languages: tuple[str, ...]) -> str:
    """A text cell and one `field@xx` cell per further language."""
    return ",".join(translate(text, tag) for tag in languages)


def generate(
    articles: int, out: Path, seed: int = 1, languages: tuple[str, ...] = ("en",)
) -> dict[str, int]:
    rng = random.Random(seed)
    more = languages[1:]
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
        "publisher: org-0\n"
        + (f"languages: [{', '.join(languages)}]\n" if more else "language: en\n")
        + "base: https://bench.example.org/\n",
        "utf-8",
    )

    with open(out / "places" / "places.csv", "w", encoding="utf-8") as places:
        extra = "".join(f",name@{tag}" for tag in more)
        places.write(f"id,name{extra},latitude,longitude,containedInPlace\n")
        for i in range(sizes["place"]):
            parent = f"place-{rng.randrange(i)}" if i and rng.random() < 0.5 else ""
            places.write(
                f"place-{i},{_csv_text(f'Place {i}', languages)},{rng.uniform(-80, 80):.4f},"
                f"{rng.uniform(-170, 170):.4f},{parent}\n"
            )

    with open(out / "topics" / "topics.yaml", "w", encoding="utf-8") as topics:
        for i in range(sizes["topic"]):
            topics.write(
                f"- id: topic-{i}\n" + _yaml_text("name", sentence(rng, 2)[:-1], languages)
            )
            if i >= 10:
                topics.write(f"  broader: topic-{rng.randrange(10)}\n")
            if i % 7 == 0:
                topics.write(f"  altLabel: [{quote(rng.choice(WORDS))}]\n")

    with open(out / "organisations" / "organisations.csv", "w", encoding="utf-8") as orgs:
        extra = "".join(f",name@{tag}" for tag in more)
        orgs.write(f"id,name{extra},type,alternateName,location,parentOrganization,sameAs\n")
        for i in range(sizes["organisation"]):
            parent = f"org-{rng.randrange(i)}" if i and rng.random() < 0.2 else ""
            same = f"http://www.wikidata.org/entity/Q{1000 + i}" if rng.random() < 0.1 else ""
            orgs.write(
                f"org-{i},{_csv_text(f'Organisation {i} {rng.choice(WORDS).title()}', languages)},"
                f"{rng.choice(ORG_TYPES)},ORG{i},place-{rng.randrange(sizes['place'])},"
                f"{parent},{same}\n"
            )

    with open(out / "people" / "people.csv", "w", encoding="utf-8") as people:
        extra = "".join(f",jobTitle@{tag}" for tag in more)
        people.write(f"id,name,jobTitle{extra},worksFor\n")
        for i in range(sizes["person"]):
            job = f"{rng.choice(WORDS).title()} officer"
            people.write(
                f"person-{i},Person {i},{_csv_text(job, languages)},"
                f"org-{rng.randrange(sizes['organisation'])}\n"
            )

    start = date(2015, 1, 1)
    with open(out / "events" / "events.yaml", "w", encoding="utf-8") as events:
        for i in range(sizes["event"]):
            day = start + timedelta(days=rng.randrange(3650))
            events.write(
                f"- id: event-{i}\n"
                + _yaml_text("name", f"Event {i} {sentence(rng, 3)}", languages)
                + f"  startDate: {day}\n  endDate: {day + timedelta(days=rng.randrange(5))}\n"
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

    _articles(rng, articles, out / "articles", sizes, start, languages)
    return {"article": articles, **sizes}


def _articles(rng, articles: int, out: Path, sizes: dict, start: date, languages: tuple) -> None:
    """The article files, a thousand a folder; with several languages each story's original
    is followed by its translations."""
    per_folder = 1000  # keep folders a reasonable size
    for i in range(articles):
        folder = out / f"{i // per_folder:04d}"
        if i % per_folder == 0:
            folder.mkdir()
        translation = i % len(languages)  # 0: a story's original, in the first language
        if not translation:
            story = _story(rng, i, sizes, start)
        tag = languages[translation]
        front = [
            f"headline: {quote(translate(story['headline'], tag))}",
            *story["fields"],
            f"keywords: [{', '.join(translate(word, tag) for word in story['keywords'])}]",
            f"image: https://bench.example.org/images/{i}.jpg",
        ]
        if len(languages) > 1:
            front.append(f"inLanguage: {tag}")
        if translation:
            front.append(f"translationOf: article-{i - translation}")
        (folder / f"article-{i}.md").write_text(
            "---\n" + "\n".join(front) + "\n---\n" + translate(story["body"], tag) + "\n",
            "utf-8",
        )


def _story(rng: random.Random, i: int, sizes: dict[str, int], start: date) -> dict:
    """An article's content, drawn in the order the corpus has always drawn it."""
    day = start + timedelta(days=rng.randrange(3650))
    authors = [f"person/person-{rng.randrange(sizes['person'])}" for _ in range(rng.randint(1, 3))]
    kinds = [("organisation", "org"), ("person", "person"), ("event", "event"), ("place", "place")]
    mentions = set()
    for _ in range(rng.randint(1, 5)):
        kind, prefix = rng.choice(kinds)
        mentions.add(f"{kind}/{prefix}-{rng.randrange(sizes[kind])}")
    about = {f"topic/topic-{rng.randrange(sizes['topic'])}" for _ in range(rng.randint(1, 3))}
    headline = f"Article {i}: {sentence(rng, 8)}"
    fields = [
        f"datePublished: {day}",
        f"publisher: org-{rng.randrange(sizes['organisation'])}",
        f"author: [{', '.join(sorted(set(authors)))}]",
        f"about: [{', '.join(sorted(about))}]",
        f"mentions: [{', '.join(sorted(mentions))}]",
    ]
    keywords = [rng.choice(WORDS), rng.choice(WORDS)]
    return {"headline": headline, "fields": fields, "keywords": keywords, "body": body(rng)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("articles", type=int, help="number of articles")
    parser.add_argument("out", type=Path, help="folder to write (replaced)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--languages",
        default="en",
        help="comma-separated, the first the original's: en and any of " + ", ".join(TRANSLATED),
    )
    args = parser.parse_args()
    languages = tuple(args.languages.split(","))
    if languages[0] != "en" or not set(languages[1:]) <= set(TRANSLATED):
        parser.error(f"--languages: en first, then any of {', '.join(TRANSLATED)}")
    sizes = generate(args.articles, args.out, args.seed, languages)
    print(", ".join(f"{n} {kind}" for kind, n in sizes.items()), "->", args.out)


if __name__ == "__main__":
    main()
