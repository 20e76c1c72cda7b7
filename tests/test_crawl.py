"""Crawlable pages: /sitemap.xml lists every resource page once with `lastmod` from the
data (and becomes an index past its page size), /robots.txt names it, and each page's
embedded JSON-LD carries what search engines recommend, where the data has it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from rdflib import Graph

from lod import Settings, build, open_store
from lod.web import crawl, create_app

from .conftest import DATA, copy_data, start_server, stop_server

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
BASE = "https://lod.example.org/"
ARTICLE = "article/commission-on-social-development-examines-role-of-digital-technologies"
AUTHOR_URL = "https://example.org/people/cecilie-kern"


# --- a richer dataset: the default one with images, urls, logo, dateModified -------------


def enrich(data: Path) -> None:
    """Fields the default data does not state, added to a copy for these tests."""
    article = data / "articles" / f"{ARTICLE.split('/')[1]}.md"
    text = article.read_text("utf-8")
    text = text.replace(
        "datePublished: 2021-02-20\n",
        "datePublished: 2021-02-20\ndateModified: 2021-03-01\n"
        "image: https://example.org/images/csocd59.jpg\n",
    )
    text = text.replace(
        "author:\n  - organisation/mia-mga\n",
        "author:\n  - organisation/mia-mga\n  - person/cecilie-kern\n",
    )
    article.write_text(text, "utf-8")
    organisations = data / "organisations" / "organisations.yaml"
    text = organisations.read_text("utf-8")
    text = text.replace(
        "- id: mia-mga\n",
        "- id: mia-mga\n  url: https://example.org/mia-mga\n"
        "  logo: https://example.org/images/mia-mga-logo.png\n",
    )
    text = text.replace(
        "- id: commission-for-social-development\n",
        "- id: commission-for-social-development\n  url: https://example.org/csocd\n",
    )
    organisations.write_text(text, "utf-8")
    with (data / "people" / "cecilie-kern.yaml").open("a", encoding="utf-8") as person:
        person.write(f"url: {AUTHOR_URL}\n")
    (data / "places" / "places.csv").write_text(
        "id,name,containedInPlace,sameAs,address\n"
        "united-nations-headquarters,United Nations Headquarters,new-york-city,,"
        '"405 East 42nd Street, New York, NY 10017"\n'
        "new-york-city,New York City,,http://www.wikidata.org/entity/Q60,\n",
        "utf-8",
    )
    (data / "events" / "future-summit.yaml").write_text(
        "name: A summit still to come\nstartDate: 2999-05-01\n", "utf-8"
    )
    (data / "documents" / "timed.yaml").write_text(
        "name: A note published at a time\ndatePublished: 2021-02-18T10:30:00+01:00\n", "utf-8"
    )


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    """The enriched dataset, built: its dist folder."""
    root = tmp_path_factory.mktemp("rich")
    data = copy_data(root / "data")
    enrich(data)
    build(Settings(data=data, out=root / "dist"))
    return root / "dist"


@pytest.fixture(scope="module")
def rich_server(rich):
    live = start_server(rich, workers=1)
    yield live
    stop_server(live)


def client(out: Path, **config):
    app = create_app(Settings(data=DATA, out=out))
    app.config.update(config)
    return app.test_client()


def records(out: Path) -> list[str]:
    """Every record's page path, from the build's store (not from what the sitemap reads)."""
    store = open_store(out)
    query = "SELECT ?doc WHERE { ?doc <http://xmlns.com/foaf/0.1/primaryTopic> ?r }"
    return sorted("/" + row["doc"].value.removeprefix(BASE) for row in store.query(query))


def locations(body: bytes) -> list[str]:
    root = ET.fromstring(body)
    assert root.tag == f"{SITEMAP}urlset"
    return [loc.text for loc in root.iter(f"{SITEMAP}loc")]


def lastmods(body: bytes) -> dict[str, str | None]:
    root = ET.fromstring(body)
    found = {}
    for url in root.iter(f"{SITEMAP}url"):
        lastmod = url.find(f"{SITEMAP}lastmod")
        found[url.find(f"{SITEMAP}loc").text] = None if lastmod is None else lastmod.text
    return found


# --- sitemap ---------------------------------------------------------------------------------


def test_sitemap_lists_every_resource_page_exactly_once(built):
    out = built.path.parent.parent
    response = client(out).get("/sitemap.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.data.startswith(b"<?xml")
    urls = locations(response.data)
    assert len(urls) == len(set(urls))
    assert all(url.startswith("http://localhost/doc/") for url in urls)
    expected = records(out)
    assert len(expected) == sum(built.manifest["counts"].values())
    assert sorted(url.removeprefix("http://localhost") for url in urls) == expected


def test_sitemap_urls_are_on_the_serving_host(built):
    """The pages are where the request came, whatever the dataset's base IRI."""
    response = client(built.path.parent.parent).get(
        "/sitemap.xml", base_url="https://mirror.example.net:8443"
    )
    urls = locations(response.data)
    assert urls and all(u.startswith("https://mirror.example.net:8443/doc/") for u in urls)


def test_sitemap_escapes_what_it_writes():
    """Record slugs and hosts cannot hold `&` or `<`, but the writer escapes all the same."""
    body = ET.tostring(crawl._urlset([("http://x.example/doc/a?b=1&c=<d>", "2021-02-08", ())]))
    assert b"&amp;c=&lt;d&gt;" in body
    assert locations(body) == ["http://x.example/doc/a?b=1&c=<d>"]


def test_lastmod_is_the_records_date_or_absent(built):
    found = lastmods(client(built.path.parent.parent).get("/sitemap.xml").data)
    page = {url.removeprefix("http://localhost/doc/"): mod for url, mod in found.items()}
    assert page[ARTICLE] == "2021-02-20"  # datePublished
    assert page["event/csocd59"] == "2021-02-08"  # startDate
    assert page["event/csocd59-civil-society-forum"] is None  # no date: nothing invented
    assert page["organisation/mia-mga"] is None
    assert page["topic/privacy"] is None


def test_lastmod_prefers_date_modified_and_never_guesses(rich):
    found = lastmods(client(rich).get("/sitemap.xml").data)
    page = {url.removeprefix("http://localhost/doc/"): mod for url, mod in found.items()}
    assert page[ARTICLE] == "2021-03-01"  # dateModified over datePublished
    assert page["document/timed"] == "2021-02-18T10:30:00+01:00"  # W3C Datetime as written
    assert page["event/future-summit"] is None  # a date to come is no modification
    lists = json.loads((rich / "current" / "lists.json").read_text("utf-8"))
    (article,) = lists["article"]
    assert article["modified"] == "2021-03-01"
    assert article["date"] == "2021-02-20"


def test_sitemap_splits_into_an_index_past_its_size(built):
    web = client(built.path.parent.parent, LOD_SITEMAP_SIZE=7)
    whole = client(built.path.parent.parent).get("/sitemap.xml")
    everything = locations(whole.data)
    index = web.get("/sitemap.xml")
    assert index.status_code == 200
    root = ET.fromstring(index.data)
    assert root.tag == f"{SITEMAP}sitemapindex"
    parts = [loc.text for loc in root.iter(f"{SITEMAP}loc")]
    assert parts == [
        f"http://localhost/sitemap-{n}.xml" for n in range(1, -(-len(everything) // 7) + 1)
    ]
    listed = []
    for part in parts:
        response = web.get(part.removeprefix("http://localhost"))
        assert response.status_code == 200
        urls = locations(response.data)
        assert 1 <= len(urls) <= 7
        listed += urls
    assert listed == everything  # each page once, in the same order
    # the part holding the article carries its date as the part's lastmod
    first = root.find(f"{SITEMAP}sitemap")
    assert first.find(f"{SITEMAP}lastmod").text == "2021-02-20"
    assert web.get(f"/sitemap-{len(parts) + 1}.xml").status_code == 404
    assert web.get("/sitemap-0.xml").status_code == 404


def test_no_parts_when_one_sitemap_holds_everything(built):
    assert client(built.path.parent.parent).get("/sitemap-1.xml").status_code == 404


def test_sitemap_is_cacheable(built):
    web = client(built.path.parent.parent)
    first = web.get("/sitemap.xml")
    assert first.headers["ETag"]
    again = web.get("/sitemap.xml", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_robots_txt_names_the_sitemap(built):
    response = client(built.path.parent.parent).get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "User-agent: *" in lines
    assert "Sitemap: http://localhost/sitemap.xml" in lines


# --- embedded JSON-LD ----------------------------------------------------------------------


def embedded(server, path: str) -> dict[str, dict]:
    """The page's embedded JSON-LD, its nodes by @id."""
    response = server.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', response.text, re.S)
    assert len(scripts) == 1
    document = json.loads(scripts[0])
    assert document["@context"]["@vocab"] == "https://schema.org/"  # inline, never remote
    Graph().parse(data=scripts[0], format="json-ld")  # and it is valid JSON-LD
    return {node["@id"]: node for node in document["@graph"]}


def ref(value) -> str:
    assert isinstance(value, dict) and set(value) == {"@id"}, value
    return value["@id"]


def refs(value) -> list[str]:
    return [ref(v) for v in (value if isinstance(value, list) else [value])]


def text(value) -> str:
    return value["@value"] if isinstance(value, dict) else value


def test_article_json_ld_has_what_search_engines_recommend(rich_server):
    nodes = embedded(rich_server, f"/doc/{ARTICLE}")
    article = nodes[f"{BASE}id/{ARTICLE}"]
    assert article["@type"] == "NewsArticle"
    assert text(article["headline"]).startswith("Commission on Social Development Examines")
    assert ref(article["image"]) == "https://example.org/images/csocd59.jpg"
    assert text(article["datePublished"]) == "2021-02-20"
    assert text(article["dateModified"]) == "2021-03-01"
    authors = {iri: nodes[iri] for iri in refs(article["author"])}
    person = authors[f"{BASE}id/person/cecilie-kern"]
    assert person["name"] == "Cecilie Kern"
    assert ref(person["url"]) == AUTHOR_URL  # the linked author's url (lod.serve.store LINKED)
    organisation = authors[f"{BASE}id/organisation/mia-mga"]
    assert organisation["name"] == "Mercy International Association - Global Action"
    assert ref(organisation["url"]) == "https://example.org/mia-mga"


def test_event_json_ld_has_what_search_engines_recommend(rich_server):
    nodes = embedded(rich_server, "/doc/event/csocd59")
    event = nodes[f"{BASE}id/event/csocd59"]
    assert event["@type"] == "Event"
    assert event["name"] == "59th session of the Commission for Social Development (CSocD59)"
    assert text(event["startDate"]) == "2021-02-08"
    assert text(event["endDate"]) == "2021-02-17"
    assert ref(event["eventAttendanceMode"]) in (
        "schema:MixedEventAttendanceMode",
        "https://schema.org/MixedEventAttendanceMode",
    )
    assert "eventStatus" not in event  # the data does not say it: not invented
    location = nodes[ref(event["location"])]
    assert location["name"] == "United Nations Headquarters"
    assert location["address"] == "405 East 42nd Street, New York, NY 10017"
    (organizer,) = refs(event["organizer"])
    assert nodes[organizer]["name"] == "Commission for Social Development"
    assert ref(nodes[organizer]["url"]) == "https://example.org/csocd"


def test_organization_json_ld_has_what_search_engines_recommend(rich_server):
    nodes = embedded(rich_server, "/doc/organisation/mia-mga")
    organisation = nodes[f"{BASE}id/organisation/mia-mga"]
    assert organisation["name"] == "Mercy International Association - Global Action"
    assert ref(organisation["url"]) == "https://example.org/mia-mga"
    assert ref(organisation["logo"]) == "https://example.org/images/mia-mga-logo.png"
    united_nations = embedded(rich_server, "/doc/organisation/united-nations")
    node = united_nations[f"{BASE}id/organisation/united-nations"]
    assert ref(node["sameAs"]) == "http://www.wikidata.org/entity/Q1065"


def test_nothing_is_invented_where_the_data_is_silent(server):
    """The default data has no image, url or logo: the JSON-LD has none either."""
    nodes = embedded(server, f"/doc/{ARTICLE}")
    article = nodes[f"{BASE}id/{ARTICLE}"]
    assert "image" not in article and "dateModified" not in article
    assert not any("url" in node or "logo" in node for node in nodes.values())
