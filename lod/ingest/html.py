"""HTML bodies -> clean Markdown.

Kept: headings, paragraphs, lists, links, images, tables, quotes, code. Removed: scripts,
styles, frames, forms, tracking pixels, comments (WordPress block comments among them).
WordPress post content comes here already rendered as its site shows it
(lod.ingest.wpcontent: paragraphs, shortcodes, players and embeds as links). Links with
active schemes (`javascript:`, `data:`…: lod.vocab.ACTIVE_SCHEMES) lose their target and
keep their text, as the site shows any such IRI (lod.web.pages.href); relative links are
made absolute against the item's own URL.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning, Tag
from markdownify import MarkdownConverter

from ..vocab import ACTIVE_SCHEMES, SCHEME
from . import wpcontent

DROP_TAGS = (
    "script", "style", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet",
    "form", "input", "button", "select", "textarea", "svg", "math", "template", "link", "meta",
    "head", "title", "base", "canvas", "audio", "video", "source", "track", "map",
)  # fmt: skip
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"(?<=\S) {2,}(?=\S)")  # left by removed elements


def _pixel(tag) -> bool:
    sizes = [tag.get("width"), tag.get("height")]
    small = [s for s in sizes if s is not None and str(s).strip().rstrip("px") in ("0", "1")]
    src = tag.get("src") or ""
    return bool(small) or not src.strip() or "pixel" in src.lower() or "/beacon" in src.lower()


def _safe(url: str | None, base: str | None) -> str | None:
    if not url:
        return None
    url = url.strip()
    scheme = url.split(":", 1)[0]
    if ":" in url and SCHEME.fullmatch(scheme) and scheme.lower() in ACTIVE_SCHEMES:
        return None
    if base and not (":" in url and SCHEME.fullmatch(scheme)):
        url = urljoin(base, url)
    return url


class _Converter(MarkdownConverter):
    def convert_figcaption(self, el, text, *args, **kwargs):
        text = text.strip()
        return f"\n\n*{text}*\n\n" if text else ""

    def convert_figure(self, el, text, parent_tags):
        """A figure is a block of its own (a gallery's images are not one line)."""
        if "_inline" in parent_tags or not text.strip():
            return text
        return f"\n\n{text.strip()}\n\n"

    def convert_br(self, el, text, parent_tags):
        """In a code block a line break is a newline, not Markdown's `\\`."""
        if "pre" in parent_tags:
            return "\n" + text
        return super().convert_br(el, text, parent_tags)

    def escape(self, text, parent_tags):
        """A backslash in the text is text: doubled, so that `\\'` is not an escape."""
        return super().escape(text.replace("\\", "\\\\"), parent_tags)


def clean(soup: BeautifulSoup, base: str | None) -> BeautifulSoup:
    """The soup with everything unsafe or noisy removed and links made absolute (one walk
    over the tree)."""
    drop = set(DROP_TAGS)
    for node in list(soup.descendants):
        if isinstance(node, Comment):
            node.extract()
            continue
        name = getattr(node, "name", None)
        if name is None or node.decomposed:
            continue
        if name in drop:
            node.decompose()
        elif name == "img":
            _clean_image(node, base)
        elif name == "a":
            _clean_link(node, base)
    return soup


def _clean_image(img: Tag, base: str | None) -> None:
    """An image kept with its source (made absolute), alt and title only; a tracking pixel
    or one without a safe source removed."""
    src = None if _pixel(img) else _safe(img.get("src"), base)
    if not src:
        img.decompose()
        return
    img.attrs = {"src": src, **{k: img[k] for k in ("alt", "title") if img.get(k)}}


def _clean_link(link: Tag, base: str | None) -> None:
    """A link kept with its target (made absolute) and title only; one whose target is
    unsafe becomes its text."""
    href = _safe(link.get("href"), base)
    if href is None:
        link.unwrap()
        return
    link.attrs = {"href": href, **({"title": link["title"]} if link.get("title") else {})}


def shortcodes(text: str) -> str:
    """WordPress's shortcodes in HTML a site rendered (those it no longer knows): as
    lod.ingest.wpcontent turns them, without the export's attachments."""
    return wpcontent.shortcodes(text, wpcontent.Media(), "")


def to_markdown(html: str | None, base: str | None = None) -> str:
    """Clean Markdown of an HTML fragment (entities decoded); '' for nothing."""
    if not html or not html.strip():
        return ""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    clean(soup, base)
    text = _Converter(
        heading_style="ATX", bullets="-", escape_misc=False, newline_style="backslash"
    ).convert_soup(soup)
    text = text.replace("\xa0", " ").replace("\r\n", "\n")
    lines = [_SPACES.sub(" ", line.rstrip()) for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def to_text(html: str | None) -> str:
    """Plain text of a short HTML string (a title, a name): tags gone, entities decoded,
    spaces collapsed."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    return " ".join(soup.get_text(" ").split())
