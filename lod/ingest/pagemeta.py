"""What a saved page says about itself besides its schema.org: its address, the Open
Graph, `article:*`, Dublin Core and plain `<meta>` tags news CMSs write, and where its
text is.

They stand in for what the page's main article leaves out (Drupal themes mark up an
article with RDFa but put its date only in `article:published_time`; Yoast's graph has no
`articleBody`), never for what it says: a field the article has is kept as it is.
"""

from __future__ import annotations

from urllib.parse import urljoin

from bs4 import BeautifulSoup, Declaration, ProcessingInstruction, Tag

from . import bylines
from .common import BadDate, date

TITLE = ("og:title", "dcterms.title", "dc.title", "twitter:title")
PUBLISHED = (
    "article:published_time",
    "og:article:published_time",
    "dcterms.issued",
    "dcterms.date",
    "dcterms.created",
    "dc.date.issued",
    "dc.date",
    "citation_publication_date",
    "sailthru.date",
    "parsely-pub-date",
    "pubdate",
    "publishdate",
    "date",
)
MODIFIED = ("article:modified_time", "og:article:modified_time", "dcterms.modified")
DESCRIPTION = ("og:description", "dcterms.description", "description", "twitter:description")
AUTHOR = ("author", "article:author", "dc.creator", "dcterms.creator", "sailthru.author")
KEYWORDS = ("news_keywords", "keywords")
MIN_TEXT = 200  # characters of paragraphs below which an element is not taken for the text


def meta(soup: BeautifulSoup, *names: str) -> str:
    """The content of the first of names found as a <meta> property, name, itemprop or
    http-equiv (matched without regard to case), else ''."""
    found = _metas(soup)
    for name in names:
        if found.get(name):
            return found[name]
    return ""


def _metas(soup: BeautifulSoup) -> dict[str, str]:
    cached = getattr(soup, "_lod_metas", None)
    if cached is None:
        cached = {}
        for tag in soup.find_all("meta"):
            names = ("property", "name", "itemprop", "http-equiv")
            key = next((tag.get(name) for name in names if tag.get(name)), "")
            content = " ".join((tag.get("content") or "").split())
            if isinstance(key, str) and content:
                cached.setdefault(key.strip().lower(), content)
        soup._lod_metas = cached
    return cached


def all_meta(soup: BeautifulSoup, name: str) -> list[str]:
    """Every content of a repeated <meta> (`article:tag`), in page order."""
    out = []
    for tag in soup.find_all("meta"):
        key = tag.get("property") or tag.get("name") or ""
        if isinstance(key, str) and key.strip().lower() == name and tag.get("content"):
            out.append(" ".join(tag["content"].split()))
    return out


def page_url(soup: BeautifulSoup) -> str:
    """The page's own address: its canonical link (made absolute against og:url when it is
    relative, as Drupal 7 writes it), else og:url; '' when neither is a web address."""
    tag = soup.find("link", rel="canonical")
    canonical = (tag.get("href") or "").strip() if tag else ""
    og = meta(soup, "og:url")
    for candidate in (canonical, urljoin(og, canonical) if og and canonical else "", og):
        if candidate.startswith(("http://", "https://")):
            return candidate
    return ""


def published(soup: BeautifulSoup) -> str:
    """The first publication date among the page's meta tags that is one, else ''."""
    return _first_date(soup, PUBLISHED)


def modified(soup: BeautifulSoup) -> str:
    return _first_date(soup, MODIFIED)


def _first_date(soup: BeautifulSoup, names: tuple[str, ...]) -> str:
    for name in names:
        raw = meta(soup, name)
        if raw:
            try:
                date(raw)
            except BadDate:
                continue
            return raw
    return ""


def title(soup: BeautifulSoup) -> str:
    """The page's title as its meta tags give it, else its <title>."""
    found = meta(soup, *TITLE)
    if not found and soup.title and soup.title.string:
        found = " ".join(soup.title.string.split())
    return found


def authors(soup: BeautifulSoup) -> list[dict]:
    """The people a byline meta tag names (not a profile's address), as schema.org nodes."""
    for name in AUTHOR:
        raw = meta(soup, name)
        if raw and "://" not in raw:
            return [{"@type": "Person", "name": n} for n in bylines.names(raw)]
    return []


def keywords(soup: BeautifulSoup) -> list[str]:
    tags = all_meta(soup, "article:tag")
    if tags:
        return tags
    raw = meta(soup, *KEYWORDS)
    return [k.strip() for k in raw.split(",") if k.strip()]


def page_node(soup: BeautifulSoup) -> dict:
    """The page described by its meta tags, as a schema.org node: what an article lacking
    a field takes it from."""
    node = {
        "headline": title(soup),
        "datePublished": published(soup),
        "dateModified": modified(soup),
        "author": authors(soup),
        "description": meta(soup, *DESCRIPTION),
        "image": meta(soup, "og:image"),
        "keywords": keywords(soup),
    }
    return {key: value for key, value in node.items() if value}


def is_article(soup: BeautifulSoup) -> bool:
    """The page says it is an article (og:type), as news CMSs' article templates do."""
    return meta(soup, "og:type").lower() == "article"


def text_container(soup: BeautifulSoup) -> Tag | None:
    """The element holding the page's text: the one marked articleBody (microdata or
    RDFa), else the element whose own paragraphs hold the most text (the body of a
    theme's template, past its header, byline and share buttons), else its <article>."""
    marked = soup.find(attrs={"itemprop": "articleBody"}) or soup.find(
        attrs={"property": "schema:articleBody"}
    )
    if marked is not None:
        return narrow(marked)
    best, size = _densest(soup)
    if size >= MIN_TEXT:
        return best
    return soup.find("article")


def narrow(element: Tag) -> Tag:
    """The element within `element` whose own paragraphs hold nearly all (NARROW) of its
    paragraphs' text, else `element`: a theme that marks its whole article as the
    articleBody (nature.com) has its header, byline and share buttons in it."""
    total = sum(_size(p) for p in element.find_all("p"))
    best, size = _densest(element)
    return best if best is not None and total and size >= NARROW * total else element


NARROW = 0.8


def _densest(root: Tag) -> tuple[Tag | None, int]:
    """(the element under root whose own <p> children hold the most text, that much)."""
    best, best_size = None, 0
    for element in [root, *root.find_all(True)]:
        if element.name in ("script", "style", "noscript", "template"):
            continue
        size = sum(_size(p) for p in element.find_all("p", recursive=False))
        if size > best_size:
            best, best_size = element, size
    return best, best_size


def _size(paragraph: Tag) -> int:
    return len(paragraph.get_text(" ", strip=True))


def inner_html(element: Tag) -> str:
    """An element's content as HTML, without the XML declarations and processing
    instructions that inline SVG icons bring (they would become text)."""
    for node in element.find_all(
        string=lambda s: isinstance(s, ProcessingInstruction | Declaration)
    ):
        node.extract()
    return element.decode_contents()
