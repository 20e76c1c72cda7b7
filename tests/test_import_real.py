"""`lod import` on real WordPress exports (tests/fixtures/real/wordpress/, sources and
licences in SOURCES.md, what the importer made of them before in FINDINGS.md).

Each export is imported strictly (no --skip-invalid) once per session; the tests read what
it wrote. The table below is what each export holds and gives:

| file | items | articles | topics | people | skipped |
|---|---|---|---|---|---|
| polylang-wp-4.4.1-test-import.xml | 8 | 2 | 1 | 1 | 2 pages, 4 menu items |
| polylang-wp-6.9.4-test-import.xml | 10 | 4 | 2 | 1 | 2 pages, 4 menu items |
| wp-3.3.1-pelican.xml | 20 | 7 | 6 | 2 | 4 attachments, 4 drafts, 2 pages, 3 custom post types |
| wp-theme-preview-5.2.xml (https://) | 7 | 7 | 9 | 1 | — |
| wp-theme-test-data-blocks-6.4.xml | 72 | 61 | 9 | 1 | 9 attachments, 1 page, 1 navigation |
| wp-theme-unit-test-data.wordpress.xml (https://) | 186 | 55 | 124 | 2 | 70 menu items, 37 \
  attachments, 21 pages, 3 more |
| wpcom-2025-jekyll-import.xml | 16 | 7 | 6 | 1 | 6 attachments, 1 page, 2 other post types |
| wxr-1.0-wp-2.8.4-postmeta.xml | 1 | 0 | 0 | 0 | 1 draft |
| wxr-1.0-wp-3.0.1.xml | 6 | 3 | 8 | 1 | 3 pages |
| wxr-1.1-blank-lines.xml | 1 | 1 | 0 | 1 | — |
| wxr-1.1-slashes.xml | 1 | 1 | 1 | 1 | — |
| wxr-1.1-small-export.xml | 11 | 5 | 29 | 3 | 5 pages, 1 private |
| wxr-1.1-wp-3.1.xml | 2 | 1 | 2 | 1 | 1 page |
| wxr-1.2-wp-6.5-simple.xml | 1 | 1 | 1 | 1 | — |
| wxr-1.2-wp-6.5-utf8.xml | 1 | 1 | 1 | 1 | — |
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from lod import Settings, build
from lod.cli import cli
from lod.ingest import Options, import_sources, wordpress, xmlsafe
from lod.web.pages import render_markdown

REAL = Path(__file__).resolve().parent / "fixtures" / "real" / "wordpress"
PAGE = "page (import pages with --pages)"
UNIT = "wp-theme-unit-test-data.wordpress.xml"
BLOCKS = "wp-theme-test-data-blocks-6.4.xml"
PELICAN = "wp-3.3.1-pelican.xml"
CONTENT = "http://purl.org/rss/1.0/modules/content/"


@dataclass
class Case:
    file: str
    items: int
    articles: int
    topics: int
    people: int
    skipped: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.file


CASES = [
    Case("polylang-wp-4.4.1-test-import.xml", 8, 2, 1, 1, {PAGE: 2, "nav menu item": 4}),
    Case("polylang-wp-6.9.4-test-import.xml", 10, 4, 2, 1, {PAGE: 2, "nav menu item": 4}),
    Case(
        PELICAN,
        20,
        7,
        6,
        2,
        {"attachment": 4, "draft": 4, PAGE: 2, "post type `custom1`": 2, "post type `custom2`": 1},
    ),
    Case("wp-theme-preview-5.2.xml", 7, 7, 9, 1),
    Case(BLOCKS, 72, 61, 9, 1, {"attachment": 9, PAGE: 1, "post type `wp_navigation`": 1}),
    Case(
        UNIT,
        186,
        55,
        124,
        2,
        {
            "nav menu item": 70,
            "attachment": 37,
            PAGE: 21,
            "scheduled": 1,
            "draft": 1,
            "password-protected": 1,
        },
    ),
    Case(
        "wpcom-2025-jekyll-import.xml",
        16,
        7,
        6,
        1,
        {
            "attachment": 6,
            PAGE: 1,
            "post type `wp_global_styles`": 1,
            "post type `wp_navigation`": 1,
        },
    ),
    Case("wxr-1.0-wp-2.8.4-postmeta.xml", 1, 0, 0, 0, {"draft": 1}),
    Case("wxr-1.0-wp-3.0.1.xml", 6, 3, 8, 1, {PAGE: 3}),
    Case("wxr-1.1-blank-lines.xml", 1, 1, 0, 1),
    Case("wxr-1.1-slashes.xml", 1, 1, 1, 1),
    Case("wxr-1.1-small-export.xml", 11, 5, 29, 3, {PAGE: 5, "private": 1}),
    Case("wxr-1.1-wp-3.1.xml", 2, 1, 2, 1, {PAGE: 1}),
    Case("wxr-1.2-wp-6.5-simple.xml", 1, 1, 1, 1),
    Case("wxr-1.2-wp-6.5-utf8.xml", 1, 1, 1, 1),
]


def test_every_real_export_is_in_the_table():
    assert sorted(c.file for c in CASES) == sorted(p.name for p in REAL.glob("*.xml"))


@dataclass
class Imported:
    data: Path
    report: object

    def files(self, folder: str) -> list[Path]:
        where = self.data / folder
        return sorted(where.iterdir()) if where.exists() else []

    def article(self, slug: str) -> tuple[str, str]:
        """(front matter, body) of an article."""
        text = (self.data / "articles" / f"{slug}.md").read_text("utf-8")
        front, body = text.removeprefix("---\n").split("\n---\n", 1)
        return front, body


@pytest.fixture(scope="session")
def imported(tmp_path_factory):
    """Each real export imported once (strictly: any invalid item would fail)."""
    done: dict[str, Imported] = {}

    def get(file: str) -> Imported:
        if file not in done:
            data = tmp_path_factory.mktemp(Path(file).stem) / "data"
            done[file] = Imported(data, import_sources([REAL / file], data))
        return done[file]

    return get


def items(file: str) -> list:
    """(status, post type, link, content) of each <item> of an export; the status of a
    post behind a password ends with `+password`."""
    found = []
    for event, element, _ in xmlsafe.stream(str(REAL / file), {"item"}, 1 << 30):
        if event == "item":
            wp = {xmlsafe.local(e.tag): xmlsafe.text(e) for e in element if "wordpress" in e.tag}
            found.append(
                (
                    wp.get("status", "publish") + ("+password" if wp.get("post_password") else ""),
                    wp.get("post_type", "post"),
                    xmlsafe.child_text(element, "link", ""),
                    xmlsafe.child_text(element, "encoded", CONTENT),
                )
            )
    return found


# -- what each export gives ------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_items_articles_topics_people_and_what_was_skipped(case, imported):
    result = imported(case.file)
    assert len(items(case.file)) == case.items
    assert len(result.files("articles")) == case.articles
    assert len(result.files("topics")) == case.topics
    assert len(result.files("people")) == case.people
    skipped = Counter(s.reason for s in result.report.tally.skipped)
    assert skipped == Counter(case.skipped)
    assert not result.report.tally.invalid
    assert case.articles + sum(case.skipped.values()) == case.items  # every item accounted for


@pytest.mark.parametrize("case", [c for c in CASES if c.articles], ids=str)
def test_what_was_imported_builds(case, imported, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(imported(case.file).data, data)
    counts = build(Settings(data=data, out=tmp_path / "dist")).manifest["counts"]
    assert (counts["article"], counts["topic"], counts["person"]) == (
        case.articles,
        case.topics,
        case.people,
    )


@pytest.mark.parametrize("case", CASES, ids=str)
def test_importing_again_changes_nothing(case, imported):
    result = imported(case.file)
    again = import_sources([REAL / case.file], result.data).tally
    assert (again.created, again.changed, again.kept) == ([], [], [])


def test_pages_become_documents_and_build(tmp_path):
    data = tmp_path / "data"
    report = import_sources([REAL / UNIT], data, options=Options(pages=True))
    assert len(list((data / "documents").iterdir())) == 21
    assert Counter(s.reason for s in report.tally.skipped)[PAGE] == 0
    counts = build(Settings(data=data, out=tmp_path / "dist")).manifest["counts"]
    assert (counts["article"], counts["document"]) == (55, 21)


def bodies(result: Imported) -> dict[str, str]:
    return {p.stem: result.article(p.stem)[1] for p in result.files("articles")}


def prose(markdown: str) -> str:
    """The Markdown outside code blocks."""
    return re.sub(r"```.*?```", "", markdown, flags=re.S)


@pytest.mark.parametrize("case", [c for c in CASES if c.articles], ids=str)
def test_bodies_have_no_stray_backslashes_comments_or_shortcodes(case, imported):
    for slug, body in bodies(imported(case.file)).items():
        text = prose(body)
        assert not re.search(r"(?m)^\s*\\$", text), slug  # a line that is only `\`
        # a hard break ending a paragraph shows as a `\`
        assert not re.search(r"(?<!\\)(?:\\\\)*\\\n(\n|$)", text + "\n"), slug
        assert "<!--" not in text and "wp:" not in text, slug
        shortcode = r"\[/?(caption|gallery|audio|video|embed|playlist)\b[^\]]*\](?!\()"
        assert not re.search(shortcode, text), slug
    for slug, body in bodies(imported(case.file)).items():
        for code in re.findall(r"```.*?```", body, flags=re.S):
            assert not re.search(r"(?m)^\\$", code), slug  # <br> in <pre>: a newline


SHORTCODE_TAG = re.compile(r"\[/?[a-z_]+\b[^\]]*\]")


def visible_words(content: str) -> set[str]:
    """The words of a post as its site shows them, shortcodes' own tags aside, and
    forms and a file block's download button, which are not imported."""
    soup = BeautifulSoup(SHORTCODE_TAG.sub(" ", content), "html.parser")
    for dropped in soup.select("script, style, form, a.wp-block-file__button"):
        dropped.decompose()
    return set(re.findall(r"\w{3,}", soup.get_text(" ")))


@pytest.mark.parametrize("case", [c for c in CASES if c.articles], ids=str)
def test_no_text_is_lost(case):
    """Every word the site shows of a published post is in its article (the reader
    yields one article per published post, in their order)."""
    published = [i for i in items(case.file) if i[:2] == ("publish", "post")]
    articles = [
        e
        for e in wordpress.read(str(REAL / case.file), Options())
        if getattr(e, "kind", "") == "article"
    ]
    assert len(published) == len(articles) == case.articles
    for (_, _, link, content), article in zip(published, articles, strict=True):
        text = article.body.replace("\\", "")
        lost = {w for w in visible_words(content) if w not in text}
        assert not lost, (link, sorted(lost)[:20])


# -- titles, dates, people -------------------------------------------------------------


@pytest.mark.parametrize(
    "file, slug, headline",
    [
        (PELICAN, "html-entity-test", "A normal post with some <html> entities in the title."),
        (PELICAN, "caption-on-image", "Caption on image"),
        ("wp-theme-preview-5.2.xml", "p-19", "Worth A Thousand Words"),
        (BLOCKS, "video", "Video"),
        (UNIT, "markup-title-with-markup", "Markup: Title With Markup"),
        (UNIT, "title-with-special-characters", "~`!@#$%^&*()-_=+{}[]/\\;:'\"?,.>"),
        (UNIT, "edge-case-no-title", "This post has no title, but it still must link…"),
        ("wpcom-2025-jekyll-import.xml", "the-art-of-connection", "The Art of Connection"),
        ("wxr-1.2-wp-6.5-simple.xml", "hello-world", '"The Road Not Taken" by Robert Frost'),
    ],
)
def test_titles(file, slug, headline, imported):
    """As the site shows them: inline markup gone, `<` and entities as text; an untitled
    post gets the first words of its text (and never stops the import)."""
    front, _ = imported(file).article(slug)
    written = re.search(r"^headline: (.*)$", front, re.M).group(1)
    if written.startswith('"'):
        written = written[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    assert headline in written


@pytest.mark.parametrize(
    "file, slug, published",
    [
        ("wpcom-2025-jekyll-import.xml", "adaptive-advantage", "2025-01-18T18:26:21-08:00"),
        (UNIT, "post-format-gallery", "2010-09-10T07:24:14-07:00"),
        (PELICAN, "with-comments", "2012-04-18T03:36:26-05:00"),
        # post_date_gmt 0000-00-00 00:00:00: the offset of the post nearest in time
        (PELICAN, "code-in-list-test", "2012-02-16T15:52:55Z"),
        # no post_date_gmt at all: the item's pubDate is the same moment in UTC
        ("wp-theme-preview-5.2.xml", "p-36", "2008-09-05T19:39:12Z"),
        ("wxr-1.0-wp-3.0.1.xml", "alpha-post", "2010-10-20T14:09:37Z"),
    ],
)
def test_dates_keep_the_sites_offset(file, slug, published, imported):
    front, _ = imported(file).article(slug)
    assert f"datePublished: {published}\n" in front


def test_date_modified_is_kept_when_it_differs(imported):
    front, _ = imported("wxr-1.2-wp-6.5-simple.xml").article("hello-world")
    assert "datePublished: 2024-06-05T16:04:48Z\ndateModified: 2024-06-10T12:28:55Z\n" in front


def test_one_person_per_author_login(imported):
    """The theme unit test data names one author `>themereviewteam` in a post's
    dc:creator: the author themereviewteam, not a third person."""
    result = imported(UNIT)
    assert [p.name for p in result.files("people")] == ["theme-buster.yaml", "theme-reviewer.yaml"]
    front, _ = result.article("block-category-common")
    assert "author:\n  - person/theme-reviewer\n" in front
    names = {p.read_text("utf-8") for p in imported("wxr-1.1-small-export.xml").files("people")}
    assert names == {
        "id: admin\nname: admin\n",
        "id: author\nname: author\n",
        "id: editor\nname: editor\n",
    }


# -- topics ----------------------------------------------------------------------------


def topic_names(result: Imported) -> Counter:
    return Counter(
        re.search(r"^name: (.*)$", p.read_text("utf-8"), re.M).group(1).strip('"').casefold()
        for p in result.files("topics")
    )


def test_a_category_and_a_tag_of_one_name_are_one_topic(imported):
    result = imported(UNIT)
    doubled = {name for name, n in topic_names(result).items() if n > 1}
    assert doubled == {"foo a"}  # two categories "Foo A", under different parents
    topics = {p.stem for p in result.files("topics")}
    # the slug without the `-2` WordPress gave one of the two
    assert {"markup", "template", "edge-case", "media", "content"} <= topics
    assert not {"markup-2", "template-2", "edge-case-2", "media-2", "content-2"} & topics
    assert (result.data / "topics" / "markup.yaml").read_text(
        "utf-8"
    ) == "id: markup\nname: Markup\n"
    front, _ = result.article("post-format-gallery")  # category and tag "Post Formats"
    assert front.count("topic/post-formats") == 1


def test_wxr_1_0_tags_and_category_parents(imported):
    result = imported("wxr-1.0-wp-3.0.1.xml")
    topics = {p.stem for p in result.files("topics")}
    assert {"news", "roar", "chicken", "face"} <= topics  # <category domain="tag">
    front, _ = result.article("alpha-post")
    assert "about:\n  - topic/alpha\n  - topic/news\n  - topic/roar\n" in front
    assert "broader: parent" in (result.data / "topics" / "child.yaml").read_text("utf-8")


@pytest.mark.parametrize("case", [c for c in CASES if c.articles], ids=str)
def test_topics_are_those_the_imported_posts_use(case, imported):
    result = imported(case.file)
    used = set()
    for path in result.files("articles"):
        used |= set(re.findall(r"topic/([a-z0-9-]+)", result.article(path.stem)[0]))
    assert used == {p.stem for p in result.files("topics")}


def test_the_unit_test_data_declares_more_terms_than_its_posts_use(imported):
    text = (REAL / UNIT).read_text("utf-8")
    declared = text.count("<wp:category>") + text.count("<wp:tag>")
    assert declared == 178 and len(imported(UNIT).files("topics")) == 124


# -- bodies ----------------------------------------------------------------------------


def test_block_editor_paragraphs_are_not_autop(imported):
    """WordPress does not run wpautop on block content: a newline inside a block's <p> is
    not a line break, a <br> is."""
    _, body = imported("wxr-1.2-wp-6.5-simple.xml").article("hello-world")
    assert body == (
        "Two roads diverged in a yellow wood,\\\nAnd sorry I could not travel both\n\n"
        "[One](https://playground.internal/path/one) seemed great, but "
        "[the other](https://playground.internal/path-not-taken) seemed great too.\n"
        "There was also a [third](https://w.org) option, but it was not as great.\n"
        "playground.internal/path/one was the best choice.\n"
        "https://playground.internal/path-not-taken was the second best choice.\n"
    )


def test_classic_paragraphs_and_line_breaks(imported):
    _, body = imported("wxr-1.1-blank-lines.xml").article("hello-world")
    assert body == (
        "This is an example of a WordPress post.\\\n"
        "It has lines with text (and one blank line).\n\nAnd more lines with text.\n"
    )


def test_captions_in_both_forms(imported):
    _, body = imported(PELICAN).article("caption-on-image")
    assert "![](http://thisisa.test/theme/img/xpelican.png.pagespeed.ic.Rjep0025-y.png)\n\n" in body
    assert "\n\n*This is a pelican*\n\n" in body  # [caption caption="…"]
    assert "\n\n*This also a pelican*\n\n" in body  # [caption]…text[/caption]
    # a link around the image left open in the source: the caption is not inside it
    assert "(https://getpelican.com/)\n\n*Yet another pelican*" in body


def test_captions_with_links_and_as_attributes_in_the_unit_test_data(imported):
    _, body = imported(UNIT).article("post-format-image-linked")  # [caption caption="…"]
    assert "*Chunk of resinous blackboy husk, Clarkson, Western Australia." in body
    _, body = imported(UNIT).article("block-image")  # a link inside a caption
    assert (
        "*Look at 580x300 getting some [caption](https://en.support.wordpress.com/images/"
        'image-settings/ "Image Settings") love.*'
    ) in body


def test_galleries_are_the_exports_attachments(imported):
    result = imported(UNIT)
    _, body = result.article("post-format-gallery")  # ten [gallery] of 23 attached images
    assert body.count("![") == 230
    assert "![Bell on Wharf](https://wpthemetestdata.files.wordpress.com/2008/06/100_5478.jpg)" in (
        body
    )
    assert "*Bell on wharf in San Francisco*" in body
    _, body = result.article("post-format-gallery-tiled")  # [gallery ids="755,757,…"]
    images = re.findall(r"!\[([^\]]*)\]", body)
    assert images == [  # 763 is not in the export
        "Golden Gate Bridge",
        "Boardwalk",
        "Yachtsody in Blue",
        "Sydney Harbor Bridge",
        "Big Sur",
    ]


def test_a_block_gallery_has_one_image_a_line(imported):
    _, body = imported(BLOCKS).article("gallery")
    assert body.startswith(
        "![](https://wpthemetestdata.files.wordpress.com/2008/06/img_0747.jpg)\n\n"
        "![](https://wpthemetestdata.files.wordpress.com/2008/06/windmill.jpg)\n\n"
    )


MP3 = (
    "https://wpthemetestdata.files.wordpress.com/2008/06/"
    "originaldixielandjazzbandwithalbernard-stlouisblues.mp3"
)
MOV = "https://wpthemetestdata.files.wordpress.com/2013/12/2014-slider-mobile-behavior.mov"


def test_audio_and_video_blocks_are_links_with_their_captions(imported):
    _, body = imported(BLOCKS).article("audio")
    assert f"<{MP3}>\n\n*St. Louis Blues, by Original Dixieland Jazz Band" in body
    _, body = imported(BLOCKS).article("video")
    assert f"<{MOV}>\n\n*With custom caption*" in body
    windmill = "https://wpthemetestdata.files.wordpress.com/2008/06/windmill.jpg"
    assert f"[![]({windmill})]({MOV})\n\n*With poster image*" in body
    _, body = imported(BLOCKS).article("shortcode")  # [audio src="…"] in a shortcode block
    assert f"<{MP3}>" in body


def test_audio_shortcodes_and_embeds_in_the_unit_test_data(imported):
    _, body = imported(UNIT).article("post-format-audio")  # [audio https://…mp3]
    assert f"Audio shortcode:\n\n<{MP3}>" in body
    _, body = imported(UNIT).article("blocks-embeds")  # a caption ending with <br>
    assert "<https://youtu.be/ex8fMxXJDJw>\n\n*YouTube*\n" in body
    _, body = imported(UNIT).article("post-format-video-youtube")  # a URL alone on its line
    assert body.startswith("<https://www.youtube.com/watch?v=SQEQr7c0-dw>\n\n")


def test_a_frame_is_a_link(imported):
    _, body = imported(PELICAN).article("post-with-raw-data")
    assert "<http://www.youtube.com/embed/QNNl_uWmQXE>" in body


def test_a_file_block_is_one_link(imported):
    _, body = imported(BLOCKS).article("file")
    assert body.startswith(
        "[Wind Farm](https://wpthemetestdata.files.wordpress.com/2008/06/"
        "dsc20050102_192118_51.jpg)\n\n"
    )
    assert "Download" not in body


def test_a_classic_table_and_preformatted_text(imported):
    _, body = imported(UNIT).article("markup-html-tags-and-formatting")
    assert "| Employee | Salary | |\n| --- | --- | --- |\n" in body
    assert "\\|" not in body
    _, body = imported(UNIT).article("blocks-formatting")
    assert "```\nThe preformatted block.\n\nThe Road Not Taken\n" in body


def test_the_featured_image(imported):
    front, _ = imported(UNIT).article("template-featured-image-horizontal")
    assert (
        "image: https://wpthemetestdata.files.wordpress.com/2013/03/featured-image-horizontal.jpg"
        in front
    )


def test_backslashes_are_text(imported):
    """WordPress's importer test keeps the backslashes of `Slashes aren\\'t \\"cool\\"`;
    in Markdown `\\'` is an escape, so they are doubled, and the site shows them."""
    _, body = imported("wxr-1.1-slashes.xml").article("hello-world")
    assert body == 'Slashes aren\\\\\'t \\\\"cool\\\\"\n'
    assert render_markdown(body) == '<p>Slashes aren\\\'t \\"cool\\"</p>\n'


# -- whole files: namespaces, nothing readable, the report ------------------------------


def test_the_https_namespace_reads_as_the_http_one(tmp_path):
    source = (REAL / "wxr-1.2-wp-6.5-simple.xml").read_text("utf-8")
    assert "http://wordpress.org/export/1.2/" in source
    https = tmp_path / "https.xml"
    https.write_text(
        source.replace("http://wordpress.org/export/", "https://wordpress.org/export/")
    )
    for name, path in (("http", REAL / "wxr-1.2-wp-6.5-simple.xml"), ("https", https)):
        import_sources([path], tmp_path / name)
    assert tree(tmp_path / "http") == tree(tmp_path / "https")
    assert (tmp_path / "https" / "articles" / "hello-world.md").exists()


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text("utf-8") for p in folder.rglob("*.*")}


WXR = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="{namespace}">
<channel><title>Site</title><link>https://site.example</link>
<wp:wxr_version>1.2</wp:wxr_version>
<wp:author><wp:author_login>ann</wp:author_login><wp:author_display_name>Ann</wp:author_display_name></wp:author>
{items}
</channel></rss>
"""
POST = """<item><title>{title}</title><link>https://site.example/{n}/</link>
<guid>https://site.example/?p={n}</guid><dc:creator>ann</dc:creator>
<content:encoded><![CDATA[{body}]]></content:encoded>
<wp:post_id>{n}</wp:post_id><wp:post_date>{date}</wp:post_date>
<wp:post_date_gmt>{date}</wp:post_date_gmt><wp:post_name>post-{n}</wp:post_name>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item>
"""


def wxr(path: Path, *posts: dict, namespace="https://wordpress.org/export/1.2/") -> Path:
    items = "".join(
        POST.format(n=n, **{"title": "T", "body": "B", "date": "2024-01-02 03:04:05", **post})
        for n, post in enumerate(posts, 1)
    )
    path.write_text(WXR.format(namespace=namespace, items=items), "utf-8")
    return path


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["import", *map(str, args)])
    return result.exit_code, result.output


@pytest.mark.parametrize("skip_invalid", [[], ["--skip-invalid"]])
def test_an_export_in_an_unknown_namespace_is_an_error_naming_it(skip_invalid, tmp_path):
    source = wxr(tmp_path / "export.xml", {}, {}, namespace="http://wordpress.org/export/")
    code, output = run(source, "--data", tmp_path / "data", *skip_invalid)
    assert code == 1
    assert output.splitlines() == [
        f"error: {source}: not a WordPress export that can be read: its WordPress elements "
        "are in `http://wordpress.org/export/` (WXR uses http:// or "
        "https://wordpress.org/export/1.0/, 1.1/ or 1.2/)",
        "1 error; nothing was imported (data/ is unchanged)",
    ]
    assert not (tmp_path / "data").exists()


def test_the_theme_unit_test_data_in_an_unknown_namespace(tmp_path):
    """What the real export met before https:// was read: one error naming the
    namespace, not 234 "date: missing" for its 186 items, nor 'created 1' with exit 0."""
    source = tmp_path / "unit.xml"
    text = (REAL / UNIT).read_text("utf-8")
    source.write_text(
        text.replace("https://wordpress.org/export/1.2/", "https://wordpress.org/export/2/")
    )
    code, output = run(source, "--data", tmp_path / "data", "--skip-invalid")
    assert code == 1
    assert "its WordPress elements are in `https://wordpress.org/export/2/`" in output
    assert "date" not in output and len(output.splitlines()) == 2


def test_an_export_whose_posts_are_all_invalid_is_an_error(tmp_path):
    source = wxr(tmp_path / "export.xml", {"date": "yesterday"}, {"date": "tomorrow"})
    code, output = run(source, "--data", tmp_path / "data", "--skip-invalid")
    assert code == 1
    assert (
        f"{source}: nothing could be imported: every post to publish is invalid "
        "(2× datePublished: not a date)" in output
    )
    assert not (tmp_path / "data").exists()


def test_untitled_posts(tmp_path):
    """The first words of the text (ten at most, `…` when cut), else "(no title)"; a strict
    import is not stopped by them."""
    words = "One two three four five six seven eight nine ten eleven."
    source = wxr(
        tmp_path / "export.xml",
        {"title": "", "body": f"<p>{words}</p>"},
        {"title": "", "body": "<p>Short <em>one</em>.</p>"},
        {"title": "", "body": '<img src="https://site.example/a.jpg">'},
    )
    code, output = run(source, "--data", tmp_path / "data")
    assert code == 0, output
    headlines = [
        re.search(
            r"^headline: (.*)$", (tmp_path / "data" / "articles" / f"post-{n}.md").read_text(), re.M
        ).group(1)
        for n in (1, 2, 3)
    ]
    assert headlines == [
        "One two three four five six seven eight nine ten…",
        "Short one",
        "(no title)",
    ]


def test_skipped_items_are_counted_by_reason_unless_verbose(tmp_path):
    code, output = run(REAL / UNIT, "--data", tmp_path / "data")
    assert code == 0, output
    assert output.splitlines()[-2:] == [
        f"{REAL / UNIT}: skipped 131: 70× nav menu item, 37× attachment, 21× {PAGE}, "
        "1× scheduled, 1× draft, 1× password-protected",
        "created 183, changed 0; 0 unchanged, 0 kept as edited, 131 skipped, 0 invalid",
    ]
    code, output = run(REAL / "wxr-1.0-wp-2.8.4-postmeta.xml", "--data", tmp_path / "draft")
    assert f"{REAL}/wxr-1.0-wp-2.8.4-postmeta.xml: item http://test.wordpress.org/postmeta: " in (
        output
    )  # one item skipped: its own line
    code, output = run(REAL / UNIT, "--data", tmp_path / "again", "--verbose")
    lines = output.splitlines()
    assert sum(line.endswith(": skipped (nav menu item)") for line in lines) == 70
    assert not any("skipped 131:" in line for line in lines)


@pytest.mark.parametrize(
    "content",
    [
        "[caption]" * 40_000,  # openers without a closer
        "[gallery " * 40_000,
        "[embed]" + "x" * 200_000,
        "<p" * 40_000,
        " " * 400_000 + "x",  # a run of spaces, then no newline
        "\n" * 200_000 + "x",
        " " * 200_000 + "<figcaption>x</figcaption>",
        "<!-- wp:paragraph --><p>x" + "<br>" * 20_000 + "</p>",  # breaks at a block's edge
    ],
    ids=["captions", "galleries", "embed", "p", "spaces", "newlines", "figcaption", "breaks"],
)
def test_content_that_would_take_quadratic_time_does_not(content):
    import time

    from lod.ingest import wpcontent

    started = time.monotonic()
    wpcontent.render(content)
    assert time.monotonic() - started < 10
