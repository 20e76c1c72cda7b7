"""Pages in the reader's language, over a real server (gunicorn on 127.0.0.1) serving the
dataset in the six UN languages (tests/fixtures/languages/): Accept-Language negotiated over
the dataset's languages, `?lang=` choosing, the response cache keyed on the language, labels
falling back in the dataset's order, every value marked with its language, translations
named ("also in"), hreflang alternates on pages and in the sitemap (read by an XML parser),
the RDF formats untouched by the reader's language, and an Arabic page laid out right to
left in Chromium (a screenshot is kept: the test prints where).
"""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import requests
from rdflib import Graph, Literal, URIRef

from lod import Settings, build, open_build
from lod.layout import VERSIONS
from lod.lists import Lists
from lod.serve.cache import FILE, cache_folder
from lod.versions import Version, Versions
from lod.web import create_app

from .conftest import MULTILINGUAL, UN_NAMES, start_server, stop_server
from .test_pages import Element, parse, png_size, webdriver

BASE = "https://lod.example.org/"
LANGUAGES = ["en", "fr", "es", "ar", "ru", "zh"]
HTML = {"Accept": "text/html"}
UN = "/doc/organisation/united-nations"
ORIGINAL = "/doc/article/commission-examines-digital-technologies"
FRENCH = "/doc/article/commission-examine-technologies-numeriques"
ARABIC = "/doc/article/lajna-tabhath-dawr-altiknulujiyat"


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    """The dataset in six languages, built."""
    folder = tmp_path_factory.mktemp("languages") / "dist"
    build(Settings(data=MULTILINGUAL, out=folder))
    return folder


@pytest.fixture(scope="module")
def site(out):
    live = start_server(out, workers=1, threads=4)
    yield live
    stop_server(live)


def page(site, path: str, language: str | None = None) -> tuple[requests.Response, Element]:
    headers = {**HTML, **({"Accept-Language": language} if language else {})}
    response = site.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return response, parse(response.text)


def html_of(dom: Element) -> Element:
    return dom.one("html")


# --- negotiation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, header, language",
    [
        (UN, "fr", "fr"),
        (UN, "fr-CH, fr;q=0.9, en;q=0.5", "fr"),  # a region reads its language
        (UN, "fr-CH", "fr"),  # even alone (RFC 4647 lookup)
        (UN, "zh-CN", "zh"),
        (UN, "de", "en"),  # not offered: the dataset's first language
        (UN, "de, ru;q=0.4", "ru"),  # the first offered the reader accepts
        (UN, None, "en"),
        (UN + "?lang=ru", "fr", "ru"),  # the URL's choice over the header
        (UN + "?lang=FR", "ar", "fr"),  # a tag matched without case
        ("/", "es", "es"),
        ("/doc/organisation/", "ar", "ar"),
        (UN + ".html", "ar", "ar"),
        (UN + ".html?fr", "ar", "ar"),  # no `lang=`: no choice
        (UN + ".html?lang=zh", "ar", "zh"),
    ],
)
def test_the_page_is_in_the_language_negotiated(site, path, header, language):
    page(site, path, header)  # kept: the second is answered from the cache
    response, dom = page(site, path, header)
    assert response.headers["Content-Language"] == language
    assert html_of(dom).get("lang") == language
    assert html_of(dom).get("dir") == ("rtl" if language == "ar" else "ltr")
    if path.startswith(UN):
        assert dom.one("h1").words() == UN_NAMES[language]


def test_a_negotiated_page_varies_by_accept_language_and_a_chosen_one_does_not(site):
    """Asked twice: rendered by the app, then answered from the cache (before the app, for
    `.html`), with the same headers."""
    for path, vary in [
        (UN, {"accept", "accept-language"}),
        (UN + ".html", {"accept-language"}),
        ("/", {"accept-language"}),
        ("/doc/organisation/", {"accept", "accept-language"}),
        (UN + "?lang=fr", {"accept"}),  # the format is still negotiated
        (UN + ".html?lang=fr", set()),
        ("/?lang=fr", set()),
    ]:
        for _ in range(2):
            response, _ = page(site, path, "fr")
            said = {v.strip().lower() for v in response.headers.get("Vary", "").split(",")}
            assert said - {""} == vary, path


@pytest.mark.parametrize(
    "path", [UN + "?lang=xx", UN + ".html?lang=de", "/?lang=xx", "/doc/organisation/?lang=x"]
)
def test_a_language_the_dataset_does_not_offer_is_404_naming_those_it_does(site, path):
    response = site.get(path, headers=HTML)
    assert response.status_code == 404
    assert "offered: en, fr, es, ar, ru, zh" in response.text


# --- the cache -----------------------------------------------------------------------------


def test_a_french_page_is_never_an_english_readers(site, out):
    """However the page was first asked for (negotiated, chosen, its own .html URL), each
    reader gets the page in their language from the response cache, keyed per language."""
    for first in ("fr", "en"):
        for path in (UN + ".html", UN, UN + ".html?lang=fr", UN + "?lang=en"):
            for reader in (first, "en" if first == "fr" else "fr", first):
                response, dom = page(site, path, reader)
                chosen = path.partition("?lang=")[2] or reader
                assert response.headers["Content-Language"] == chosen, (path, reader)
                assert dom.one("h1").words() == UN_NAMES[chosen], (path, reader)
    build_id = json.loads((out / "current" / "manifest.json").read_text("utf-8"))["id"]
    with sqlite3.connect(cache_folder(out, build_id) / FILE) as connection:
        keys = [key for (key,) in connection.execute("SELECT key FROM answers")]
    pages = {k.rsplit("\x00", 1)[1] for k in keys if "united-nations\x00text/html" in k}
    assert {"en", "fr", "lang=en", "lang=fr"} <= pages  # kept, an entry a language
    assert pages <= {*LANGUAGES, *(f"lang={tag}" for tag in LANGUAGES)}


@pytest.mark.parametrize("path", [UN, UN + ".html", "/", "/doc/organisation/"])
def test_a_page_in_one_language_is_not_fresh_for_a_reader_of_another(site, path):
    """Each language's page has its own ETag: a cache revalidating the French page for an
    English reader gets the English page, not 304."""
    french, _ = page(site, path, "fr")
    again = site.get(
        path, headers={**HTML, "Accept-Language": "fr", "If-None-Match": french.headers["ETag"]}
    )
    assert again.status_code == 304
    english = site.get(
        path, headers={**HTML, "Accept-Language": "en", "If-None-Match": french.headers["ETag"]}
    )
    assert english.status_code == 200 and english.headers["Content-Language"] == "en"
    chosen, _ = page(site, path + "?lang=fr", "fr")
    assert chosen.headers["ETag"] != french.headers["ETag"]  # its links keep ?lang=


def test_rdf_is_the_same_whatever_the_readers_language(site):
    """The RDF formats carry every language: Accept-Language and ?lang= change nothing."""
    for path, accept in [
        (UN + ".ttl", None),
        (UN + ".jsonld", None),
        (UN + ".nt", None),
        (UN + ".rdf", None),
        (UN, "text/turtle"),
        (UN, "application/ld+json"),
    ]:
        answers = []
        for language in (None, "fr", "ar", "zh-CN"):
            headers = {
                **({"Accept": accept} if accept else {}),
                **({"Accept-Language": language} if language else {}),
            }
            answers.append(site.get(path, headers=headers))
        answers.append(site.get(path + "?lang=fr", headers={"Accept": accept or "*/*"}))
        answers.append(site.get(path + "?lang=xx", headers={"Accept": accept or "*/*"}))
        for answer in answers:
            assert answer.status_code == 200
            assert answer.content == answers[0].content, path
            assert "Content-Language" not in answer.headers
            assert "accept-language" not in answer.headers.get("Vary", "").lower()
    graph = Graph().parse(data=site.get(UN + ".ttl").text, format="turtle")
    un = URIRef(BASE + "id/organisation/united-nations")
    names = {o.language: str(o) for o in graph.objects(un, URIRef("https://schema.org/name"))}
    assert names == UN_NAMES


def test_the_embedded_json_ld_keeps_every_language(site):
    _, dom = page(site, UN + "?lang=fr")
    data = json.loads(dom.one("script", type="application/ld+json").text())
    graph = Graph().parse(data=json.dumps(data), format="json-ld")
    un = URIRef(BASE + "id/organisation/united-nations")
    names = set(graph.objects(un, URIRef("https://schema.org/name")))
    assert names == {Literal(text, lang=tag) for tag, text in UN_NAMES.items()}


# --- labels and values -----------------------------------------------------------------


def labels_of(dom: Element, term: str) -> list[tuple[str, str | None]]:
    """The texts and `lang` of the values of one property of the resource."""
    dl = dom.one("article", class_="resource").all("dl", class_="properties")[0]
    found, current = [], None
    for child in dl.children:
        if isinstance(child, Element) and child.tag == "dt":
            current = child.words()
        elif isinstance(child, Element) and child.tag == "dd" and current == term:
            found += [(e.words(), e.get("lang")) for e in child.iter() if e.tag in ("a", "span")]
    return found


@pytest.mark.parametrize(
    "language, organiser, place",
    [
        ("fr", "Commission du développement social", "Siège de l'Organisation des Nations Unies"),
        ("ar", "لجنة التنمية الاجتماعية", "مقر الأمم المتحدة"),
        ("zh", "社会发展委员会", "联合国总部"),
    ],
)
def test_linked_resources_are_named_in_the_readers_language(site, language, organiser, place):
    _, dom = page(site, f"/doc/event/csocd59?lang={language}")
    assert labels_of(dom, "organizer") == [(organiser, None)]  # the page's language: no lang
    assert labels_of(dom, "location") == [(place, None)]


@pytest.mark.parametrize("language", ["es", "ru", "zh", "ar"])
def test_a_missing_label_falls_back_in_the_datasets_order_never_by_chance(site, language):
    """The event is named in English and French only: every other reader reads English, the
    dataset's first language, marked so."""
    _, dom = page(site, f"{ORIGINAL}?lang={language}")
    english = "59th session of the Commission for Social Development"
    assert (english, "en") in labels_of(dom, "about")
    _, event = page(site, "/doc/event/csocd59", language)
    assert event.one("h1").words() == english and event.one("h1").get("lang") == "en"


def test_the_resources_own_values_are_all_shown_each_marked_with_its_language(site):
    _, dom = page(site, UN + "?lang=fr")
    names = labels_of(dom, "name")
    assert names[0] == (UN_NAMES["en"], "en")  # the fallback order: English next
    assert sorted(names) == sorted((t, tag) for tag, t in UN_NAMES.items() if tag != "fr")
    arabic = [e for e in dom.iter("span") if e.get("lang") == "ar"]
    assert [e.get("dir") for e in arabic] == ["rtl"]
    _, rtl = page(site, UN + "?lang=ar")
    english = [e for e in rtl.iter("span") if e.get("lang") == "en"]
    assert english and all(e.get("dir") == "ltr" for e in english)


def test_an_arabic_article_page_is_written_right_to_left(site):
    _, dom = page(site, ARABIC, "ar")
    assert html_of(dom).get("dir") == "rtl"
    assert dom.one("h1").get("lang") is None  # Arabic, as the page
    assert dom.one("section", class_="body").get("dir") is None
    _, english = page(site, ARABIC, "en")
    assert dom.one("h1").words() == english.one("h1").words()
    assert english.one("h1").get("lang") == "ar" and english.one("h1").get("dir") == "rtl"
    assert english.one("section", class_="body").get("dir") == "rtl"


def site_nav(dom: Element) -> Element:
    (nav,) = [n for n in dom.iter("nav") if n.get("aria-label") == "Site"]
    return nav


def test_the_interface_words_are_marked_english(site):
    """They are not translated (docs/reader-language.md): a screen reader must read them as
    English, in a page in another language."""
    _, dom = page(site, UN + "?lang=ru")
    assert site_nav(dom).get("lang") == "en"
    assert {dt.get("lang") for dt in dom.iter("dt")} == {"en"}
    _, english = page(site, UN + "?lang=en")
    assert site_nav(english).get("lang") is None


def test_home_and_lists_name_records_in_the_readers_language(site):
    _, home = page(site, "/?lang=fr")
    assert home.one("h1").words() == "Actualités de MIA-MGA en six langues"
    assert home.one("title").words() == "Home · Actualités de MIA-MGA en six langues"
    latest = [a.words() for a in home.one("ol", class_="entries").iter("a")]
    assert (
        "La Commission du développement social examine le rôle des technologies numériques"
        in latest
    )
    _, ru = page(site, "/doc/organisation/", "ru")
    entries = {a.words(): a.get("lang") for a in ru.one("ol", class_="entries").iter("a")}
    assert entries[UN_NAMES["ru"]] is None
    assert entries["Mercy International Association - Global Action"] == "en"  # one name only
    _, es = page(site, "/", "es")  # no Spanish title: the first language's
    assert es.one("h1").words() == "MIA-MGA news in six languages"
    assert es.one("h1").get("lang") == "en"


def test_the_lists_json_is_the_same_whatever_the_readers_language(site):
    answers = [
        site.get("/doc/organisation/", headers={"Accept": "application/json", **h})
        for h in ({}, {"Accept-Language": "ar"})
    ]
    assert answers[0].content == answers[1].content
    un = next(i for i in answers[0].json()["items"] if i["@id"].endswith("/united-nations"))
    assert un["label"] == UN_NAMES["en"] and un["labels"] == UN_NAMES


def test_lists_json_holds_each_label_in_each_language(out):
    """lists.json (lod.make.listings): `label` in the dataset's order (the first language
    first), `labels` by language, and each work's language and original."""
    lists = json.loads((out / "current" / "lists.json").read_text("utf-8"))
    un = next(e for e in lists["organisation"] if e["iri"].endswith("/united-nations"))
    assert un["label"] == UN_NAMES["en"] and un["labels"] == UN_NAMES
    mia = next(e for e in lists["organisation"] if e["iri"].endswith("/mia-mga"))
    assert "labels" not in mia  # its label in the first language alone: `label` says it
    french = next(e for e in lists["article"] if e["iri"].endswith(FRENCH.rsplit("/", 1)[1]))
    assert french["language"] == "fr"
    assert french["translationOf"] == BASE + "id/article/commission-examines-digital-technologies"


# --- the switcher, the choice kept, translations, hreflang ---------------------------------


def test_the_language_switcher_is_plain_links(site):
    _, dom = page(site, UN, "fr")
    switcher = dom.one("nav", class_="languages")
    links = {a.get("hreflang"): a for a in switcher.iter("a")}
    assert list(links) == LANGUAGES
    assert links["ar"].words() == "العربية" and links["ar"].get("lang") == "ar"
    assert links["ar"].get("dir") == "rtl"
    assert links["fr"].words() == "Français" and links["fr"].get("aria-current") == "true"
    assert links["ru"].words() == "Русский" and links["zh"].words() == "中文"
    assert not list(dom.iter("script")) or all(
        s.get("type") == "application/ld+json" for s in dom.iter("script")
    )
    for tag, link in links.items():
        assert link.get("href") == f"{UN}?lang={tag}"
        response, chosen = page(site, link.get("href"), "fr")
        assert response.headers["Content-Language"] == tag
        assert chosen.one("h1").words() == UN_NAMES[tag]


def our_links(dom: Element) -> list[str]:
    """The links to this site's pages, but the switcher's and the translations' (which
    name a language of their own: `hreflang`)."""
    return [
        a.get("href")
        for a in dom.iter("a")
        if (a.get("href") or "").startswith(("/doc/", "/?")) and a.get("hreflang") is None
    ]


def test_a_chosen_language_is_kept_by_the_pages_links(site):
    _, dom = page(site, ORIGINAL + "?lang=ar", "en")
    pages = [href for href in our_links(dom) if "." not in href.rsplit("/", 1)[1]]
    assert len(pages) > 8 and all(href.endswith("?lang=ar") for href in pages), pages
    response, _ = page(site, dom.one("a", class_="brand").get("href"), "en")
    assert response.headers["Content-Language"] == "ar"
    response, _ = page(site, pages[-1], "en")
    assert response.headers["Content-Language"] == "ar"
    _, negotiated = page(site, ORIGINAL, "ar")  # nothing to keep: the browser says it again
    assert not [href for href in our_links(negotiated) if "lang=" in href]


def test_a_work_names_its_translations(site):
    _, dom = page(site, ORIGINAL, "en")
    also = dom.one("p", class_="translations")
    assert also.words() == "Also in: Français, العربية"
    assert [(a.get("hreflang"), a.get("href")) for a in also.iter("a")] == [
        ("fr", FRENCH + "?lang=fr"),
        ("ar", ARABIC + "?lang=ar"),
    ]
    _, french = page(site, FRENCH, "fr")  # the original and the other translation
    also = french.one("p", class_="translations")
    assert [(a.get("hreflang"), a.words()) for a in also.iter("a")] == [
        ("en", "English"),
        ("ar", "العربية"),
    ]
    _, arabic = page(site, ARABIC, "ar")
    assert [a.get("hreflang") for a in arabic.one("p", class_="translations").iter("a")] == [
        "en",
        "fr",
    ]
    _, un = page(site, UN, "fr")
    assert un.all("p", class_="translations") == []


def alternates(dom: Element) -> dict[str, str]:
    return {e.get("hreflang"): e.get("href") for e in dom.iter("link") if e.get("hreflang")}


def test_every_page_of_a_work_names_the_same_language_versions(site):
    """In each language the translation written in it, else the original; x-default the
    original as negotiated: the same on every page of the cluster, each naming itself."""
    expected = {tag: f"{BASE.rstrip('/')}{ORIGINAL}?lang={tag}" for tag in LANGUAGES} | {
        "fr": f"{BASE.rstrip('/')}{FRENCH}?lang=fr",
        "ar": f"{BASE.rstrip('/')}{ARABIC}?lang=ar",
        "x-default": f"{BASE.rstrip('/')}{ORIGINAL}",
    }
    for path, language in ((ORIGINAL, "en"), (FRENCH, "fr"), (ARABIC, "ar"), (ORIGINAL, "ru")):
        _, dom = page(site, f"{path}?lang={language}")
        assert alternates(dom) == expected, path
    _, un = page(site, UN)
    assert alternates(un) == {
        **{tag: f"{BASE}doc/organisation/united-nations?lang={tag}" for tag in LANGUAGES},
        "x-default": f"{BASE}doc/organisation/united-nations",
    }
    _, home = page(site, "/?lang=fr")
    assert alternates(home)["x-default"] == BASE and alternates(home)["ar"] == f"{BASE}?lang=ar"


SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def test_the_sitemap_names_each_language_version_as_search_engines_read_it(site):
    root = ET.fromstring(site.get("/sitemap.xml").content)  # a real XML parser
    urls = {}
    for url in root.iter(f"{SITEMAP}url"):
        links = {
            link.get("hreflang"): link.get("href")
            for link in url.iter(f"{XHTML}link")
            if link.get("rel") == "alternate"
        }
        urls[url.find(f"{SITEMAP}loc").text] = links
    here = site.url
    for kind, slug in [("organisation", "united-nations"), ("place", "new-york-city")]:
        plain = f"{here}/doc/{kind}/{slug}"
        assert urls[plain] == urls[f"{plain}?lang=ar"]  # every version names the same
        assert set(urls[plain]) == {*LANGUAGES, "x-default"}
        for tag, href in urls[plain].items():
            assert href == (plain if tag == "x-default" else f"{plain}?lang={tag}")
            assert href in urls  # each version is listed itself, naming itself
    cluster = urls[f"{here}{ORIGINAL}"]
    assert cluster["fr"] == f"{here}{FRENCH}?lang=fr"
    assert cluster["ar"] == f"{here}{ARABIC}?lang=ar"
    assert cluster["es"] == f"{here}{ORIGINAL}?lang=es"
    assert urls[f"{here}{FRENCH}?lang=fr"] == cluster == urls[f"{here}{ARABIC}?lang=ar"]
    assert urls[f"{here}{FRENCH}"] == {}  # a translation as negotiated: not a version
    assert f"{here}{FRENCH}?lang=es" not in urls  # not a version of the cluster either
    for href in {*cluster.values(), *urls[f"{here}{UN}"].values()}:
        assert site.get(href.removeprefix(here), headers=HTML).status_code == 200


def test_a_sitemap_of_language_versions_is_cut_counting_each_link(out):
    """Each `xhtml:link` counts as a URL against the size of a file (the protocol's 50,000
    URLs a file, here 56): a file of pages naming seven versions each holds 7 of them."""
    app = create_app(Settings(out=out))
    app.config["LOD_SITEMAP_SIZE"] = 56
    web = app.test_client()
    index = ET.fromstring(web.get("/sitemap.xml").data)
    parts = [loc.text for loc in index.iter(f"{SITEMAP}loc")]
    assert index.tag == f"{SITEMAP}sitemapindex" and len(parts) > 1
    found = []
    for part in parts:
        urlset = ET.fromstring(web.get(part.removeprefix("http://localhost")).data)
        counted = len(list(urlset.iter(f"{SITEMAP}url"))) + len(list(urlset.iter(f"{XHTML}link")))
        assert counted <= 56
        found += [loc.text for loc in urlset.iter(f"{SITEMAP}loc")]
    assert len(found) == len(set(found)) == 58  # ten records, and their versions
    app.extensions["lod.queries"].close()


# --- the versions, without a server --------------------------------------------------------


def test_a_translation_in_a_language_the_dataset_lacks_is_its_own_page():
    lists = {
        "article": [
            {"iri": "a:en", "language": "en"},
            {"iri": "a:de", "language": "de", "translationOf": "a:en"},
            {"iri": "a:de-ch", "language": "de-CH", "translationOf": "a:de"},  # of a translation
        ]
    }
    versions = Versions.of_lists(lists, ["en"])
    assert versions.of("a:de") == [
        Version("en", "a:en", "en"),
        Version("de", "a:de", None),
        Version("de-CH", "a:de-ch", None),
        Version("x-default", "a:en", None),
    ]
    assert versions.translations("a:de-ch") == {"en": "a:en", "de": "a:de"}
    assert (
        Versions.of_lists({"article": [{"iri": "a:en", "language": "en"}]}, ["en"]).of("a:en") == []
    )
    kept = Versions(["en"], versions.kept())  # as versions.json keeps it
    assert all(kept.of(iri) == versions.of(iri) for iri in ("a:en", "a:de", "a:de-ch", "o:x"))


def test_works_alone_in_their_cluster_name_their_own_page_in_each_language():
    """A work with no translation is not kept in a cluster (most works), yet names the
    same versions as if it were: its page in each of the dataset's languages, or its own
    page when its language is not one of them; a translation in its original's language
    yields to the original."""
    lists = {
        "article": [
            {"iri": "a:en"},  # the first language, not named
            {"iri": "a:fr", "language": "fr"},
            {"iri": "a:de", "language": "de"},
            {"iri": "a:orig", "language": "fr"},
            {"iri": "a:same", "language": "fr", "translationOf": "a:orig"},
            {"iri": "a:es", "language": "es", "translationOf": "a:orig"},
        ],
        "document": [{"iri": "d:en", "translationOf": "d:elsewhere"}],  # not a work here
    }
    versions = Versions.of_lists(lists, ["en", "fr"])
    for alone in ("a:en", "a:fr", "d:en"):
        assert versions.of(alone) == [
            Version("en", alone, "en"),
            Version("fr", alone, "fr"),
            Version("x-default", alone, None),
        ]
        assert versions.translations(alone) == {}
    assert versions.of("a:de") == [
        Version("en", "a:de", "en"),
        Version("fr", "a:de", "fr"),
        Version("de", "a:de", None),
        Version("x-default", "a:de", None),
    ]
    cluster = [
        Version("en", "a:orig", "en"),
        Version("fr", "a:orig", "fr"),
        Version("es", "a:es", None),
        Version("x-default", "a:orig", None),
    ]
    assert versions.of("a:orig") == versions.of("a:same") == versions.of("a:es") == cluster
    assert versions.translations("a:es") == {"fr": "a:orig"}
    assert set(versions.members) == {"a:de", "a:orig"}  # the works alone are not kept


def test_a_build_keeps_only_the_versions_that_are_not_a_pages_own(out):
    """versions.json holds the clusters of translations; a record of no cluster is left out,
    and the kept versions are those lists.json gives, for every record."""
    build_folder = open_build(out).path
    lists = json.loads((build_folder / "lists.json").read_text("utf-8"))
    kept = json.loads((build_folder / VERSIONS).read_text("utf-8"))
    languages = ["en", "fr", "es", "ar", "ru", "zh"]
    whole, read = Versions.of_lists(lists, languages), Versions(languages, kept)
    iris = [entry["iri"] for entries in lists.values() for entry in entries]
    assert len(kept["members"]) < len(iris) and kept["root"]
    for iri in iris:
        assert read.of(iri) == whole.of(iri) and read.translations(iri) == whole.translations(iri)


def test_no_page_but_the_sitemap_reads_every_record(out, monkeypatch):
    """Pages, lists, feeds and search read the records they show, a page or an entry at a
    time (lod.lists, versions.json): an app process never holds a list of every record (at
    a million articles a gigabyte each). Only the sitemap goes through them all."""

    walks = []
    entries = Lists.entries
    monkeypatch.setattr(Lists, "entries", lambda *a: walks.append(a[1:]) or entries(*a))
    monkeypatch.setattr(Versions, "of_lists", lambda *a: walks.append(a[1:]))
    app = create_app(Settings(out=out))
    web = app.test_client()
    for path in (
        FRENCH,
        ARABIC,
        "/doc/organisation/united-nations",
        "/doc/article/?page=1",
        "/",
        "/feeds/articles.fr.atom",
        "/feeds/organisation/united-nations.ar.rss",
        "/search?q=commission",
    ):
        assert web.get(path, headers=HTML).status_code == 200, path
    assert walks == []
    assert web.get("/sitemap.xml").status_code == 200
    assert ("article",) in walks
    app.extensions["lod.queries"].close()


def test_a_dataset_in_one_language_has_no_switcher_and_no_alternates(client):
    """data/ is in English only: its pages say so and name no other version."""
    response = client.get("/doc/organisation/mia-mga", headers=HTML)
    assert response.headers["Content-Language"] == "en"
    assert "Accept-Language" not in response.headers.get("Vary", "")
    dom = parse(response.get_data(as_text=True))
    assert dom.all("nav", class_="languages") == [] and alternates(dom) == {}
    assert client.get("/doc/organisation/mia-mga?lang=en", headers=HTML).status_code == 200
    items = client.get("/doc/organisation/", headers={"Accept": "application/json"}).json
    assert items["items"] and all(i["labels"] == {"en": i["label"]} for i in items["items"])
    assert client.get("/doc/organisation/mia-mga?lang=fr", headers=HTML).status_code == 404


def test_a_kept_choice_goes_before_a_links_fragment(client):
    """A role of an event is `…/event/x#role-1`: `?lang=` goes before the `#`."""
    response = client.get("/doc/person/cecilie-kern?lang=en", headers=HTML)
    roles = [a.get("href") for a in parse(response.get_data(as_text=True)).iter("a")]
    event = "/doc/event/csocd59-migration-displacement-side-event"
    assert f"{event}?lang=en#role-1" in roles


# --- Chromium ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    """Chromium at a desktop size (tests/test_pages.py's WebDriver session)."""
    yield from webdriver("desktop")


DIRECTIONS = """
const of = (selector) => getComputedStyle(document.querySelector(selector)).direction;
const date = [...document.querySelectorAll("dd span")].find((s) => /2021/.test(s.textContent));
return {body: of("body"), h1: of("h1"), english: of('a[lang="en"]'),
        date: getComputedStyle(date).direction,
        lang: document.documentElement.lang, title: document.title};
"""


def test_an_arabic_page_is_right_to_left_in_chromium(site, browser, tmp_path_factory):
    browser.open(site.url + ARABIC + "?lang=ar")
    found = browser.run(DIRECTIONS)
    assert found["body"] == "rtl" and found["h1"] == "rtl" and found["lang"] == "ar"
    assert found["english"] == "ltr"  # an English name within it: left to right
    assert found["date"] == "ltr"  # `23 February 2021`, not `February 2021 23`
    assert found["title"].startswith("لجنة التنمية الاجتماعية")
    shot = base64.b64decode(browser.command("GET", "/screenshot"))
    width, height = png_size(shot)  # a PNG, of the window's width
    assert width > 0 and height > 0 and len(shot) > 15_000, "a blank page?"
    folder = tmp_path_factory.mktemp("screenshots")
    (folder / "arabic-page.png").write_bytes(shot)
    print(f"\nscreenshot of the Arabic page: {folder / 'arabic-page.png'}")


# --- search ------------------------------------------------------------------------------


def test_the_search_page_is_in_the_readers_language_and_ranks_it_first(site):
    response, dom = page(site, "/search?q=commission", "fr")
    assert html_of(dom).get("lang") == "fr"
    assert response.headers["Content-Language"] == "fr"
    assert "Accept-Language" in response.headers["Vary"]
    asked = site.get(
        "/search?q=commission", headers={"Accept": "application/json", "Accept-Language": "fr-CH"}
    )  # English and French texts hold the word: the French ones first
    answer = asked.json()
    assert answer["lang"] == "fr" and asked.headers["Content-Language"] == "fr"
    assert {hit["language"] for hit in answer["results"]} == {"en", "fr"}
    assert answer["results"][0]["language"] == "fr"


def test_a_search_ranks_by_a_language_the_dataset_does_not_offer_rather_than_refuse(site):
    """`lang=` of a search is a ranking wish: `fr-CA` ranks French first (the page stays
    in the dataset's first language), where a page's `?lang=fr-CA` would be 404."""
    asked = site.get("/search?q=commission&lang=fr-CA", headers={"Accept": "application/json"})
    assert asked.status_code == 200
    assert asked.json()["results"][0]["language"] == "fr"
    assert asked.headers["Content-Language"] == "en"


def test_pages_name_their_feeds_in_each_language(site):
    _, dom = page(site, "/")
    feeds = {
        (link.get("hreflang"), link.get("type")): link.get("href")
        for link in dom.all("link", rel="alternate")
        if link.get("type", "").startswith("application/")
    }
    assert feeds[("fr", "application/atom+xml")] == "/feeds/articles.fr.atom"
    assert feeds[("ar", "application/rss+xml")] == "/feeds/articles.ar.rss"
    assert feeds[(None, "application/atom+xml")] == "/feeds/articles.atom"  # every language
    assert ("es", "application/atom+xml") not in feeds  # no article is in Spanish
    french = site.get(feeds[("fr", "application/atom+xml")])
    assert french.status_code == 200 and 'xml:lang="fr"' in french.text


def test_the_home_page_describes_the_dataset_in_the_readers_language(site):
    _, french = page(site, "/", "fr")
    assert french.one("p", class_="lead").words().startswith("Données de test")
    _, arabic = page(site, "/", "ar")  # none in Arabic: the first language's, marked so
    lead = arabic.one("p", class_="lead")
    assert lead.words().startswith("Test data") and lead.get("lang") == "en"
