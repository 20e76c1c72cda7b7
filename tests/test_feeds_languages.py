"""Feeds in each of the dataset's languages (/feeds/articles.fr.atom, /feeds/topic/x.ar.rss
…), over a real server of the test dataset in the six UN languages (a copy, with a topic
named in English and French only): only the articles in that language, the names of what
they link to in it (falling back in the dataset's order), the language said as each format
says it and read back by feedparser; the feeds without a language keep every article, each
with its own."""

from __future__ import annotations

import shutil

import feedparser
import pytest

from lod import Settings, build
from lod.web import create_app
from lod.web.feeds import feed_links, language_feed_links

from .conftest import MULTILINGUAL, start_server, stop_server

BASE = "https://lod.example.org/id/"
ARTICLES = {
    "en": "commission-examines-digital-technologies",
    "fr": "commission-examine-technologies-numeriques",
    "ar": "lajna-tabhath-dawr-altiknulujiyat",
}
SOCIAL = {"en": "social development", "fr": "développement social", "ar": "التنمية الاجتماعية"}
TOPIC = f"{BASE}topic/social-development"
DIGITAL = f"{BASE}topic/digital-technologies"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The test dataset, with a topic named in English and French only that the Arabic
    article is about (its name in an Arabic feed falls back to English)."""
    data = tmp_path_factory.mktemp("feeds-languages") / "data"
    shutil.copytree(MULTILINGUAL, data)
    with open(data / "topics" / "topics.yaml", "a", encoding="utf-8") as topics:
        topics.write(
            "\n- id: digital-technologies\n  name:\n    en: digital technologies\n"
            "    fr: technologies numériques\n"
        )
    article = data / "articles" / f"{ARTICLES['ar']}.md"
    text = article.read_text("utf-8")
    old = "about: [event/csocd59, topic/social-development]"
    assert old in text
    article.write_text(text.replace(old, old[:-1] + ", topic/digital-technologies]"), "utf-8")
    return data


@pytest.fixture(scope="module")
def built(data):
    return build(Settings(data=data, out=data.parent / "dist"))


@pytest.fixture(scope="module")
def server(built, data):
    live = start_server(built.path.parent.parent, workers=1, LOD_DATA=data)
    yield live
    stop_server(live)


def parsed(server, path: str):
    response = server.get(path)
    assert response.status_code == 200, response.text
    feed = feedparser.parse(
        response.content, response_headers={"content-type": response.headers["Content-Type"]}
    )
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def slugs(feed) -> list[str]:
    return [entry.id.rsplit("/", 1)[1] for entry in feed.entries]


@pytest.mark.parametrize("fmt", ["atom", "rss"])
@pytest.mark.parametrize("language", list(ARTICLES))
def test_a_language_feed_holds_its_articles_only_and_says_its_language(server, language, fmt):
    feed = parsed(server, f"/feeds/articles.{language}.{fmt}")
    assert feed.version == {"atom": "atom10", "rss": "rss20"}[fmt]
    assert feed.feed.language == language
    assert slugs(feed) == [ARTICLES[language]]
    assert {tag.label or tag.term for tag in feed.entries[0].tags} >= {SOCIAL[language]}
    if fmt == "atom":  # xml:lang is inherited: the entry's texts are in the feed's language
        assert feed.entries[0].title_detail.language == language


def test_a_json_feed_in_a_language(server):
    body = server.get("/feeds/articles.fr.json").json()
    assert body["language"] == "fr"
    assert [item["language"] for item in body["items"]] == ["fr"]
    assert body["items"][0]["tags"] == [SOCIAL["fr"]]
    assert body["title"] == "Actualités de MIA-MGA en six langues (français)"


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_the_feed_without_a_language_keeps_every_article(server, fmt):
    feed = parsed(server, f"/feeds/articles.{fmt}")
    assert sorted(slugs(feed)) == sorted(ARTICLES.values())
    if fmt == "atom":  # the feed's texts in the first language, each article in its own
        assert feed.feed.language == "en"
        languages = {e.id.rsplit("/", 1)[1]: e.title_detail.language for e in feed.entries}
        assert languages == {slug: language for language, slug in ARTICLES.items()}
        arabic = next(e for e in feed.entries if e.id.endswith(ARTICLES["ar"]))
        assert {t.label for t in arabic.tags} == {SOCIAL["en"], "digital technologies"}
    else:  # RSS has one language a channel: a feed of several says none
        assert "language" not in feed.feed


def test_the_json_feed_without_a_language_says_each_items(server):
    body = server.get("/feeds/articles.json").json()
    assert body["language"] == "en"
    assert {i["id"].rsplit("/", 1)[1]: i["language"] for i in body["items"]} == {
        slug: language for language, slug in ARTICLES.items()
    }


def test_a_name_falls_back_in_order_and_says_its_language(server):
    """The Arabic article is about a topic named in English and French only: the English
    name, marked as English, in an Arabic feed."""
    feed = parsed(server, "/feeds/articles.ar.atom")
    tags = {t.label: t for t in feed.entries[0].tags}
    assert set(tags) == {SOCIAL["ar"], "digital technologies"}
    response = server.get("/feeds/articles.ar.atom")
    assert 'label="digital technologies" xml:lang="en"' in response.text
    assert f'label="{SOCIAL["ar"]}" />' in response.text  # in the feed's language: unmarked


@pytest.mark.parametrize(
    ("path", "language", "title", "entries"),
    [
        (
            "/feeds/topic/social-development.ar.atom",
            "ar",
            "أخبار MIA-MGA بست لغات: التنمية الاجتماعية (العربية)",
            [ARTICLES["ar"]],
        ),
        (
            "/feeds/event/csocd59.ar.rss",  # no Arabic name: the English one
            "ar",
            "أخبار MIA-MGA بست لغات: 59th session of the Commission for Social Development "
            "(العربية)",
            [ARTICLES["ar"]],
        ),
        (
            "/feeds/topic/digital-technologies.fr.atom",  # no French article about it
            "fr",
            "Actualités de MIA-MGA en six langues: technologies numériques (français)",
            [],
        ),
        ("/feeds/organisation/united-nations.es.atom", "es", None, []),  # none in Spanish
        (
            "/feeds/topic/social-development.atom",
            "en",
            "MIA-MGA news in six languages: social development",
            sorted(ARTICLES.values()),
        ),
    ],
)
def test_a_records_feed_in_a_language(server, path, language, title, entries):
    feed = parsed(server, path)
    assert feed.feed.language == language
    if title:
        assert feed.feed.title == title
    assert sorted(slugs(feed)) == entries


def test_feed_urls_for_pages_and_their_languages(server, built, data):
    """What the pages' templates are given: the feeds of the home page and of a record's
    page, and the same in each language some article is written in, each one served."""
    app = create_app(Settings(data=data, out=built.path.parent.parent))
    with app.test_request_context("/"):
        assert [url for url, *_ in feed_links()] == [
            "/feeds/articles.atom",
            "/feeds/articles.rss",
            "/feeds/articles.json",
        ]
        home = language_feed_links()
    assert {hreflang for *_, hreflang in home} == {"en", "fr", "ar"}  # no article in es …
    assert ("/feeds/articles.ar.atom", "application/atom+xml") in {(u, t) for u, t, *_ in home}
    with app.test_request_context("/doc/topic/social-development"):
        topic = language_feed_links()
    french = [(url, title) for url, _, title, hreflang in topic if hreflang == "fr"]
    assert french[0] == (
        "/feeds/topic/social-development.fr.atom",
        "Articles: développement social (français, Atom)",
    )
    with app.test_request_context("/sparql"):
        assert feed_links() == [] and language_feed_links() == []
    for url, media_type, _, hreflang in home + topic:
        response = server.get(url)
        assert response.status_code == 200 and response.headers["Content-Type"].startswith(
            media_type
        )
        if media_type == "application/feed+json":
            assert response.json()["language"] == hreflang


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/articles.de.atom",  # not a language of the dataset
        "/feeds/articles..atom",
        "/feeds/articles.fr.xml",
        "/feeds/articles.%3Cscript%3E.atom",
        "/feeds/articles.fr.fr.atom",
        "/feeds/topic/social-development.de.rss",
        "/feeds/topic/social-development..rss",
        "/feeds/topic/social-development.fr.fr.rss",
        "/feeds/topic/no-such-topic.fr.atom",
        "/feeds/place/new-york-city.fr.atom",
    ],
)
def test_unknown_feeds_in_languages_are_404(server, path):
    response = server.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["message"]


def test_a_language_in_capitals_is_the_same_feed(server):
    assert slugs(parsed(server, "/feeds/articles.FR.atom")) == [ARTICLES["fr"]]


def test_conditional_get_of_a_language_feed(server):
    first = server.get("/feeds/articles.ar.rss")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = server.get("/feeds/articles.ar.rss", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.fixture(scope="module")
def crowded(tmp_path_factory):
    """The dataset with 60 English articles newer than 55 French ones: a French feed must
    read past the newest fifty, and holds fifty."""
    data = tmp_path_factory.mktemp("crowded") / "data"
    shutil.copytree(MULTILINGUAL, data)
    for language, count, year in (("en", 60, 2023), ("fr", 55, 2022)):
        for number in range(count):
            day = f"{year}-01-{number % 28 + 1:02}"
            (data / "articles" / f"{language}-{number}.md").write_text(
                f"---\nheadline: {language} {number}\ndatePublished: {day}\npublisher: mia-mga\n"
                f"inLanguage: {language}\nabout: [topic/social-development]\n---\nText.\n",
                "utf-8",
            )
    built = build(Settings(data=data, out=data.parent / "dist"))
    live = start_server(built.path.parent.parent, workers=1, LOD_DATA=data)
    yield live
    stop_server(live)


@pytest.mark.parametrize("path", ["/feeds/articles", "/feeds/topic/social-development"])
def test_a_language_feed_reads_past_the_newest_articles_of_others(crowded, path):
    french = parsed(crowded, f"{path}.fr.atom")
    assert len(french.entries) == 50  # FEED_SIZE, of 56
    assert all(slug.startswith("fr-") for slug in slugs(french))
    dates = [e.published_parsed for e in french.entries]
    assert dates == sorted(dates, reverse=True)
    arabic = parsed(crowded, f"{path}.ar.atom")  # one, older than all: every article read
    assert slugs(arabic) == [ARTICLES["ar"]]
    assert len(parsed(crowded, f"{path}.atom").entries) == 50
