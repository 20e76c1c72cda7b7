"""`lod import`: feeds, WordPress exports, web pages and CSV into data/ files that build.

Fixtures (tests/fixtures/import/) are written from the formats' specifications and from
what real exports contain: CDATA, entities, nested and percent-encoded categories,
non-Latin slugs, drafts and scheduled posts, shortcodes, Gutenberg block comments, several
authors, enclosures and Media RSS, relative links, feeds in several languages.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lod import Settings, build
from lod.cli import cli
from lod.ingest import Options, import_sources
from lod.ingest import slugs as slug_rules

from .conftest import DATA

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"
FEEDS = ["wordpress.xml", "rss2-fr.xml", "atom-de.xml", "rss1.rdf", "feed-es.json", "pages"]


def tree(folder: Path) -> dict[str, str]:
    """Every file under folder (hidden ones too) with its content's hash."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def built(data: Path, tmp_path: Path):
    """Build data/ (raises BuildFailed when the graph does not pass the shapes)."""
    return build(Settings(data=data, out=tmp_path / "dist"))


@pytest.mark.parametrize("source", FEEDS)
def test_each_source_imports_into_an_empty_folder_and_builds(source, tmp_path):
    data = tmp_path / "data"
    report = import_sources([FIXTURES / source], data)
    assert report.tally.created and not report.tally.invalid
    assert (data / "dataset.yaml").exists()
    result = built(data, tmp_path)
    assert result.manifest["counts"]["article"] >= 1


def test_every_source_imports_into_the_default_dataset_and_builds(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    before = (data / "dataset.yaml").read_bytes()
    import_sources([FIXTURES / s for s in FEEDS], data, options=Options(pages=True))
    import_sources([FIXTURES / "articles.csv"], data, options=Options(publisher="mia-mga"))
    assert (data / "dataset.yaml").read_bytes() == before  # never overwritten
    # the page's United Nations is the dataset's own, not a second record
    assert not (data / "organisations" / "united-nations.yaml").exists()
    result = built(data, tmp_path)
    assert result.manifest["counts"]["article"] == 1 + 3 + 2 + 2 + 1 + 2 + 3 + 2


def test_wordpress_posts_become_articles_and_the_rest_is_skipped(tmp_path):
    data = tmp_path / "data"
    report = import_sources([FIXTURES / "wordpress.xml"], data)
    reasons = sorted(s.reason for s in report.tally.skipped)
    assert reasons == sorted(
        [
            "draft",
            "scheduled",
            "private",
            "password-protected",
            "trashed",
            "attachment",
            "nav menu item",
            "revision",
            "page (import pages with --pages)",
        ]
    )
    articles = sorted(p.name for p in (data / "articles").iterdir())
    # permalink slugs: percent-encoded accents folded, Cyrillic transliterated
    assert articles == ["economie-solidaire-eau.md", "mangrove-restoration-dakar.md", "zasukha.md"]
    everything = "".join(p.read_text("utf-8") for p in data.rglob("*") if p.is_file())
    for never in ("Not ready", "Secret", "Private.", "Binned", "hunter2", "@coastal-water"):
        assert never not in everything
    assert not (data / "documents").exists()


def test_wordpress_bodies_are_clean_markdown(tmp_path):
    data = tmp_path / "data"
    import_sources([FIXTURES / "wordpress.xml"], data)
    text = (data / "articles" / "mangrove-restoration-dakar.md").read_text("utf-8")
    front, body = text.split("\n---\n", 1)
    assert 'headline: "Mangrove restoration: a “living wall” for Dakar’s coast"' in front
    assert "datePublished: 2024-02-20T09:30:00Z" in front
    assert "dateModified: 2024-02-22T14:00:00Z" in front
    assert "  - person/amina-diallo\n  - person/jose-nunez\n" in front
    assert "  - topic/press-releases\n  - topic/news\n  - topic/mangroves\n" in front
    assert "url: https://coastal-water.example.org/2024/02/mangrove-restoration-dakar/" in front
    assert "12 000 mangroves along the Saloum delta & the Dakar coast" in body  # entities
    assert "[partners](https://coastal-water.example.org/partners/)" in body  # relative link
    assert (
        "![Volunteers in the mangroves](https://coastal-water.example.org/wp-content/uploads/"
        "2024/02/mangroves.jpg)\n\n*Volunteers in the Saloum delta*" in body
    )  # [caption]
    assert "## What was planted" in body
    assert "| Saloum | 9 000 |" in body
    assert "> “The mangroves are our sea wall.”" in body
    assert "- Saloum delta\n- Hann bay" in body
    assert "Click here to donate." in body  # javascript: and data: links lose their target
    for gone in ("wp:", "<!--", "script", "tracker", "pixel", "[gallery", "[caption", "javascript"):
        assert gone not in body, gone
    classic = (data / "articles" / "economie-solidaire-eau.md").read_text("utf-8")
    assert "datePublished: 2024-01-15T10:00:00+02:00" in classic  # post_date with its offset
    assert "the first paragraph, with *emphasis*" in classic
    assert "\n\nThe second paragraph names the **Coastal Water Alliance** & its work" in classic
    assert "<https://video.example.org/watch?v=abc123>" in classic  # [embed]
    cyrillic = (data / "articles" / "zasukha.md").read_text("utf-8")
    assert "(https://coastal-water.example.org/2024/02/mangrove-restoration-dakar/)" in cyrillic


def test_wordpress_terms_authors_site_and_pages(tmp_path):
    data = tmp_path / "data"
    import_sources([FIXTURES / "wordpress.xml"], data, options=Options(pages=True))
    topic = (data / "topics" / "novosti.yaml").read_text("utf-8")
    assert topic == "id: novosti\nname: Новости\nbroader: news\n"
    assert "broader: news" in (data / "topics" / "press-releases.yaml").read_text("utf-8")
    assert "name: Water & sanitation rights" in (data / "topics" / "water-rights.yaml").read_text(
        "utf-8"
    )
    assert (data / "people" / "jose-nunez.yaml").read_text("utf-8") == (
        "id: jose-nunez\nname: José Núñez\n"
    )
    org = (data / "organisations" / "coastal-water-alliance.yaml").read_text("utf-8")
    assert "url: https://coastal-water.example.org" in org
    page = (data / "documents" / "about.md").read_text("utf-8")
    assert "name: About us" in page and "datePublished: 2022-05-01T08:00:00+02:00" in page
    assert "publisher: coastal-water-alliance" in (data / "dataset.yaml").read_text("utf-8")


def test_feeds_in_several_languages(tmp_path):
    data = tmp_path / "data"
    import_sources([FIXTURES / f for f in ("rss2-fr.xml", "atom-de.xml", "feed-es.json")], data)
    french = (data / "articles" / "secheresse-onu-appel.md").read_text("utf-8")
    assert 'headline: "Sécheresse : l’ONU appelle à agir"' in french
    assert "datePublished: 2024-03-06T17:30:00+01:00" in french
    assert "inLanguage: fr-FR" in french
    assert (
        "image: https://eau-solidaire.example.fr/wp-content/uploads/secheresse-1200.jpg" in french
    )
    assert "[Notre dossier](https://eau-solidaire.example.fr/dossiers/secheresse)" in french
    podcast = (data / "articles" / "eau-en-partage.md").read_text("utf-8")
    assert "image: https://eau-solidaire.example.fr/img/podcast.png" in podcast  # enclosure
    assert "  - person/marc-lefevre" in podcast  # the e-mail address never published
    assert "redaction@" not in podcast
    assert "datePublished: 2024-03-04T09:00:00Z" in podcast
    german = (data / "articles" / "ueberschwemmungen-nordsee.md").read_text("utf-8")
    assert "headline: Überschwemmungen an der Nordsee & was jetzt hilft" in german
    assert "inLanguage: de" in german
    assert "1. Deiche prüfen" in german and "[Zur Karte](https://kuestenbuendnis" in german
    assert "  - person/jurgen-gross\n  - person/ana-simic\n" in german
    english = (data / "articles" / "floods.md").read_text("utf-8")
    assert "inLanguage: en" in english and "datePublished: 2024-03-06T08:00:00Z" in english
    assert "Levels are rising & dikes are checked." in english
    spanish = (data / "articles" / "pesca-artesanal.md").read_text("utf-8")
    assert "inLanguage: es" in spanish and "  - person/maria-jose-pena" in spanish
    assert (data / "topics" / "hochwasser.yaml").read_text("utf-8") == (
        "id: hochwasser\nname: Hochwasser\n"
    )


def test_pages_with_json_ld_microdata_and_rdfa(tmp_path):
    data = tmp_path / "data"
    import_sources([FIXTURES / "pages"], data)
    yoast = (data / "articles" / "ocean-conference-youth-voices.md").read_text("utf-8")
    assert "publisher: blue-futures" in yoast
    assert "  - person/kofi-mensah" in yoast and "  - event/un-ocean-conference-2022" in yoast
    assert "image: https://bluefutures.example.org/wp-content/uploads/youth.jpg" in yoast
    assert "# Ocean Conference" not in yoast  # the page's own title is not body
    assert "_paq" not in yoast
    assert "type: NGO" in (data / "organisations" / "blue-futures.yaml").read_text("utf-8")
    assert "worksFor: blue-futures" in (data / "people" / "kofi-mensah.yaml").read_text("utf-8")
    event = (data / "events" / "un-ocean-conference-2022.yaml").read_text("utf-8")
    assert "location: altice-arena" in event and "attendanceMode: mixed" in event
    place = (data / "places" / "altice-arena.yaml").read_text("utf-8")
    assert "address: Lisbon, PT" in place and "latitude: 38.7686" in place
    micro = (data / "articles" / "mutirao-de-limpeza.md").read_text("utf-8")
    assert "publisher: mares-limpos" in micro and "  - person/luiza-carvalho" in micro
    assert "O mutirão recolheu **2 toneladas** de lixo na praia." in micro  # markup kept
    rdfa = (data / "articles" / "reef-survey-2024.md").read_text("utf-8")
    assert "publisher: reefnet" in rdfa and "datePublished: 2024-04-02" in rdfa


def test_csv_of_articles_with_a_body_column(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    import_sources([FIXTURES / "articles.csv"], data, options=Options(publisher="mia-mga"))
    first = (data / "articles" / "csv-harbour-cleanup.md").read_text("utf-8")
    assert "  - cleanup\n  - volunteers\n" in first
    assert first.endswith("---\nOver **200** people joined.\n")
    second = (data / "articles" / "second.md").read_text("utf-8")
    assert second.endswith("Plain **Markdown** body.\n\nWith two paragraphs.\n")
    built(data, tmp_path)


def test_a_csv_in_data_builds_with_its_body_column(tmp_path):
    from lod.make import sources

    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    (data / "articles" / "sheet.csv").write_text(
        "id,headline,datePublished,publisher,body\n"
        'from-sheet,From a sheet,2024-01-01,mia-mga,"Its **body**\n\nin two paragraphs."\n',
        "utf-8",
    )
    record = next(r for r in sources.load(data).records if r.id == "from-sheet")
    assert record.body == "Its **body**\n\nin two paragraphs."
    assert "body" not in record.values
    result = built(data, tmp_path)
    assert result.manifest["counts"]["article"] == 2


def test_importing_twice_changes_nothing(tmp_path):
    data = tmp_path / "data"
    import_sources([FIXTURES / s for s in FEEDS], data)
    before = tree(data)
    report = import_sources([FIXTURES / s for s in FEEDS], data)
    assert not report.tally.created and not report.tally.changed and not report.tally.kept
    assert len(report.tally.unchanged) > 10
    assert tree(data) == before


def test_update_reimports_in_place_and_keeps_what_was_added_by_hand(tmp_path):
    data = tmp_path / "data"
    feed = tmp_path / "feed.xml"
    feed.write_text((FIXTURES / "rss2-fr.xml").read_text("utf-8"), "utf-8")
    import_sources([feed], data)
    article = data / "articles" / "secheresse-onu-appel.md"
    edited = article.read_text("utf-8").replace(
        "url:",
        "# added by the editor\nmentions:\n  - organisation/eau-solidaire\n"
        "sameAs:\n  - http://www.wikidata.org/entity/Q1\nurl:",
        1,
    )
    edited = edited.replace(
        "  - topic/nations-unies\n", "  - topic/nations-unies\n  - topic/secheresse\n"
    )
    article.write_text(edited, "utf-8")
    # importing again changes nothing: the edit is the publisher's
    report = import_sources([feed], data)
    assert article.read_text("utf-8") == edited and not report.tally.kept
    # the source changes: without --update the file is kept, with it re-imported in place
    feed.write_text(feed.read_text("utf-8").replace("appelle à agir</title>", "alerte</title>"))
    report = import_sources([feed], data)
    assert report.tally.kept == ["article/secheresse-onu-appel"]
    assert article.read_text("utf-8") == edited
    dry = import_sources([feed], data, update=True, dry_run=True)
    assert dry.tally.changed == ["article/secheresse-onu-appel"]
    assert article.read_text("utf-8") == edited
    report = import_sources([feed], data, update=True)
    assert report.tally.changed == ["article/secheresse-onu-appel"]
    updated = article.read_text("utf-8")
    assert 'headline: "Sécheresse : l’ONU alerte"\n' in updated
    assert (
        "# added by the editor\nmentions:\n  - organisation/eau-solidaire\n"
        "sameAs:\n  - http://www.wikidata.org/entity/Q1\n"
    ) in updated
    assert "about:\n  - topic/climat\n  - topic/nations-unies\n  - topic/secheresse\n" in updated
    assert updated.replace("l’ONU alerte", "l’ONU appelle à agir") == edited
    assert import_sources([feed], data, update=True).tally.unchanged


def test_dry_run_prints_and_writes_nothing(tmp_path):
    data = tmp_path / "data"
    result = CliRunner().invoke(
        cli, ["import", str(FIXTURES / "wordpress.xml"), "--data", str(data), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "would create article/mangrove-restoration-dakar -> " in result.output
    assert "item https://coastal-water.example.org/?p=120: skipped (draft)" in result.output
    assert "would create 12, change 0; 0 unchanged, 0 kept as edited, 9 skipped" in result.output
    assert not data.exists()


def test_colliding_slugs_are_resolved_deterministically(tmp_path):
    feed = tmp_path / "feed.xml"
    items = "".join(
        f"<item><title>Report {n}</title><link>https://ex.org/{n}/report/</link>"
        f"<pubDate>Mon, 0{n} Jan 2024 09:00:00 GMT</pubDate></item>"
        for n in (1, 2)
    )
    feed.write_text(
        f'<rss version="2.0"><channel><title>Ex</title><link>https://ex.org/</link>{items}'
        "</channel></rss>",
        "utf-8",
    )
    names = []
    for run in ("a", "b"):
        data = tmp_path / run
        import_sources([feed], data)
        names.append(sorted(p.name for p in (data / "articles").iterdir()))
    suffix = slug_rules.digest("https://ex.org/2/report/", 6)
    assert names[0] == names[1] == sorted(["report.md", f"report-{suffix}.md"])
    again = import_sources([feed], tmp_path / "a")  # the second keeps its suffixed slug
    assert not again.tally.created and len(again.tally.unchanged) == 3


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("%c3%a9conomie-solidaire", "economie-solidaire"),
        ("Москва новости", "moskva-novosti"),
        ("北京", "beijing"),
        ("Ελληνικά", "ellinika"),
        ("🙂", "slight-smile"),
        ("  --Hello,  World!-- ", "hello-world"),
        ("\ue000\u200b", ""),
    ],
)
def test_slug_rule(text, slug):
    assert slug_rules.slugify(text) == slug


def test_a_slug_that_folds_to_nothing_is_hashed():
    odd = "\ue000\ue001"  # private-use characters: nothing to transliterate
    assert slug_rules.slug_for(odd, fallback="article") == f"article-{slug_rules.digest(odd)}"


@pytest.mark.slow
def test_imported_wordpress_article_is_served_at_its_iri(tmp_path):
    """Import a WXR export, build, serve: the article answers at /id, in SPARQL and in the
    JSON-LD dump."""
    import gzip
    import json

    from .conftest import start_server, stop_server

    data = tmp_path / "data"
    result = CliRunner().invoke(
        cli, ["import", str(FIXTURES / "wordpress.xml"), "--data", str(data)]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "dist"
    build(Settings(data=data, out=out))
    iri = "https://lod.example.org/id/article/mangrove-restoration-dakar"
    server = start_server(out, LOD_DATA=data)
    try:
        found = server.get("/id/article/mangrove-restoration-dakar")
        assert found.status_code == 303
        assert found.headers["Location"].endswith("/doc/article/mangrove-restoration-dakar")
        document = server.get(
            "/doc/article/mangrove-restoration-dakar", headers={"Accept": "text/turtle"}
        )
        assert document.status_code == 200 and "Saloum" in document.text
        query = (
            "PREFIX schema: <https://schema.org/> SELECT ?headline ?author ?topic WHERE { "
            f"<{iri}> schema:headline ?headline ; schema:author ?a ; schema:about ?t . "
            "?a schema:name ?author . ?t schema:name ?topic } ORDER BY ?author ?topic"
        )
        answer = server.get(
            "/sparql",
            params={"query": query},
            headers={"Accept": "application/sparql-results+json"},
        )
        assert answer.status_code == 200
        rows = [{k: v["value"] for k, v in b.items()} for b in answer.json()["results"]["bindings"]]
        assert {r["headline"] for r in rows} == {
            "Mangrove restoration: a “living wall” for Dakar’s coast"
        }
        assert {r["author"] for r in rows} == {"Amina Diallo", "José Núñez"}
        assert {r["topic"] for r in rows} == {"Mangroves", "News", "Press releases"}
        dump = server.get("/dumps/dataset.jsonld.gz")
        assert dump.status_code == 200
        graph = json.loads(gzip.decompress(dump.content))
        nodes = graph["@graph"] if isinstance(graph, dict) else graph
        article = [n for n in nodes if n.get("@id") == iri and "headline" in n]
        assert len(article) == 1
        assert "Saloum" in json.dumps(article[0], ensure_ascii=False)
    finally:
        stop_server(server)


def test_an_article_written_by_hand_is_never_overwritten(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    mine = data / "articles" / "secheresse-onu-appel.md"
    mine.write_text(
        "---\nheadline: Ours\ndatePublished: 2024-01-01\npublisher: mia-mga\n---\nOur text.\n"
    )
    before = mine.read_bytes()
    import_sources([FIXTURES / "rss2-fr.xml"], data, update=True)
    assert mine.read_bytes() == before
    suffix = slug_rules.digest("https://eau-solidaire.example.fr/?p=412", 6)
    assert (data / "articles" / f"secheresse-onu-appel-{suffix}.md").exists()
    built(data, tmp_path)


@pytest.mark.parametrize(
    ("fixture", "kind"),
    [
        ("wordpress.xml", "wxr"),
        ("rss2-fr.xml", "rss2"),
        ("atom-de.xml", "atom"),
        ("rss1.rdf", "rss1"),
        ("feed-es.json", "jsonfeed"),
        ("pages/yoast-jsonld.html", "html"),
        ("pages/microdata.html", "html"),
        ("articles.csv", "csv"),
    ],
)
def test_the_format_is_detected_from_content_not_name(fixture, kind, tmp_path):
    from lod.ingest.detect import detect

    renamed = tmp_path / "download.dat"
    shutil.copy(FIXTURES / fixture, renamed)
    assert detect(str(renamed)) == kind


def test_a_folder_of_feeds_is_read_file_by_file(tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    for name in ("rss2-fr.xml", "atom-de.xml", "feed-es.json"):
        shutil.copy(FIXTURES / name, folder / name)
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # not a source: passed over
    report = import_sources([folder], tmp_path / "data")
    assert sum(ref.startswith("article/") for ref in report.tally.created) == 6
