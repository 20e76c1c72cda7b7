"""`lod link sameas` and `lod link apply` against real reconciliation services started
here on 127.0.0.1: a second lod app serving its own dataset (API 0.2 and the 1.0 draft),
and hand-written services that answer slowly, with errors, with malformed JSON, or not
at all. Nothing here reaches beyond 127.0.0.1."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from lod import LodError, Settings, build
from lod.cli import cli
from lod.link.matching import Run, propose
from lod.link.review import apply, read_rejected, write_review
from lod.link.service import Client, ServiceFailed, find_service, service_from_manifest
from lod.make.convert.services import LinkService

from .conftest import ROOT, free_port, start_server, stop_server
from .linking import ELSEWHERE, Misbehaving, elsewhere, here


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    """A second lod app serving the `elsewhere` dataset: its /reconcile is the service."""
    root = tmp_path_factory.mktemp("elsewhere")
    data = elsewhere(root / "data")
    build(Settings(data=data, out=root / "dist"))
    live = start_server(root / "dist", workers=1, threads=4, LOD_DATA=data)
    yield live
    stop_server(live)


def service_url(remote) -> str:
    return f"{remote.url}/reconcile"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def client(url: str, tmp_path: Path, **options) -> Client:
    options.setdefault("rate", 1000)
    options.setdefault("timeout", 10)
    return Client(url, cache=tmp_path / "cache", **options)


def elsewhere_service(url: str, properties=(("location", "location"), ("url", "url"))):
    return LinkService("Elsewhere", url, f"{ELSEWHERE}id/{{id}}", properties=properties)


def by_record(run: Run) -> dict[str, list[dict]]:
    return {p.record: p.candidates for p in run.proposals}


@pytest.mark.parametrize("api", ["0.2", "1.0"])
def test_proposals_from_another_lod(remote, tmp_path, api):
    url = service_url(remote)
    data = here(tmp_path / "data", url)
    before = snapshot(data)
    remote_client = client(url, tmp_path, version=api)
    run = propose(data, elsewhere_service(url), remote_client)
    assert run.errors == [] and run.unanswered == []
    found = by_record(run)
    un = found["organisation/united-nations"][0]
    assert un["id"] == "organisation/un"
    assert un["iri"] == f"{ELSEWHERE}id/organisation/un"
    assert un["decision"] == "accept"
    assert "location agrees" in un["why"] and "url agrees" in un["why"]
    # the twin: same name, the service even says match, but its location differs
    twin = found["organisation/mercy-relief"][0]
    assert twin["id"] == "organisation/mercy-relief" and twin["score"] == 100
    assert "the service says match" in twin["why"]
    assert any(w.startswith("location differs (Dublin)") for w in twin["why"])
    assert twin["decision"] == ""
    # namesakes there: only the one whose location agrees is accepted
    decisions = {c["id"]: c["decision"] for c in found["organisation/global-action"]}
    assert decisions == {
        "organisation/global-action-1": "accept",
        "organisation/global-action-2": "",
    }
    # a person: nothing to check it by, so never accepted
    assert found["person/jane-doe"][0]["decision"] == ""
    assert "no property could be checked" in found["person/jane-doe"][0]["why"]
    assert run.accepted == 2
    assert snapshot(data) == before  # proposing writes nothing into data/


def test_cache_answers_a_second_run(remote, tmp_path):
    url = service_url(remote)
    data = here(tmp_path / "data", url)
    first = client(url, tmp_path)
    propose(data, elsewhere_service(url), first)
    assert first.requests_sent > 0
    again = client(url, tmp_path)
    run = propose(data, elsewhere_service(url), again)
    assert again.requests_sent == 0
    assert by_record(run)["organisation/united-nations"][0]["decision"] == "accept"


def test_batches_follow_the_manifest_and_the_option(remote, tmp_path):
    url = service_url(remote)
    data = here(tmp_path / "data", url)
    small = client(url, tmp_path, batch=2)
    run = propose(data, elsewhere_service(url, ()), small, kinds=["organisation"])
    assert run.asked == 4
    assert small.requests_sent == 1 + 2  # the manifest, then two batches of two


def test_without_properties_nothing_is_accepted(remote, tmp_path):
    url = service_url(remote)
    data = here(tmp_path / "data", url)
    run = propose(data, elsewhere_service(url, ()), client(url, tmp_path))
    assert run.accepted == 0
    assert by_record(run)["organisation/united-nations"][0]["why"][-1].startswith(
        "no property to check"
    )


def test_review_apply_and_rejections(remote, tmp_path):
    url = service_url(remote)
    data = here(tmp_path / "data", url)
    review = tmp_path / "review.yaml"
    service = elsewhere_service(url)
    run = propose(data, service, client(url, tmp_path))
    write_review(review, service, url, run)
    doc = yaml.safe_load(review.read_text())
    assert review.read_text().startswith("# sameAs proposals from Elsewhere")
    # the publisher rejects the twin and accepts New York City (a CSV row)
    for item in doc["records"]:
        for candidate in item["candidates"]:
            if item["record"] == "organisation/mercy-relief":
                candidate["decision"] = "reject"
            if item["record"] == "place/nyc" and candidate["id"] == "place/new-york":
                candidate["decision"] = "accept"
    review.write_text(yaml.safe_dump(doc, sort_keys=False))
    orgs = data / "organisations" / "organisations.yaml"
    places = data / "places" / "places.csv"
    before_orgs, before_places = orgs.read_text(), places.read_text()

    applied = apply(review, data)
    added = {(record, iri) for record, iri, _ in applied.added}
    assert added == {
        ("organisation/united-nations", f"{ELSEWHERE}id/organisation/un"),
        ("organisation/global-action", f"{ELSEWHERE}id/organisation/global-action-1"),
        ("place/nyc", f"{ELSEWHERE}id/place/new-york"),
    }
    assert applied.rejected == 1
    # only the lines the links go on changed
    assert orgs.read_text() == before_orgs.replace(
        "  url: https://www.un.org\n",
        f"  url: https://www.un.org\n  sameAs:\n    - {ELSEWHERE}id/organisation/un\n",
    ).replace(
        "  location: geneva\n",
        f"  location: geneva\n  sameAs:\n    - {ELSEWHERE}id/organisation/global-action-1\n",
    )
    assert places.read_text() == before_places.replace(
        "nyc,New York City,\n", f"nyc,New York City,{ELSEWHERE}id/place/new-york\n"
    )
    assert (data / ".links" / "sameas-rejected.yaml").is_file()
    # the data still builds, with the links
    built = build(Settings(data=data, out=tmp_path / "dist"))
    dump = gzip.decompress((built.path / "dataset.nt.gz").read_bytes())
    assert f"<{ELSEWHERE}id/organisation/un>".encode() in dump
    # applying again adds nothing
    assert apply(review, data).added == []

    # next run: linked records are not asked again, the rejected link is not proposed
    run = propose(data, service, client(url, tmp_path / "again"))
    found = by_record(run)
    assert "organisation/united-nations" not in found and "place/nyc" not in found
    assert "organisation/mercy-relief" not in found  # its only candidate was rejected
    assert "organisation/global-action" not in found


def test_void_names_the_target_by_its_label(remote, tmp_path):
    url = service_url(remote)
    data = here(tmp_path / "data", url)
    orgs = data / "organisations" / "organisations.yaml"
    orgs.write_text(
        orgs.read_text().replace(
            "  url: https://www.un.org\n",
            f"  url: https://www.un.org\n  sameAs:\n    - {ELSEWHERE}id/organisation/un\n",
        )
    )
    built = build(Settings(data=data, out=tmp_path / "dist"))
    void = (built.path / "void.ttl").read_text()
    assert '"Elsewhere"' in void and "elsewhere-example-org" in void


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("slow", "did not answer within 0.3 s (2 tries)"),
        ("error", "answered HTTP 500: Internal Server Error: the database is on fire (2 tries)"),
        ("malformed", "answered malformed JSON"),
    ],
)
def test_misbehaving_services(tmp_path, mode, message):
    with Misbehaving(mode) as bad:
        data = here(tmp_path / "data", None)
        before = snapshot(data)
        service = LinkService("Other", bad.url, "http://other.example.org/entity/{id}")
        run = propose(
            data, service, client(bad.url, tmp_path, timeout=0.3, retries=1, backoff=0.01)
        )
        assert len(run.errors) == 1 and message in run.errors[0], run.errors
        assert run.proposals == [] and len(run.unanswered) == 8
        assert snapshot(data) == before


def test_a_service_not_there(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/api"
    data = here(tmp_path / "data", None)
    service = LinkService("Other", url, "http://other.example.org/entity/{id}")
    run = propose(data, service, client(url, tmp_path, retries=1, backoff=0.01))
    assert "could not be reached (connection refused) (2 tries)" in run.errors[0]
    assert run.asked == 0 and len(run.unanswered) == 8


def test_partial_results_are_kept(tmp_path):
    with Misbehaving("fail-after") as bad:
        data = here(tmp_path / "data", None)
        before = snapshot(data)
        service = LinkService("Other", bad.url, "http://other.example.org/entity/{id}")
        run = propose(data, service, client(bad.url, tmp_path, retries=0))
        assert run.asked == 1 and len(run.proposals) == 1  # batchSize 1: the first answer
        assert len(run.unanswered) == 7
        assert "HTTP 500" in run.errors[0]
        review = tmp_path / "review.yaml"
        write_review(review, service, bad.url, run)
        doc = yaml.safe_load(review.read_text())
        assert len(doc["records"]) == 1 and len(doc["unanswered"]) == 7 and doc["errors"]
        assert snapshot(data) == before


def test_retries_back_off_and_rate(tmp_path):
    with Misbehaving("flaky") as bad:
        data = here(tmp_path / "data", None)
        slept: list[float] = []
        service = LinkService("Other", bad.url, "http://other.example.org/entity/{id}")
        flaky = client(bad.url, tmp_path, retries=2, backoff=0.5, rate=2, sleep=slept.append)
        run = propose(data, service, flaky, kinds=["organisation"])
        assert run.errors == [] and run.asked == 4
        assert bad.posts == 5  # one 503, then four batches of one
        assert 0.5 in slept  # the back-off before the retry
        # the rest are waits for the rate (2 a second): never more than half a second
        assert all(0 < s <= 0.5 for s in slept)


@pytest.mark.slow
def test_cli_sameas_and_apply(remote, tmp_path):
    url = service_url(remote)
    data = here(tmp_path / "data", url)
    env = {**os.environ, "LOD_DATA": str(data), "LOD_OUT": str(tmp_path / "dist")}
    review = tmp_path / "review.yaml"

    def lod(*args):
        return subprocess.run(
            [sys.executable, "-m", "lod", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
        )

    done = lod(
        "link",
        "sameas",
        "--service",
        "Elsewhere",
        "--review",
        str(review),
        "--kind",
        "organisation",
        "--rate",
        "100",
    )
    assert done.returncode == 0, done.stderr
    assert "4 records asked" in done.stdout and "2 accepted automatically" in done.stdout
    before = snapshot(data)
    done = lod("link", "apply", str(review))
    assert done.returncode == 0, done.stderr
    assert "2 links written" in done.stdout
    assert snapshot(data) != before

    # --write: the certain links go straight in (here on a fresh copy of the data)
    fresh = here(tmp_path / "fresh", url)
    before = snapshot(fresh)
    done = lod(
        "link", "sameas", "--service", "Elsewhere", "--review", str(tmp_path / "r2.yaml"),
        "--write", "--data", str(fresh), "--no-cache", "--rate", "100",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2 sameAs links written" in done.stdout
    changed = [name for name, text in snapshot(fresh).items() if before[name] != text]
    assert changed == ["organisations/organisations.yaml"]

    with Misbehaving("error") as bad:
        before = snapshot(data)
        done = lod(
            "link",
            "sameas",
            "--service",
            bad.url,
            "--review",
            str(tmp_path / "r3.yaml"),  # review's is Elsewhere's: refused, see below
            "--retries",
            "0",
            "--write",
            "--rate",
            "100",
        )
        assert done.returncode == 1
        assert "answered HTTP 500" in done.stderr and "Traceback" not in done.stderr
        assert snapshot(data) == before

    done = lod("link", "sameas", "--service", "Nowhere", "--review", str(review))
    assert done.returncode == 2 and "neither a URL nor a label" in done.stderr


def test_a_place_agrees_through_the_places_it_lies_in(remote, tmp_path):
    """Ours: at the UN Headquarters, in New York City; theirs: in New York City. The
    country of a namesake elsewhere differs at every level, so it never agrees."""
    url = service_url(remote)
    data = here(tmp_path / "data", url)
    (data / "places" / "places.csv").write_text(
        "id,name,containedInPlace\nnyc,New York City,\nhq,UN Headquarters,nyc\n"
        "kenya,Kenya,\nnairobi,Nairobi,kenya\ngeneva,Geneva,\n"
    )
    orgs = data / "organisations" / "organisations.yaml"
    orgs.write_text(orgs.read_text().replace("location: nyc", "location: hq"))
    run = propose(data, elsewhere_service(url), client(url, tmp_path))
    found = by_record(run)
    assert "location agrees" in found["organisation/united-nations"][0]["why"]
    assert found["organisation/united-nations"][0]["decision"] == "accept"
    assert found["organisation/mercy-relief"][0]["decision"] == ""


# the agreement rules and the review file, without HTTP: a service answered from a table


class Table:
    """A service client answered from tables: each query's candidates (by the name asked)
    and each id's property values; the queries it was sent are kept."""

    batch_size = 10

    def __init__(self, candidates: dict, values: dict, extends: bool = True, types=()):
        self.candidates, self.values, self.extends = candidates, values, extends
        self.types = set(types)
        self.queries: list[dict] = []

    def default_types(self) -> set[str]:
        return self.types

    def match(self, queries):
        self.queries += queries
        return [self.candidates.get(q["query"], []) for q in queries]

    def extend(self, ids, pids):
        if self.values is None:
            raise ServiceFailed("extend: refused")
        return {i: self.values.get(i, {}) for i in ids}


def candidate(entity: str, name: str, score: float = 100.0, match: bool = True) -> dict:
    return {"id": entity, "name": name, "score": score, "match": match}


GENEVA = {"location": ["Geneva"]}
LOCATED = (("location", "location"),)


@pytest.mark.parametrize(
    ("candidates", "values", "decisions", "why"),
    [
        # sure: same name, the service says match (or scores 90), the location agrees
        ([candidate("g1", "Global Action")], {"g1": GENEVA}, [("g1", "accept")], "agrees"),
        (
            [candidate("g1", "Global Action", 90, False)],
            {"g1": GENEVA},
            [("g1", "accept")],
            "score 90",
        ),
        # not sure enough: a low score without a match, another name, a location differing
        ([candidate("g1", "Global Action", 89, False)], {"g1": GENEVA}, [("g1", "")], "score 89"),
        ([candidate("g1", "Global Actions")], {"g1": GENEVA}, [("g1", "")], "another name"),
        (
            [candidate("g1", "Global Action")],
            {"g1": {"location": [{"id": "d", "name": "Dublin"}]}},
            [("g1", "")],
            "location differs (Dublin)",
        ),
        ([candidate("g1", "Global Action")], {}, [("g1", "")], "no property could be checked"),
        # twins: both as certain, so neither is accepted
        (
            [candidate("g1", "Global Action"), candidate("g2", "global action")],
            {"g1": GENEVA, "g2": GENEVA},
            [("g1", ""), ("g2", "")],
            "another candidate is as certain",
        ),
        # the service's ids in place of names: a record linked to it is the same place
        (
            [candidate("g1", "Global Action")],
            {"g1": {"location": [{"id": "place/gva", "name": "Genève"}]}},
            [("g1", "accept")],
            "location agrees",
        ),
    ],
)
def test_agreement_rules(tmp_path, candidates, values, decisions, why):
    data = here(tmp_path / "data", None)
    places = data / "places" / "places.csv"
    places.write_text(
        places.read_text().replace("geneva,Geneva,", f"geneva,Geneva,{ELSEWHERE}id/place/gva")
    )
    table = Table({"Global Action": candidates}, values)
    run = propose(data, elsewhere_service("u", LOCATED), table, kinds=["organisation"])
    found = by_record(run)["organisation/global-action"]
    assert [(c["id"], c["decision"]) for c in found] == decisions
    assert any(why in w for c in found for w in c["why"]), [c["why"] for c in found]
    assert run.accepted == sum(d == "accept" for _, d in decisions)


def test_queries_carry_the_type_and_the_properties(tmp_path):
    data = here(tmp_path / "data", None)
    table = Table({}, {}, types=["organisation"])
    propose(data, elsewhere_service("u", LOCATED), table, kinds=["organisation"])
    asked = {q["query"]: q for q in table.queries}
    assert asked["United Nations"] == {
        "query": "United Nations",
        "limit": 3,
        "type": "organisation",
        "properties": [("location", "New York City")],  # another record: its name
    }
    assert asked["Mercy Relief"]["properties"] == [("location", "Nairobi")]
    assert "properties" not in asked["Nobody Knows This Organisation"]


def test_a_linked_record_is_asked_about_by_its_id_there(tmp_path):
    """A record the query names (a location) that has a sameAs into the service's graph is
    named by its id there: `place/ny`, not `/place/ny` (the space's trailing slash kept)."""
    data = here(tmp_path / "data", None)
    places = data / "places" / "places.csv"
    linked = f"nyc,New York City,{ELSEWHERE}id/place/ny"
    places.write_text(places.read_text().replace("nyc,New York City,", linked))
    table = Table({}, {})
    propose(data, elsewhere_service("u", LOCATED), table, kinds=["organisation", "place"])
    asked = {q["query"]: q for q in table.queries}
    assert asked["United Nations"]["properties"] == [("location", "place/ny")]
    assert "New York City" not in asked  # linked already: not asked about


def test_an_extension_that_fails_leaves_the_candidates_unchecked(tmp_path):
    data = here(tmp_path / "data", None)
    table = Table({"Global Action": [candidate("g1", "Global Action")]}, None)
    run = propose(data, elsewhere_service("u", LOCATED), table, kinds=["organisation"])
    assert run.errors == ["extend: refused (candidates left for review, unchecked)"]
    assert by_record(run)["organisation/global-action"][0]["decision"] == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "cannot be read"),
        ("records: [", "not valid YAML"),
        ("- a list\n", "not a review file (no `records` list)"),
        ("records: {a: 1}\n", "not a review file (no `records` list)"),
        ("records:\n  - name: x\n", "records[0]: each entry has a `record` (kind/slug)"),
        ("records:\n  - record: planet/x\n", "records[0]: `planet/x` is not kind/slug"),
        ("records:\n  - record: organisation\n", "records[0]: `organisation` is not kind/slug"),
        (
            "records:\n  - record: organisation/x\n    candidates: [{id: q}]\n",
            "records[0].candidates[0]: each candidate has an `iri`",
        ),
        (
            "records:\n  - record: organisation/x\n"
            "    candidates: [{iri: 'http://q', decision: maybe}]\n",
            "records[0].candidates[0].decision: `maybe` is not accept or reject",
        ),
    ],
)
def test_a_review_file_that_cannot_be_applied(tmp_path, text, message):
    data = here(tmp_path / "data", None)
    review = tmp_path / "review.yaml"
    if text is not None:
        review.write_text(text)
    before = snapshot(data)
    with pytest.raises(LodError, match=re.escape(message)):
        apply(review, data)
    assert snapshot(data) == before


def test_a_review_naming_an_unknown_record_changes_nothing(tmp_path):
    data = here(tmp_path / "data", None)
    review = tmp_path / "review.yaml"
    review.write_text(
        "records:\n"
        "  - record: organisation/united-nations\n"
        "    candidates: [{iri: 'http://q/1', decision: accept}]\n"
        "  - record: organisation/gone\n"
        "    candidates: [{iri: 'http://q/2', decision: accept}, {iri: 'http://q/3'}]\n"
    )
    before = snapshot(data)
    with pytest.raises(LodError, match="no record `organisation/gone` in"):
        apply(review, data)
    assert snapshot(data) == before


def test_undecided_and_known_links_are_counted_not_written(tmp_path):
    data = here(tmp_path / "data", None)
    review = tmp_path / "review.yaml"
    review.write_text(
        "records:\n"
        "  - record: place/geneva\n"
        "    candidates:\n"
        "      - {iri: 'http://q/1', decision: accept}\n"
        "      - {iri: 'http://q/1', decision: accept}\n"
        "      - {iri: 'http://q/2', decision: reject}\n"
        "      - {iri: 'http://q/3', decision: ''}\n"
        "      - {iri: 'http://q/4'}\n"
    )
    applied = apply(review, data)
    assert applied.added == [("place/geneva", "http://q/1", str(data / "places" / "places.csv"))]
    assert (applied.rejected, applied.undecided) == (1, 2)
    assert apply(review, data).added == []  # sameAs has it now
    assert read_rejected(data) == {"place/geneva": {"http://q/2"}}


class Manifest:
    def __init__(self, manifest: dict):
        self.manifest = manifest


def test_a_service_found_by_label_or_url_or_made_from_its_manifest():
    services = [LinkService("Wikidata", "https://wd.example/api", "http://wd.example/{id}")]
    assert find_service(services, "Wikidata") is services[0]
    assert find_service(services, "https://wd.example/api/") is services[0]
    assert find_service(services, "https://other.example/api") is None
    made = service_from_manifest(
        "https://o.example/api", Manifest({"identifierSpace": "http://o.example/e/"})
    )
    assert (made.label, made.ids) == ("o.example", "http://o.example/e/{id}")
    with pytest.raises(LodError, match="has no identifierSpace"):
        service_from_manifest("https://o.example/api", Manifest({"name": "O"}))


# a shared Wikidata id: the same thing, whatever the names and the properties say

WD = "http://www.wikidata.org/entity/"
Q1065 = f"{WD}Q1065"


def with_wikidata(data: Path, slug: str, same_as: str) -> None:
    """Our record `slug` (organisations.yaml) given a sameAs, as a person writes it."""
    orgs = data / "organisations" / "organisations.yaml"
    text = orgs.read_text()
    line = next(line for line in text.splitlines(keepends=True) if line == f"- id: {slug}\n")
    orgs.write_text(text.replace(line, f"{line}  sameAs: {same_as}\n"))


@pytest.mark.parametrize(
    ("theirs", "name", "decision", "why"),
    [
        # their sameAs names our Wikidata id (as a page or an id): a match, with no
        # property mapped and even under another name
        ([Q1065], "United Nations", "accept", "same Wikidata id (Q1065)"),
        (["https://www.wikidata.org/wiki/Q1065"], "UNO", "accept", "same Wikidata id (Q1065)"),
        # another Wikidata id there: never, whatever the name
        ([f"{WD}Q7"], "United Nations", "", "Wikidata id differs (Q7, ours Q1065)"),
        # nothing to compare: left to the publisher, as before
        ([], "United Nations", "", "no property to check"),
        (["https://ror.org/00x"], "United Nations", "", "no property to check"),
    ],
)
def test_a_shared_wikidata_id_is_a_match(tmp_path, theirs, name, decision, why):
    data = here(tmp_path / "data", None)
    with_wikidata(data, "united-nations", "https://www.wikidata.org/wiki/Q1065")
    table = Table(
        {"United Nations": [candidate("u1", name, 60, False)]}, {"u1": {"sameAs": theirs}}
    )
    run = propose(data, elsewhere_service("u", ()), table, kinds=["organisation"])
    (found,) = by_record(run)["organisation/united-nations"]
    assert found["decision"] == decision
    assert any(why in w for w in found["why"]), found["why"]


def test_the_candidate_that_is_our_wikidata_entity_is_a_match(tmp_path):
    """A service whose ids are Wikidata's pages: the record's entity IRI is the same id."""
    data = here(tmp_path / "data", None)
    with_wikidata(data, "united-nations", Q1065)
    with_wikidata(data, "mercy-relief", f"{WD}Q5")
    wiki = LinkService("Wikidata", "u", "https://www.wikidata.org/wiki/{id}")
    table = Table(
        {"United Nations": [candidate("Q1065", "UN", 50, False)], "Mercy Relief": [
            candidate("Q6", "Mercy Relief")]},
        {},
        extends=False,
    )  # fmt: skip
    run = propose(data, wiki, table, kinds=["organisation"])
    found = by_record(run)
    assert found["organisation/united-nations"][0]["decision"] == "accept"
    assert found["organisation/mercy-relief"][0]["decision"] == ""
    assert "Wikidata id differs (Q6, ours Q5)" in found["organisation/mercy-relief"][0]["why"]


def test_a_shared_wikidata_id_through_another_lod(remote, tmp_path):
    """The other lod's record says sameAs Q1065 (its data extension gives it), so does
    ours: a match with no property mapped."""
    url = service_url(remote)
    data = here(tmp_path / "data", url, api_properties=False)
    with_wikidata(data, "united-nations", Q1065)
    run = propose(data, elsewhere_service(url, ()), client(url, tmp_path))
    un = by_record(run)["organisation/united-nations"][0]
    assert (un["id"], un["decision"]) == ("organisation/un", "accept")
    assert "same Wikidata id (Q1065)" in un["why"]
    assert run.accepted == 1


# running again: the review file there is merged into, never written over


def decide(text: str, iri: str, line: str) -> str:
    """The review's text with the `decision:` line of the candidate `iri` replaced by
    `line` (indented as it was), as a person edits it."""
    lines = text.splitlines(keepends=True)
    at = lines.index(next(x for x in lines if x.strip() == f"iri: {iri}"))
    at += next(i for i, x in enumerate(lines[at:]) if x.strip().startswith("decision:"))
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    lines[at] = indent + line + "\n"
    return "".join(lines)


def above(text: str, line: str, comment: str) -> str:
    """A comment line put above the (first) line `line`, at its indentation."""
    found = next(x for x in text.splitlines(keepends=True) if x.strip() == line)
    indent = found[: len(found) - len(found.lstrip())]
    return text.replace(found, f"{indent}{comment}\n{found}", 1)


def iri(entity: str) -> str:
    return f"{ELSEWHERE}id/{entity}"


def decisions(review: Path) -> dict[tuple[str, str], str]:
    doc = yaml.safe_load(review.read_text())
    return {
        (item["record"], c["id"]): c["decision"]
        for item in doc["records"]
        for c in item["candidates"] or []
    }


FIRST = {
    "United Nations": [candidate("u1", "United Nations"), candidate("u2", "UN Office", 70)],
    "Mercy Relief": [candidate("m1", "Mercy Relief")],
    "Global Action": [candidate("g1", "Global Action"), candidate("g2", "Global Action", 80)],
    "Nobody Knows This Organisation": [candidate("n1", "Nobody", 40, False)],
}


def reviewed(tmp_path) -> tuple[Path, Path, LinkService]:
    """A first run's review, then decided and commented by a person (text edits)."""
    data = here(tmp_path / "data", None)
    service = elsewhere_service("u", LOCATED)
    review = tmp_path / "review.yaml"
    run = propose(data, service, Table(FIRST, {"g1": GENEVA}), kinds=["organisation"])
    written = write_review(review, service, "http://u/api", run, data)
    assert not written.merged and decisions(review)[("organisation/global-action", "g1")] == (
        "accept"
    )
    text = review.read_text()
    text = decide(text, iri("u1"), "decision: accept   # same website, checked by phone")
    text = above(text, "- id: u2", "# the Geneva office? ask Anna")
    text = decide(text, iri("m1"), "decision: reject")
    text = above(text, "- record: organisation/nobody-knows", "# a new partner: look again in May")
    text = text.replace("records:\n", "# reviewed up to Mercy Relief, 3 May\nrecords:\n")
    review.write_text(text)
    return data, review, service


def test_a_second_run_keeps_decisions_and_comments_and_adds_candidates(tmp_path):
    data, review, service = reviewed(tmp_path)
    edited = review.read_text()
    second = {
        **FIRST,
        "United Nations": [*FIRST["United Nations"], candidate("u3", "United Nations HQ", 60)],
        "Global Action": [*FIRST["Global Action"], candidate("g3", "Global Actions", 50)],
        "Nobody Knows This Organisation": [candidate("n1", "Nobody", 45, False)],
        "New Partner": [candidate("p1", "New Partner")],
    }
    orgs = data / "organisations" / "organisations.yaml"
    orgs.write_text(orgs.read_text() + "\n- id: new-partner\n  name: New Partner\n")
    run = propose(data, service, Table(second, {"g1": GENEVA}), kinds=["organisation"])
    written = write_review(review, service, "http://u/api", run, data)
    text = review.read_text()

    # every decision and comment survived, on the lines the person wrote them
    for line in [
        "# reviewed up to Mercy Relief, 3 May\nrecords:\n",
        "    decision: accept   # same website, checked by phone\n",
        f"  # the Geneva office? ask Anna\n  - id: u2\n    iri: {iri('u2')}\n",
        "    decision: reject\n",
        "# a new partner: look again in May\n- record: organisation/nobody-knows\n",
    ]:
        assert line in text, line
    found = decisions(review)
    assert found[("organisation/united-nations", "u1")] == "accept"
    assert found[("organisation/mercy-relief", "m1")] == "reject"
    assert found[("organisation/global-action", "g1")] == "accept"  # automatic, kept
    # the new candidates, and the new record, are there to decide
    assert found[("organisation/united-nations", "u3")] == ""
    assert found[("organisation/global-action", "g3")] == ""
    assert found[("organisation/new-partner", "p1")] == ""
    # an untouched candidate is written anew, with this run's evidence
    nobody = yaml.safe_load(text)["records"][3]
    assert nobody["record"] == "organisation/nobody-knows"
    assert nobody["candidates"][0]["score"] == 45
    assert (written.merged, written.added, written.renewed) == (True, 3, 2)
    # the unchanged parts of the file are as they were, byte for byte
    kept_block = edited[edited.index("- record: organisation/united-nations") :]
    kept_block = kept_block[: kept_block.index("- record: organisation/mercy-relief")]
    assert kept_block.rstrip("\n") in text
    # and a third run with nothing new changes nothing
    again = propose(data, service, Table(second, {"g1": GENEVA}), kinds=["organisation"])
    write_review(review, service, "http://u/api", again, data)
    assert review.read_text() == text


def test_after_apply_what_is_done_leaves_and_what_is_said_stays(tmp_path):
    """Applied: u1 and g1 are in data/ now, m1 is remembered as rejected. A second run:
    those leave (u1 stays: it carries a comment), so do the untouched candidates of the
    records linked since (g2); the commented u2 stays; the entry of Mercy Relief, left
    with nothing, goes; a record deleted from data/ loses its entry, and says so."""
    data, review, service = reviewed(tmp_path)
    applied = apply(review, data)
    assert {i for _, i, _ in applied.added} == {iri("u1"), iri("g1")}
    orgs = data / "organisations" / "organisations.yaml"
    text = orgs.read_text()
    orgs.write_text(text[: text.index("- id: nobody-knows")])  # deleted by the publisher
    run = propose(data, service, Table(FIRST, {"g1": GENEVA}), kinds=["organisation"])
    assert run.proposals == []  # nothing new: linked, rejected, or gone
    written = write_review(review, service, "http://u/api", run, data)
    assert decisions(review) == {
        ("organisation/united-nations", "u1"): "accept",  # commented: kept
        ("organisation/united-nations", "u2"): "",  # commented: kept
    }
    assert "# the Geneva office? ask Anna" in review.read_text()
    assert written.gone == ["organisation/nobody-knows"]
    assert "no longer in data/: organisation/nobody-knows" in written.summary()
    assert apply(review, data).added == []  # and the file still applies


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("records: [\n", "not valid YAML"),
        ("- a list\n", "not a review file"),
        ("records:\n  - record: organisation/x\n    candidates: [{id: q}]\n", "has an `iri`"),
        ("records: []\n", "a review of no service"),
        (
            "service: {label: Other, ids: 'http://other.example.org/{id}'}\nrecords: []\n",
            "a review of another service (http://other.example.org/{id}), not of Elsewhere",
        ),
        (
            "service: {ids: 'https://elsewhere.example.org/id/{id}'}\nrecords:\n"
            "  - record: organisation/mercy-relief\n    candidates: [{iri: 'http://q'}]\n",
            "review.yaml:3: records[0] is written as a flow",
        ),
    ],
)
def test_a_review_that_cannot_be_merged_is_refused_untouched(tmp_path, text, message):
    data = here(tmp_path / "data", None)
    service = elsewhere_service("u", LOCATED)
    review = tmp_path / "review.yaml"
    review.write_text(text)
    run = propose(data, service, Table(FIRST, {}), kinds=["organisation"])
    with pytest.raises(LodError, match=re.escape(message)) as refused:
        write_review(review, service, "http://u/api", run, data)
    assert "it was not overwritten" in str(refused.value)
    assert review.read_text() == text


def test_cli_merges_into_the_review_and_refuses_another(tmp_path):
    """`lod link sameas` twice against a service on 127.0.0.1: the second run merges (the
    person's decision and comment stay); a review of another service is refused before
    the service is asked, exit 1, the file untouched."""
    with Misbehaving("ok") as service:
        data = here(tmp_path / "data", None)
        review = tmp_path / "review.yaml"
        args = ["link", "sameas", "--service", service.url, "--review", str(review),
                "--data", str(data), "--out", str(tmp_path / "dist"), "--kind", "organisation",
                "--rate", "100"]  # fmt: skip
        runner = CliRunner()
        first = runner.invoke(cli, args)
        assert first.exit_code == 0, first.output
        assert f"review: {review}\n" in first.output
        decided = decide(
            review.read_text(), "http://other.example.org/entity/X1", "decision: reject  # no"
        )
        review.write_text(decided)
        second = runner.invoke(cli, args)
        assert second.exit_code == 0, second.output
        assert "(merged; candidates kept as they were: 1, written anew: 3, new: 0," in second.output
        assert "    decision: reject  # no\n" in review.read_text()
        assert review.read_text().count("decision:") == 4

        other = tmp_path / "other.yaml"
        other.write_text("service: {ids: 'http://x.example/{id}'}\nrecords: []\n")
        posts = service.posts
        refused = runner.invoke(cli, [*args[:4], "--review", str(other), *args[6:]])
        assert refused.exit_code == 1
        assert "a review of another service (http://x.example/{id})" in refused.output
        assert "Traceback" not in refused.output
        assert other.read_text() == "service: {ids: 'http://x.example/{id}'}\nrecords: []\n"
        assert service.posts == posts  # refused before asking


def test_a_first_run_that_found_nothing_is_merged_into(tmp_path):
    """`records: []` (nothing found the first time), a comment under it: the second run's
    records take the key's place, the comment stays, CRLF line endings too."""
    data = here(tmp_path / "data", None)
    service = elsewhere_service("u", LOCATED)
    review = tmp_path / "review.yaml"
    empty = propose(data, service, Table({}, {}), kinds=["organisation"])
    write_review(review, service, "http://u/api", empty, data)
    text = review.read_text().replace("\n", "\r\n") + "# nothing yet, 1 May\r\n"
    review.write_bytes(text.encode())
    run = propose(data, service, Table(FIRST, {}), kinds=["organisation"])
    written = write_review(review, service, "http://u/api", run, data)
    assert written.added == 6
    merged = review.read_bytes().decode()
    assert merged.count("\n") == merged.count("\r\n")
    assert merged.endswith("decision: ''\r\n# nothing yet, 1 May\r\n")
    assert len(decisions(review)) == 6
