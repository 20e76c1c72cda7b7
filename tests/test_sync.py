"""`lod sync URL`: a live WordPress kept in step through its REST API.

The site is a real WordPress (tests/wordpress.py: Debian's wordpress, mariadb-server,
php-cli and php-mysql), installed by the fixture and filled through the REST API itself;
what a real site cannot be made to do on demand (429, 500, broken JSON, a timeout, a total
that changes between pages) is played by a stand-in (tests/fakewordpress.py), in
tests/test_sync_faults.py.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from lod import Settings, build
from lod.cli import cli
from lod.errors import SyncFailed
from lod.ingest import slugs
from lod.ingest.sync import SyncOptions, sync
from lod.ingest.wpapi import Credentials
from lod.web import create_app

from .conftest import require
from .fakewordpress import FakeWordPress, post
from .wordpress import WordPress, available

SUMMARY = re.compile(r"^sync (\S+): (\d+) new, (\d+) changed, (\d+) gone, (\d+) renamed$")


@pytest.fixture(scope="module")
def wordpress(tmp_path_factory):
    """A real WordPress on 127.0.0.1 for the module, stopped at the end."""
    require(available(), "WordPress (wordpress, mariadb-server, php-cli, php-mysql)")
    site = WordPress(tmp_path_factory.mktemp("wordpress"))
    try:
        site.start()
        yield site
    finally:
        site.stop()
        shutil.rmtree(site.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def content(wordpress):
    """The site filled through its REST API: posts in every state, categories with a
    parent, tags, two authors, a featured image with a caption, a non-ASCII slug, a page.
    The ids by role."""
    wp = wordpress
    news = wp.category("News & views")
    local = wp.category("Local", parent=news["id"])
    climate, economy = wp.tag("Climate"), wp.tag("Économie")
    jane = wp.author("jane", "Jane Doe")
    image = wp.image("square.png", caption="A <em>red</em> square", alt="A red square")
    ids = {
        "featured": wp.post(
            title="Floods &amp; the city",
            status="publish",
            content="<p>The river rose.</p>",
            excerpt="What the floods did.",
            categories=[local["id"]],
            tags=[climate["id"], economy["id"]],
            featured_media=image["id"],
            author=jane["id"],
        )["id"],
        "russian": wp.post(title="Новости Москвы", slug="новости-москвы", status="publish")["id"],
        "draft": wp.post(title="A draft", status="draft", content="<p>Not yet.</p>")["id"],
        "private": wp.post(title="Private", status="private", content="<p>Ours.</p>")["id"],
        "protected": wp.post(title="Members", status="publish", password="pw")["id"],
    }
    trashed = wp.post(title="Trashed", status="publish", content="<p>Gone.</p>")
    wp.rest("DELETE", f"posts/{trashed['id']}")
    for role in ("edit", "unpublish", "rename", "delete", "trash"):
        ids[role] = wp.post(
            title=f"To {role}",
            status="publish",
            content=f"<p>A post to {role}.</p>",
            categories=[news["id"]],
            author=jane["id"] if role == "edit" else 1,
        )["id"]
    ids["page"] = wp.rest(
        "POST", "pages", json={"title": "About us", "status": "publish", "content": "<p>We.</p>"}
    )["id"]
    return ids


def run(wordpress, data: Path, **options) -> object:
    return sync(
        wordpress.url,
        data,
        credentials=Credentials(wordpress.user, wordpress.password),
        options=SyncOptions(**options),
    )


def counts(report) -> tuple[int, int, int, int]:
    found = SUMMARY.match(report.summary())
    assert found, report.summary()
    return tuple(int(n) for n in found.groups()[1:])


def load(text: str):
    """YAML as the build reads it: every scalar as text."""
    return yaml.load(text, Loader=yaml.BaseLoader)


def front(path: Path) -> dict:
    return load(path.read_text("utf-8").split("---\n")[1])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.mark.slow
def test_the_first_sync_imports_what_the_site_publishes(wordpress, content, tmp_path):
    data = tmp_path / "data"
    report = run(wordpress, data)
    articles = sorted(p.stem for p in (data / "articles").iterdir())
    assert articles == sorted(
        [
            "hello-world",
            "floods-the-city",
            "novosti-moskvy",
            "to-edit",
            "to-unpublish",
            "to-rename",
            "to-delete",
            "to-trash",
        ]
    )
    assert counts(report) == (8, 0, 0, 0)
    assert not (data / "documents").exists()  # pages only with --pages
    assert any("password-protected" in line for line in report.lines())
    featured = data / "articles" / "floods-the-city.md"
    fields = front(featured)
    assert fields["headline"] == "Floods & the city"
    assert fields["author"] == ["person/jane-doe"]
    assert fields["about"] == ["topic/local", "topic/news-views", "topic/climate", "topic/economie"]
    assert fields["image"].startswith(wordpress.url) and fields["image"].endswith("square.png")
    assert fields["description"] == "What the floods did."
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00$", fields["datePublished"])
    body = featured.read_text("utf-8").split("---\n", 2)[2]
    assert body.startswith(
        f"![A red square]({fields['image']})\n\n*A red square*\n\nThe river rose."
    )
    assert "description" not in front(data / "articles" / "to-edit.md")  # WordPress's own excerpt
    assert load((data / "topics" / "local.yaml").read_text()) == {
        "id": "local",
        "name": "Local",
        "broader": "news-views",
    }
    assert load((data / "people" / "jane-doe.yaml").read_text())["name"] == "Jane Doe"
    dataset = load((data / "dataset.yaml").read_text())
    assert dataset["publisher"] == "example-news"
    state = (data / ".sync").glob("*.yaml")
    assert [p.name for p in state] == [f"127-0-0-1-{wordpress.port}.yaml"]
    build(Settings(data=data, out=tmp_path / "dist"))


@pytest.mark.slow
def test_pages_dry_run_and_the_command_line(wordpress, content, tmp_path):
    data = tmp_path / "data"
    runner = CliRunner()
    environment = {"LOD_WP_USER": wordpress.user, "LOD_WP_PASSWORD": wordpress.password}
    dry = runner.invoke(
        cli, ["sync", wordpress.url, "--data", str(data), "--pages", "--dry-run"], env=environment
    )
    assert dry.exit_code == 0, dry.output
    assert "new document/about-us" in dry.output and "(dry run: nothing written)" in dry.output
    assert not data.exists()
    done = runner.invoke(
        cli, ["sync", wordpress.url, "--data", str(data), "--pages"], env=environment
    )
    assert done.exit_code == 0, done.output
    last = done.output.strip().splitlines()[-1]
    assert SUMMARY.match(last) and last.startswith(f"sync {wordpress.url}: ")
    assert (data / "documents" / "about-us.md").is_file()
    for path in data.rglob("*"):  # the application password is nowhere in data/
        if path.is_file():
            assert wordpress.password.encode() not in path.read_bytes(), path
    assert wordpress.password not in dry.output + done.output
    half = runner.invoke(
        cli, ["sync", wordpress.url, "--data", str(data)], env={"LOD_WP_USER": "x"}
    )
    assert half.exit_code == 1 and "LOD_WP_PASSWORD is not set" in half.output


@pytest.mark.slow
def test_edits_unpublishing_renames_and_deletions_are_kept_in_step(wordpress, content, tmp_path):
    data, out = tmp_path / "data", tmp_path / "dist"
    assert counts(run(wordpress, data)) == (8, 0, 0, 0)
    build(Settings(data=data, out=out))
    edited = data / "articles" / "to-edit.md"
    text = edited.read_text("utf-8").replace(
        "url:",
        "about:\n  - topic/climate\nmentions:\n  - person/jane-doe\n"
        "sameAs:\n  - https://www.wikidata.org/wiki/Q42\nurl:",
        1,
    )
    edited.write_text(text.replace("about:\n  - topic/news-views\n", "", 1), "utf-8")
    moving = data / "articles" / "to-rename.md"
    text = moving.read_text("utf-8")
    moving.write_text(text.replace("url:", "# checked by the desk\nmentions: [topic/local]\nurl:"))

    time.sleep(1)  # an edit in a later second than the first sync's newest
    wp = wordpress
    wp.edit(content["edit"], title="Edited", content="<p>A post, edited.</p>")
    wp.edit(content["unpublish"], status="draft")
    wp.edit(content["rename"], slug="renamed")
    wp.rest("DELETE", f"posts/{content['delete']}", params={"force": "true"})
    wp.rest("DELETE", f"posts/{content['trash']}")
    content["new"] = wp.post(title="Fresh news", status="publish", content="<p>New.</p>")["id"]

    report = run(wordpress, data, today="2030-01-02")
    assert counts(report) == (1, 1, 3, 1), report.lines(every=True)
    assert report.read <= 6  # what changed, not the whole site
    fields = front(edited)
    assert fields["headline"] == "Edited" and "dateModified" in fields
    assert fields["mentions"] == ["person/jane-doe"]  # added by hand: kept
    assert fields["sameAs"] == ["https://www.wikidata.org/wiki/Q42"]
    assert fields["about"] == ["topic/climate", "topic/news-views"]  # hand-added kept, merged
    assert "A post, edited." in edited.read_text("utf-8")
    renamed = front(data / "articles" / "renamed.md")
    assert renamed["id"] == "renamed" and renamed["formerIds"] == ["to-rename"]
    assert renamed["mentions"] == ["topic/local"]  # added by hand: moved with the record
    assert "# checked by the desk\n" in (data / "articles" / "renamed.md").read_text("utf-8")
    assert renamed["url"].endswith("/renamed/")
    for gone in ("to-rename", "to-unpublish", "to-delete", "to-trash"):
        assert not (data / "articles" / f"{gone}.md").exists()
    entries = {e["id"]: e for e in load((data / "gone.yaml").read_text())}
    assert set(entries) == {"article/to-unpublish", "article/to-delete", "article/to-trash"}
    assert entries["article/to-unpublish"]["reason"] == f"unpublished on {wp.url} (a draft again)"
    assert entries["article/to-delete"]["reason"] == f"deleted from {wp.url}"
    assert entries["article/to-trash"]["reason"] == f"trashed on {wp.url}"
    assert {e["date"] for e in entries.values()} == {"2030-01-02"}
    build(Settings(data=data, out=out))  # the permanence check passes: 301s and 410s
    shows_everywhere(Settings(data=data, out=out))

    before = snapshot(data)
    again = run(wordpress, data)
    assert counts(again) == (0, 0, 0, 0) and snapshot(data) == before  # nothing to write

    wp.edit(content["unpublish"], status="publish")  # published again: its IRI lives again
    back = run(wordpress, data)
    assert counts(back) == (1, 0, 0, 0), back.lines(every=True)
    assert (data / "articles" / "to-unpublish.md").is_file()
    entries = load((data / "gone.yaml").read_text())
    assert [e["id"] for e in entries] == ["article/to-delete", "article/to-trash"]
    build(Settings(data=data, out=out))


def shows_everywhere(settings: Settings) -> None:
    """After a sync and a build, the change is on every surface: the new article's page,
    search, the feed and the change stream; the removed one answers 410 and is a tombstone
    in /ldes; the renamed one answers 301."""
    client = create_app(settings).test_client()
    new = "article/fresh-news"
    assert client.get(f"/doc/{new}", headers={"Accept": "text/html"}).status_code == 200
    found = client.get("/search?q=fresh", headers={"Accept": "application/json"}).get_json()
    assert any(r["iri"].endswith(f"/id/{new}") for r in found["results"]), found
    assert "Fresh news" in client.get("/feeds/articles.atom").get_data(as_text=True)
    assert client.get("/id/article/to-delete").status_code == 410
    assert client.get("/id/article/to-rename").status_code == 301
    stream = client.get("/ldes", headers={"Accept": "application/json"})
    assert stream.status_code == 200
    pages = history_pages(settings)
    last = client.get(f"/ldes/{pages}.nq").get_data(as_text=True)
    assert f"/id/{new}>" in last
    tombstone = "<https://www.w3.org/ns/activitystreams#Delete>"
    assert any("to-delete" in line and tombstone in line for line in last.splitlines()), last


def history_pages(settings: Settings) -> int:
    from lod.layout import open_build
    from lod.serve.ldes import History

    return History(open_build(settings.out).path).pages


# Cases a stand-in shows in a blink (tests/fakewordpress.py)


def test_a_slug_declared_gone_is_never_taken_by_another_post(tmp_path):
    with FakeWordPress(count=3) as site:
        data = tmp_path / "data"
        (data).mkdir()
        (data / "gone.yaml").write_text("[]\n", "utf-8")  # an empty flow list: rewritten
        sync(site.url, data)
        del site.posts[0]  # post-1: gone
        assert (
            sync(site.url, data, options=SyncOptions(today="2030-01-01"))
            .summary()
            .endswith("0 new, 0 changed, 1 gone, 0 renamed")
        )
        newcomer = post(9)
        newcomer["slug"] = "post-1"
        newcomer["modified"] = "2030-01-01T00:00:00"
        site.posts.append(newcomer)
        report = sync(site.url, data)
        assert report.new == [f"article/post-1-{slugs.digest(newcomer['guid']['rendered'], 6)}"]
        assert load((data / "gone.yaml").read_text()) == [
            {"id": "article/post-1", "reason": f"deleted from {site.url}", "date": "2030-01-01"}
        ]
        assert not (data / "articles" / "post-1.md").exists()


def test_a_gone_list_written_as_a_flow_list_is_not_edited(tmp_path):
    with FakeWordPress(count=2) as site:
        data = tmp_path / "data"
        sync(site.url, data)
        (data / "gone.yaml").write_text(
            "[{id: article/old, reason: gone, date: 2024-01-01}]\n", "utf-8"
        )
        with pytest.raises(SyncFailed) as failed:
            sync(site.url, data)
        assert "gone.yaml: write it as a block list" in str(failed.value)


def test_links_to_a_record_gone_or_moved_are_named(tmp_path):
    with FakeWordPress(count=3) as site:
        data = tmp_path / "data"
        sync(site.url, data)
        linking = data / "articles" / "post-2.md"
        text = linking.read_text("utf-8")
        linking.write_text(
            text.replace("url:", "mentions:\n  - article/post-1\n  - article/post-3\nurl:")
        )
        del site.posts[0]
        site.posts[-1]["slug"] = "post-three"
        site.posts[-1]["modified"] = "2030-01-01T00:00:00"
        report = sync(site.url, data)
        assert report.summary().endswith("0 new, 0 changed, 1 gone, 1 renamed")
        assert report.notes == [
            f"{linking}:11: mentions: article/post-1 is gone: remove the link",
            f"{linking}:12: mentions: article/post-3 is now article/post-three",
        ]
        assert report.lines()[-3:-1] == report.notes


def test_what_is_not_embedded_is_asked_for_once_by_id(tmp_path):
    with FakeWordPress(count=5, per_page=2) as site:
        for each in site.posts:
            del each["_embedded"]  # a site that refuses embeds
        site.posts.append(post(6) | {"author": 7})  # a user the site does not show
        del site.posts[-1]["_embedded"]
        data = tmp_path / "data"
        report = sync(site.url, data)
        assert report.summary().endswith("6 new, 0 changed, 0 gone, 0 renamed")
        asked = [path for path in site.requests if "/wp/v2/users" in path]
        assert len(asked) == 2  # id 1 with the first page, 7 with the third: each once
        assert load((data / "people" / "ann-editor.yaml").read_text())["name"] == "Ann Editor"
        assert front(data / "articles" / "post-1.md")["author"] == ["person/ann-editor"]
        assert "author" not in front(data / "articles" / "post-6.md")


def test_a_posts_polylang_language_is_its_articles(tmp_path):
    """Polylang Pro adds `lang` (the language's code) to the API's posts."""
    with FakeWordPress(count=3) as site:
        site.posts[0]["lang"] = "fr"
        site.posts[1]["lang"] = "pt_BR"
        data = tmp_path / "data"
        sync(site.url, data)
        assert front(data / "articles" / "post-1.md")["inLanguage"] == "fr"
        assert front(data / "articles" / "post-2.md")["inLanguage"] == "pt-BR"
        assert "inLanguage" not in front(data / "articles" / "post-3.md")
