"""The reconciliation service in many languages, over a real server of the test dataset in
the six UN languages (tests/fixtures/languages): names and alternate names in every
language match; candidates, suggestions, previews and extended values come in the language
asked for (`lang=`, or Accept-Language), falling back in the dataset's order; answers say
their language. Every request and answer is validated against the published JSON Schemas,
as tests/test_reconcile.py does. And the build's reconcile.json and lists.json, which keep
every language."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from rdflib import Graph, Literal, URIRef

from lod import Settings, build
from lod.link.reconcile import NameIndex
from lod.make.listings import build_index
from lod.vocab import SDO

from .conftest import MULTILINGUAL, UN_NAMES, start_server, stop_server
from .test_reconcile import CSD, MIA_MGA, UN, V02, V10, conforms

EVENT = "event/csocd59"
HQ = "place/united-nations-headquarters"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(Settings(data=MULTILINGUAL, out=tmp_path_factory.mktemp("languages")))


@pytest.fixture(scope="module")
def server(built):
    live = start_server(built.path.parent.parent, workers=1, LOD_DATA=MULTILINGUAL)
    yield live
    stop_server(live)


def reconcile(server, query: dict, params=None, headers=None, data=None):
    """One 0.2 query POSTed as a form: (its candidates, the response)."""
    conforms(V02, "reconciliation-query-batch", {"q0": query})
    form = {"queries": json.dumps({"q0": query}), **(data or {})}
    response = server.request("POST", "/reconcile", data=form, params=params, headers=headers)
    assert response.status_code == 200, response.text
    conforms(V02, "reconciliation-result-batch", response.json())
    return response.json()["q0"]["result"], response


def match(server, names: list[str], headers=None, params=None):
    """A 1.0-draft batch of one name a query: (each query's candidates, the response)."""
    batch = {
        "queries": [{"conditions": [{"matchType": "name", "propertyValue": n}]} for n in names]
    }
    conforms(V10, "reconciliation-query-batch", batch)
    response = server.request(
        "POST", "/reconcile/match", json=batch, headers=headers, params=params
    )
    assert response.status_code == 200, response.text
    conforms(V10, "reconciliation-result-batch", response.json())
    return [r["candidates"] for r in response.json()["results"]], response


def said_in(response, language: str) -> None:
    assert response.headers["Content-Language"] == language
    assert "Accept-Language" in response.headers["Vary"]


# matching in every language


@pytest.mark.parametrize(
    "query", [*UN_NAMES.values(), "UN", "ONU", "ООН", "  organisation DES nations-unies "]
)
def test_names_and_alternate_names_in_every_language_match(server, query):
    found, _ = reconcile(server, {"query": query})
    assert found[0]["id"] == UN and found[0]["match"] is True
    assert [c["id"] for c in match(server, [query])[0][0] if c["match"]] == [UN]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("联合国秘书处", UN), ("发展委员会", CSD), ("联合", UN), ("Nations Unies", UN)],
)
def test_part_of_a_name_is_a_candidate_in_any_script(server, query, expected):
    """Chinese is written without spaces: pairs of characters find part of a name."""
    found, _ = reconcile(server, {"query": query})
    assert found[0]["id"] == expected and found[0]["match"] is False


# answering in the language asked for


@pytest.mark.parametrize(
    ("how", "language"),
    [
        ({"params": {"lang": "fr"}}, "fr"),  # a service URL /reconcile?lang=fr
        ({"data": {"lang": "zh"}}, "zh"),  # a form field beside `queries`
        ({"headers": {"Accept-Language": "ru-RU, ru;q=0.9, en;q=0.5"}}, "ru"),
        ({"headers": {"Accept-Language": "de, ar;q=0.5"}}, "ar"),
        ({"params": {"lang": "FR"}}, "fr"),
        ({"params": {"lang": "es"}, "headers": {"Accept-Language": "fr"}}, "es"),
        ({}, "en"),
    ],
)
def test_candidates_are_named_in_the_language_asked(server, how, language):
    found, response = reconcile(server, {"query": "United Nations"}, **how)
    assert found[0]["name"] == UN_NAMES[language]
    said_in(response, language)


@pytest.mark.parametrize(
    ("asked", "names"),
    [
        ("fr", {UN: ("fr", "Organisation des Nations Unies"), MIA_MGA: ("en", None)}),
        ("es", {EVENT: ("en", "59th session of the Commission for Social Development")}),
        ("ar", {UN: ("ar", "الأمم المتحدة"), HQ: ("ar", "مقر الأمم المتحدة")}),
    ],
)
def test_1_0_candidates_say_their_language_and_fall_back_in_order(server, asked, names):
    """MIA-MGA has an English name only, the event no Spanish one: the dataset's order
    (en, fr, es, ar, ru, zh) gives the English one, and the candidate says so."""
    ids = list(names)  # an entity id is a query that finds it
    results, response = match(server, ids, headers={"Accept-Language": asked})
    said_in(response, asked)
    for entity, candidates in zip(ids, results, strict=True):
        top = candidates[0]
        lang, name = names[entity]
        assert top["id"] == entity and top["lang"] == lang
        assert top["dir"] == ("rtl" if lang == "ar" else "ltr")
        if name:
            assert top["name"] == name


@pytest.mark.parametrize(
    ("asked", "description"),
    [
        ("en", "The advisory body at the UN"),
        ("fr", "L'organe consultatif de l'ONU"),
        ("es", None),  # named in Spanish, described in English and French only: none
        ("de", "The advisory body at the UN"),  # not a dataset language: the first
    ],
)
def test_a_candidate_is_described_in_the_language_it_is_named_in(server, asked, description):
    found, response = reconcile(
        server, {"query": "Commission du développement social"}, {"lang": asked}
    )
    top = found[0]
    assert top["id"] == CSD and top["match"] is True
    if description is None:
        assert "description" not in top
    else:
        assert top["description"].startswith(description)
    said_in(response, "en" if asked == "de" else asked)


@pytest.mark.parametrize("lang", ["", "de", "x" * 300, "<script>", "fr;q=1", "../../etc", "\u0000"])
def test_a_language_not_offered_answers_in_the_readers_or_the_first(server, lang):
    found, response = reconcile(server, {"query": "联合国"}, {"lang": lang})
    assert found[0]["name"] == "United Nations"
    said_in(response, "en")
    _, negotiated = reconcile(
        server, {"query": "联合国"}, {"lang": lang}, {"Accept-Language": "zh-CN, zh"}
    )
    said_in(negotiated, "zh")


@pytest.mark.parametrize("header", ["!!!", "fr;q=oops", "*", ";;;,,,", "ar;q=0", "é"])
def test_a_bad_accept_language_answers_in_the_first(server, header):
    found, response = reconcile(server, {"query": "ONU"}, headers={"Accept-Language": header})
    assert found[0]["name"] in UN_NAMES.values()
    assert response.headers["Content-Language"] in UN_NAMES


# the manifest, suggest, preview


def test_the_manifest_names_the_default_language_and_keeps_the_one_asked(server):
    plain = server.get("/reconcile")
    manifest = plain.json()
    conforms(V02, "manifest", manifest)
    assert (manifest["lang"], manifest["dir"]) == ("en", "ltr")
    assert "Content-Language" not in plain.headers  # nothing in it was chosen by language
    french = server.get("/reconcile", params={"lang": "fr"}).json()
    conforms(V02, "manifest", french)
    assert french["lang"] == "en"  # the default language of the service's texts
    for what, service in french["suggest"].items():
        url = service["service_url"] + service["service_path"]
        assert url == f"{server.url}/reconcile/suggest/{what}?lang=fr"
        # clients add their own parameters (jQuery with &, as OpenRefine's suggest does)
        answer = server.get(url.removeprefix(server.url) + "&prefix=nat")
        assert answer.status_code == 200
    assert french["preview"]["url"] == f"{server.url}/reconcile/preview?id={{{{id}}}}&lang=fr"
    assert server.get("/reconcile", params={"lang": "de"}).json() == manifest


@pytest.mark.parametrize(
    ("prefix", "asked", "expected"),
    [
        ("nac", "es", [("Naciones Unidas", "es"), ("Sede de las Naciones Unidas", "es")]),
        ("联合", "zh", [("联合国", "zh"), ("联合国总部", "zh")]),
        ("united nations h", "ru", [("Штаб-квартира Организации Объединённых Наций", "ru")]),
        ("mia", "ar", [("Mercy International Association - Global Action", "en")]),
        (
            "org",
            "fr",
            [
                ("Organisation des Nations Unies", "fr"),
                ("Siège de l'Organisation des Nations Unies", "fr"),
            ],
        ),
    ],
)
def test_suggest_matches_any_language_and_answers_in_the_one_asked(server, prefix, asked, expected):
    response = server.get(
        "/reconcile/suggest/entity",
        params={"prefix": prefix},
        headers={"Accept-Language": asked},
    )
    assert response.status_code == 200
    answer = response.json()
    conforms(V02, "suggest-entities-response", answer)
    conforms(V10, "suggest-entities-response", answer)
    assert [(s["name"], s["lang"]) for s in answer["result"]] == expected
    said_in(response, asked)


def test_the_etag_follows_the_language(server):
    """A cache between keys the answer on Accept-Language (Vary), and the ETag differs, so
    a revalidation never gets the other language's answer confirmed."""
    path = "/reconcile/suggest/entity?prefix=nations"
    french = server.get(path, headers={"Accept-Language": "fr"})
    spanish = server.get(path, headers={"Accept-Language": "es"})
    assert french.headers["ETag"] != spanish.headers["ETag"]
    again = server.get(
        path, headers={"Accept-Language": "es", "If-None-Match": french.headers["ETag"]}
    )
    assert again.status_code == 200 and again.json() == spanish.json()
    same = server.get(
        path, headers={"Accept-Language": "fr", "If-None-Match": french.headers["ETag"]}
    )
    assert same.status_code == 304


def test_jsonp_in_a_language(server):
    response = server.get(
        "/reconcile/suggest/entity", params={"prefix": "un", "callback": "cb", "lang": "ar"}
    )
    answer = json.loads(response.text.removeprefix("/**/cb(").removesuffix(");"))
    assert answer["result"][0]["name"] == "الأمم المتحدة"
    said_in(response, "ar")


def test_preview_in_arabic_is_right_to_left(server):
    response = server.get("/reconcile/preview", params={"id": CSD, "lang": "ar"})
    assert response.status_code == 200
    said_in(response, "ar")
    html = response.text
    assert '<html lang="ar" dir="rtl">' in html
    assert '<h1 lang="ar" dir="rtl">' in html and "لجنة التنمية الاجتماعية" in html
    assert "L'organe" not in html and "advisory body" not in html  # not in Arabic: none


def test_preview_of_a_fallback_name_says_its_language(server):
    html = server.get("/reconcile/preview", params={"id": MIA_MGA, "lang": "ar"}).text
    assert '<html lang="ar" dir="rtl">' in html
    assert '<h1 lang="en" dir="ltr">' in html and "Mercy International" in html


# data extension


EXTEND = {
    "ids": [UN, CSD, EVENT],
    "properties": [
        {"id": "name"},
        {"id": "alternateName"},
        {"id": "parentOrganization"},
        {"id": "description"},
        {"id": "location"},
    ],
}


def extended_1_0(server, asked: str) -> dict:
    conforms(V10, "data-extension-query", EXTEND)
    response = server.request(
        "POST", "/reconcile/extend", json=EXTEND, headers={"Accept-Language": asked}
    )
    assert response.status_code == 200, response.text
    conforms(V10, "data-extension-response", response.json())
    said_in(response, asked)
    return {
        row["id"]: {p["id"]: p["values"] for p in row["properties"]}
        for row in response.json()["rows"]
    }


def test_extended_texts_in_the_language_asked_with_their_language(server):
    rows = extended_1_0(server, "ru")
    assert rows[UN]["name"] == [{"str": UN_NAMES["ru"], "lang": "ru", "dir": "ltr"}]
    assert rows[UN]["alternateName"] == [{"str": "ООН", "lang": "ru", "dir": "ltr"}]
    assert rows[CSD]["parentOrganization"] == [
        {"id": UN, "name": UN_NAMES["ru"], "lang": "ru", "dir": "ltr"}
    ]
    # described in English and French only: the first of them in the dataset's order
    assert rows[CSD]["description"][0]["lang"] == "en"
    assert rows[EVENT]["location"][0]["name"] == "Штаб-квартира Организации Объединённых Наций"


def test_extended_texts_fall_back_in_order(server):
    rows = extended_1_0(server, "zh")
    assert rows[UN]["alternateName"] == [{"str": "UN", "lang": "en", "dir": "ltr"}]
    assert rows[EVENT]["name"] == [
        {"str": "59th session of the Commission for Social Development", "lang": "en", "dir": "ltr"}
    ]
    arabic = extended_1_0(server, "ar")
    assert arabic[UN]["name"] == [{"str": UN_NAMES["ar"], "lang": "ar", "dir": "rtl"}]


def test_extension_0_2_in_a_language_has_no_fields_0_2_lacks(server):
    conforms(V02, "data-extension-query", EXTEND)
    response = server.request(
        "POST", "/reconcile", params={"lang": "fr"}, data={"extend": json.dumps(EXTEND)}
    )
    answer = response.json()
    conforms(V02, "data-extension-response", answer)
    said_in(response, "fr")
    assert answer["rows"][UN]["alternateName"] == [{"str": "ONU"}]
    assert answer["rows"][CSD]["parentOrganization"] == [{"id": UN, "name": UN_NAMES["fr"]}]


# the index


def test_the_index_keeps_every_language(built):
    index = json.loads((built.path / "reconcile.json").read_text("utf-8"))
    assert index["languages"] == ["en", "fr", "es", "ar", "ru", "zh"]
    entries = {e["id"]: e for e in index["entries"]}
    assert entries[UN]["labels"] == UN_NAMES
    # the first language's, whatever the sort order
    assert entries[UN]["name"] == "United Nations" and "lang" not in entries[UN]  # the first
    assert entries[CSD]["descriptions"].keys() == {"en", "fr"}
    assert entries[CSD]["description"].startswith("The advisory body")
    # written in one language: not repeated, as every app process holds the index
    assert "labels" not in entries[MIA_MGA] and "descriptions" not in entries[MIA_MGA]
    event = entries["event/csocd59"]
    assert "lang" not in event and event["labels"].keys() == {"en", "fr"}


def test_lists_keep_every_language(built):
    """lists.json, which pages and feeds read, too."""
    lists = json.loads((built.path / "lists.json").read_text("utf-8"))
    un = next(e for e in lists["organisation"] if e["iri"].endswith("/united-nations"))
    assert un["label"] == "United Nations"  # the first language's, whatever the sort order
    assert un["labels"]["zh"] == "联合国" and len(un["labels"]) == 6 and "lang" not in un
    mia_mga = next(e for e in lists["organisation"] if e["iri"].endswith("/mia-mga"))
    assert "labels" not in mia_mga  # one language: not repeated
    # the language of a work, and of a label, when it is not the first (en)
    assert {e["iri"].rsplit("/", 1)[1]: e.get("language") for e in lists["article"]} == {
        "commission-examines-digital-technologies": None,
        "commission-examine-technologies-numeriques": "fr",
        "lajna-tabhath-dawr-altiknulujiyat": "ar",
    }
    assert {e["label"]: e.get("lang") for e in lists["article"]}[
        "لجنة التنمية الاجتماعية تبحث دور التكنولوجيات الرقمية"
    ] == "ar"
    assert all("language" not in e for e in lists["topic"])


def index_of(languages: tuple[str, ...], names: list[Literal]) -> NameIndex:
    base = "https://example.org/"
    graph, subject = Graph(), URIRef(f"{base}id/organisation/x")
    for name in names:
        graph.add((subject, SDO.name, name))
    conversion = SimpleNamespace(
        dataset=SimpleNamespace(base=base, languages=languages),
        records={subject: SimpleNamespace(kind="organisation")},
    )
    return NameIndex(json.loads(json.dumps(build_index(graph, conversion))))


def test_the_default_name_is_the_first_dataset_languages():
    names = [Literal("Zed", lang="en"), Literal("Aleph", lang="fr"), Literal("Bet", lang="ar")]
    assert index_of(("fr", "en"), names).match("zed")[0].name == "Aleph"
    assert index_of(("en", "fr"), names).match("aleph")[0].name == "Zed"
    # none in the dataset's languages: one with no language, else by tag (never by chance)
    assert index_of(("es",), names).match("bet")[0].name == "Bet"
    untagged = index_of(("es",), [Literal("Plain"), Literal("Bet", lang="ar")])
    assert untagged.match("bet")[0].name == "Plain"
    assert untagged.match("bet")[0].lang is None
    assert untagged.match("bet", language="ar")[0].lang == "ar"


def test_a_1_0_querys_own_lang_is_the_language_of_its_text_not_of_the_answer(server):
    batch = {
        "queries": [{"conditions": [{"matchType": "name", "propertyValue": "ONU"}], "lang": "fr"}]
    }
    conforms(V10, "reconciliation-query-batch", batch)
    response = server.request(
        "POST", "/reconcile/match", json=batch, headers={"Accept-Language": "zh"}
    )
    conforms(V10, "reconciliation-result-batch", response.json())
    top = response.json()["results"][0]["candidates"][0]
    assert (top["id"], top["name"], top["lang"]) == (UN, "联合国", "zh")
    said_in(response, "zh")
