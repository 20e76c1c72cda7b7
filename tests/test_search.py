"""Full-text search (lod.make.search_index, lod.serve.search, /search, `lod search`): on
the default dataset with a few articles added, and on a generated corpus: ranking, accents
and case, phrases and prefixes, facets, escaped snippets, searches after `--watch` edits,
bad queries, the concurrency bound, the OpenSearch description."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from lod import Settings, build
from lod.errors import BadSearch
from lod.fulltext import words_of
from lod.make import Builder
from lod.serve.search import SearchIndex, parse
from lod.web import create_app

from .conftest import copy_data

ARTICLES = {
    "headline-match": (
        "Sustainable développement in the Pacific",
        "Island states met in Suva.",
    ),
    "body-match": (
        "Quarterly notes from the secretariat",
        "Delegates spoke about sustainable développement and little else.",
    ),
    "hostile": (
        '<script>alert("x")</script> Hostile <b>headline</b>',
        "A hostile visitor wrote this.",
    ),
    "photovoltaic": (
        "Photovoltaic panels for schools",
        "The ministry of energy funds photovoltaic panels.",
    ),
}


def article(slug: str, headline: str, body: str, topic: str = "digital-technologies") -> str:
    return (
        f"---\nid: {slug}\nheadline: {json.dumps(headline)}\n"
        f"datePublished: 2022-03-0{len(slug) % 9 + 1}\n"
        f"publisher: mia-mga\nauthor:\n  - person/cecilie-kern\nabout:\n  - topic/{topic}\n---\n"
        f"{body}\n"
    )


def write_articles(data: Path) -> None:
    for slug, (headline, body) in ARTICLES.items():
        (data / "articles" / f"{slug}.md").write_text(article(slug, headline, body), "utf-8")


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """The default dataset with ARTICLES added, built: (data, the Build)."""
    root = tmp_path_factory.mktemp("search")
    data = copy_data(root / "data")
    write_articles(data)
    return data, build(Settings(data=data, out=root / "dist"))


@pytest.fixture(scope="module")
def index(searched) -> SearchIndex:
    return SearchIndex(searched[1].path)


@pytest.fixture(scope="module")
def client(searched):
    app = create_app(Settings(data=searched[0], out=searched[1].path.parent.parent))
    return app.test_client()


def iris(results) -> list[str]:
    return [hit.iri.rsplit("/", 1)[-1] for hit in results.hits]


def test_a_headline_match_ranks_above_a_body_match(index):
    found = iris(index.search("sustainable développement"))
    assert found.index("headline-match") < found.index("body-match")


@pytest.mark.parametrize(
    "text", ["developpement", "DÉVELOPPEMENT", "Developpement", "développement"]
)
def test_accents_and_case_are_folded(index, text):
    assert {"headline-match", "body-match"} <= set(iris(index.search(text)))


def test_phrases_match_words_in_order_only(index):
    assert "body-match" in iris(index.search('"sustainable développement"'))
    assert "body-match" not in iris(index.search('"développement sustainable"'))


def test_prefixes(index):
    assert "photovoltaic" in iris(index.search("photovolt*"))
    assert "photovoltaic" not in iris(index.search("photovolt"))


def test_excluded_words(index):
    found = iris(index.search("développement -pacific"))
    assert "body-match" in found and "headline-match" not in found


def test_english_words_are_stemmed(index):
    assert "photovoltaic" in iris(index.search("panel"))


def test_every_kind_is_searched_by_its_names(index):
    # an organisation by its alternate name (MIA-MGA), a topic by its label
    kinds = {hit.kind for hit in index.search("mercy").hits}
    assert "organisation" in kinds
    assert "topic" in {hit.kind for hit in index.search("digital divide").hits}


def test_facets_add_up(index):
    results = index.search("digital")
    assert sum(count for _, count in results.facets["kind"]) == results.total
    for facet, values in results.facets.items():
        for value, count in values:
            narrowed = index.search("digital", {facet: value})
            assert narrowed.total == count, (facet, value)


def test_filters_combine_with_the_query(index):
    topic = "https://lod.example.org/id/topic/digital-technologies"
    results = index.search("développement", {"topic": topic, "kind": "article"})
    assert set(iris(results)) == {"headline-match", "body-match"}
    assert index.search("développement", {"kind": "event"}).total == 0


def test_pagination(index):
    first = index.search("digital", page_size=2)
    second = index.search("digital", page=2, page_size=2)
    assert first.total == second.total > 4
    assert len(first.hits) == len(second.hits) == 2
    assert not set(iris(first)) & set(iris(second))


def test_snippets_and_titles_are_escaped(index):
    hit = next(h for h in index.search("hostile").hits if h.iri.endswith("/hostile"))
    assert "<script>" not in hit.title and "<b>" not in hit.title
    assert "&lt;script&gt;" in hit.title and "<mark>Hostile</mark>" in hit.title


def test_a_hostile_headline_stays_text_on_the_page(client):
    page = client.get("/search?q=hostile", headers={"Accept": "text/html"})
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert '<script>alert("x")</script>' not in body
    assert "&lt;script&gt;" in body


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ('"sustainable développement', '"sustainable developpement"'),  # unclosed quote
        ("NEAR(a b) OR c:d", '"near a" AND "b" AND "c d"'),  # FTS5 syntax is text
        ("a\x00b\x1fc", '"a" AND "b" AND "c"'),  # control characters are spaces
        ("(x) AND {y}", '"x" AND "y"'),
    ],
)
def test_queries_are_read_sensibly(text, reading):
    assert parse(text).match(words_of("und", stemmed=False)) == reading


@pytest.mark.parametrize(
    "text", ["", "   ", "AND OR NOT", "* - \" ' ( )", "-only -excluded", "x" * 10_000]
)
def test_bad_queries_are_refused(index, text):
    with pytest.raises(BadSearch):
        index.search(text)


@pytest.mark.parametrize(
    "query",
    ["q=AND+OR", "q=" + "x" * 10_000, "q=%00%01", "q=digital&page=0", "q=digital&page=abc"],
)
def test_bad_queries_get_400_with_a_message(client, query):
    response = client.get(f"/search?{query}", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.json["error"]["message"]


def test_odd_queries_never_fail(client):
    for text in ['"', '"""', "a\"b'c", "é*", "-", "*digital", "digital*" * 50, "NEAR(", "^x"]:
        response = client.get("/search", query_string={"q": text})
        assert response.status_code in (200, 400), text


def test_search_as_json(client):
    response = client.get("/search?q=d%C3%A9veloppement", headers={"Accept": "application/json"})
    assert response.status_code == 200
    body = response.json
    assert body["total"] == len(body["results"]) == 2
    first = body["results"][0]
    assert first["page"].startswith("/doc/article/")
    assert {"iri", "kind", "title", "date", "snippet", "score"} <= first.keys()
    labels = {v["label"] for v in body["facets"]["topic"]}
    assert "Digital technologies" in labels


def test_the_page_shows_results_facets_and_pages(client):
    page = client.get("/search?q=digital", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'class="hits"' in page and 'class="facets"' in page
    assert "<mark>" in page and "page 1 of" not in page  # all fit on one page
    assert 'href="/search?q=digital&amp;kind=article"' in page


def test_every_page_has_a_search_box_and_the_opensearch_link(client):
    for path in ["/", "/doc/article/", "/doc/topic/digital-technologies"]:
        page = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
        assert 'role="search"' in page and 'name="q"' in page, path
        assert 'type="application/opensearchdescription+xml"' in page, path


def test_opensearch_description(client):
    response = client.get("/opensearch.xml")
    assert response.mimetype == "application/opensearchdescription+xml"
    root = ET.fromstring(response.data)
    ns = "{http://a9.com/-/spec/opensearch/1.1/}"
    assert root.tag == f"{ns}OpenSearchDescription"
    assert root.find(f"{ns}ShortName").text
    templates = {u.get("type"): u.get("template") for u in root.findall(f"{ns}Url")}
    assert templates["text/html"] == "http://localhost/search?q={searchTerms}"


def test_a_search_counts_against_the_query_bound(searched):
    app = create_app(
        Settings(data=searched[0], out=searched[1].path.parent.parent, query_concurrency=1)
    )
    client = app.test_client()
    with app.extensions["lod.queries"].slot():
        busy = client.get("/search?q=digital", headers={"Accept": "application/json"})
    assert busy.status_code == 429 and busy.headers["Retry-After"]
    assert client.get("/search?q=digital").status_code == 200  # the slot is back


def test_search_on_the_command_line(searched):
    out = searched[1].path.parent.parent
    lod = [str(Path(sys.executable).parent / "lod")]
    shown = subprocess.run(
        [*lod, "search", "développement", "--out", str(out), "--json", "--limit", "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    body = json.loads(shown.stdout)
    assert body["total"] == 2 and len(body["results"]) == 1
    text = subprocess.run(
        [*lod, "search", "photovolt*", "--kind", "article", "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Photovoltaic panels for schools" in text.stdout
    bad = subprocess.run([*lod, "search", "AND", "--out", str(out)], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.startswith("error: nothing to search for")
    kind = subprocess.run(
        [*lod, "search", "x", "--kind", "articel", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert kind.returncode == 2 and "'articel' is not one of" in kind.stderr


def test_search_after_watched_edits(tmp_path):
    data = copy_data(tmp_path / "data")
    write_articles(data)
    builder = Builder(Settings(data=data, out=tmp_path / "dist"))
    builder.build()
    path = data / "articles" / "photovoltaic.md"
    path.write_text(
        article("photovoltaic", "Geothermal wells for schools", "Drilling began."), "utf-8"
    )
    (data / "articles" / "added.md").write_text(
        article("added", "Zeppelins return", "Airships carry mail."), "utf-8"
    )
    rebuilt = builder.build()
    index = SearchIndex(rebuilt.path)
    assert iris(index.search("geothermal")) == ["photovoltaic"]
    assert index.search("photovoltaic").total == 0
    assert iris(index.search("zeppelin")) == ["added"]
    fresh = SearchIndex(build(Settings(data=data, out=tmp_path / "fresh")).path)
    for text in ["digital", "geothermal", "sustainable développement", "schools"]:
        assert iris(index.search(text)) == iris(fresh.search(text)), text
        assert index.search(text).facets == fresh.search(text).facets, text


def test_a_watched_edit_updates_the_index_in_place(tmp_path):
    """A rebuild copies the last index and replaces the changed records' rows, rather
    than writing it whole (the rows of unchanged records keep their ids)."""
    data = copy_data(tmp_path / "data")
    write_articles(data)
    builder = Builder(Settings(data=data, out=tmp_path / "dist"))
    first = builder.build()
    path = data / "articles" / "hostile.md"
    path.write_text(article("hostile", "Friendly headline", "A friendly visitor."), "utf-8")
    second = builder.build()
    import sqlite3

    def rows(build_):
        db = sqlite3.connect(build_.path / "search.sqlite")
        try:
            return dict(db.execute("select iri, id from records"))
        finally:
            db.close()

    before, after = rows(first), rows(second)
    changed = {iri for iri in after if before.get(iri) != after[iri]}
    assert changed == {"https://lod.example.org/id/article/hostile"}


@pytest.mark.slow
def test_search_on_a_generated_corpus(corpus_1k, tmp_path):
    data = Path(shutil.copytree(corpus_1k, tmp_path / "data"))
    built = build(Settings(data=data, out=tmp_path / "dist"))
    index = SearchIndex(built.path)
    results = index.search("digital inclusion")
    assert results.total > 10
    assert sum(count for _, count in results.facets["kind"]) == results.total
    years = index.search("digital", {"kind": "article"}).facets["year"]
    assert years == sorted(years, reverse=True)
    for value, count in years[:3]:
        assert index.search("digital", {"kind": "article", "year": value}).total == count
    phrase = index.search('"digital inclusion"').total
    assert 0 < phrase <= results.total
    assert index.search("digi*").total >= index.search("digital").total


@pytest.mark.slow
def test_search_over_http(searched):
    """gunicorn serving the build: JSON and HTML answers, 400 for a bad query, and a
    conditional GET."""
    from .conftest import start_server, stop_server

    server = start_server(searched[1].path.parent.parent, LOD_QUERY_CONCURRENCY=2)
    try:
        found = server.get("/search?q=photovolt*", headers={"Accept": "application/json"})
        assert found.status_code == 200
        assert [r["iri"].rsplit("/", 1)[1] for r in found.json()["results"]] == ["photovoltaic"]
        page = server.get("/search?q=photovolt*", headers={"Accept": "text/html"})
        assert "<mark>Photovoltaic</mark>" in page.text
        again = server.get("/search?q=photovolt*", headers={"If-None-Match": page.headers["ETag"]})
        assert again.status_code == 304
        long = server.get("/search", params={"q": "word " * 240})
        assert long.status_code == 400 and "at most 1000 characters" in long.text
        # 10 KB in a URL: gunicorn refuses the request line itself (414) before the app
        assert server.get("/search", params={"q": "word " * 2000}).status_code == 414
    finally:
        stop_server(server)


def test_a_search_past_the_time_limit_is_stopped(index, monkeypatch):
    from lod.errors import QueryTimeout
    from lod.serve import search

    monkeypatch.setattr(search, "PROGRESS_STEPS", 1)
    with pytest.raises(QueryTimeout):
        index.search("digital", timeout=-1.0)
    assert index.search("digital", timeout=60).total > 0  # the connection is usable again


def test_robots_keep_crawlers_off_searches(client):
    assert "Disallow: /search" in client.get("/robots.txt").get_data(as_text=True).splitlines()


@pytest.mark.parametrize("reverse", [False, True])
def test_a_record_linked_twice_takes_the_first_role_whatever_the_order(reverse):
    """about + mentions of one topic: the index says `about`, in whichever order the pairs of
    a subject's set come (they came in hash order, and two builds of data/ differed)."""
    from rdflib import Literal, URIRef

    from lod.make.search_index import entry
    from lod.vocab import SDO

    base = "https://example.org/"
    article, topic = URIRef(f"{base}id/article/a"), URIRef(f"{base}id/topic/t")
    pairs = [(SDO.headline, Literal("A")), (SDO.about, topic), (SDO.mentions, topic)]
    _, links = entry(pairs[::-1] if reverse else pairs, article, "article", base, "en")
    assert links == [("topic", str(topic), "about")]
