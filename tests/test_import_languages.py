"""`lod import` keeps languages: every article whose source says its language gets
`inLanguage` as a BCP 47 tag, and the posts of a multilingual WordPress site (Polylang,
WPML) that translate each other become an original and its translations
(`translationOf`).

The sources are the real files of tests/fixtures/real/ (SOURCES.md), among them two
exports of a Polylang site from the plugin's own tests, and, for WPML, whose real exports
no reachable repository has, the hand-made tests/fixtures/import/wordpress-wpml-handmade.xml.
Small files written here test one rule each (a fallback, a refusal).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import yaml
from rdflib import Graph, Literal, Namespace

from lod import Settings, build
from lod.errors import ImportFailed
from lod.formats import Format
from lod.ingest import Options, import_sources, languages, wplang

SDO = Namespace("https://schema.org/")

HERE = Path(__file__).resolve().parent
REAL = HERE / "fixtures" / "real"
POLYLANG_2016 = REAL / "wordpress" / "polylang-wp-4.4.1-test-import.xml"
POLYLANG_2026 = REAL / "wordpress" / "polylang-wp-6.9.4-test-import.xml"
WPML = HERE / "fixtures" / "import" / "wordpress-wpml-handmade.xml"


def front(data: Path, ref: str) -> dict:
    """The front matter of a work written into data/ (`article/test`)."""
    kind, slug = ref.split("/")
    text = (data / f"{kind}s" / f"{slug}.md").read_text("utf-8")
    return yaml.safe_load(text.removeprefix("---\n").split("\n---\n", 1)[0])


def languages_of(data: Path, folder: str = "articles") -> dict[str, str | None]:
    return {
        path.stem: front(data, f"{folder[:-1]}/{path.stem}").get("inLanguage")
        for path in sorted((data / folder).glob("*.md"))
    }


def dataset(data: Path) -> dict:
    return yaml.safe_load((data / "dataset.yaml").read_text("utf-8"))


# -- tags as sources write them ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("en-US", "en-US"),  # stays
        ("en-us", "en-US"),  # RSS as Macworld writes it
        ("en_US", "en-US"),  # WordPress locales, og:locale
        ("EN", "en"),
        ("eng", "en"),  # ISO 639-2 where 639-1 has one
        ("iw", "he"),  # retired for he
        ("zh-hans", "zh-Hans"),  # WPML's codes
        ("pt-br", "pt-BR"),
        ("zh-Hant-TW", "zh-Hant-TW"),
        (" fr ", "fr"),
        ("English", ""),  # a name, not a tag (schema.org's own example writes it)
        ("sr_RS@latin", ""),  # a glibc locale
        ("x-klingon", ""),  # private use: the build's tag rule refuses it
        ("und", ""),  # undetermined
        ("zxx", ""),  # no linguistic content
        ("cz", ""),  # no language has that code
        ("", ""),
        (None, ""),
        (["en"], ""),  # not text
    ],
)
def test_a_language_as_written_is_a_bcp47_tag_or_nothing(raw, tag):
    assert languages.tag(raw) == tag


def test_the_first_source_that_names_a_language_is_taken():
    assert languages.first("English", None, "en_GB", "fr") == "en-GB"
    assert languages.first("und", "") == ""


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [("en", "en-GB", True), ("en-US", "en", True), ("en", "en", True), ("en", "eo", False)],
)
def test_tags_of_one_language(one, other, same):
    assert languages.same(one, other) is same


# -- feeds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "tag"),
    [
        ("rss-macworld.xml", "en-US"),  # <language>en-us</language>
        ("rss-golem-iso-8859-1.xml", "de"),  # <language>de</language>
        ("rss-aktuality-sk.xml", "sk"),  # the channel's <dc:language>
        ("atom-movabletype-touchnokia.xml", "ru"),  # entries' xml:lang
        ("atom-typepad-expertopinionent.xml", "en-US"),  # xml:lang on the feed
        ("jsonfeed-1.1-3960.json", "de-DE"),  # JSON Feed 1.1's `language`
    ],
)
def test_real_feeds_give_each_article_its_language(file, tag, tmp_path):
    import_sources([REAL / "feeds" / file], tmp_path / "data", skip_invalid=True)
    found = set(languages_of(tmp_path / "data").values())
    assert found == {tag}
    assert dataset(tmp_path / "data")["language"] == tag


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{feed}">
  <title>Réseau</title><id>urn:uuid:feed</id><updated>2025-01-02T00:00:00Z</updated>
  <link href="https://reseau.example.org/"/>
  <entry xml:lang="{entry}">
    <title>One</title><id>urn:uuid:1</id><link href="https://reseau.example.org/one"/>
    <published>2025-01-01T00:00:00Z</published><updated>2025-01-01T00:00:00Z</updated>
    <content type="html" {content}>&lt;p&gt;Text&lt;/p&gt;</content>
  </entry>
</feed>
"""


@pytest.mark.parametrize(
    ("feed", "entry", "content", "tag"),
    [
        ("fr", "es-MX", "", "es-MX"),  # the entry's own
        ("fr", "English", "", "fr"),  # junk on the entry: the feed's
        ("fr_CA", "", "", "fr-CA"),
        ("fr", "fr", 'xml:lang="ar"', "ar"),  # the body is in Arabic
        ("und", "", "", None),  # no language said: none written
    ],
)
def test_an_atom_entrys_language_falls_back_to_its_feeds(feed, entry, content, tag, tmp_path):
    source = tmp_path / "feed.xml"
    source.write_text(ATOM.format(feed=feed, entry=entry, content=content), "utf-8")
    import_sources([source], tmp_path / "data")
    assert languages_of(tmp_path / "data") == {"one": tag}


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Red</title><link>https://red.example.org/</link><description>d</description>
<language>es_ES</language>
<item><title>Uno</title><link>https://red.example.org/uno</link>
<pubDate>Wed, 01 Jan 2025 00:00:00 GMT</pubDate></item>
<item xml:lang="ca"><title>Dos</title><link>https://red.example.org/dos</link>
<pubDate>Wed, 01 Jan 2025 00:00:00 GMT</pubDate></item>
<item><title>Tres</title><link>https://red.example.org/tres</link><dc:language>eu</dc:language>
<pubDate>Wed, 01 Jan 2025 00:00:00 GMT</pubDate></item>
</channel></rss>
"""


def test_an_rss_item_may_say_its_own_language(tmp_path):
    source = tmp_path / "feed.xml"
    source.write_text(RSS, "utf-8")
    import_sources([source], tmp_path / "data")
    assert languages_of(tmp_path / "data") == {"uno": "es-ES", "dos": "ca", "tres": "eu"}
    assert dataset(tmp_path / "data")["languages"] == ["es-ES", "ca", "eu"]


# -- pages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "tag"),
    [
        ("aoc-media-jsonld-html-in-string.html", "fr-FR"),  # <html lang="fr-FR">
        ("avaz-jsonld-extra-brace.html", "bs-BA"),
        ("ltn-jsonld-raw-newline.html", "zh-Hant-TW"),
        ("tonight-yoast-graph.html", "de-DE"),  # Yoast's inLanguage
        ("kirche-und-leben-typo3-microdata.html", "de-DE"),
        ("lexpress-jsonld-two-objects.html", "fr"),
        ("strangemachines-jsonld-raw-newline.html", None),  # says none: none written
    ],
)
def test_real_pages_give_their_article_its_language(file, tag, tmp_path):
    import_sources([REAL / "pages" / file], tmp_path / "data", skip_invalid=True)
    assert set(languages_of(tmp_path / "data").values()) == {tag}


PAGE = """<!doctype html><html{html}><head><title>Un titre assez long</title>
{meta}
<script type="application/ld+json">{{"@context": "https://schema.org",
"@type": "NewsArticle", "headline": "Un titre assez long",
"datePublished": "2025-01-01", "url": "https://site.example.org/a"{language}}}</script>
</head><body><p>Texte.</p></body></html>
"""


@pytest.mark.parametrize(
    ("html", "meta", "language", "tag"),
    [
        ("", '<meta property="og:locale" content="fr_FR">', "", "fr-FR"),
        ("", '<meta http-equiv="Content-Language" content="fr-BE">', "", "fr-BE"),
        (' lang="fr"', "", ', "inLanguage": {"@type": "Language", "alternateName": "ca"}', "ca"),
        (' lang="fr"', "", ', "inLanguage": "Français"', "fr"),
        (' lang="fr"', '<meta property="og:locale" content="en_US">', "", "fr"),
        (' lang="xx-not a tag"', "", "", None),
    ],
)
def test_a_pages_language_comes_from_its_article_its_root_and_its_meta_tags(
    html, meta, language, tag, tmp_path
):
    source = tmp_path / "page.html"
    source.write_text(PAGE.format(html=html, meta=meta, language=language), "utf-8")
    import_sources([source], tmp_path / "data")
    assert list(languages_of(tmp_path / "data").values()) == [tag]


# -- CSV --------------------------------------------------------------------------------


def test_a_csv_language_cell_is_written_as_bcp47(tmp_path):
    source = tmp_path / "articles.csv"
    source.write_text(
        "headline,datePublished,inLanguage\nOne,2025-01-01,pt_BR\nTwo,2025-01-02,EN\n", "utf-8"
    )
    import_sources([source], tmp_path / "data")
    assert languages_of(tmp_path / "data") == {"one": "pt-BR", "two": "en"}


def test_a_csv_language_cell_that_is_no_tag_is_refused_naming_it(tmp_path):
    source = tmp_path / "articles.csv"
    source.write_text("headline,datePublished,inLanguage\nOne,2025-01-01,English\n", "utf-8")
    with pytest.raises(ImportFailed) as failed:
        import_sources([source], tmp_path / "data")
    message = str(failed.value)
    assert "inLanguage" in message and "not a language tag: `English`" in message
    assert not (tmp_path / "data").exists()


# -- WordPress: Polylang ----------------------------------------------------------------


@pytest.mark.parametrize("export", [POLYLANG_2016, POLYLANG_2026], ids=lambda p: p.name)
def test_polylang_translated_categories_become_one_topic_named_in_each_language(export, tmp_path):
    """Polylang's `term_translations` group the English category `test` and the French
    `essai`: one topic, named in both, that both posts are about."""
    data = tmp_path / "data"
    import_sources([export], data)
    topics = {p.stem: yaml.safe_load(p.read_text("utf-8")) for p in (data / "topics").iterdir()}
    assert "essai" not in topics
    assert topics["test"] == {"id": "test", "name@en": "Test", "name@fr": "Essai"}
    assert front(data, "article/test")["about"] == ["topic/test"]
    assert front(data, "article/essai")["about"] == ["topic/test"]


@pytest.mark.parametrize("export", [POLYLANG_2016, POLYLANG_2026], ids=lambda p: p.name)
def test_polylang_translation_groups_become_translations(export, tmp_path):
    data = tmp_path / "data"
    import_sources([export], data, options=Options(pages=True))
    assert front(data, "article/test")["inLanguage"] == "en"
    assert "translationOf" not in front(data, "article/test")
    assert front(data, "article/essai")["inLanguage"] == "fr"
    assert front(data, "article/essai")["translationOf"] == "article/test"
    assert front(data, "document/home")["inLanguage"] == "en"
    assert front(data, "document/accueil")["translationOf"] == "document/home"
    assert dataset(data)["languages"] == ["en", "fr"]  # the site is en-US: en first


def test_polylang_synchronized_posts_sharing_a_guid_are_both_kept(tmp_path):
    """Polylang Pro's synchronized posts: one per language, with one GUID."""
    data = tmp_path / "data"
    import_sources([POLYLANG_2026], data)
    french = front(data, "article/synchronized-post-2")
    assert french["inLanguage"] == "fr"
    assert french["translationOf"] == "article/synchronized-post"
    assert front(data, "article/synchronized-post")["inLanguage"] == "en"


def test_the_original_is_the_post_in_the_datasets_first_language(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "dataset.yaml").write_text(
        "title: Réseau\ndescription: d\nlicense: https://creativecommons.org/licenses/by/4.0/\n"
        "publisher: test-import\nlanguages: [fr, en]\nbase: https://lod.example.org/\n",
        "utf-8",
    )
    import_sources([POLYLANG_2016], data)
    assert front(data, "article/test")["translationOf"] == "article/essai"
    assert "translationOf" not in front(data, "article/essai")


def test_the_original_is_given_the_dataset_language_by_the_caller(tmp_path):
    data = tmp_path / "data"
    import_sources([POLYLANG_2016], data, options=Options(language="fr"))
    assert front(data, "article/test")["translationOf"] == "article/essai"


def _edited(export: Path, tmp_path: Path, *changes: tuple[str, str]) -> Path:
    """The export with some text replaced (each once at least): a real file with one
    thing changed."""
    text = export.read_text("utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    edited = tmp_path / export.name
    edited.write_text(text, "utf-8")
    return edited


def test_a_translation_sharing_its_originals_slug_gets_its_language_added(tmp_path):
    """Polylang Pro (and WPML) let translations share one slug: the records must not."""
    export = _edited(
        POLYLANG_2016,
        tmp_path,
        ("<wp:post_name><![CDATA[essai]]>", "<wp:post_name><![CDATA[test]]>"),
        ("/fr/2016/01/30/essai/", "/fr/2016/01/30/test/"),
    )
    data = tmp_path / "data"
    import_sources([export], data)
    assert sorted(p.stem for p in (data / "articles").glob("*.md")) == ["test", "test-fr"]
    assert front(data, "article/test-fr")["translationOf"] == "article/test"


def test_the_group_term_alone_links_posts_whose_items_do_not_name_it(tmp_path):
    """The `post_translations` term's serialized {language: post id} is read (with
    phpserialize): posts whose items lost their group category are still grouped."""
    export = _edited(
        POLYLANG_2016,
        tmp_path,
        (
            '<category domain="post_translations" nicename="pll_56acecea35bef">'
            "<![CDATA[pll_56acecea35bef]]></category>",
            "",
        ),
        ('<category domain="language" nicename="fr"><![CDATA[Français]]></category>', ""),
    )
    data = tmp_path / "data"
    import_sources([export], data)
    assert front(data, "article/essai")["translationOf"] == "article/test"
    assert front(data, "article/essai")["inLanguage"] == "fr"  # from the group's map


@pytest.mark.parametrize(
    "description",
    [
        'O:8:"stdClass":1:{s:2:"fr";i:400;}',  # an object: never instantiated
        'a:2:{s:2:"fr";i:400;s:2:"en";i:398',  # cut short
        "not serialized",
        "a:" + "a:1:{i:0;" * 5000,  # deeper than anything real
    ],
)
def test_a_damaged_group_term_is_ignored_and_the_items_still_group(description, tmp_path):
    export = _edited(
        POLYLANG_2016,
        tmp_path,
        (
            '<![CDATA[a:2:{s:2:"fr";i:400;s:2:"en";i:398;}]]>',
            f"<![CDATA[{description}]]>",
        ),
    )
    data = tmp_path / "data"
    import_sources([export], data)
    assert front(data, "article/essai")["translationOf"] == "article/test"


def test_a_post_whose_language_is_its_originals_is_no_translation(tmp_path):
    """Two posts of one group in one language (a damaged export): the build would refuse
    the link, so the second is a record of its own."""
    export = _edited(
        POLYLANG_2016,
        tmp_path,
        ('<category domain="language" nicename="fr"><![CDATA[Français]]></category>', ""),
        ('a:2:{s:2:"fr";i:400;s:2:"en";i:398;}', 'a:1:{s:2:"en";i:398;}'),
    )
    data = tmp_path / "data"
    import_sources([export], data)
    essai = front(data, "article/essai")
    assert "translationOf" not in essai
    assert essai["inLanguage"] == "en"  # the site's, in its posts' terms


def test_a_group_whose_post_in_the_first_language_is_a_draft_has_another_original(tmp_path):
    export = _edited(
        POLYLANG_2016,
        tmp_path,
        (
            "<wp:post_name><![CDATA[test]]></wp:post_name>\n"
            "\t\t<wp:status><![CDATA[publish]]></wp:status>",
            "<wp:post_name><![CDATA[test]]></wp:post_name>\n"
            "\t\t<wp:status><![CDATA[draft]]></wp:status>",
        ),
    )
    data = tmp_path / "data"
    import_sources([export], data)
    assert not (data / "articles" / "test.md").exists()
    assert "translationOf" not in front(data, "article/essai")


@pytest.mark.parametrize(
    ("slug", "description", "tag"),
    [
        ("en", 'a:3:{s:6:"locale";s:5:"en_GB";s:3:"rtl";i:0;s:9:"flag_code";s:2:"gb";}', "en"),
        ("cz", 'a:1:{s:6:"locale";s:5:"cs_CZ";}', "cs-CZ"),  # `cz` is no language
        ("br", 'a:1:{s:6:"locale";s:5:"pt_BR";}', "pt-BR"),  # `br` is Breton
        ("pt-br", 'a:1:{s:6:"locale";s:5:"pt_BR";}', "pt-BR"),
        ("fr", "", "fr"),
        ("fr", 'O:8:"stdClass":0:{}', "fr"),
    ],
)
def test_a_polylang_language_is_its_code_unless_its_locale_says_otherwise(slug, description, tag):
    assert wplang.language_tag(slug, description) == tag


def test_a_polylang_group_keeps_only_language_keys_and_post_ids():
    description = 'a:4:{s:2:"en";s:1:"1";s:2:"fr";i:3;s:4:"sync";a:0:{}s:2:"de";i:-2;}'
    assert wplang.group_map(description) == {"en": 1, "fr": 3}


# -- WordPress: WPML --------------------------------------------------------------------


def test_wpml_export_and_import_fields_become_translations(tmp_path):
    data = tmp_path / "data"
    import_sources([WPML], data)
    original = front(data, "article/annual-report-2024")
    assert original["inLanguage"] == "en" and "translationOf" not in original
    for slug, tag in [
        ("rapport-annuel-2024", "fr"),
        ("annual-report-2024-pt-br", "pt-BR"),  # pt-br, with its original's slug
        ("2024-report", "zh-Hans"),
    ]:
        assert front(data, f"article/{slug}") == {
            **front(data, f"article/{slug}"),
            "inLanguage": tag,
            "translationOf": "article/annual-report-2024",
        }
    assert not list((data / "articles").glob("*ar*.md"))  # the Arabic draft


def test_wpml_names_the_original_when_no_post_is_in_the_first_language(tmp_path):
    """Spanish is WPML's source of that group, though the French post has a lower id."""
    data = tmp_path / "data"
    import_sources([WPML], data)
    assert front(data, "article/nouveau-bassin")["translationOf"] == "article/nueva-cuenca"
    assert "translationOf" not in front(data, "article/nueva-cuenca")


def test_a_post_without_language_fields_is_in_the_sites_language_as_its_posts_write_it(
    tmp_path,
):
    data = tmp_path / "data"
    import_sources([WPML], data)
    assert front(data, "article/site-language-only")["inLanguage"] == "en"  # site: en-US
    assert dataset(data)["languages"] == ["en", "fr", "pt-BR", "zh-Hans", "es"]


# -- the writer: translations and the slugs they name -----------------------------------


def test_an_original_moved_by_a_slug_collision_is_named_as_written(tmp_path):
    """A record of data/ (another page) holds the original's slug: the original gets a
    suffix, and its translation, written before it, names it as written."""
    data = tmp_path / "data"
    (data / "articles").mkdir(parents=True)
    (data / "articles" / "essai.md").write_text(
        "---\nid: essai\nheadline: Un autre essai\ndatePublished: 2020-01-01\n"
        "url: https://elsewhere.example.org/essai\n---\n",
        "utf-8",
    )
    import_sources([POLYLANG_2016], data, options=Options(language="fr"))
    moved = [p.stem for p in (data / "articles").glob("essai-*.md")]
    assert len(moved) == 1
    assert front(data, "article/test")["translationOf"] == f"article/{moved[0]}"


def test_a_dry_run_lists_translations_and_writes_nothing(tmp_path):
    report = import_sources([POLYLANG_2016], tmp_path / "data", dry_run=True)
    assert "article/essai" in report.tally.created
    assert not (tmp_path / "data").exists()


# -- what the build makes of it ---------------------------------------------------------


def test_the_translations_imported_build_and_are_linked_both_ways(tmp_path):
    """A Polylang site (with its pages) and a WPML one, imported into one dataset, build;
    rdflib reads the dump's links."""
    data = tmp_path / "data"
    import_sources([POLYLANG_2016, WPML], data, options=Options(pages=True))
    made = build(Settings(data=data, out=tmp_path / "dist"))
    graph = Graph()
    with gzip.open(made.dump(Format.NTRIPLES), "rb") as dump:
        graph.parse(dump, format="nt")
    iri = Namespace(made.base + "id/")
    links = {
        (str(translation).removeprefix(str(iri)), str(original).removeprefix(str(iri)))
        for translation, original in graph.subject_objects(SDO.translationOfWork)
    }
    assert links == {
        ("article/essai", "article/test"),
        ("document/accueil", "document/home"),
        ("article/rapport-annuel-2024", "article/annual-report-2024"),
        ("article/annual-report-2024-pt-br", "article/annual-report-2024"),
        ("article/2024-report", "article/annual-report-2024"),
        ("article/nouveau-bassin", "article/nueva-cuenca"),
    }
    for translation, original in links:
        assert (iri[original], SDO.workTranslation, iri[translation]) in graph
    assert graph.value(iri["article/annual-report-2024-pt-br"], SDO.inLanguage) == Literal("pt-BR")
