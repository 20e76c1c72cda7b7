"""Pages in a real browser: headless Chromium renders each page over HTTP from the live
server. Screenshots at desktop and phone widths are written to tests/artifacts/ (git-ignored)
for a person to look at; the DOM after rendering is checked for what a reader sees (headline,
labels instead of IRIs, readable dates, the article as paragraphs, embedded JSON-LD); a phone
(390 px, emulated through chromedriver) must not need horizontal scrolling; and hostile
content in the data must not run in the browser.

Chromium is driven from its command line only (`--screenshot`, `--dump-dom`), chromedriver
over its W3C WebDriver HTTP API with `requests`: no extra Python dependency. Without the
tools the tests skip, unless LOD_REQUIRE_TOOLS=1 (CI), where they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from lod import Settings, build

from .conftest import DATA, copy_data, free_port, require, start_server, stop_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT = 60  # seconds, for every browser run
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # without these Chromium tries to reach the network, which is closed here
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}

SITE = "MIA-MGA news as Linked Open Data"
BASE = "https://lod.example.org/"
ARTICLE = "/doc/article/commission-on-social-development-examines-role-of-digital-technologies"
HEADLINE = (
    "Commission on Social Development Examines the Role of Digital Technologies "
    "on Well-Being of All"
)
EVENT = "/doc/event/csocd59-migration-displacement-side-event"
EVENT_NAME = (
    "Migration, Displacement & their Cross-cutting Issues In the Context of Digital "
    "Technology & Just Transitions"
)
SESSION = "/doc/event/csocd59"
ORGANISATION = "/doc/organisation/mia-mga"
MODERATOR_QUERY = """PREFIX schema: <https://schema.org/>
SELECT ?name WHERE {
  ?e schema:name ?title ; schema:contributor ?role .
  FILTER CONTAINS(?title, "Migration, Displacement")
  ?role schema:roleName "moderator"@en ; schema:contributor ?who .
  ?who schema:name ?name }"""

# name -> (path, the <h1>, the <title>)
PAGES = {
    "home": ("/", SITE, f"Home · {SITE}"),
    "article": (ARTICLE, HEADLINE, f"{HEADLINE} · {SITE}"),
    "event": (EVENT, EVENT_NAME, f"{EVENT_NAME} · {SITE}"),
    "organisation": (
        ORGANISATION,
        "Mercy International Association - Global Action",
        f"Mercy International Association - Global Action · {SITE}",
    ),
    "sparql": ("/sparql", "SPARQL", f"SPARQL · {SITE}"),
    "sparql-results": (
        "/sparql?" + urlencode({"query": MODERATOR_QUERY, "format": "html"}),
        "SPARQL",
        f"SPARQL · {SITE}",
    ),
    "search": ("/search?q=migration", "Search", f"Search: migration · {SITE}"),
}
RESOURCES = {"article": ARTICLE, "event": EVENT, "organisation": ORGANISATION}


# --- the tools -------------------------------------------------------------------------


def require_tool(tool: Path) -> None:
    """Skip without `tool`; fail instead when LOD_REQUIRE_TOOLS=1 (CI)."""
    require(
        tool.is_file() and os.access(tool, os.X_OK),
        f"{tool} (Debian's chromium and chromium-driver, for the browser tests)",
    )


def _end(process: subprocess.Popen, home: Path) -> None:
    """Leave no process behind: kill what is left of the process group we started (the
    browser's helpers) and reap it; then the crash handler, which leaves the group (setsid)
    but is known by its database under `home`, our own temporary XDG_CONFIG_HOME."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
    deadline = time.monotonic() + 5
    while strays := _processes_under(home):
        if time.monotonic() > deadline:
            for pid in strays:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            break
        time.sleep(0.05)


def _processes_under(home: Path) -> list[int]:
    """Our processes whose command line names `home`."""
    needle = os.fsencode(home)
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if needle in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def chromium(*arguments: str, size: tuple[int, int] = SIZES["desktop"]) -> str:
    """Run headless Chromium once with a fresh profile; its stdout."""
    require_tool(CHROMIUM)
    width, height = size
    with tempfile.TemporaryDirectory(prefix="lod-chromium-", ignore_cleanup_errors=True) as home:
        command = [
            str(CHROMIUM),
            *FLAGS,
            f"--user-data-dir={home}/profile",
            f"--window-size={width},{height}",
            *arguments,
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "XDG_CONFIG_HOME": home},
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            _end(process, Path(home))
            process.communicate()
            pytest.fail(f"chromium did not finish within {TIMEOUT} s: {arguments}")
        finally:
            _end(process, Path(home))
    if process.returncode != 0:
        pytest.fail(f"chromium exited {process.returncode}: {stderr.decode()[-2000:]}")
    return stdout.decode()


def screenshot(url: str, name: str, size: tuple[int, int], scratch: Path) -> Path:
    """A screenshot, copied to tests/artifacts/ with an atomic rename (another run of the
    suite may be writing the same artefact)."""
    shot = scratch / f"{name}.png"
    chromium(f"--screenshot={shot}", url, size=size)
    if shot.is_file():
        ARTIFACTS.mkdir(exist_ok=True)
        partial = ARTIFACTS / f".{name}.png.{os.getpid()}"
        shutil.copyfile(shot, partial)
        os.replace(partial, ARTIFACTS / shot.name)
    return shot


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (which must come first)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG: wrong signature"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13, "not a PNG: no IHDR chunk first"
    return struct.unpack(">II", data[16:24])


# --- the DOM ---------------------------------------------------------------------------

VOID_ELEMENTS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip


@dataclass
class Element:
    tag: str
    attributes: list[tuple[str, str]]
    children: list[Element | str] = field(default_factory=list)

    def get(self, name: str, default: str | None = None) -> str | None:
        return next((v for k, v in self.attributes if k == name), default)

    @property
    def classes(self) -> set[str]:
        return set((self.get("class") or "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def words(self) -> str:
        """The text with whitespace collapsed, as a reader sees it."""
        return " ".join(self.text().split())

    def iter(self, tag: str | None = None) -> Iterator[Element]:
        if tag is None or self.tag == tag:
            yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter(tag)

    def all(self, tag: str, **attributes: str) -> list[Element]:
        """Elements by tag and attributes (`class_` matches one class)."""
        wanted = {k.rstrip("_"): v for k, v in attributes.items()}
        return [
            element
            for element in self.iter(tag)
            if all(
                v in element.classes if k == "class" else element.get(k) == v
                for k, v in wanted.items()
            )
        ]

    def one(self, tag: str, **attributes: str) -> Element:
        found = self.all(tag, **attributes)
        assert len(found) == 1, f"expected one <{tag} {attributes}>, found {len(found)}"
        return found[0]


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", [])
        self.open = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, [(k, v or "") for k, v in attrs])
        self.open[-1].children.append(element)
        if tag not in VOID_ELEMENTS:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.open[-1].children.append(Element(tag, [(k, v or "") for k, v in attrs]))

    def handle_endtag(self, tag):
        if any(e.tag == tag for e in self.open[1:]):
            while self.open.pop().tag != tag:
                pass

    def handle_data(self, data):
        self.open[-1].children.append(data)


def parse(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def definitions(dl: Element) -> dict[str, list[Element]]:
    """A <dl>'s terms (their text) and each term's <dd>s, direct children only."""
    terms: dict[str, list[Element]] = {}
    term = None
    for child in dl.children:
        if isinstance(child, Element) and child.tag == "dt":
            term = child.words()
            terms.setdefault(term, [])
        elif isinstance(child, Element) and child.tag == "dd" and term is not None:
            terms[term].append(child)
    return terms


def properties(dom: Element) -> dict[str, list[Element]]:
    """The resource's own properties: the first <dl class="properties"> of the article."""
    return definitions(dom.one("article", class_="resource").all("dl", class_="properties")[0])


def links(elements: list[Element]) -> list[tuple[str, str]]:
    return [(a.words(), a.get("href")) for e in elements for a in e.iter("a")]


def embedded_json_ld(dom: Element) -> dict:
    script = dom.one("script", type="application/ld+json")
    return json.loads(script.text())


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dom(server):
    """The rendered DOM of a page (path -> Element), each page dumped once."""
    cache: dict[str, Element] = {}

    def render(path: str) -> Element:
        if path not in cache:
            cache[path] = parse(chromium("--dump-dom", server.url + path))
        return cache[path]

    return render


@dataclass
class Phone:
    """A chromedriver session emulating a 390 × 844 phone (a mobile viewport honouring
    `<meta name="viewport">`), spoken to over the WebDriver HTTP API."""

    url: str
    session: str

    def command(self, method: str, path: str, payload: dict | None = None):
        response = requests.request(
            method, f"{self.url}/session/{self.session}{path}", json=payload, timeout=TIMEOUT
        )
        assert response.status_code == 200, response.text[:2000]
        return response.json()["value"]

    def open(self, url: str) -> None:
        self.command("POST", "/url", {"url": url})

    def run(self, script: str):
        return self.command("POST", "/execute/sync", {"script": script, "args": []})


def webdriver(device: str) -> Iterator[Phone]:
    """A session of Chromium at SIZES[device] (a phone emulated as one) through chromedriver,
    spoken to over the WebDriver HTTP API; both stopped after."""
    require_tool(CHROMIUM)
    require_tool(CHROMEDRIVER)
    with tempfile.TemporaryDirectory(
        prefix="lod-chromedriver-", ignore_cleanup_errors=True
    ) as home:
        port = free_port()
        driver = subprocess.Popen(
            [str(CHROMEDRIVER), f"--port={port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "XDG_CONFIG_HOME": home},
            start_new_session=True,  # chromedriver and the browser it starts: one group
        )
        try:
            yield from _session(f"http://127.0.0.1:{port}", driver, Path(home), device)
        finally:
            driver.terminate()
            try:
                driver.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            _end(driver, Path(home))


@pytest.fixture(scope="module")
def phone():
    yield from webdriver("phone")


def _session(url: str, driver: subprocess.Popen, home: Path, device: str) -> Iterator[Phone]:
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            if requests.get(url + "/status", timeout=2).json()["value"]["ready"]:
                break
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, "chromedriver did not start"
        assert driver.poll() is None, "chromedriver exited"
        time.sleep(0.1)
    width, height = SIZES[device]
    options: dict = {
        "binary": str(CHROMIUM),
        "args": [*FLAGS, f"--user-data-dir={home}/profile", f"--window-size={width},{height}"],
    }
    if device == "phone":
        options["mobileEmulation"] = {
            "deviceMetrics": {
                "width": width,
                "height": height,
                "pixelRatio": 3,
                "mobile": True,
                "touch": True,
            }
        }
    created = requests.post(
        url + "/session",
        json={"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}},
        timeout=TIMEOUT,
    )
    assert created.status_code == 200, created.text[:2000]
    session = Phone(url, created.json()["value"]["sessionId"])
    try:
        session.command("POST", "/timeouts", {"pageLoad": TIMEOUT * 1000})
        yield session
    finally:
        requests.delete(f"{url}/session/{session.session}", timeout=TIMEOUT)


# --- screenshots -----------------------------------------------------------------------


@pytest.mark.parametrize("device", SIZES)
@pytest.mark.parametrize("name", PAGES)
def test_screenshot(server, tmp_path, name, device):
    path, _, _ = PAGES[name]
    size = SIZES[device]
    png = screenshot(server.url + path, f"{name}-{device}", size, tmp_path)
    assert png.is_file(), f"chromium wrote no screenshot for {path}"
    data = png.read_bytes()
    assert png_size(data) == size
    # a rendered page of text is tens of kB; a blank or error page a few
    assert len(data) > 15_000, f"{png.name} is only {len(data)} bytes: a blank page?"


# --- what a reader sees ----------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_headline_and_title(dom, name):
    path, headline, title = PAGES[name]
    page = dom(path)
    assert page.one("h1").words() == headline
    assert page.one("title").words() == title
    viewport = page.one("meta", name="viewport").get("content")
    assert "width=device-width" in viewport


@pytest.mark.parametrize("name", RESOURCES)
def test_labels_not_iris(dom, name):
    """Every value linked from a resource page reads as a label: no IRI, no slug."""
    page = dom(RESOURCES[name])
    shown = [a for dl in page.all("dl", class_="properties") for a in dl.iter("a")]
    assert shown
    for a in shown:
        text, target = a.words(), a.get("href")
        assert not re.match(r"[a-z]+:", text), f"an IRI as link text: {text}"
        assert text != target.rstrip("/").rsplit("/", 1)[-1], f"a slug as link text: {text}"


def test_event_names_its_moderator(dom):
    own = properties(dom(EVENT))
    [role] = own["contributor"]
    nested = role.one("div", class_="nested")
    assert nested.one("span", class_="type").words() == "Role"
    terms = definitions(nested.one("dl"))
    assert links(terms["contributor"]) == [("Cecilie Kern", "/doc/person/cecilie-kern")]
    assert [dd.words() for dd in terms["role name"]] == ["moderator"]
    assert links(own["sponsor"]) == [
        ("Mercy International Association - Global Action", "/doc/organisation/mia-mga")
    ]
    assert links(own["super event"]) == [
        ("59th session of the Commission for Social Development (CSocD59)", SESSION)
    ]


def test_organisation_names_its_parent(dom):
    own = properties(dom(ORGANISATION))
    assert links(own["parent organization"]) == [
        ("Mercy International Association", "/doc/organisation/mercy-international-association")
    ]
    assert [dd.words() for dd in own["alternate name"]] == ["MIA-MGA"]


@pytest.mark.parametrize(
    ("path", "term", "shown"),
    [
        (ARTICLE, "date published", "20 February 2021"),
        (SESSION, "start date", "8 February 2021"),
        (SESSION, "end date", "17 February 2021"),
    ],
)
def test_dates_are_readable(dom, path, term, shown):
    page = dom(path)
    assert [dd.words() for dd in properties(page)[term]] == [shown]
    main = page.one("main").words()
    assert not re.search(r"\b\d{4}-\d\d-\d\d\b", main), "an ISO date shown to the reader"


def test_home_lists_the_article_with_its_date(dom):
    latest = dom("/").one("ol", class_="entries")
    [entry] = latest.all("li")
    assert links([entry]) == [(HEADLINE, ARTICLE)]
    time_ = entry.one("time")
    assert (time_.get("datetime"), time_.words()) == ("2021-02-20", "20 February 2021")


def test_article_body_is_paragraphs(dom):
    source = DATA / "articles" / (ARTICLE.rsplit("/", 1)[-1] + ".md")
    text = source.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    expected = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    body = dom(ARTICLE).one("section", class_="body")
    assert body.get("aria-label") == "Text"
    paragraphs = [c for c in body.children if isinstance(c, Element)]
    assert [p.tag for p in paragraphs] == ["p"] * len(expected)
    assert [p.words() for p in paragraphs] == expected
    assert paragraphs[0].words().startswith("The 59th session of the Commission")


@pytest.mark.parametrize("name", RESOURCES)
def test_embedded_json_ld(dom, name):
    path = RESOURCES[name]
    page = dom(path)
    data = embedded_json_ld(page)
    iri = BASE + "id/" + path.removeprefix("/doc/")
    [node] = [n for n in data["@graph"] if n["@id"] == iri]
    if name == "article":
        assert node["headline"] == page.one("h1").words()
    else:
        assert node["name"] == page.one("h1").words()


@pytest.mark.parametrize("name", ["home", *RESOURCES])
def test_turtle_alternate(dom, server, name):
    path = PAGES[name][0]
    [link] = dom(path).all("link", rel="alternate", type="text/turtle")
    response = server.get(link.get("href"), headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/turtle")


def test_sparql_page_offers_a_query_form(dom):
    page = dom("/sparql")
    form = page.one("form", class_="query")
    assert form.get("action") == "/sparql" and form.get("method") == "get"
    assert form.one("label").get("for") == form.one("textarea").get("id") == "query"
    assert form.one("textarea").get("name") == "query"
    assert form.one("button").words() == "Run"
    assert page.all("h2", id="results") == []
    assert len(page.all("details")) == 5


def test_sparql_results_page_shows_the_moderator(dom):
    page = dom(PAGES["sparql-results"][0])
    assert page.one("textarea").text() == MODERATOR_QUERY
    results = page.one("h2", id="results")
    assert results.words() == "Results"
    table = page.one("table")
    assert [th.words() for th in table.all("th")] == ["?name"]
    rows = table.one("tbody").all("tr")
    assert [[td.words() for td in row.all("td")] for row in rows] == [["Cecilie Kern"]]
    assert "1 row" in [p.words() for p in page.all("p")]


@pytest.mark.parametrize(
    ("path", "term"),
    [(SESSION, "subject of"), (ORGANISATION, "employs"), (EVENT, "mentioned in")],
)
def test_linked_from_reads_as_english(dom, path, term):
    section = dom(path).one("section", **{"aria-labelledby": "incoming"})
    terms = definitions(section.one("dl"))
    assert term in terms, f"'Linked from' shows {sorted(terms)}"


# --- phones ----------------------------------------------------------------------------


def test_stylesheet_adapts_to_small_screens(server):
    css = server.get("/static/style.css").text
    breakpoints = re.findall(r"@media[^{]*\(\s*max-width\s*:\s*([\d.]+)(px|rem|em)\s*\)", css)
    assert breakpoints, "no max-width media query in style.css"
    widths = [float(value) * (1 if unit == "px" else 16) for value, unit in breakpoints]
    assert max(widths) >= SIZES["phone"][0], f"no breakpoint covers a 390 px phone: {widths}"


OVERFLOW = """
const width = document.documentElement.clientWidth;
const wide = [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > width + 1)
  .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' '
       + Math.round(e.getBoundingClientRect().right) + 'px')
  .slice(0, 8);
return {scroll: document.documentElement.scrollWidth, width: width, wide: wide};
"""


@pytest.mark.parametrize("name", PAGES)
def test_phone_needs_no_horizontal_scrolling(phone, server, name):
    phone.open(server.url + PAGES[name][0])
    measured = phone.run(OVERFLOW)
    assert measured["width"] == SIZES["phone"][0]
    assert measured["scroll"] <= measured["width"], f"wider than the phone: {measured['wide']}"


# --- hostile content -------------------------------------------------------------------

HOSTILE = "Hostile </script><script>document.title='pwned'</script>"


@pytest.mark.slow
def test_hostile_content_does_not_run(tmp_path):
    require_tool(CHROMIUM)
    data = copy_data(tmp_path / "data")
    article = data / "articles" / (ARTICLE.rsplit("/", 1)[-1] + ".md")
    text = article.read_text(encoding="utf-8")
    assert f"headline: {HEADLINE}\n" in text
    text = text.replace(f"headline: {HEADLINE}\n", f"headline: {json.dumps(HOSTILE)}\n")
    text += (
        "\nRead [x](javascript:alert(1)) for more.\n"
        "\n<img src=x onerror=\"document.title='pwned'\">\n"
    )
    article.write_text(text, encoding="utf-8")
    out = tmp_path / "dist"
    build(Settings(data=data, out=out))
    live = start_server(out)
    try:
        page = parse(chromium("--dump-dom", live.url + ARTICLE))
        home = parse(chromium("--dump-dom", live.url + "/"))
    finally:
        stop_server(live)

    # had a script run, it would have set document.title to 'pwned' before the dump
    assert page.one("title").words() == f"{HOSTILE} · {SITE}"
    assert home.one("title").words() == f"Home · {SITE}"
    for dom_ in (page, home):
        for element in dom_.iter():
            handlers = [k for k, _ in element.attributes if k.startswith("on")]
            assert not handlers, f"<{element.tag}> has {handlers}"
            for attribute in ("href", "src", "action"):
                value = (element.get(attribute) or "").strip().lower()
                assert not value.startswith("javascript:"), f"<{element.tag} {attribute}={value}>"
        scripts = list(dom_.iter("script"))
        assert all(s.get("type") == "application/ld+json" for s in scripts)
        assert list(dom_.iter("img")) == []

    assert page.one("h1").words() == HOSTILE  # shown as text
    body = page.one("section", class_="body")
    assert list(body.iter("a")) == []  # the javascript: link is not a link…
    assert "Read [x](javascript:alert(1)) for more." in body.words()  # …but plain text
    assert "<img src=x onerror=" in body.words()  # raw HTML shown, not rendered
    [node] = [n for n in embedded_json_ld(page)["@graph"] if n.get("headline")]
    assert node["headline"] == HOSTILE
