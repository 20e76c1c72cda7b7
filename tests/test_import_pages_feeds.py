"""`lod import` on the real saved pages and feeds of tests/fixtures/real/ (SOURCES.md):
what each file gives, as a table, and a test for each defect FINDINGS.md lists for them;
then the CSV route, on small files written here.

Each file is imported on its own into a new data folder with --skip-invalid (what can be
imported is, the rest listed), as FINDINGS.md did; the defect tests also import strictly,
the default, where a fault stops the whole import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from lod import Settings, build
from lod.cli import cli
from lod.errors import ImportFailed
from lod.ingest import Options, import_sources

REAL = Path(__file__).resolve().parent / "fixtures" / "real"


@dataclass
class Article:
    slug: str
    fields: dict  # the front matter, every value as written (dates keep their offset)
    body: str

    @property
    def paragraphs(self) -> int:
        return len([p for p in self.body.split("\n\n") if p.strip()])

    @property
    def links(self) -> int:
        return self.body.count("](http")


@dataclass
class Imported:
    data: Path
    articles: list[Article]  # by file name
    invalid: list[str]  # the faults, as printed
    skipped: list[str]  # the notes, as printed

    def records(self, folder: str) -> list[str]:
        return sorted(p.stem for p in (self.data / folder).glob("*.yaml"))

    def first(self) -> Article:
        return self.articles[0]


def imported(source: Path, tmp_path: Path, **options) -> Imported:
    data = tmp_path / "data"
    report = import_sources([source], data, skip_invalid=True, **options)
    articles = []
    for path in sorted((data / "articles").glob("*.md")):
        _, front, body = path.read_text("utf-8").split("---\n", 2)
        fields = yaml.load(front, Loader=yaml.BaseLoader)  # noqa: S506 (BaseLoader: strings)
        articles.append(Article(path.stem, fields, body.strip()))
    return Imported(
        data,
        articles,
        [str(e) for e in report.tally.invalid],
        [str(s) for s in report.tally.skipped],
    )


# -- the saved pages ---------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """What a page gives: its article (headline's start, url, date as written, author
    references), the body's shape (at least so many paragraphs and links; its first
    words, which are the article's, not page chrome), or why it gives none."""

    articles: int
    headline: str = ""
    url: str = ""
    date: str = ""
    authors: tuple[str, ...] = ()
    paragraphs: int = 0
    links: int = 0
    first: str = ""
    reason: str = ""  # a part of the fault or note of a page without an article
    records: dict = field(default_factory=dict)  # folder: count, for the other records


PAGES = {
    "aoc-media-jsonld-html-in-string.html": Page(
        1,
        "Pour le néolibéralisme, la retraite est un archaïsme",
        "https://aoc.media/opinion/2019/12/09/pour-le-neoliberalisme-la-retraite-est-un-archaisme/",
        "2019-12-09T20:00:49",
        ("person/barbara-stiegler",),
        8,
        4,
        records={"organisations": 2},
    ),
    "avaz-jsonld-extra-brace.html": Page(
        1,
        "Generalni direktor EPRS pozitivan na koronavirus",
        "https://avaz.ba/kantoni/republika-srpska/604722/generalni-direktor-eprs-pozitivan-na-koronavirus",
        "2020-10-26T18:10:00+01:00",
        ("organisation/avaz-ba",),
        3,
        first="Generalni direktor Elektroprivrede",
    ),
    "bund-naturschutz-jsonld-semicolon.html": Page(
        0, reason="no article of its own: the 4 Article nodes on it are teasers of other pages"
    ),
    "businesstimes-drupal-rdfa-jsonld.html": Page(
        1,
        "S$232m fair value loss pushes SPH into the red",
        "https://www.businesstimes.com.sg/companies-markets/s232m-fair-value-loss-pushes-sph-into-the-red-for-first-time",
        "2020-10-14T05:50:00+08:00",
        ("person/claudia-tan",),
        30,
        reason="6 other Article nodes on the page",
    ),
    "channelpartner-jsonld-newsarticle.html": Page(
        1,
        "Sieben Berufe, die Zukunft haben",
        "https://www.channelpartner.de/a/sieben-berufe-die-zukunft-haben,3050673",
        "2017-08-21T13:09:00Z",
        ("person/olaf-kempin",),
        30,
        5,
        first="*Die Digitalisierung verändert unsere Arbeitswelt.",
    ),
    "cicero-drupal-rdfa-schema.html": Page(
        0, reason="datePublished: missing: no publication date (none in its schema.org"
    ),
    "freitag-plone-jsonld.html": Page(
        1,
        "SARS-2/COVID-19 Heute schon an morgen denken",
        "https://www.freitag.de/autoren/benjamin-immanuel-hoff/heute-schon-an-morgen-denken",
        "2020-04-17T20:34:00+02:00",
        ("person/benjamin-immanuel-hoff",),
        40,
        5,
        first="Die hohe Verbreitung des Coronavirus",
    ),
    "hpd-drupal7-rdfa-no-schema.html": Page(
        1,
        "Sie wissen (nicht), was sie tun",
        "https://hpd.de/artikel/sie-wissen-nicht-sie-tun-identitaetspolitische-linke-unterschlaegt-den-homosexuellenhass-neuer-21664",
        "2023-10-18",
        (),
        20,
        10,
        first="**Ohrenbetäubende Stille herrschte",
    ),
    "jungle-world-drupal-rdfa-schema.html": Page(
        0, reason="datePublished: missing: no publication date (none in its schema.org"
    ),
    "kirche-und-leben-typo3-microdata.html": Page(
        1,
        "Münsters Caritas-Chef Kessmann ist gegen Impfpflicht",
        "https://www.kirche-und-leben.de/artikel/muensters-caritas-chef-kessmann-ist-gegen-impfpflicht-in-der-pflege",
        "2021-11-19",
        ("person/cpm",),
        7,
        first="Die Caritas in der Diözese Münster",
        reason="8 other Article nodes on the page",
    ),
    "lexpress-jsonld-two-objects.html": Page(
        1,
        "Angleterre: Manchester United rate la marche",
        "https://www.lexpress.fr/actualites/1/actualite/angleterre-manchester-united-rate-la-marche-arsenal-revit_2141546.html",
        "2020-12-26T21:00:38+01:00",
        ("organisation/afp",),
        20,
        5,
    ),
    "lopinion-drupal7-jsonld.html": Page(
        1,
        "Glyphosate: radiographie",
        "https://www.lopinion.fr/edition/economie/glyphosate-radiographie-d-intoxication-collective-186859",
        "2019-05-15T06:00:01+02:00",
        ("person/l-opinion",),
        12,
        5,
        first="A chaque civilisation, ses démons.",
    ),
    "ltn-jsonld-raw-newline.html": Page(
        1,
        "是你嗎？ 1-2月期發票千萬獎開出18張",
        "https://ec.ltn.com.tw/article/breakingnews/3119452",
        "2020-04-01T10:29:51+08:00",
        ("organisation/ziyoushibao",),
        8,
    ),
    "mz-web-jsonld-type-list.html": Page(
        1,
        "Hingucker beim Flugplatzfest in Dessau",
        "https://www.mz-web.de/dessau-rosslau/hingucker-beim-flugplatzfest-zweite-f13-kurz-vor-der-zulassung-33328852",
        "2019-10-19T12:00:00+02:00",
        ("person/thomas-steinberg",),
        10,
    ),
    "nature-microdata-newsarticle.html": Page(
        1,
        "Gigantic Chinese telescope opens to astronomers worldwide",
        "https://www.nature.com/articles/d41586-019-02790-3",
        "2019-09-24",
        ("organisation/nature-editorial",),
        15,
        1,
        first="*FAST will enable highly sensitive",
    ),
    "reuters-jsonld-single-quotes.html": Page(
        1,
        "'Parasite' scores historic upset at SAG awards",
        "https://www.reuters.com/article/us-awards-sag-idUSKBN1ZI0EH",
        "2020-01-20T09:49:32+00:00",
        ("person/jill-serjeant",),
        25,
        first="LOS ANGELES (Reuters) - South Korean",
    ),
    "schemaorg-creativework-microdata.html": Page(
        0, reason="carries schema.org Book, which lod does not import"
    ),
    "schemaorg-event-microdata.html": Page(
        0, reason="no article: its schema.org is only Event", records={"events": 1}
    ),
    "songkick-events-jsonld.html": Page(
        0,
        reason="no article: its schema.org is only MusicEvent",
        records={"events": 1, "places": 1},
    ),
    "strangemachines-jsonld-raw-newline.html": Page(
        1,
        "Performant Python",
        "https://strangemachines.io/articles/performant-python",
        "2019-12-03",
        ("person/jacopo-cascioli",),
        60,
        10,
        first="There are many ways to improve Python's performance",
    ),
    "tonight-yoast-graph.html": Page(
        1,
        "„Arschloch“: Danni Büchner und Ennesto Monté trennen sich",
        "https://www.tonight.de/unterhaltung/promis/daniela-buechner-danni-und-ennesto-monte-trennen-sich-arschloch_114240.html",
        "2021-03-16T16:11:53+00:00",
        ("person/steven-salentin",),
        12,
        5,
        first="Das ging schnell!",
    ),
    "tour-magazin-jsonld-trailing-comma.html": Page(
        0,
        reason="no article: its schema.org is only Organization",
        records={"organisations": 1},
    ),
    "udn-jsonld-comments.html": Page(
        1,
        "索尼、鎧俠業績遭波及 已向美申請供貨華為",
        "https://money.udn.com/money/story/5603/4909425",
        "2020-10-04T15:05:21+08:00",
        ("person/jizhelinchenyi-jishibaodao",),
        10,
    ),
    "udn-money-jsonld-comment.html": Page(
        0, reason="datePublished: missing: no publication date (none in its schema.org"
    ),
}


def test_the_table_names_every_real_page():
    assert sorted(PAGES) == sorted(p.name for p in (REAL / "pages").glob("*.html"))
    assert sum(p.articles for p in PAGES.values()) == 16  # of 24 pages; 8 before


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_real_page(name, tmp_path):
    expected, got = PAGES[name], imported(REAL / "pages" / name, tmp_path)
    assert len(got.articles) == expected.articles, got.invalid + got.skipped
    for folder, count in expected.records.items():
        assert len(got.records(folder)) == count, folder
    if expected.reason:
        assert any(expected.reason in line for line in got.invalid + got.skipped), (
            got.invalid + got.skipped
        )
    if not expected.articles:
        return
    article = got.first()
    assert article.fields["headline"].startswith(expected.headline)
    assert article.fields.get("url") == expected.url
    assert article.fields["datePublished"] == expected.date
    assert tuple(article.fields.get("author", ())) == expected.authors
    assert article.paragraphs >= expected.paragraphs, article.body[:500]
    assert article.links >= expected.links, article.body[:500]
    assert article.body.startswith(expected.first), article.body[:300]


# -- the defects FINDINGS.md lists for pages, each ---------------------------------------


BROKEN_JSON_LD = [  # (page, what its broken block has)
    ("aoc-media-jsonld-html-in-string.html", "an <img> with quotes inside a string"),
    ("avaz-jsonld-extra-brace.html", "an extra }"),
    ("lexpress-jsonld-two-objects.html", "two objects in one block"),
    ("ltn-jsonld-raw-newline.html", "a raw newline in a string"),
    ("reuters-jsonld-single-quotes.html", "a single-quoted string"),
    ("strangemachines-jsonld-raw-newline.html", "a raw newline in a string"),
    ("udn-jsonld-comments.html", "// comments"),
]


@pytest.mark.parametrize(("name", "what"), BROKEN_JSON_LD)
def test_json_ld_as_themes_write_it_is_read(name, what, tmp_path):
    """Strictly too: the page's article imports, nothing is refused."""
    report = import_sources([REAL / "pages" / name], tmp_path / "data")
    assert len(list((tmp_path / "data" / "articles").glob("*.md"))) == 1, what
    assert not report.tally.invalid


@pytest.mark.parametrize(
    "name",
    [
        "bund-naturschutz-jsonld-semicolon.html",  # a BreadcrumbList block ending in `];`
        "tour-magazin-jsonld-trailing-comma.html",  # a trailing comma in sameAs
        "udn-money-jsonld-comment.html",  # `//` comments and a trailing comma
    ],
)
def test_a_page_is_never_refused_for_json_ld_a_theme_wrote(name, tmp_path):
    got = imported(REAL / "pages" / name, tmp_path)
    assert not [line for line in got.invalid + got.skipped if "broken JSON-LD" in line]


def test_the_valid_blocks_of_a_page_are_kept_with_its_repaired_one(tmp_path):
    """aoc.media: two Organization blocks beside the broken article block."""
    got = imported(REAL / "pages" / "aoc-media-jsonld-html-in-string.html", tmp_path)
    assert got.records("organisations") == ["aoc", "aoc-media"]


@pytest.mark.parametrize(
    ("name", "teasers"),
    [("businesstimes-drupal-rdfa-jsonld.html", 6), ("kirche-und-leben-typo3-microdata.html", 8)],
)
def test_teasers_never_stop_the_main_article(name, teasers, tmp_path):
    """A strict import (the default) imports the article; the teasers are one note."""
    report = import_sources([REAL / "pages" / name], tmp_path / "data")
    assert len(list((tmp_path / "data" / "articles").glob("*.md"))) == 1
    assert [s.reason for s in report.tally.skipped] == [
        f"{teasers} other Article nodes on the page (teasers, related stories or the same"
        " article marked up twice): not imported"
    ]


@pytest.mark.parametrize(
    "name", ["jungle-world-drupal-rdfa-schema.html", "cicero-drupal-rdfa-schema.html"]
)
def test_a_drupal_page_says_its_article_has_no_date(name, tmp_path):
    """The page's own article is found (its headline from RDFa, microdata or og:title),
    and refused once, for the one thing missing: a date in data (both show it only as
    text, `26.10.2023`, `am 21. April 2020`); not once per teaser and field."""
    got = imported(REAL / "pages" / name, tmp_path)
    assert len(got.invalid) == 1
    assert "datePublished: missing: no publication date (none in its schema.org" in (got.invalid[0])


def test_a_page_of_another_type_is_told_so(tmp_path):
    page = REAL / "pages" / "schemaorg-creativework-microdata.html"
    with pytest.raises(ImportFailed) as failed:
        import_sources([page], tmp_path / "data")
    assert f"{page}: item the page: carries schema.org Book, which lod does not import" in str(
        failed.value
    )
    assert "no schema.org found" not in str(failed.value)


def test_yoast_gives_the_page_url_and_the_page_text(tmp_path):
    article = imported(REAL / "pages" / "tonight-yoast-graph.html", tmp_path).first()
    assert "#webpage" not in article.fields["url"]
    assert "Ennesto Monté via [Instagram](https://www.instagram.com/ennesto.official/)" in (
        article.body
    )


def test_an_article_without_article_body_takes_the_page_text(tmp_path):
    article = imported(REAL / "pages" / "businesstimes-drupal-rdfa-jsonld.html", tmp_path).first()
    assert "SINGAPORE Press Holdings (SPH) on Tuesday reported its first-ever net loss" in (
        article.body
    )


def test_a_microdata_body_keeps_its_paragraphs_and_links(tmp_path):
    got = imported(REAL / "pages" / "hpd-drupal7-rdfa-no-schema.html", tmp_path)
    article = got.first()
    assert article.paragraphs >= 19 and article.links >= 11
    assert '"[strukturellen Queerfeindlichkeit](https://webecho-bamberg.de/tag/malte-c/)"' in (
        article.body
    )
    assert article.fields["url"].startswith("https://hpd.de/artikel/")  # not relative
    assert article.fields["publisher"] == "hpd-de"  # not a placeholder `site`


def test_a_date_written_out_is_read(tmp_path):
    article = imported(REAL / "pages" / "nature-microdata-newsarticle.html", tmp_path).first()
    assert article.fields["datePublished"] == "2019-09-24"


def test_the_canonical_link_wins_over_a_main_entity_naming_the_site(tmp_path):
    article = imported(REAL / "pages" / "freitag-plone-jsonld.html", tmp_path).first()
    assert article.fields["url"] != "https://www.freitag.de"
    assert not article.body.startswith("SARS-2/COVID-19")  # nor the headline first


@pytest.mark.parametrize(
    ("name", "chrome"),
    [
        ("channelpartner-jsonld-newsarticle.html", "Drucken"),
        ("channelpartner-jsonld-newsarticle.html", "Von Olaf Kempin (Autor)"),
    ],
)
def test_a_body_from_the_page_starts_with_the_text(name, chrome, tmp_path):
    article = imported(REAL / "pages" / name, tmp_path).first()
    assert chrome not in article.body[:400]


def test_microdata_keywords_as_tag_links(tmp_path):
    article = imported(REAL / "pages" / "kirche-und-leben-typo3-microdata.html", tmp_path).first()
    assert article.fields["keywords"] == ["Corona-Virus, Covid-19", "Senioren", "Pflege", "Caritas"]
    assert not article.body.startswith("Anzeige")


def test_tracking_parameters_are_dropped(tmp_path):
    got = imported(REAL / "pages" / "songkick-events-jsonld.html", tmp_path)
    event = (got.data / "events" / "tove-styrke.yaml").read_text("utf-8")
    assert "utm_" not in event
    assert "url: https://www.songkick.com/concerts/30166884-tove-styrke-at-hoxton-square" in event


# -- the feeds -------------------------------------------------------------------------


@dataclass(frozen=True)
class Feed:
    """What a feed gives: articles and people, and its first article (by slug): headline's
    start, url, date as written, authors; or the fault of each item."""

    articles: int
    people: int
    headline: str = ""
    url: str = ""
    date: str = ""
    authors: tuple[str, ...] = ()
    reason: str = ""


FEEDS = {
    "atom-daringfireball.xml": Feed(
        48,
        2,
        "The Outline: ‘Inside Apple’s Global War on Leakers’",
        "https://daringfireball.net/linked/2017/06/20/apples-war-on-leaks",
        "2017-06-20T18:22:34Z",
        ("person/john-gruber",),
    ),
    "atom-github-commits.xml": Feed(
        20,
        3,
        "Bump github.com/go-jose/go-jose/v3",
        "https://github.com/miniflux/v2/commit/0f7b047b0a81253b6d146e05d561545303016b74",
        "2024-03-08T04:59:42Z",
        ("person/dependabot",),
    ),
    "atom-movabletype-touchnokia.xml": Feed(
        15,
        1,
        "Игры для Nokia 5800 и Nokia N97",
        "http://touchnokia.ru/2009/05/igri-dlja-nokia-5800-i-nokia-n97-3d-fast-and-furious.html",
        "2009-05-30T19:47:24Z",
        ("person/ipod",),
    ),
    "atom-typepad-expertopinionent.xml": Feed(
        43,
        1,
        "Advanced Cochlear Implantation",
        "http://expertopinionent.typepad.com/my-blog/2017/03/advanced-cochlear-implantation.html",
        "2017-03-21T16:28:51+11:00",
        ("person/entexpertopinion",),
    ),
    "atom-wordpress-allthis.xml": Feed(
        12,
        1,
        "A modest proposal",
        "http://leancrew.com/all-this/2017/11/a-modest-proposal/",
        "2017-11-07T03:27:11Z",
        ("person/dr-drang",),
    ),
    "jsonfeed-1.1-3960.json": Feed(
        20,
        1,
        "Simplex, Duplex",
        "https://journal.3960.org/posts/2019-02-14-simplex-duplex/",
        "2019-02-14T19:11:34+01:00",
        ("person/frank-boes",),
    ),
    "jsonfeed-curt.json": Feed(
        26,
        1,
        "Appearance Manager",
        "http://www.curtclifton.net/appearance-manager",
        "2017-05-06T07:00:00",
        ("person/curt-clifton",),
    ),
    "jsonfeed-inessential.json": Feed(
        20,
        1,
        "“App: The Human Story” Screening",
        "http://inessential.com/2017/05/26/app_the_human_story_screening_in_san_",
        "2017-05-26T12:57:19-07:00",
        ("person/brent-simmons",),
    ),
    "jsonfeed-pxlnv.json": Feed(
        20,
        1,
        "Google Announces AMP For Email",
        "https://pxlnv.com/linklog/amp-for-email/",
        "2018-02-13T12:14:16+00:00",
        ("person/nick-heer",),
    ),
    "rss-aktuality-sk.xml": Feed(
        30,
        0,
        "Ako znášate rádioaktívne žiarenie",
        "https://www.aktuality.sk/clanok/856293/ako-znasate-radioaktivne-ziarenie-odpoved-mate-mozno-v-creve/",
        "2021-01-17T11:00:00+01:00",
    ),
    "rss-bbc-urdu.xml": Feed(
        26,
        0,
        "’پاکستان نے اپنے رویے کو تبدیل",
        "http://www.bbc.com/urdu/pakistan-41019799",
        "2017-08-22T23:06:07Z",
    ),
    "rss-golem-iso-8859-1.xml": Feed(
        40,
        0,
        "Augsburg: Fujitsu Deutschland macht alles dicht",
        "https://www.golem.de/news/augsburg-fujitsu-deutschland-macht-alles-dicht-1810-137348-rss.html",
        "2018-10-26T14:59:00+01:00",
    ),
    "rss-livemint.xml": Feed(
        25,
        6,
        "5 kg LPG refill to power Ujjwala scheme",
        "https://www.livemint.com/news/india/5-kg-lpg-refill-to-power-ujjwala-scheme-under-modi-2-0-1559050401777.html",
        "2019-05-28T19:18:48Z",
    ),
    "rss-macworld.xml": Feed(
        30,
        15,
        "A big complaint: The iPhone X’s major flaw",
        "https://www.macworld.com/article/3238192/iphone-ipad/a-big-complaint-the-iphone-x-s-major-flaw.html#tk.rss_all",
        "2017-11-25T04:00:00-08:00",
        ("person/the-macalope",),
    ),
    "rss-wordpress-natasha.xml": Feed(
        10,
        1,
        "Architecting for Features",
        "https://www.natashatherobot.com/architecting-for-features/",
        "2017-03-12T08:54:27Z",
        ("person/natasha-murashev",),
    ),
    "rss090-heise.rdf": Feed(0, 0, reason="date: missing: RSS 0.9 gives its items no date"),
    "rss1-bio.rdf": Feed(
        30,
        264,
        "Cell-surface receptors enable perception",
        "http://biorxiv.org/cgi/content/short/726125v1?rss=1",
        "2019-08-14",
        tuple(
            f"person/{p}"
            for p in "i-antoniadi o-novak z-gelova a-johnson o-plihal t-vain r-simersky v-mik"
            " m-karady m-pernisova l-plackova k-opassathian j-hejatko s-robert j-friml"
            " k-dolezal k-ljung c-turnbull".split()
        ),
    ),
}


def test_the_table_names_every_real_feed():
    assert sorted(FEEDS) == sorted(p.name for p in (REAL / "feeds").iterdir())


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_each_real_feed(name, tmp_path):
    expected, got = FEEDS[name], imported(REAL / "feeds" / name, tmp_path)
    assert len(got.articles) == expected.articles, got.invalid[:3]
    assert len(got.records("people")) == expected.people
    if expected.reason:
        assert got.invalid and all(expected.reason in line for line in got.invalid)
    if not expected.articles:
        return
    article = got.first()
    assert str(article.fields["headline"]).startswith(expected.headline)
    assert article.fields["url"] == expected.url
    assert article.fields["datePublished"] == expected.date
    assert tuple(article.fields.get("author", ())) == expected.authors


# -- the defects FINDINGS.md lists for feeds, each ---------------------------------------


def test_a_byline_of_several_people_is_several_people(tmp_path):
    got = imported(REAL / "feeds" / "rss-macworld.xml", tmp_path)
    people = got.records("people")
    assert "alaina-yee" in people and "jon-phillips" in people and "glenn-fleishman" in people
    for slug in people:
        name = (got.data / "people" / f"{slug}.yaml").read_text("utf-8")
        assert "\t" not in name and "\\t" not in name and "," not in name


def test_a_list_of_authors_is_a_list_of_people(tmp_path):
    """bioRxiv's `Surname, I., Surname, I. I.` byline: each author once, not one person
    per article."""
    got = imported(REAL / "feeds" / "rss1-bio.rdf", tmp_path)
    assert len(got.first().fields["author"]) == 18
    assert "k-k-bhati" in got.records("people")  # `Bhati, K. K.`
    names = (got.data / "people" / "i-antoniadi.yaml").read_text("utf-8")
    assert names == "id: i-antoniadi\nname: I. Antoniadi\n"


@pytest.mark.parametrize(
    ("name", "generic"),
    [
        ("rss-livemint.xml", "staff-writer"),
        ("rss-macworld.xml", "macworld-staff"),
        ("rss-macworld.xml", "dealpost-team"),
    ],
)
def test_a_generic_byline_is_no_person(name, generic, tmp_path):
    assert generic not in imported(REAL / "feeds" / name, tmp_path).records("people")


def test_rss_090_items_say_why_they_have_no_date(tmp_path):
    got = imported(REAL / "feeds" / "rss090-heise.rdf", tmp_path)
    assert len(got.invalid) == 60
    assert got.invalid[0] == (
        f"{REAL / 'feeds' / 'rss090-heise.rdf'}: item https://www.heise.de/newsticker/meldung/"
        "OLED-TVs-Vorsichtsmassnahmen-gegen-Einbrennen-4205274.html?wt_mc=rss.ho.beitrag.rdf:"
        " date: missing: RSS 0.9 gives its items no date (the channel's is not theirs);"
        " import these articles from their pages or from a feed that dates them"
    )


def test_a_json_feed_with_escaped_slashes_is_a_json_feed(tmp_path):
    from lod.ingest.detect import detect

    assert detect(str(REAL / "feeds" / "jsonfeed-curt.json")) == "jsonfeed"
    report = import_sources([REAL / "feeds" / "jsonfeed-curt.json"], tmp_path / "data")
    assert len([r for r in report.tally.created if r.startswith("article/")]) == 26


def test_entities_in_a_text_summary_are_decoded(tmp_path):
    got = imported(REAL / "feeds" / "atom-movabletype-touchnokia.xml", tmp_path)
    descriptions = [a.fields.get("description", "") for a in got.articles]
    assert all("&nbsp;" not in d and "&amp;" not in d for d in descriptions)
    assert any("Разработчик: i-play" in d for d in descriptions)


def test_an_item_image_is_a_picture_not_an_icon(tmp_path):
    got = imported(REAL / "feeds" / "atom-movabletype-touchnokia.xml", tmp_path)
    images = [a.fields.get("image", "") for a in got.articles]
    assert not [i for i in images if "mime_types/zip.gif" in i or "img-resized" in i]
    assert sum("/forums/uploads/" in i for i in images) >= 10


def test_a_link_blog_entry_is_the_publishers_post(tmp_path):
    """Daring Fireball: an entry's alternate link is the page it links to elsewhere; its
    post is the `related` link."""
    got = imported(REAL / "feeds" / "atom-daringfireball.xml", tmp_path)
    urls = [a.fields["url"] for a in got.articles]
    assert "http://mnml.af/" not in urls and len(set(urls)) == 48
    assert all(u.startswith("https://daringfireball.net/") for u in urls)
    assert "2kx5ax5" not in [a.slug for a in got.articles]


# -- the parts, on their own -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1, // a comment\n "b": 2}', {"a": 1, "b": 2}),
        ('{"a": 1, /* a comment */ "b": 2}', {"a": 1, "b": 2}),
        ('{"a": [1, 2,], "b": 2,}', {"a": [1, 2], "b": 2}),
        ("{'a': 'single'}", {"a": "single"}),
        ('{"a": "two\nlines"}', {"a": "two\nlines"}),
        ('{"a": 1}\n{"b": 2}', [{"a": 1}, {"b": 2}]),
        ('{"a": 1},\n{"b": 2}', [{"a": 1}, {"b": 2}]),
        ('{"a": {"b": 1}}}', {"a": {"b": 1}}),
        ('[{"a": 1}];', [{"a": 1}]),
    ],
    ids=[
        "line-comment",
        "block-comment",
        "trailing-commas",
        "single-quotes",
        "raw-newline",
        "two-objects",
        "two-objects-comma",
        "stray-brace",
        "semicolon",
    ],
)
def test_lenient_json(text, expected):
    from lod.ingest import lenient

    assert lenient.loads(text) == (expected, True)


@pytest.mark.parametrize("text", ["{{ article.schema | jsonify }}", "", "Liquid error: x"])
def test_a_block_with_no_object_is_unreadable(text):
    from lod.ingest import lenient

    with pytest.raises(lenient.Unreadable):
        lenient.loads(text)


@pytest.mark.parametrize(
    ("byline", "people"),
    [
        ("Jon Phillips,\n\t\t\t\t\t\tAlaina Yee", ["Jon Phillips", "Alaina Yee"]),
        ("Macworld Staff,\n\t\tGlenn Fleishman", ["Glenn Fleishman"]),
        (" Kaur, M., Bhati, K. K., Smith, J.-P. ", ["M. Kaur", "K. K. Bhati", "J.-P. Smith"]),
        ("By Ann Lee and Bo Chan", ["Ann Lee", "Bo Chan"]),
        ("Ann Lee & Bo Chan; Cy Dee", ["Ann Lee", "Bo Chan", "Cy Dee"]),
        ("Doe, J., et al.", ["J. Doe"]),
        ("Ann Lee, Ann Lee", ["Ann Lee"]),
        ("Staff Writer", []),
        ("admin", []),
        ("The Newsroom", []),
        ("DealPost Team", []),
        ("The Macalope", ["The Macalope"]),
        ("Jon Phillips, Bo", ["Jon Phillips", "Bo"]),
    ],
)
def test_bylines(byline, people):
    from lod.ingest import bylines

    assert bylines.names(byline) == people


def test_a_meta_author_is_not_cut_at_commas():
    from lod.ingest import bylines

    assert bylines.names("Kirche und Leben, Münster", commas=False) == ["Kirche und Leben, Münster"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24 September 2019", "2019-09-24"),
        ("Tuesday, 24 September 2019", "2019-09-24"),
        ("Sept. 24, 2019, 10:30 am", "2019-09-24T10:30:00"),
        ("24 September 2019 10:30 +0200", "2019-09-24T10:30:00+02:00"),
        ("21. April 2020", "2020-04-21"),
        ("Mon, 01 Jan 2024 09:00:00 GMT", "2024-01-01T09:00:00Z"),  # RFC 822, as before
    ],
)
def test_dates_written_out(text, expected):
    from lod.ingest.common import date

    assert date(text) == expected


@pytest.mark.parametrize(
    "text", ["1/2/2019", "September 2019", "24 September", "yesterday", "am 21. April 2020"]
)
def test_dates_not_written_out_in_full_are_refused(text):
    from lod.ingest.common import BadDate, date

    with pytest.raises(BadDate):
        date(text)


# -- the CSV route ---------------------------------------------------------------------

SEMICOLONS = (
    "id;headline;datePublished;url;keywords;body\n"
    'harbour;Harbour clean-up;2024-05-04;https://www.harbour.example.org/news/cleanup;"a;b";'
    "Over **200** people.\n"
)


def test_a_semicolon_csv_is_imported_and_builds(tmp_path):
    from lod.ingest.detect import detect

    source = tmp_path / "sheet.csv"
    source.write_text(SEMICOLONS, "utf-8")
    assert detect(str(source)) == "csv"
    data = tmp_path / "data"
    import_sources([source], data)
    article = (data / "articles" / "harbour.md").read_text("utf-8")
    assert "headline: Harbour clean-up\n" in article and "  - a\n  - b\n" in article
    build(Settings(data=data, out=tmp_path / "dist"))


def test_the_build_reads_a_semicolon_csv(tmp_path):
    from lod.make import sources

    data = tmp_path / "data"
    import_sources([REAL / "feeds" / "jsonfeed-pxlnv.json"], data)
    (data / "articles" / "sheet.csv").write_text(
        "id;headline;datePublished;publisher\nfrom-sheet;From a sheet;2024-01-01;pixel-envy\n",
        "utf-8",
    )
    record = next(r for r in sources.load(data).records if r.id == "from-sheet")
    assert record.values["headline"] == "From a sheet"
    result = build(Settings(data=data, out=tmp_path / "dist"))
    assert result.manifest["counts"]["article"] == 21


def test_an_unknown_column_is_refused_before_anything_is_written(tmp_path):
    source = tmp_path / "sheet.csv"
    source.write_text("headline,datePublished,tags\nA,2024-01-01,x\n", "utf-8")
    data = tmp_path / "data"
    result = CliRunner().invoke(cli, ["import", str(source), "--data", str(data)])
    assert result.exit_code == 1
    assert f"{source}:1: tags: unknown article column (column 3) (did you mean `keywords`?)" in (
        result.stderr
    )
    assert not data.exists()
    with pytest.raises(ImportFailed):  # --skip-invalid never skips a whole file
        import_sources([source], data, skip_invalid=True)


@pytest.mark.parametrize(
    ("column", "hint"),
    [("headlin", "did you mean `headline`?"), ("Summary", "did you mean `description`?")],
)
def test_an_unknown_column_names_the_one_meant(column, hint, tmp_path):
    source = tmp_path / "sheet.csv"
    source.write_text(f"headline,datePublished,{column}\nA,2024-01-01,x\n", "utf-8")
    with pytest.raises(ImportFailed) as failed:
        import_sources([source], tmp_path / "data")
    assert f"{column}: unknown article column (column 3) ({hint})" in str(failed.value)


def test_a_csv_into_a_new_folder_gets_a_dataset_and_a_publisher(tmp_path):
    source = tmp_path / "sheet.csv"
    source.write_text(SEMICOLONS.replace(";", ","), "utf-8")
    data = tmp_path / "data"
    import_sources([source], data)
    dataset = (data / "dataset.yaml").read_text("utf-8")
    assert "publisher: harbour-example-org\n" in dataset
    assert (data / "organisations" / "harbour-example-org.yaml").read_text("utf-8") == (
        "id: harbour-example-org\nname: harbour.example.org\nurl: https://www.harbour.example.org/\n"
    )
    assert "publisher: harbour-example-org\n" in (data / "articles" / "harbour.md").read_text(
        "utf-8"
    )
    build(Settings(data=data, out=tmp_path / "dist"))


def test_a_csv_naming_its_publisher_gets_no_other(tmp_path):
    source = tmp_path / "sheet.csv"
    source.write_text(
        "headline,datePublished,publisher\nA,2024-01-01,mia-mga\nB,2024-01-02,mia-mga\n", "utf-8"
    )
    data = tmp_path / "data"
    import_sources([source], data)
    assert not (data / "organisations").exists()
    assert "publisher: mia-mga\n" in (data / "dataset.yaml").read_text("utf-8")
    assert import_sources([source], tmp_path / "d2", options=Options(publisher="x")).tally.created


def test_a_block_that_cannot_be_read_is_a_note_beside_a_good_one(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '<html><head><link rel="canonical" href="https://ex.org/news/one">'
        '<script type="application/ld+json">{{ schema | jsonify }}</script>'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "One",'
        ' "datePublished": "2024-01-01", // a comment\n}</script></head>'
        "<body><p>Text.</p></body></html>",
        "utf-8",
    )
    report = import_sources([page], tmp_path / "data")  # strict: the note stops nothing
    assert (tmp_path / "data" / "articles" / "one.md").exists()
    assert [str(s) for s in report.tally.skipped] == [
        f"{page}: item JSON-LD block 1: skipped (broken JSON-LD: Expecting property name"
        " enclosed in double quotes (line 1 of the block); the rest of the page was read)"
    ]
