"""The change stream (lod.make.changes, /ldes): each build records the resources created,
updated and removed since the last; following the stream from its start gives exactly the
triples of the current dump (replayed here, and by the `ldes-client` package from npm);
pages before the last never change and say so."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess

import orjson
import pyoxigraph as ox
import pytest

from lod import Settings
from lod.make import Builder, changes
from lod.web import create_app

from .conftest import ROOT, copy_data, require, start_server, stop_server
from .test_search import article

NODE_MODULES = ROOT / ".ci" / "node" / "node_modules"
DELETE = "https://www.w3.org/ns/activitystreams#Delete"
IS_VERSION_OF = "http://purl.org/dc/terms/isVersionOf"
TRIG = {"Accept": "application/trig"}


def dump(build) -> set[str]:
    """The build's N-Triples dump as lines, as pyoxigraph writes them."""
    with gzip.open(build.path / "dataset.nt.gz") as f:
        return as_lines(ox.parse(f.read(), ox.RdfFormat.N_TRIPLES))


def as_lines(quads) -> set[str]:
    return {f"{q.subject} {q.predicate} {q.object} ." for q in quads}


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """The default dataset built four times by one Builder (as `lod build --watch` does):
    as it is, after an edit, after an addition, after a removal; pages of 20 members.
    Returns (out folder, the builds, the served page bodies after each build)."""
    root = tmp_path_factory.mktemp("ldes")
    data = copy_data(root / "data")
    out = root / "dist"
    saved = changes.PAGE_SIZE
    changes.PAGE_SIZE = 20
    try:
        builder = Builder(Settings(data=data, out=out))
        builds = [builder.build()]
        topics = data / "topics" / "topics.yaml"
        topics.write_text(topics.read_text("utf-8").replace("Digital divide", "Digital gap"))
        builds.append(builder.build())
        added = data / "articles" / "added.md"
        added.write_text(article("added", "Zeppelins return", "Airships carry mail."), "utf-8")
        builds.append(builder.build())
        added.unlink()  # a removal is declared (lod.make.permanence): a tombstone follows
        (data / "gone.yaml").write_text(
            "- id: article/added\n  reason: published by mistake\n  date: 2021-03-01\n", "utf-8"
        )
        builds.append(builder.build())
    finally:
        changes.PAGE_SIZE = saved
    return out, builds


def trig(data: bytes) -> ox.Store:
    store = ox.Store()
    store.load(data, ox.RdfFormat.TRIG)
    return store


def replay(client) -> set[str]:
    """Follow the stream from /ldes as a consumer does: each member replaces its
    resource's triples (a tombstone removes them)."""
    stream = trig(client.get("/ldes", headers=TRIG).data)
    view = next(
        iter(stream.quads_for_pattern(None, ox.NamedNode("https://w3id.org/tree#view"), None))
    )
    url = view.object.value
    state: dict[str, set[str]] = {}
    while url:
        page = trig(client.get(url.removeprefix("http://localhost"), headers=TRIG).data)
        versions = []
        for quad in page.quads_for_pattern(None, ox.NamedNode(IS_VERSION_OF), None):
            at = next(
                iter(
                    page.quads_for_pattern(
                        quad.subject,
                        ox.NamedNode("http://www.w3.org/ns/prov#generatedAtTime"),
                        None,
                    )
                )
            ).object.value
            versions.append((at, quad.subject, quad.object.value))
        for _, version, resource in sorted(versions, key=lambda v: v[0]):
            gone = any(
                page.quads_for_pattern(
                    version,
                    ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                    ox.NamedNode(DELETE),
                )
            )
            if gone:
                state.pop(resource, None)
            else:
                state[resource] = as_lines(page.quads_for_pattern(None, None, None, version))
        nodes = list(page.quads_for_pattern(None, ox.NamedNode("https://w3id.org/tree#node"), None))
        url = nodes[0].object.value if nodes else None
    return {line for lines in state.values() for line in lines}


def test_each_build_records_what_changed(history):
    out, builds = history
    index = orjson.loads((builds[-1].path / "ldes" / "index.json").read_bytes())
    steps = index["builds"]
    assert [s["id"] for s in steps] == [b.id for b in builds]
    assert steps[0]["created"] > 30 and steps[0]["updated"] == steps[0]["removed"] == 0
    # the edit: the topic, its data document, the dataset (VoID counts and dates)
    assert steps[1]["created"] == 0 and steps[1]["removed"] == 0 and steps[1]["updated"] >= 1
    assert steps[2]["created"] == 2  # the article and its data document
    assert steps[3]["removed"] == 2
    assert index["members"] == sum(s["created"] + s["updated"] + s["removed"] for s in steps)


def test_the_history_survives_pruning(history):
    out, builds = history
    assert not builds[0].path.exists()  # pruned: three builds are kept
    assert (builds[-1].path / "ldes" / "000001.jsonl.gz").is_file()


def test_replaying_the_stream_gives_the_current_dump(history):
    out, builds = history
    client = create_app(Settings(out=out)).test_client()
    assert replay(client) == dump(builds[-1])


def test_members_are_versions_with_their_triples(history):
    out, builds = history
    client = create_app(Settings(out=out)).test_client()
    pages = orjson.loads((builds[-1].path / "ldes" / "index.json").read_bytes())["pages"]
    page = trig(client.get(f"/ldes/{pages}", headers=TRIG).data)
    tombstones = list(page.quads_for_pattern(None, None, ox.NamedNode(DELETE)))
    assert {
        next(
            iter(page.quads_for_pattern(t.subject, ox.NamedNode(IS_VERSION_OF), None))
        ).object.value
        for t in tombstones
    } == {
        "https://lod.example.org/id/article/added",
        "https://lod.example.org/doc/article/added",
    }
    for tombstone in tombstones:
        assert not list(page.quads_for_pattern(None, None, None, tombstone.subject))


def test_closed_pages_are_immutable(history):
    out, builds = history
    client = create_app(Settings(out=out)).test_client()
    pages = orjson.loads((builds[-1].path / "ldes" / "index.json").read_bytes())["pages"]
    assert pages > 2
    first = client.get("/ldes/1", headers=TRIG)
    assert "immutable" in first.headers["Cache-Control"]
    assert (
        client.get("/ldes/1", headers={**TRIG, "If-None-Match": first.headers["ETag"]}).status_code
        == 304
    )
    last = client.get(f"/ldes/{pages}", headers=TRIG)
    assert "immutable" not in last.headers["Cache-Control"]
    # the page to read says "page 1 of N", N growing with builds: never kept for a year
    read = client.get("/ldes/1", headers={"Accept": "text/html"})
    assert read.mimetype == "text/html" and "immutable" not in read.headers["Cache-Control"]
    # a closed page is the same file in every build that has it
    older = builds[-2].path / "ldes" / "000001.jsonl.gz"
    newer = builds[-1].path / "ldes" / "000001.jsonl.gz"
    assert older.read_bytes() == newer.read_bytes()
    assert os.stat(older).st_ino == os.stat(newer).st_ino


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("application/trig", "application/trig"),
        ("application/n-quads", "application/n-quads"),
        ("application/ld+json", "application/ld+json"),
        ("*/*", "application/trig"),
        ("text/html,*/*;q=0.8", "text/html"),  # a browser gets a page to read
    ],
)
def test_pages_by_accept(history, accept, media):
    client = create_app(Settings(out=history[0])).test_client()
    response = client.get("/ldes/1", headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == media


def test_refusals(history):
    client = create_app(Settings(out=history[0])).test_client()
    assert client.get("/ldes/0").status_code == 404
    assert client.get("/ldes/999").status_code == 404
    assert client.get("/ldes", headers={"Accept": "image/png"}).status_code == 406


def test_the_home_page_links_the_stream(history):
    client = create_app(Settings(out=history[0])).test_client()
    assert 'href="/ldes"' in client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)


@pytest.mark.slow
def test_ldes_client_replicates_the_stream(history):
    """The `ldes-client` package (npm) follows the stream over HTTP from its start; its
    replica is the current dump."""
    out, builds = history
    node = shutil.which("node")
    require(
        node is not None and (NODE_MODULES / "ldes-client").is_dir(),
        "node and ldes-client (npm, .ci/node)",
    )
    server = start_server(out, LOD_QUERY_TIMEOUT=2, LOD_QUERY_CONCURRENCY=2)
    try:
        done = subprocess.run(
            [node, str(ROOT / "tests" / "ldes_replicate.mjs"), server.url + "/ldes"],
            capture_output=True,
            env={**os.environ, "LDES_CLIENT_MODULES": str(NODE_MODULES)},
            timeout=240,
        )
    finally:
        stop_server(server)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    replica = {
        f"{q.subject} {q.predicate} {q.object} ."
        for q in ox.parse(done.stdout, ox.RdfFormat.N_TRIPLES)
    }
    assert replica == dump(builds[-1]), done.stderr.decode()[-2000:]


def _parts(text: str):
    from lod.make.parts import Part

    data = text.encode("utf-8")
    return [Part.of(data)]


def test_a_resource_owns_its_hash_nodes(tmp_path):
    for n in "123":
        (tmp_path / n).mkdir()
    a = '<http://x/a> <http://p> "1" .\n'
    role = '<http://x/a#r> <http://p> "{}" .\n'
    b = '<http://x/b> <http://p> "3" .\n'
    first = changes.record(
        tmp_path / "1", None, _parts(a + role.format(2) + b), "b1", "t1", changes.Hashed()
    )
    assert (first.since, first.created, first.updated) == (
        None,
        {"http://x/a", "http://x/b"},
        set(),
    )
    second = changes.record(
        tmp_path / "2",
        tmp_path / "1" / "ldes",
        _parts(a + role.format(5) + b),
        "b2",
        "t2",
        changes.Hashed(),
    )
    assert (second.since, second.updated, second.created) == ("b1", {"http://x/a"}, set())
    third = changes.record(
        tmp_path / "3",
        tmp_path / "2" / "ldes",
        _parts(a + role.format(5)),
        "b3",
        "t3",
        changes.Hashed(),
    )
    assert third.removed == {"http://x/b"} and not third.updated
    members = [
        orjson.loads(line)
        for line in (tmp_path / "3" / "ldes" / "000001.jsonl").read_bytes().splitlines()
    ]
    assert [(m["of"], m["build"], m["gone"]) for m in members] == [
        ("http://x/a", "b1", False),
        ("http://x/b", "b1", False),
        ("http://x/a", "b2", False),
        ("http://x/b", "b3", True),
    ]
    assert members[2]["nt"] == a + role.format(5)  # the resource with its hash node


def test_an_unreadable_history_starts_again(tmp_path):
    for n in "12":
        (tmp_path / n).mkdir()
    changes.record(
        tmp_path / "1",
        None,
        _parts('<http://x/a> <http://p> "1" .\n'),
        "b1",
        "t1",
        changes.Hashed(),
    )
    (tmp_path / "1" / "ldes" / "index.json").write_text("{not json")
    diff = changes.record(
        tmp_path / "2",
        tmp_path / "1" / "ldes",
        _parts('<http://x/a> <http://p> "1" .\n'),
        "b2",
        "t2",
        changes.Hashed(),
    )
    assert diff.since is None and diff.created == {"http://x/a"}


def _cut(*texts: str) -> list:
    from lod.make.parts import Part

    return [Part.of(t.encode()) for t in texts]


def test_hashes_followed_from_build_to_build_equal_hashes_made_afresh():
    """changes.Hashed combines again only the resources of the parts that changed: after
    each of these builds its hashes are those of a fresh Hashed, for resources that span
    two parts, move between parts, change, appear and go."""
    a = '<http://x/a> <http://p> "1" .\n'
    a_role = '<http://x/a#r> <http://p> "{}" .\n'
    b = '<http://x/b> <http://p> "{}" .\n'
    c = '<http://x/c> <http://p> "3" .\n'
    builds = [
        _cut(a + a_role.format(1), b.format(1) + c),  # each resource in one part
        _cut(a, a_role.format(1) + b.format(1), c),  # a spans two parts
        _cut(a, a_role.format(2) + b.format(1), c),  # a changes in its second part
        _cut(a + a_role.format(2), b.format(2)),  # a in one part again, b changes, c goes
        _cut(b.format(2) + c),  # a goes, c comes back
    ]
    followed = changes.Hashed()
    before: dict[str, str] = {}
    for number, parts in enumerate(builds):
        affected = followed.follow(parts, f"b{number}")
        fresh = changes.Hashed()
        fresh.follow(parts, "fresh")
        now = followed.now
        assert now == fresh.now, number
        assert followed.last == (f"b{number}", now)
        differ = {name for name in now.keys() | before.keys() if now.get(name) != before.get(name)}
        assert differ <= affected, number  # what record() compares
        before = now
    assert set(now) == {"http://x/b", "http://x/c"}


def test_a_part_hashes_alike_from_its_blocks_and_from_its_lines():
    """A resource's hash is over its lines joined by newlines, whether the part is read
    block by block (a build's) or line by line (whole data): the hashes of earlier builds'
    hashes.json stay comparable."""
    from hashlib import blake2b

    from rdflib import Literal, URIRef

    from lod.make.parts import Blocks, Part
    from lod.triples import Triples

    x = "http://x/"
    triples = Triples(
        (URIRef(f"{x}{s}"), URIRef(f"{x}p{n}"), Literal(f"{s} {n}"))
        for s in ("a", "a#r", "a#s", "b", "c")
        for n in range(3)
    )
    (part,) = Blocks.of(triples).parts()
    whole = Part.of(part.data)
    grouped: dict[str, list[bytes]] = {}  # the definition: line by line
    for line in part.data.splitlines():
        grouped.setdefault(changes.owner(changes._subject(line)), []).append(line)
    expected = {
        name: blake2b(b"\n".join(ls), digest_size=16).digest() for name, ls in grouped.items()
    }
    assert len(expected) == 3
    assert changes._owners(part) == changes._owners(whole) == expected


# The pages at rest: full pages gzipped, the last one plain; a history written before that
# (every page plain) served the same and continued.

FORMATS = ("application/trig", "application/n-quads", "application/ld+json", "text/html")


def test_full_pages_are_gzipped_and_the_last_is_plain(history):
    out, builds = history
    for build in builds[1:]:
        folder = build.path / "ldes"
        index = orjson.loads((folder / "index.json").read_bytes())
        assert index["version"] == changes.VERSION
        names = sorted(p.name for p in folder.iterdir() if p.name.startswith("0"))
        last_full = index["members"] % 20 == 0  # the fixture's pages hold 20 members
        expected = [f"{n:06d}.jsonl.gz" for n in range(1, index["pages"])]
        expected.append(f"{index['pages']:06d}.jsonl" + (".gz" if last_full else ""))
        assert names == expected
        members = 0
        for name in names:
            data = (folder / name).read_bytes()
            lines = (gzip.decompress(data) if name.endswith(".gz") else data).splitlines()
            assert len(lines) == 20 or name == names[-1]
            members += len(lines)
        assert members == index["members"]
        hashes = orjson.loads(gzip.decompress((folder / "hashes.json.gz").read_bytes()))
        assert len(hashes) > 30 and not (folder / "hashes.json").exists()


def as_version_1(out, target):
    """A copy of the out folder `out` whose current build keeps its history as builds
    did before pages were gzipped: every page plain, hashes.json plain, version 1."""
    shutil.copytree(out, target, symlinks=True)
    folder = target / "current" / "ldes"
    for packed in folder.glob("*.jsonl.gz"):
        packed.with_suffix("").write_bytes(gzip.decompress(packed.read_bytes()))
        packed.unlink()
    hashes = folder / "hashes.json.gz"
    (folder / "hashes.json").write_bytes(gzip.decompress(hashes.read_bytes()))
    hashes.unlink()
    index = orjson.loads((folder / "index.json").read_bytes())
    (folder / "index.json").write_bytes(orjson.dumps({**index, "version": 1}))
    return target


def labelled(body: bytes) -> bytes:
    """A page's body with its blank node (the relation to the next page) labelled `_:b`:
    each answer has a fresh label."""
    return re.sub(rb"_:[0-9A-Za-z]+", b"_:b", body)


def test_a_plain_history_is_served_byte_for_byte_as_the_gzipped_one(history, tmp_path):
    """What a client reads of every page, in every format, does not depend on how the
    pages are kept (the same bytes but for the blank node's label): a build made before
    they were gzipped is served as before."""
    out, builds = history
    old = as_version_1(out, tmp_path / "dist")
    assert not list((old / "current" / "ldes").glob("*.gz"))
    new_client = create_app(Settings(out=out)).test_client()
    old_client = create_app(Settings(out=old)).test_client()
    pages = orjson.loads((builds[-1].path / "ldes" / "index.json").read_bytes())["pages"]
    for number in range(1, pages + 1):
        for accept in FORMATS:
            new = new_client.get(f"/ldes/{number}", headers={"Accept": accept})
            before = old_client.get(f"/ldes/{number}", headers={"Accept": accept})
            assert new.status_code == before.status_code == 200
            assert labelled(new.data) == labelled(before.data), (number, accept)
            assert new.headers["ETag"] == before.headers["ETag"]
    assert replay(old_client) == dump(builds[-1])


def test_a_plain_history_is_continued_and_its_full_pages_gzipped(history, tmp_path, monkeypatch):
    """A build after an upgrade continues a history of version 1 (a replica keeps its
    place): the full pages are gzipped once, the last page appended to."""
    out, builds = history
    old = as_version_1(out, tmp_path / "dist")
    plain = {p.name: p.read_bytes() for p in (old / "current" / "ldes").glob("*.jsonl")}
    before = orjson.loads((old / "current" / "ldes" / "index.json").read_bytes())
    data = copy_data(tmp_path / "data")
    shutil.rmtree(data)
    shutil.copytree(out.parent / "data", data)
    (data / "articles" / "later.md").write_text(
        article("later", "Balloons return", "Hot air carries post."), "utf-8"
    )
    monkeypatch.setattr(changes, "PAGE_SIZE", 20)
    build = Builder(Settings(data=data, out=old)).build()
    folder = build.path / "ldes"
    index = orjson.loads((folder / "index.json").read_bytes())
    assert index["version"] == changes.VERSION
    assert [b["id"] for b in index["builds"]][:-1] == [b["id"] for b in before["builds"]]
    assert index["builds"][-1]["created"] == 2  # the article and its data document
    for name, data_before in plain.items():
        number = int(name.split(".")[0])
        if number < index["pages"]:
            packed = folder / f"{name}.gz"
            assert gzip.decompress(packed.read_bytes()) == data_before
            assert not (folder / name).exists()
        else:  # the page filled by this build, appended to
            assert (folder / name).read_bytes().startswith(data_before)
    client = create_app(Settings(out=old)).test_client()
    assert replay(client) == dump(build)


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "missing"])
def test_a_damaged_page_is_an_error_that_says_so(history, tmp_path, damage, caplog):
    """A full page that cannot be read back is a 500 naming the page (logged with its
    file), never a page served short; the other pages are still served."""
    from lod.serve.ldes import DamagedHistory, History

    out, builds = history
    copy = tmp_path / "dist"
    shutil.copytree(out, copy, symlinks=True)
    page = copy / "current" / "ldes" / "000001.jsonl.gz"
    packed = page.read_bytes()
    if damage == "truncated":
        page.write_bytes(packed[: len(packed) // 2])
    elif damage == "corrupt":
        middle = len(packed) // 2
        page.write_bytes(packed[:middle] + bytes([packed[middle] ^ 0xFF]) + packed[middle + 1 :])
    else:
        page.unlink()
    with pytest.raises(DamagedHistory, match="page 1 of the change stream"):
        History(copy / "current").members(1)
    client = create_app(Settings(out=copy)).test_client()
    for accept in FORMATS:
        response = client.get("/ldes/1", headers={"Accept": accept})
        assert response.status_code == 500, accept
        assert "Page 1 of the change stream cannot be read" in response.get_data(as_text=True)
    assert "000001.jsonl" in caplog.text  # the file (plain when the gzipped one is missing)
    assert client.get("/ldes/2", headers=TRIG).status_code == 200


def _members(folder) -> list[tuple[str, str]]:
    """Every member of the pages in `folder`, in order: (resource, build)."""
    found = []
    for page in sorted(folder.glob("0*")):
        data = page.read_bytes()
        for line in (gzip.decompress(data) if page.suffix == ".gz" else data).splitlines():
            member = orjson.loads(line)
            found.append((member["of"], member["build"]))
    return found


def test_pages_fill_and_close_across_builds(tmp_path, monkeypatch):
    """The page a build leaves open is filled by the next and then gzipped; a full page
    is the same file (a hard link) in every later build; many pages at once are gzipped
    in order (more than wait for the thread at a time)."""
    monkeypatch.setattr(changes, "PAGE_SIZE", 3)
    monkeypatch.setattr(changes, "IN_FLIGHT", 2)
    line = '<http://x/{}> <http://p> "{}" .\n'
    versions = [
        {name: 1 for name in "abcd"},  # page 1 full, page 2 holds 1
        {**{name: 1 for name in "abcd"}, "a": 2, "b": 2},  # page 2 filled: closed
        {**{name: 2 for name in "abcd"}, **{f"n{i:02d}": 1 for i in range(20)}},  # 22 more
    ]
    previous, hashed, expected = None, changes.Hashed(), []
    for number, version in enumerate(versions, 1):
        folder = tmp_path / str(number)
        folder.mkdir()
        text = "".join(line.format(name, value) for name, value in sorted(version.items()))
        diff = changes.record(folder, previous, _parts(text), f"b{number}", "t", hashed)
        expected += [(name, f"b{number}") for name in sorted(diff.changed)]  # dump order
        ldes = folder / "ldes"
        index = orjson.loads((ldes / "index.json").read_bytes())
        assert _members(ldes) == expected
        full, last = index["members"] // 3, index["members"] % 3
        names = sorted(p.name for p in ldes.glob("0*"))
        assert names == [f"{n:06d}.jsonl.gz" for n in range(1, full + 1)] + (
            [f"{full + 1:06d}.jsonl"] if last else []
        )
        if previous is not None:
            for packed in previous.glob("*.jsonl.gz"):
                assert os.stat(packed).st_ino == os.stat(ldes / packed.name).st_ino
        previous = ldes
    assert len(expected) == 4 + 2 + 22
