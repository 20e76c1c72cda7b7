"""The link commands over records named in several languages (tests/fixtures/languages):
`lod link mentions` finds a record by its name in any language (language maps, `name@fr`
columns), and `lod link sameas` asks another service by the name in the dataset's first
language and counts a candidate named in any of ours as having its name."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from lod.link import mentions
from lod.link.matching import propose

from .conftest import MULTILINGUAL
from .test_link_sameas import Table, by_record, candidate, elsewhere_service

FRENCH = "article/commission-examine-technologies-numeriques"


@pytest.fixture
def data(tmp_path) -> Path:
    """A copy of the dataset whose articles link nothing yet."""
    data = tmp_path / "data"
    shutil.copytree(MULTILINGUAL, data)
    for article in (data / "articles").glob("*.md"):
        text = article.read_text("utf-8")
        article.write_text(re.sub(r"(?m)^(about|mentions): .*\n", "", text), "utf-8")
    return data


def test_mentions_find_names_in_the_articles_language(data):
    (proposal,) = mentions.propose(data, only={FRENCH})
    about = {hit.ref: hit.name for hit in proposal.about}
    mentioned = {hit.ref: hit.name for hit in proposal.mentions}
    assert about == {
        "organisation/commission-for-social-development": "Commission du développement social"
    }
    assert mentioned == {
        "event/csocd59": "Cinquante-neuvième session de la Commission du développement social",
        "place/united-nations-headquarters": "Siège de l'Organisation des Nations Unies",
        "place/new-york-city": "New York",  # a `name@fr` column
        "topic/social-development": "développement social",
    }


def test_mentions_in_russian_and_an_acronym_of_another_language(data):
    article = data / "articles" / "ru.md"
    article.write_text(
        "---\nheadline: Комиссия социального развития\ndatePublished: 2021-02-24\n"
        "publisher: mia-mga\ninLanguage: ru\n---\nСессия в Нью-Йорк, ONU.\n",
        "utf-8",
    )
    (proposal,) = mentions.propose(data, only={"article/ru"})
    assert [hit.ref for hit in proposal.about] == ["organisation/commission-for-social-development"]
    assert {hit.ref for hit in proposal.mentions} == {
        "place/new-york-city",
        "organisation/united-nations",
    }


def test_mentions_read_the_first_of_the_dataset_languages_when_an_article_names_none(data):
    """dataset.yaml gives `languages` only: an article without inLanguage is in the first,
    whose common words ("post") are left out."""
    with open(data / "topics" / "topics.yaml", "a", encoding="utf-8") as topics:
        topics.write("\n- id: post\n  name: post\n")
    (data / "articles" / "plain.md").write_text(
        "---\nheadline: A plain post\ndatePublished: 2021-02-24\npublisher: mia-mga\n---\n"
        "This post is about social development.\n",
        "utf-8",
    )
    (proposal,) = mentions.propose(data, only={"article/plain"})
    assert [hit.ref for hit in proposal.mentions] == ["topic/social-development"]
    assert ("topic/post", "post") in proposal.left_out


def test_sameas_asks_by_the_first_languages_name_and_knows_every_name(data):
    table = Table(
        {
            "United Nations": [candidate("un", "Organisation des Nations Unies")],
            "Commission for Social Development": [candidate("csd", "社会发展委员会")],
        },
        {},
    )
    run = propose(data, elsewhere_service("u", ()), table, kinds=["organisation"])
    assert sorted(q["query"] for q in table.queries) == [
        "Commission for Social Development",
        "Mercy International Association - Global Action",
        "United Nations",
    ]
    found = by_record(run)
    for record in ("organisation/united-nations", "organisation/commission-for-social-development"):
        assert "same name" in found[record][0]["why"], found[record]
    assert {p.record: p.name for p in run.proposals}["organisation/united-nations"] == (
        "United Nations"
    )
