"""`lod sync` when the site or the network fails: each fault is one clear line, the sync
retries what may pass (with back-off, honouring Retry-After), and data/ is left as it was
unless the whole sync succeeded. The site is a stand-in (tests/fakewordpress.py): a real
WordPress cannot be made to fail on demand."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lod.cli import cli
from lod.errors import SyncFailed
from lod.ingest.sync import SyncOptions, sync
from lod.ingest.syncfiles import locked
from lod.ingest.wpapi import Credentials, Limits

from .fakewordpress import FakeWordPress, post

LIMITS = Limits(timeout=0.5, retries=2, backoff=0.05, longest_wait=5, largest=1 << 20)
UNCHANGED = "; nothing was written (data/ is unchanged)"


@pytest.fixture
def site():
    with FakeWordPress(count=5, per_page=2) as fake:  # 3 pages of posts
        yield fake


@pytest.fixture
def data(site, tmp_path) -> Path:
    """data/ after a good sync of the stand-in, whose posts have changed since: a sync
    that succeeded now would change data/."""
    folder = tmp_path / "data"
    report = run(site, folder)
    assert report.summary() == f"sync {site.url}: 5 new, 0 changed, 0 gone, 0 renamed"
    edited = site.posts[1]
    edited["title"] = {"rendered": "Post 2, edited"}
    edited["modified"], edited["modified_gmt"] = "2024-05-01T10:00:00", "2024-05-01T08:00:00"
    site.posts.append(post(6))
    return folder


def run(site: FakeWordPress, folder: Path, **options):
    return sync(site.url, folder, options=SyncOptions(limits=LIMITS, **options))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _changes_under_paging(site: FakeWordPress) -> None:
    site.fault("wp/v2/posts", page="2", times=1, then=lambda: site.posts.append(post(7)))


def _shrinks_under_paging(site: FakeWordPress) -> None:
    site.fault("wp/v2/posts", page="3", times=1, then=lambda: site.posts.pop(0))


FAULTS = {
    "429 and Retry-After, every time": (
        lambda site: site.fault("wp/v2/posts", status=429, headers={"Retry-After": "1"}),
        r"GET wp/v2/posts: 429 Too Many Requests after 3 tries; "
        r"the site asks to wait 1 s \(Retry-After\)",
    ),
    "500, every time": (
        lambda site: site.fault("wp/v2/posts", status=500),
        r"GET wp/v2/posts: 500 Internal Server Error after 3 tries",
    ),
    "malformed JSON": (
        lambda site: site.fault("wp/v2/posts", page="2", body=b'[{"id": 3, "slug": '),
        r"GET wp/v2/posts page 2: not JSON \(.+; the site sent application/json\)",
    ),
    "401 without credentials": (
        lambda site: site.fault(
            "", status=401, body={"code": "rest_not_logged_in", "message": "Log in."}
        ),
        r"GET /: 401 Unauthorized \(rest_not_logged_in\): "
        r"the site wants credentials \(LOD_WP_USER, LOD_WP_PASSWORD\)",
    ),
    "timeout": (
        lambda site: site.fault("wp/v2/categories", delay=2),
        r"GET wp/v2/categories: no answer within 0.5 s \(3 tries\)",
    ),
    "a total that grows between pages": (
        _changes_under_paging,
        r"wp/v2/posts changed while it was read \(it had 6 items, then 7\); run the sync again",
    ),
    "a total that shrinks between pages": (
        _shrinks_under_paging,
        r"wp/v2/posts changed while it was read \(it had 6 items, then 5\); run the sync again",
    ),
    "an answer too large": (
        lambda site: site.fault("wp/v2/categories", body=b"[" + b" " * 2_000_000 + b"]"),
        r"GET wp/v2/categories: the answer is larger than 1 MB",
    ),
    "no REST API": (
        lambda site: site.fault("", body={"name": "A blog", "namespaces": ["oembed/1.0"]}),
        r"no WordPress REST API \(wp/v2\) at http://127\.0\.0\.1:\d+/wp-json/",
    ),
}


@pytest.mark.parametrize("case", list(FAULTS))
def test_a_fault_is_one_line_and_leaves_data_unchanged(case, site, data):
    make, message = FAULTS[case]
    before = snapshot(data)
    make(site)
    with pytest.raises(SyncFailed) as failed:
        run(site, data)
    text = str(failed.value)
    assert "\n" not in text
    assert re.fullmatch(rf"sync {re.escape(site.url)}: {message}{re.escape(UNCHANGED)}", text), text
    assert snapshot(data) == before
    assert not [p for p in data.iterdir() if p.name.startswith((".import-", ".sync-"))]


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 429, "headers": {"Retry-After": "1"}},
        {"status": 500},
        {"status": 503},
        {"delay": 1.0},
    ],
    ids=["429 Retry-After 1", "500", "503", "timeout"],
)
def test_a_fault_that_passes_is_retried(fault, site, data):
    site.fault("wp/v2/posts", times=1, **fault)
    asked = len(site.requests)
    started = time.monotonic()
    report = run(site, data)
    took = time.monotonic() - started
    assert report.summary() == f"sync {site.url}: 1 new, 1 changed, 0 gone, 0 renamed"
    if "Retry-After" in fault.get("headers", {}):
        assert took >= 1.0  # waited as asked
    assert report.requests == len(site.requests) - asked  # retries counted
    assert report.read == 3  # the posts modified since (the mark's second again), the new one


def test_the_command_line_says_it_on_one_line_and_exits_1(site, data):
    site.fault("wp/v2/posts", status=503)
    result = CliRunner().invoke(
        cli, ["sync", site.url, "--data", str(data), "--retries", "0", "--timeout", "1"]
    )
    assert result.exit_code == 1
    assert result.output == (
        f"error: sync {site.url}: GET wp/v2/posts: 503 Service Unavailable after 1 try{UNCHANGED}\n"
    )


def test_refused_credentials_are_named_never_shown(site, data):
    site.fault("", status=401, body={"code": "incorrect_password", "message": "Wrong."})
    with pytest.raises(SyncFailed) as failed:
        sync(
            site.url,
            data,
            credentials=Credentials("editor", "abcd efgh ijkl mnop"),
            options=SyncOptions(limits=LIMITS),
        )
    assert "the site refused the credentials of LOD_WP_USER" in str(failed.value)
    assert "abcd" not in str(failed.value) and "abcd" not in repr(failed.value)
    assert "abcd" not in repr(Credentials("editor", "abcd efgh ijkl mnop"))


def test_an_address_with_credentials_is_refused_without_showing_them(tmp_path):
    with pytest.raises(SyncFailed) as failed:
        sync("https://editor:s3cret@news.example.org/", tmp_path / "data")
    assert "s3cret" not in str(failed.value)
    assert "give them in LOD_WP_USER and LOD_WP_PASSWORD" in str(failed.value)
    assert not (tmp_path / "data").exists()


def test_a_site_that_cannot_be_reached(tmp_path):
    with FakeWordPress() as fake:
        url = fake.url
    with pytest.raises(SyncFailed) as failed:
        sync(url, tmp_path / "data", options=SyncOptions(limits=LIMITS))
    assert re.search(r"GET /: cannot connect: Connection refused \(3 tries\)", str(failed.value))
    assert not (tmp_path / "data").exists()


def test_two_syncs_of_one_folder_never_overlap(site, data):
    before = snapshot(data)
    with locked(data, site.url), pytest.raises(SyncFailed) as failed:
        run(site, data)
    assert f"another `lod sync` is writing to {data}; try again once it is done" in str(
        failed.value
    )
    assert snapshot(data) == before
    assert run(site, data).summary().endswith("1 new, 1 changed, 0 gone, 0 renamed")


def test_an_invalid_post_fails_the_sync_unless_skipped(site, data):
    site.posts[2]["title"] = {"rendered": ""}
    site.posts[2]["modified"] = "2024-06-01T10:00:00"
    site.posts[2]["modified_gmt"] = "2024-06-01T08:00:00"
    before = snapshot(data)
    with pytest.raises(SyncFailed) as failed:
        run(site, data)
    lines = str(failed.value).splitlines()
    assert "title: missing: every article needs one" in lines[0]
    assert lines[-1].endswith(
        "1 post cannot become records (--skip-invalid imports the others)" + UNCHANGED
    )
    assert snapshot(data) == before
    report = run(site, data, skip_invalid=True)
    assert report.summary().endswith("1 new, 1 changed, 0 gone, 0 renamed")
    assert any(line.startswith("skipped as invalid: ") for line in report.lines())


def test_plain_permalinks_and_the_api_address(site, tmp_path):
    """A site without pretty permalinks has no /wp-json/: its API is at ?rest_route=/; an
    address ending in /wp-json is the API itself, and names the same site."""
    site.fault("", status=404, body=b"<html>Not found</html>", times=1)
    report = run(site, tmp_path / "data")
    assert report.summary() == f"sync {site.url}: 5 new, 0 changed, 0 gone, 0 renamed"
    assert any(
        "rest_route=%2Fwp%2Fv2%2Fposts" in asked or "rest_route=/wp/v2/posts" in asked
        for asked in site.requests
    )
    again = sync(site.url + "/wp-json/", tmp_path / "data", options=SyncOptions(limits=LIMITS))
    assert again.summary() == f"sync {site.url}: 0 new, 0 changed, 0 gone, 0 renamed"


def test_credentials_never_go_over_plain_http_to_another_machine(tmp_path):
    with pytest.raises(SyncFailed) as failed:
        sync("http://news.example.org", tmp_path / "data", credentials=Credentials("a", "b c"))
    assert "credentials are only sent over HTTPS (or to this machine)" in str(failed.value)


@pytest.mark.parametrize(
    "address", ["admin:s3cretpw@blog.example.com", "ftp://admin:s3cretpw@blog.example.com/"]
)
def test_an_address_that_is_not_http_never_shows_its_password(tmp_path, address):
    """`user:password@host` without a scheme parses as the scheme `admin`: the message must
    name the fault, not echo the address (a systemd journal keeps it)."""
    from click.testing import CliRunner

    from lod.cli import cli

    done = CliRunner().invoke(cli, ["sync", address, "--data", str(tmp_path / "data")])
    assert done.exit_code != 0
    assert "s3cretpw" not in done.output and "not an http(s) address" in done.output
