"""`lod import` on hostile and broken input: each refused with one line naming the file,
the item and the field, and data/ left exactly as it was."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lod.cli import cli
from lod.errors import ImportFailed
from lod.ingest import Options, import_sources

from .conftest import DATA
from .test_import import FIXTURES, tree

RSS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>T</title>'
    "<link>https://ex.org/</link>{items}</channel></rss>\n"
)
ITEM = (
    "<item><title>{title}</title><link>https://ex.org/{n}</link><guid>urn:x:{n}</guid>{date}</item>"
)
DATE = "<pubDate>Mon, 01 Jan 2024 09:00:00 GMT</pubDate>"

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<rss version="2.0"><channel><title>&lol3;</title></channel></rss>
"""
QUADRATIC = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "' + "x" * 50_000 + '">]>\n'
    '<rss version="2.0"><channel><title>' + "&a;" * 1000 + "</title></channel></rss>\n"
)
XXE = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&secret;</title></channel></rss>
"""
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE rss SYSTEM "http://127.0.0.1:9/evil.dtd">
<rss version="2.0"><channel><title>&fromdtd;</title></channel></rss>
"""
PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>
<rss version="2.0"><channel><title>x</title></channel></rss>
"""


@pytest.fixture
def data(tmp_path) -> Path:
    """A copy of the default dataset with one earlier import in it."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    import_sources([FIXTURES / "rss1.rdf"], target)
    return target


def refused(data: Path, source: Path, **options) -> str:
    """Import source, expect ImportFailed, check data/ is unchanged; the message."""
    before = tree(data)
    with pytest.raises(ImportFailed) as failed:
        import_sources([source], data, **options)
    assert tree(data) == before
    assert not [p for p in data.iterdir() if p.name.startswith(".import-")]
    return str(failed.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BILLION_LAUGHS, "refused: the XML declares an entity (`lol`)"),
        (QUADRATIC, "refused: the XML declares an entity (`a`)"),
        (XXE, "refused: the XML declares an entity (`secret`)"),
        (PARAMETER_ENTITY, "refused: the XML declares an entity (`remote`)"),
        (EXTERNAL_DTD, "not well-formed XML: undefined entity"),
        (
            RSS.format(items=ITEM.format(title="a", n=1, date=DATE)).replace("</channel>", ""),
            "not well-formed XML: mismatched tag",
        ),
        (
            RSS.format(items=ITEM.format(title="caf&eacute;", n=1, date=DATE)),
            "not well-formed XML: undefined entity",
        ),
    ],
    ids=[
        "billion-laughs",
        "quadratic",
        "xxe",
        "parameter-entity",
        "external-dtd",
        "bad-tag",
        "html-entity",
    ],
)
def test_hostile_or_broken_xml_is_refused(data, tmp_path, text, expected):
    source = tmp_path / "feed.xml"
    source.write_text(text, "utf-8")
    message = refused(data, source)
    assert f"{source}:" in message and expected in message
    assert "root:" not in message  # /etc/passwd was never read


def test_an_unknown_encoding_is_refused(data, tmp_path):
    source = tmp_path / "feed.xml"
    source.write_bytes(
        RSS.format(items=ITEM.format(title="a", n=1, date=DATE))
        .replace("UTF-8", "x-mac-klingon")
        .encode()
    )
    assert f"{source}:1: unknown encoding: x-mac-klingon (save it as UTF-8)" in refused(
        data, source
    )


def test_a_source_over_the_size_cap_is_refused_before_it_is_parsed(data, tmp_path):
    source = tmp_path / "feed.xml"
    source.write_text(RSS.format(items=ITEM.format(title="a", n=1, date=DATE) * 50), "utf-8")
    message = refused(data, source, options=Options(max_bytes=1000))
    assert f"{source}: too large (" in message and "the limit is 1000" in message


def test_an_item_over_the_item_cap_is_refused(data, tmp_path):
    source = tmp_path / "feed.xml"
    big = "<description>" + "x" * 5000 + "</description>"
    source.write_text(RSS.format(items=ITEM.format(title="a", n=1, date=DATE + big)), "utf-8")
    message = refused(data, source, options=Options(max_item_bytes=1000))
    assert "item urn:x:1: content: too large (5000 characters)" in message


def test_items_without_title_or_date_are_named(data, tmp_path):
    source = tmp_path / "feed.xml"
    items = (
        ITEM.format(title="", n=1, date=DATE)
        + ITEM.format(title="No date", n=2, date="")
        + ITEM.format(title="Bad date", n=3, date="<pubDate>yesterday</pubDate>")
        + "<item><title>no link, no guid</title></item>"
    )
    source.write_text(RSS.format(items=items), "utf-8")
    lines = refused(data, source).splitlines()
    assert lines == [
        f"{source}: item urn:x:1: title: missing: every article needs one",
        f"{source}: item urn:x:2: date: missing: no publication date",
        f"{source}: item urn:x:3: datePublished: not a date: `yesterday` is neither ISO 8601 "
        "nor RFC 822",
        f"{source}: item #4: date: missing: no publication date",
        "4 errors; nothing was imported (data/ is unchanged)",
    ]


def test_skip_invalid_imports_the_rest_and_lists_what_it_skipped(data, tmp_path):
    source = tmp_path / "feed.xml"
    items = ITEM.format(title="", n=1, date=DATE) + ITEM.format(title="Good", n=2, date=DATE)
    source.write_text(RSS.format(items=items), "utf-8")
    result = CliRunner().invoke(cli, ["import", str(source), "--data", str(data), "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert (
        f"skipped as invalid: {source}: item urn:x:1: title: missing: every article needs one"
        in result.output
    )
    assert "created 2, changed 0; 0 unchanged, 0 kept as edited, 0 skipped, 1 invalid" in (
        result.output
    )
    assert (data / "articles" / "ex-2.md").exists()


def test_skip_invalid_never_skips_a_file_that_is_not_well_formed(data, tmp_path):
    source = tmp_path / "feed.xml"
    source.write_text(BILLION_LAUGHS, "utf-8")
    assert "refused" in refused(data, source, skip_invalid=True)


def test_a_page_with_broken_json_ld(data, tmp_path):
    """A block in which no JSON can be found (a template tag left unrendered); blocks that
    are JSON as themes write it are read (tests/test_import_pages_feeds.py)."""
    page = tmp_path / "page.html"
    page.write_text(
        '<html><head><script type="application/ld+json">{{ article.schema | jsonify }}'
        "</script></head><body></body></html>",
        "utf-8",
    )
    message = refused(data, page)
    assert f"{page}:1: item JSON-LD block 1: broken JSON-LD: Expecting property name" in message
    good = tmp_path / "pages"
    good.mkdir()
    shutil.copy(page, good / "a-broken.html")
    shutil.copy(FIXTURES / "pages" / "rdfa.html", good / "b-good.html")
    report = import_sources([good], data, skip_invalid=True)
    assert [e.item for e in report.tally.invalid] == ["JSON-LD block 1"]
    assert (data / "articles" / "reef-survey-2024.md").exists()


def test_a_page_without_schema_org(data, tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<!doctype html><html><body><p>Hello</p></body></html>", "utf-8")
    assert f"{page}: item the page: no schema.org found" in refused(data, page)


def test_a_broken_json_feed(data, tmp_path):
    feed = tmp_path / "feed.json"
    feed.write_text('{"version": "https://jsonfeed.org/version/1.1", "items": [}', "utf-8")
    assert f"{feed}:1: not valid JSON: Expecting value" in refused(data, feed)


def test_something_that_is_no_source(data, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("just some notes\n", "utf-8")
    assert f"{other}: not a feed, WordPress export, web page or CSV" in refused(data, other)
    assert f"{tmp_path / 'missing.xml'}: no such file or folder" in refused(
        data, tmp_path / "missing.xml"
    )


def test_a_failure_while_renaming_puts_everything_back(data, monkeypatch):
    before = tree(data)
    real = os.replace
    calls = []

    def failing(source, target):
        calls.append(target)
        if len(calls) == 6:
            raise OSError(28, "No space left on device")
        return real(source, target)

    monkeypatch.setattr(os, "replace", failing)
    from lod.errors import PublishError

    with pytest.raises(PublishError, match="No space left on device; nothing was changed"):
        import_sources([FIXTURES / "wordpress.xml"], data)
    monkeypatch.setattr(os, "replace", real)
    assert tree(data) == before
    assert not (data / "articles" / "mangrove-restoration-dakar.md").exists()


def test_javascript_and_data_links_are_dropped(data, tmp_path):
    feed = tmp_path / "feed.xml"
    body = (
        "<description><![CDATA[<p><a href=' JavaScript:alert(1)'>a</a> <a href='data:x'>b</a>"
        " <a href='vbscript:x'>c</a> <img src='javascript:x'> <a href='/ok'>d</a></p>]]>"
        "</description>"
    )
    feed.write_text(RSS.format(items=ITEM.format(title="Links", n=1, date=DATE + body)), "utf-8")
    import_sources([feed], data)
    text = (data / "articles" / "ex-1.md").read_text("utf-8")
    assert text.endswith("---\na b c [d](https://ex.org/ok)\n")


def test_the_command_prints_one_line_per_error_and_exits_1(data, tmp_path):
    source = tmp_path / "feed.xml"
    source.write_text(XXE, "utf-8")
    before = tree(data)
    result = CliRunner().invoke(cli, ["import", str(source), "--data", str(data)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: "), result.stderr
    assert "refused: the XML declares an entity (`secret`)" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert tree(data) == before
