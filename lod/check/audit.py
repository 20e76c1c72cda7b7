"""`lod check URL`: audit a running deployment the way a Linked Data client sees it.

Starting from the dataset description at /.well-known/void, it dereferences each
`void:exampleResource` (303 from /id/, content negotiation over every format, the formats
agreeing as graphs, `Vary`, CORS, `ETag` and 304), asks the SPARQL endpoint for its service
description and for a triple count, downloads and parses every `void:dataDump`, and reads
the reconciliation manifest, /sitemap.xml and /robots.txt. Last, every absolute URL the site
wrote in those (and in the change stream, /ldes) must be under the checked URL or the
dataset's base: behind a proxy that does not pass on the public host with its port, the
scheme or the path prefix, the site names URLs that lead elsewhere, and every other check,
which follows paths, would still pass. Each check is one `Result`; the caller prints them as
they come.

IRIs in the data use the dataset's base, which need not be the URL being checked (a
staging server, a local one): an IRI under the base is fetched from the checked URL's root
instead (`https://lod.example.org/id/x` -> `http://127.0.0.1:5000/id/x`). Requests go
through lod.check.client (every one has a timeout; a server that does not answer is a
failed check, never a traceback); answers are read by lod.check.read (everything parsed
with pyoxigraph, which never fetches a remote JSON-LD `@context`).
"""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree as ET

import pyoxigraph as ox
import requests

from ..formats import Format, ResultFormat
from ..vocab import RDF, SD, VOID
from . import read
from .client import Client, Failed, expect, media_type, short

TIMEOUT = 10.0
JSON = "application/json"
TRIG = "application/trig"
TREE = "https://w3id.org/tree#"
TREE_VIEW = ox.NamedNode(f"{TREE}view")
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
COUNT_QUERY = "SELECT (COUNT(*) AS ?triples) WHERE { ?s ?p ?o }"
CHUNK = 1 << 20
NEGOTIATED = [*Format.rdf(), Format.HTML]  # Turtle first: the others are compared with it
CHECKED_ERRORS = (
    ValueError,  # bad JSON, numbers, IRIs
    SyntaxError,  # pyoxigraph's parse errors, ElementTree's ParseError
    KeyError,
    TypeError,
    OSError,  # gzip's BadGzipFile, a full disk
    EOFError,  # a truncated gzip stream
)


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        if self.ok:
            return f"ok   {self.name}" + (f" ({self.detail})" if self.detail else "")
        return f"FAIL {self.name}: {self.detail}"


def summary(results: list[Result]) -> str:
    failed = sum(not r.ok for r in results)
    checks = f"{len(results)} check{'' if len(results) == 1 else 's'}"
    if not failed:
        return f"{checks}, all ok"
    return f"{checks}: {len(results) - failed} ok, {failed} failed"


@dataclass
class Void:
    """What the checks need from the dataset description."""

    dataset: str
    base: str | None
    triples: int | None
    examples: list[str]
    dumps: list[str]
    sparql: str | None


def audit(url: str, timeout: float = TIMEOUT) -> Iterator[Result]:
    """Every check against the deployment at `url`, one Result each, as they run."""
    client = Client(url.rstrip("/"), timeout)
    try:
        yield from _audit(client)
    finally:
        client.session.close()


def _audit(client: Client) -> Iterator[Result]:
    try:
        void_response = client.get(f"{client.root}/.well-known/void", Format.TURTLE.media_type)
    except Failed as down:  # refused, silent, unresolvable, not a URL requests can use
        yield Result(f"server at {client.root}", False, str(down))
        return
    found: list[Void] = []
    yield _probe("VoID /.well-known/void", lambda: _void(client, void_response, found))
    void = found[0] if found else None
    documents: list[str] = []
    written: list[tuple[str, str]] = []  # (where, URL): the absolute URLs the site wrote
    if void is not None:
        client.base = void.base
        for iri in void.examples:
            yield from _resource(client, iri, documents)
    endpoint = client.local(void.sparql) if void and void.sparql else f"{client.root}/sparql"
    yield _probe(
        f"SPARQL service description {client.show(endpoint)}",
        lambda: _service_description(client, endpoint),
    )
    if void is not None:
        yield _probe(
            f"SPARQL query {client.show(endpoint)}", lambda: _count(client, endpoint, void)
        )
        for dump in void.dumps:
            local = client.local(dump)
            yield _probe(f"dump {client.show(local)}", lambda u=local: _dump(client, u, void))
        written += [("the VoID's void:dataDump", dump) for dump in void.dumps]
        written += [("the VoID's void:sparqlEndpoint", void.sparql)] if void.sparql else []
    yield _probe("reconciliation /reconcile", lambda: _reconcile(client, written))
    yield _probe("sitemap /sitemap.xml", lambda: _sitemap(client, documents, written))
    yield _probe("robots.txt /robots.txt", lambda: _robots(client, written))
    yield _probe("absolute URLs", lambda: _absolute(client, written))


def _probe(name: str, run: Callable[[], str | None]) -> Result:
    try:
        detail = run()
    except Failed as finding:
        return Result(name, False, str(finding))
    except requests.RequestException as exc:  # while reading a streamed body
        return Result(name, False, f"{type(exc).__name__}: {exc}")
    except CHECKED_ERRORS as exc:
        return Result(name, False, f"{type(exc).__name__}: {short(str(exc))}")
    return Result(name, True, detail or "")


# --- the dataset description ---------------------------------------------------------------


def _void(client: Client, response: requests.Response, found: list[Void]) -> str:
    expect(response, 200)
    graph = read.graph(read.parse(response.content, Format.TURTLE, response.url))
    datasets = [
        s
        for s in graph.subjects(RDF.type, VOID.Dataset)
        if graph.value(s, VOID.triples) is not None
    ]
    if not datasets:
        raise Failed("no void:Dataset with void:triples")
    dataset = max(datasets, key=lambda s: len(list(graph.objects(s, VOID.dataDump))))
    iri = str(dataset)
    space = graph.value(dataset, VOID.uriSpace)
    if iri.endswith("id/dataset"):
        base = iri.removesuffix("id/dataset")
    elif space is not None and str(space).endswith("id/"):
        base = str(space).removesuffix("id/")
    else:
        base = None
    triples = int(str(graph.value(dataset, VOID.triples)))
    examples = sorted(str(o) for o in graph.objects(dataset, VOID.exampleResource))
    dumps = sorted(str(o) for o in graph.objects(dataset, VOID.dataDump))
    sparql = graph.value(dataset, VOID.sparqlEndpoint)
    found.append(Void(iri, base, triples, examples, dumps, str(sparql) if sparql else None))
    problems = [
        f"no void:{name}"
        for name, got in (("exampleResource", examples), ("dataDump", dumps))
        if not got
    ]
    if problems:
        raise Failed(", ".join(problems))
    return f"{triples} triples, {len(examples)} example resources, {len(dumps)} dumps"


# --- one resource ----------------------------------------------------------------------------


def _resource(client: Client, iri: str, documents: list[str]) -> Iterator[Result]:
    """303, negotiation over every format, agreement, Vary, CORS, ETag/304."""
    url = client.local(iri)
    responses: list[requests.Response] = []
    located: list[str] = []

    def see_other() -> str:
        response = client.get(url, Format.TURTLE.media_type)
        responses.append(response)
        expect(response, 303)
        location = response.headers.get("Location")
        if not location:
            raise Failed("303 without a Location")
        located.append(urljoin(url, location))
        return f"to {client.show(located[0])}"

    yield _probe(f"303 from {client.show(url)}", see_other)
    if not located:
        return
    document = located[0]
    documents.append(document)
    shown = client.show(document)
    graphs: dict[Format, list[ox.Triple]] = {}
    negotiated: list[requests.Response] = []

    def negotiation() -> str:
        problems = []
        for fmt in NEGOTIATED:
            try:
                response = client.get(document, fmt.media_type)
                negotiated.append(response)
                graphs[fmt] = _representation(response, fmt, iri)
            except Failed as finding:
                problems.append(f"{fmt.title}: {finding}")
            except CHECKED_ERRORS as exc:
                problems.append(f"{fmt.title}: {type(exc).__name__}: {short(str(exc))}")
        if problems:
            raise Failed("; ".join(problems))
        return ", ".join(f.title for f in NEGOTIATED) + f" describe <{iri}>"

    yield _probe(f"content negotiation {shown}", negotiation)
    if len(graphs) > 1:
        yield _probe(f"formats agree {shown}", lambda: _agree(graphs))
    if negotiated:
        yield _probe(f"Vary: Accept {shown}", lambda: _vary(negotiated))
        responses += negotiated
        yield _probe(f"CORS {shown}", lambda: _cors(client, responses))
        yield _probe(f"ETag {shown}", lambda: _etag(client, document))
        yield _probe(f"links {shown}", lambda: _links(client, document))


def _representation(response: requests.Response, fmt: Format, iri: str) -> list[ox.Triple]:
    expect(response, 200)
    media = media_type(response)
    if media != fmt.media_type:
        raise Failed(f"asked for {fmt.media_type}, got {media or 'no Content-Type'}")
    if fmt is Format.HTML:
        scripts = read.jsonld_scripts(response.text)
        if not scripts:
            raise Failed('no <script type="application/ld+json">')
        triples = [t for s in scripts for t in read.parse(s.encode(), Format.JSONLD, response.url)]
    else:
        triples = read.parse(response.content, fmt, response.url)
    subject = ox.NamedNode(iri)
    if not any(t.subject == subject for t in triples):
        raise Failed(f"says nothing about <{iri}>")
    return triples


def _agree(graphs: dict[Format, list[ox.Triple]]) -> str:
    (first, reference), *others = graphs.items()
    problems = []
    for fmt, triples in others:
        if read.isomorphic(reference, triples):
            continue
        only_first = set(reference) - set(triples)
        only_other = set(triples) - set(reference)
        example = next(iter(only_first or only_other), None)
        problems.append(
            f"{fmt.title} differs from {first.title} ({len(only_first)} triples only in "
            f"{first.title}, {len(only_other)} only in {fmt.title}"
            + (f"; e.g. {short(str(example))}" if example else "")
            + ")"
        )
    if problems:
        raise Failed("; ".join(problems))
    return f"{len(graphs)} formats, {len(set(reference))} triples"


def _vary(responses: list[requests.Response]) -> None:
    for response in responses:
        varies = {v.strip().lower() for v in response.headers.get("Vary", "").split(",")}
        if "accept" not in varies and "*" not in varies:
            raise Failed(f"no `Vary: Accept` on the {media_type(response) or 'untyped'} answer")


def _cors(client: Client, responses: list[requests.Response]) -> None:
    for response in responses:
        origin = response.headers.get("Access-Control-Allow-Origin")
        if origin != "*":
            raise Failed(
                f"{client.show(response.url)} ({response.status_code}) sends "
                + (
                    f"Access-Control-Allow-Origin: {origin}"
                    if origin
                    else "no Access-Control-Allow-Origin"
                )
            )


def _etag(client: Client, document: str) -> str:
    first = client.get(document, Format.TURTLE.media_type)
    expect(first, 200)
    etag = first.headers.get("ETag")
    if not etag:
        raise Failed("no ETag")
    again = client.get(document, Format.TURTLE.media_type, headers={"If-None-Match": etag})
    if again.status_code != 304:
        raise Failed(f"If-None-Match: {etag} answered {again.status_code}, not 304")
    return "If-None-Match -> 304"


LINKS_CHECKED = 60  # links followed per page


def _links(client: Client, document: str) -> str:
    """Every link of the HTML page that stays on the server stays under the checked root
    (the app's mount point, SCRIPT_NAME) and answers."""
    response = client.get(document, Format.HTML.media_type)
    expect(response, 200)
    host = urlsplit(client.root).netloc
    local = sorted(
        {
            url.split("#", 1)[0]
            for url in (urljoin(document, href) for href in read.hrefs(response.text))
            if urlsplit(url).netloc == host
        }
    )
    outside = [url for url in local if not url.startswith(client.root + "/")]
    if outside:
        raise Failed(f"links outside {client.root}/: " + ", ".join(outside[:5]))
    broken = []
    for url in local[:LINKS_CHECKED]:
        answer = client.get(url, Format.HTML.media_type, allow_redirects=True)
        if answer.status_code >= 400:
            broken.append(f"{client.show(url)} ({answer.status_code})")
    if broken:
        raise Failed("broken links: " + ", ".join(broken[:5]))
    return f"{min(len(local), LINKS_CHECKED)} local links answer"


# --- SPARQL, dumps, reconciliation, crawlers ------------------------------------------------


def _service_description(client: Client, endpoint: str) -> str:
    response = client.get(endpoint, Format.TURTLE.media_type)
    expect(response, 200)
    graph = read.graph(read.parse(response.content, Format.TURTLE, response.url))
    endpoints = set(graph.objects(None, SD.endpoint))
    if not endpoints:
        raise Failed("no sd:endpoint in the service description")
    return "sd:endpoint " + ", ".join(f"<{e}>" for e in sorted(endpoints))


def _count(client: Client, endpoint: str, void: Void) -> str:
    response = client.get(endpoint, ResultFormat.JSON.media_type, params={"query": COUNT_QUERY})
    expect(response, 200)
    try:
        count = int(response.json()["results"]["bindings"][0]["triples"]["value"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise Failed(f"not SPARQL JSON results with a count: {short(response.text)}") from None
    if count != void.triples:
        raise Failed(f"COUNT(*) is {count}, void:triples says {void.triples}")
    return f"COUNT(*) = {count} = void:triples"


def _dump(client: Client, url: str, void: Void) -> str:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    stem, dot, compression = name.rpartition(".")
    fmt = Format.from_extension(stem.rpartition(".")[2]) if compression == "gz" else None
    if fmt is None or not fmt.is_rdf:
        raise Failed(f"`{name}` is not a gzipped RDF file name (.nt.gz, .ttl.gz, .jsonld.gz …)")
    with client.get(url, stream=True) as response, tempfile.TemporaryFile() as spool:
        expect(response, 200)
        for chunk in response.iter_content(CHUNK):
            spool.write(chunk)
        size = spool.tell()
        spool.seek(0)
        with gzip.open(spool) as data:
            count = sum(1 for _ in ox.parse(data, format=fmt.oxigraph, base_iri=url))
    if count != void.triples:
        raise Failed(f"{count} triples, void:triples says {void.triples}")
    return f"{size} bytes, gunzipped and parsed: {count} triples = void:triples"


def _reconcile(client: Client, written: list[tuple[str, str]]) -> str:
    response = client.get(f"{client.root}/reconcile", JSON)
    expect(response, 200)
    try:
        manifest = response.json()
    except ValueError:
        raise Failed(f"not JSON: {short(response.text)}") from None
    versions = manifest.get("versions") if isinstance(manifest, dict) else None
    if not versions or not isinstance(versions, list):
        raise Failed("the manifest has no `versions`")
    written += [("/reconcile", url) for url in read.json_urls(manifest, skip={"schemaSpace"})]
    return "versions " + ", ".join(map(str, versions))


def _sitemap(client: Client, documents: list[str], written: list[tuple[str, str]]) -> str:
    response = client.get(f"{client.root}/sitemap.xml")
    expect(response, 200)
    root = ET.fromstring(response.content)
    locations = []
    if root.tag == f"{SITEMAP_NS}sitemapindex":
        parts = [loc.text or "" for loc in root.iter(f"{SITEMAP_NS}loc")]
        written += [("/sitemap.xml", part) for part in parts]
        for part in parts:
            answer = client.get(part)
            expect(answer, 200)
            locations += _locations(ET.fromstring(answer.content), part)
        detail = f"an index of {len(parts)} sitemaps, "
    else:
        locations = _locations(root, "/sitemap.xml")
        detail = ""
    written += [("/sitemap.xml", loc) for loc in locations]
    paths = {urlsplit(loc).path for loc in locations}
    missing = [client.show(d) for d in documents if urlsplit(d).path not in paths]
    if missing:
        raise Failed("does not list " + ", ".join(missing))
    return detail + f"{len(locations)} URLs, the example resources among them"


def _locations(root: ET.Element, where: str) -> list[str]:
    if root.tag != f"{SITEMAP_NS}urlset":
        raise Failed(f"{where}: the root element is {root.tag}, not a sitemap urlset")
    return [loc.text or "" for loc in root.iter(f"{SITEMAP_NS}loc")]


def _robots(client: Client, written: list[tuple[str, str]]) -> str:
    response = client.get(f"{client.root}/robots.txt")
    expect(response, 200)
    sitemaps = [
        line.split(":", 1)[1].strip()
        for line in response.text.splitlines()
        if line.lower().startswith("sitemap:")
    ]
    if not sitemaps:
        raise Failed("names no Sitemap")
    written += [("/robots.txt", sitemap) for sitemap in sitemaps]
    return "Sitemap: " + ", ".join(sitemaps)


# --- absolute URLs ---------------------------------------------------------------------------


def _absolute(client: Client, written: list[tuple[str, str]]) -> str:
    """Every absolute URL the site wrote (in the VoID's dumps and endpoint, the sitemap,
    robots.txt, the reconciliation manifest, the change stream) is under the checked URL,
    or under the dataset's base (an IRI of the data)."""
    urls = written + _stream_urls(client)
    astray = [(w, url) for w, url in urls if not any(_under(url, h) for h in _homes(client))]
    if astray:
        where, url = astray[0]
        how = "; ".join(_differences(url, client.root))
        raise Failed(
            f"{where} names {url}, not under {client.root}/ ({how})"
            + (f" nor the dataset's base {client.base}" if client.base else "")
            + f": {len(astray)} of {len(urls)} URLs are elsewhere. Behind a proxy, pass on the"
            " public host with its port (X-Forwarded-Host: $http_host), the scheme and the"
            " path prefix, and set LOD_TRUST_PROXY"
        )
    places = sorted({where.removeprefix("the VoID's ") for where, _ in urls})
    return f"{len(urls)} URLs in {', '.join(places)}: all under {client.root}/" + (
        f" or the base {client.base}" if client.base else ""
    )


def _stream_urls(client: Client) -> list[tuple[str, str]]:
    """The IRIs of the change stream, /ldes, and of its first page."""
    found: list[tuple[str, str]] = []
    url: str | None = f"{client.root}/ldes"
    for _ in range(2):  # the stream, then the page its tree:view names
        response = client.get(url, TRIG)
        expect(response, 200)
        quads = list(ox.parse(response.content, format=ox.RdfFormat.TRIG, base_iri=response.url))
        shown = client.show(url)
        found += [(shown, iri) for iri in _iris(quads)]
        views = sorted(q.object.value for q in quads if q.predicate == TREE_VIEW)
        if not views or not any(_under(views[0], h) for h in _homes(client)):
            break  # (a view elsewhere is reported, not fetched)
        url = client.local(views[0])
    return found


def _iris(quads: list[ox.Quad]) -> list[str]:
    """The IRIs of the stream's own description: the subjects of its default graph, what
    its TREE links name (view, node, member), and the members' graphs (their versions);
    the members' triples in those graphs are the data's, and may name any site."""
    terms = [q.graph_name for q in quads] + [
        term
        for q in quads
        if isinstance(q.graph_name, ox.DefaultGraph)
        for term in (q.subject, q.object if q.predicate.value.startswith(TREE) else None)
    ]
    return sorted({t.value for t in terms if isinstance(t, ox.NamedNode)})


def _homes(client: Client) -> list[str]:
    """Where the site's URLs belong: the checked URL, and the base of the data's IRIs."""
    return [client.root] + ([client.base] if client.base else [])


def _under(url: str, root: str) -> bool:
    """Whether `url` is at or under `root`: the same scheme, host and port, and a path
    inside root's.

    >>> _under("https://example.org:8443/lod/sitemap.xml", "https://example.org:8443/lod")
    True
    >>> _under("https://example.org:443/lod/", "https://example.org/lod/")
    True
    >>> _under("https://example.org/lod/sitemap.xml", "https://example.org:8443/lod")
    False
    >>> _under("https://example.org:8443/lodge", "https://example.org:8443/lod")
    False
    """
    return not _differences(url, root)


def _differences(url: str, root: str) -> list[str]:
    """How `url` strays from `root`, in words.

    >>> _differences("http://example.org/sitemap.xml", "https://example.org:8443/lod/")
    ['http, not https', 'the port 8443 is lost', 'the path /sitemap.xml is not under /lod/']
    >>> _differences("http://example.org/lod/x", "https://example.org/lod")
    ['http, not https']
    >>> _differences("https://internal:8000/lod/x", "https://example.org/lod")
    ['the host internal, not example.org']
    """
    found, given, wanted = [], urlsplit(url), urlsplit(root)
    if given.scheme.lower() != wanted.scheme.lower():
        found.append(f"{given.scheme or 'no scheme'}, not {wanted.scheme}")
    if (given.hostname or "") != (wanted.hostname or ""):
        found.append(f"the host {given.hostname}, not {wanted.hostname}")
    elif (given.port, wanted.port) != (None, None) and _port(given) != _port(wanted):
        found.append(
            f"the port {wanted.port} is lost"
            if given.port is None
            else f"the port {_port(given)}, not {_port(wanted)}"
        )
    prefix = wanted.path.rstrip("/") + "/"
    if not (given.path.rstrip("/") + "/").startswith(prefix):
        found.append(f"the path {given.path or '/'} is not under {prefix}")
    return found


def _port(parts) -> int | None:
    try:
        port = parts.port
    except ValueError:  # not a number, out of range
        return -1
    return port if port is not None else {"http": 80, "https": 443}.get(parts.scheme.lower())
