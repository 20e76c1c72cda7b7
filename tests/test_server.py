"""The Linked Data server over a real HTTP connection (gunicorn on 127.0.0.1): 303s,
content negotiation, resource documents, lists, dumps, VoID, caching, CORS, errors."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, VOID

from lod.formats import Format

BASE = "https://lod.example.org/"
SDO = "https://schema.org/"
EVENT = "/doc/event/csocd59-migration-displacement-side-event"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def test_id_redirects_303_to_its_document(server):
    response = server.get("/id/event/csocd59")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/doc/event/csocd59")


@pytest.mark.parametrize("path", ["/id/event/nope", "/id/unicorn/csocd59", "/id/event/a%2Fb"])
def test_unknown_resource_is_404_at_once(server, path):
    response = server.get(path)
    assert response.status_code == 404


def test_following_id_with_turtle_gives_the_resource(server):
    response = server.get(
        "/id/person/cecilie-kern", headers={"Accept": "text/turtle"}, allow_redirects=True
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    me = URIRef(BASE + "id/person/cecilie-kern")
    assert (me, URIRef(SDO + "name"), Literal("Cecilie Kern", lang="en")) in graph
    assert (
        me,
        URIRef(SDO + "jobTitle"),
        Literal("Global Policy & Research Advocate", lang="en"),
    ) in graph


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("text/turtle", "text/turtle"),
        ("text/turtle; charset=utf-8", "text/turtle"),
        ("application/ld+json", "application/ld+json"),
        ("application/n-triples", "application/n-triples"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("text/html", "text/html"),
        (BROWSER, "text/html"),
        ("*/*", "text/turtle"),
        (None, "text/turtle"),
        ("application/ld+json;q=0.5, text/turtle;q=0.9", "text/turtle"),
        ("text/turtle;q=0.2, application/rdf+xml", "application/rdf+xml"),
        ("application/json", "application/ld+json"),
        ("text/*", "text/turtle"),
    ],
)
def test_negotiation(server, accept, media_type):
    headers = {"Accept": accept} if accept else {}
    response = server.get(EVENT, headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == media_type
    assert "Accept" in response.headers["Vary"]
    extension = {
        "text/turtle": "ttl",
        "application/ld+json": "jsonld",
        "text/html": "html",
        "application/n-triples": "nt",
        "application/rdf+xml": "rdf",
    }[media_type]
    assert response.headers["Content-Location"] == f"{EVENT}.{extension}"


def test_unacceptable_type_is_406_with_the_offer(server):
    response = server.get(EVENT, headers={"Accept": "image/png"})
    assert response.status_code == 406
    for media in ("text/turtle", "application/ld+json", "text/html"):
        assert media in response.text


@pytest.mark.parametrize(
    ("suffix", "rdf_format"),
    [("ttl", "turtle"), ("jsonld", "json-ld"), ("nt", "nt"), ("rdf", "xml")],
)
def test_every_format_is_the_same_graph(server, suffix, rdf_format):
    reference = Graph().parse(data=server.get(f"{EVENT}.nt").text, format="nt")
    graph = Graph().parse(data=server.get(f"{EVENT}.{suffix}").content, format=rdf_format)
    assert len(reference) > 10
    assert isomorphic(graph, reference)


def test_document_holds_hash_nodes_labels_and_incoming_links(server):
    graph = Graph().parse(data=server.get(f"{EVENT}.ttl").text, format="turtle")
    event = URIRef(BASE + "id/event/csocd59-migration-displacement-side-event")
    role = URIRef(f"{event}#role-1")
    person = URIRef(BASE + "id/person/cecilie-kern")
    assert (event, URIRef(SDO + "contributor"), role) in graph
    assert (role, URIRef(SDO + "roleName"), Literal("moderator", lang="en")) in graph
    assert (person, URIRef(SDO + "name"), Literal("Cecilie Kern", lang="en")) in graph
    assert (person, RDF.type, URIRef(SDO + "Person")) in graph
    article = URIRef(
        BASE + "id/article/commission-on-social-development-examines-role-of-digital-technologies"
    )
    assert (article, URIRef(SDO + "mentions"), event) in graph
    # the person's own job title is not part of the event's document
    assert not list(graph.objects(person, URIRef(SDO + "jobTitle")))


def test_suffix_forms_link_every_alternate(server):
    response = server.get(f"{EVENT}.ttl")
    links = response.headers["Link"]
    for suffix in ("ttl", "jsonld", "nt", "rdf", "html"):
        assert f'<{EVENT}.{suffix}>; rel="alternate"' in links
    assert "Content-Location" not in response.headers


def test_unknown_suffix_is_404(server):
    assert server.get(f"{EVENT}.xyz").status_code == 404


def test_etag_and_304(server):
    first = server.get(EVENT, headers={"Accept": "text/turtle"})
    etag = first.headers["ETag"]
    again = server.get(EVENT, headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert again.status_code == 304
    other = server.get(EVENT, headers={"Accept": "application/ld+json", "If-None-Match": etag})
    assert other.status_code == 200
    assert other.headers["ETag"] != etag


@pytest.mark.parametrize(
    "path", [EVENT, "/sparql?query=ASK%7B%7D", "/dumps/dataset.nt.gz", "/.well-known/void", "/"]
)
def test_cors_on_data(server, path):
    assert server.get(path).headers["Access-Control-Allow-Origin"] == "*"


def test_head_and_options(server):
    head = server.request("HEAD", EVENT, headers={"Accept": "text/turtle"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Type"].startswith("text/turtle")
    options = server.request("OPTIONS", EVENT)
    assert options.status_code == 200
    assert "GET" in options.headers["Allow"]


@pytest.mark.parametrize(
    ("accept", "kind"), [("application/json", "json"), (BROWSER, "html"), ("text/turtle", "json")]
)
def test_404_in_every_format(server, accept, kind):
    response = server.get("/doc/event/nope", headers={"Accept": accept})
    assert response.status_code == 404
    if kind == "json":
        assert response.json()["error"]["status"] == 404
    else:
        assert "<h1>404" in response.text
    assert "Traceback" not in response.text


def test_html_page_reads_well(server):
    response = server.get(EVENT + ".html")
    page = response.text
    assert "<h1>Migration, Displacement &amp; their Cross-cutting Issues" in page
    assert ">Cecilie Kern</a>" in page  # a label, linked, not an IRI
    assert ">moderator<" in page
    assert 'href="/doc/person/cecilie-kern"' in page
    assert 'rel="alternate" type="text/turtle"' in page


def test_html_embeds_the_same_data_as_json_ld(server):
    page = server.get(EVENT + ".html").text
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    embedded = Graph().parse(data=script.group(1), format="json-ld")
    served = Graph().parse(data=server.get(EVENT + ".jsonld").text, format="json-ld")
    assert isomorphic(embedded, served)


def test_article_body_is_rendered_markdown(server):
    page = server.get(
        "/doc/article/commission-on-social-development-examines-role-of-digital-technologies.html"
    ).text
    assert "<p>The 59th session of the Commission for Social Development" in page
    assert "20 February 2021" in page  # dates readable


def test_home_page(server):
    page = server.get("/", headers={"Accept": BROWSER}).text
    assert "MIA-MGA news as Linked Open Data" in page
    assert "Commission on Social Development Examines the Role" in page
    for link in ('href="/sparql"', 'href="/dumps/"', 'href="/.well-known/void"'):
        assert link in page


def test_kind_lists_and_their_pages(server):
    page = server.get("/doc/topic/").text
    assert "20 topics" in page
    listing = server.get("/doc/event/", headers={"Accept": "application/json"}).json()
    assert listing["total"] == 3
    assert listing["items"][0]["@id"] == BASE + "id/event/csocd59"  # dated first
    assert server.get("/doc/topic/?page=9").status_code == 404
    assert server.get("/doc/topic/?page=x").status_code == 400
    assert server.get("/doc/unicorn/").status_code == 404


def test_dumps_download_with_validators_and_ranges(server, built):
    path = "/dumps/dataset.nt.gz"
    response = server.get(path)
    assert response.status_code == 200
    body = response.content
    assert body == built.dump(Format.NTRIPLES).read_bytes()
    assert int(response.headers["Content-Length"]) == len(body)
    assert gzip.decompress(body).count(b"\n") == built.manifest["triples"]
    assert "Last-Modified" in response.headers
    etag = response.headers["ETag"]
    assert server.get(path, headers={"If-None-Match": etag}).status_code == 304
    partial = server.get(path, headers={"Range": "bytes=0-9"})
    assert partial.status_code == 206
    assert partial.content == body[:10]
    assert server.get("/dumps/").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/dumps/../manifest.json",
        "/dumps/%2e%2e/manifest.json",
        "/dumps/..%2fmanifest.json",
        "/dumps//etc/passwd",
        "/dumps/%2fetc%2fpasswd",
        "/dumps/store",
        "/dumps/dataset.nt.gz%00",
        "/dumps/manifest.json",
    ],
)
def test_dump_paths_outside_the_list_are_404(server, path):
    response = server.get(path)
    assert response.status_code == 404
    assert "root:" not in response.text


def test_void_describes_the_dataset(server, built):
    response = server.get("/.well-known/void", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=response.text, format="turtle")
    dataset = URIRef(BASE + "id/dataset")
    assert int(graph.value(dataset, VOID.triples)) == built.manifest["triples"]
    assert graph.value(dataset, VOID.sparqlEndpoint) == URIRef(BASE + "sparql")
    assert len(list(graph.objects(dataset, VOID.dataDump))) == 3
    assert list(graph.subjects(RDF.type, VOID.Linkset))
    jsonld = server.get("/.well-known/void", headers={"Accept": "application/ld+json"})
    assert isomorphic(Graph().parse(data=jsonld.text, format="json-ld"), graph)


def test_healthz(server, built):
    health = server.get("/healthz").json()
    assert health == {"status": "ok", "build": built.id, "triples": built.manifest["triples"]}


def test_bad_offset_is_400(server):
    response = server.get(EVENT + "?offset=-1", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert json.loads(response.text)["error"]["message"]
