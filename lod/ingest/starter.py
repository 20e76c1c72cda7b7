"""`lod init`: a dataset of one's own that builds at once.

A new folder gets data/ (dataset.yaml, the publisher's organisation, a first article that
says how to go on), a .gitignore for what `lod` generates, and EDITING.md, a page for the
people who will write the content. Nothing is overwritten: a folder that already holds any
of these files is refused, and nothing is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from ..errors import BadAnswer, InitRefused
from ..make.convert import values
from .slugs import slug_for

LICENSE = "https://creativecommons.org/licenses/by/4.0/"


@dataclass(frozen=True)
class Answers:
    """What a new dataset is made from: asked for, or given as options."""

    title: str
    base: str
    publisher: str  # the organisation's name
    language: str = "en"
    license: str = LICENSE
    publisher_url: str | None = None

    def __post_init__(self) -> None:
        """Each answer checked by the rules the build applies, so the dataset builds."""
        checks = {
            "title": values.text,
            "publisher": values.text,
            "base": values.base,
            "language": values.language,
            "license": values.iri,
        }
        if self.publisher_url:
            checks["publisher_url"] = lambda url: values.iri(url, web_only=True)
        for name, check in checks.items():
            try:
                check(getattr(self, name))
            except values.Invalid as bad:
                raise BadAnswer(name, bad.message, bad.hint) from None

    @property
    def publisher_id(self) -> str:
        """The publisher's id, from its name.

        >>> Answers("News", "https://data.example.org/", "Océan Voices Network").publisher_id
        'ocean-voices-network'
        """
        return slug_for(self.publisher, fallback="publisher")


def start(folder: Path, answers: Answers, today: date | None = None) -> list[Path]:
    """Write the new dataset's files into `folder` (made if missing); the files written."""
    files = _files(answers, today or date.today())
    taken = [folder / name for name in files if (folder / name).exists()]
    if taken:
        raise InitRefused(folder, [str(p) for p in taken])
    written = []
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as handle:  # never over a file made meanwhile
            handle.write(text)
        written.append(path)
    return written


def _files(answers: Answers, today: date) -> dict[str, str]:
    """Each file of a new dataset (its path under the folder) and its text."""
    publisher = answers.publisher_id
    dataset = {
        "title": answers.title,
        "description": f"News of {answers.publisher}, published as Linked Open Data.",
        "license": answers.license,
        "publisher": f"organisation/{publisher}",
        "language": answers.language,
        "base": answers.base,
    }
    organisation = {"name": answers.publisher}
    if answers.publisher_url:
        organisation["url"] = answers.publisher_url
    article = {
        "headline": f"Welcome to {answers.title}",
        "datePublished": today,
        "publisher": f"organisation/{publisher}",
        "author": [f"organisation/{publisher}"],
        "keywords": ["linked open data"],
    }
    return {
        os.path.join("data", "dataset.yaml"): _yaml(
            dataset, "# The dataset: what every build publishes about itself (EDITING.md)."
        ),
        os.path.join("data", "organisations", f"{publisher}.yaml"): _yaml(
            organisation, "# The publisher. Add `sameAs` (its Wikidata IRI) when it has one."
        ),
        os.path.join("data", "articles", "welcome.md"): "---\n"
        + _yaml(article, "")
        + "---\n"
        + WELCOME,
        "EDITING.md": EDITING,
        ".gitignore": GITIGNORE,
    }


def _yaml(values: dict, comment: str) -> str:
    head = f"{comment}\n" if comment else ""
    return head + yaml.safe_dump(values, allow_unicode=True, sort_keys=False, width=88)


WELCOME = """\
This is the first article of the dataset. Edit it, or delete it once there are others.

Each article is a Markdown file in `data/articles/`: its fields between the `---` lines,
its text below them. `lod build` checks every file and publishes them all, or reports every
mistake with its file and line and publishes nothing.
"""

GITIGNORE = """\
# What `lod` makes from data/: built again by `lod build`. Back up dist/ledger/ with data/
# (the IRIs ever published), which a rebuild cannot make again.
dist/*
!dist/ledger/
.venv/
"""

EDITING = """\
# Editing this dataset

Everything published comes from the files in `data/`:

| folder | holds | one file is |
|---|---|---|
| `data/articles/` | news articles | a Markdown file: fields between `---` lines, then the text |
| `data/organisations/` | organisations | a YAML file (one record, or a list) or a CSV table |
| `data/people/` | people | the same |
| `data/events/` | events | the same |
| `data/places/` | places | the same |
| `data/topics/` | topics | the same |
| `data/documents/` | reports, declarations, statements | the same |

`data/dataset.yaml` describes the whole dataset: its title, licence, publisher, language
and base IRI (the address every record is published under; change it before the first
publication, never after).

Every record has an `id`, lower-case letters, digits and single hyphens
(`un-headquarters`); a file holding one record may leave it out, and its file name is the
id. A record refers to another as `kind/id`: `organisation/un-headquarters`,
`person/jane-doe`, `topic/climate`.

After an edit:

```sh
lod build --trial   # check and build to look at; every mistake listed with its file and line
lod serve           # look at it on http://127.0.0.1:5000/
lod build           # publish: from now on each record's address is permanent
```

A build that finds a mistake changes nothing that is published. A record once published
keeps its address: to rename one, list its old id under `formerIds`; to remove one, say so
in `data/gone.yaml` (an `id`, a `reason` and a `date`).
"""
