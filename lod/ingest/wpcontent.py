"""A WordPress post's content as its site shows it: HTML for lod.ingest.html.

A WXR export holds a post's content as stored; WordPress renders it on display, and this
module does what the rendering does that changes the text, so nothing is lost or added:

- **Paragraphs.** Content written with the block editor (it holds `<!-- wp:… -->`
  comments: WordPress's has_blocks) is HTML already: its paragraphs are `<p>` elements,
  and newlines inside them are not line breaks (WordPress removes wpautop for it). Only
  classic-editor content gets wpautop: a blank line makes a paragraph, a single newline
  a line break, except around block elements and inside `<pre>`.
- **Shortcodes.** `[caption]` becomes a figure with its caption (given as text after the
  image, or as the `caption` attribute; links in it kept); `[gallery]` the export's
  attachments as figures with their captions (by `ids`, else the images attached to the
  post, in WordPress's order); `[audio]`, `[video]` and `[playlist]` links to their
  files (from `src`, `mp3`, `mp4`…, a bare URL, `ids`, else the post's attached media);
  `[embed]` a link. Other known shortcodes leave their inner text; unknown ones stay as
  written, as WordPress shows them.
- **Media.** `<video>` and `<audio>` become links to their file (a video's poster its
  image), an `<iframe>` a link to what it shows, an embed (a URL alone on a line of
  classic content, or the URL in an embed block) a link, so the converter, which drops
  players and frames, keeps what they showed. A file block's "Download" button, a
  second link to the same file, is dropped.
"""

from __future__ import annotations

import html as entities
import re
import warnings
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning, Tag

BLOCKS = (
    "table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map|"
    "area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|article|aside|"
    "hgroup|header|footer|nav|figure|figcaption|details|menu|summary"
)  # wpautop's block elements
BLOCK_NAMES = set(BLOCKS.replace("h[1-6]", "h1|h2|h3|h4|h5|h6").split("|")) | {"cite"}
EDGE_BREAKS = 8  # removed at most at each edge of a block (a run of thousands is input gone wrong)
_OPEN_BLOCK = re.compile(rf"(<(?:{BLOCKS})[\s/>])", re.I)
_CLOSE_BLOCK = re.compile(rf"(</(?:{BLOCKS})>|<hr\s*/?>)", re.I)
_ANY_BLOCK_TAG = rf"</?(?:{BLOCKS})\b[^<>]*>"
_TAG = re.compile(r"<[^<>]*>")
_BR = re.compile(r"<br\s*/?>", re.I)

ATTRIBUTE = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))|"([^"]*)"|(\S+)""")
CAPTION = re.compile(
    r"\[(?:wp_)?caption\b([^\[\]]*)\]((?:(?!\[/?(?:wp_)?caption\b).)*)\[/(?:wp_)?caption\]",
    re.I | re.S,
)
CAPTION_MEDIA = re.compile(r"^\s*((?:<a\s[^>]*>\s*)?<img\s[^>]*>(?:\s*</a>)?)(.*)$", re.I | re.S)
GALLERY = re.compile(r"\[gallery\b([^\[\]]*)\]", re.I)
MEDIA = re.compile(r"\[(audio|video|playlist)\b([^\[\]]*)\]", re.I)
EMBED = re.compile(r"\[embed\b[^\[\]]*\]\s*([^\s\[]+?)\s*\[/embed\]", re.I)
KNOWN = (
    r"caption|wp_caption|gallery|embed|audio|video|playlist|contact-form(?:-7)?|button|"
    r"column|columns|row|one_half|one_third|two_third|one_fourth|three_fourth|tabs?|toggle|"
    r"accordion|quote|pullquote|highlight|dropcap|divider|spacer|icon|box|alert|"
    r"(?:vc|et_pb|fusion|su|av|tie|ux|mk|cs|x|trx|mpc|rev_slider|layerslider|tm)_[\w-]*|"
    r"rev_slider|soundcloud|youtube|vimeo|tweet|instagram|fb|facebook|twitter"
)
SHORTCODE = re.compile(rf"\[/?(?:{KNOWN})\b[^\[\]]*\]", re.I)
SOURCES = "src mp3 m4a ogg wav wma flac mp4 m4v webm ogv wmv flv".split()  # a player's files
EXTENSIONS = {
    "image": ("jpg", "jpeg", "png", "gif", "webp", "avif", "svg", "bmp", "tif", "tiff", "heic"),
    "audio": ("mp3", "m4a", "ogg", "oga", "wav", "wma", "flac", "aac", "opus"),
    "video": ("mp4", "m4v", "mov", "webm", "ogv", "wmv", "flv", "avi", "3gp"),
}  # the kind of an attachment without a media type, by its extension
URL_LINE = re.compile(r"^[ \t]*(https?://[^\s<>\"]+)[ \t]*$", re.M)


@dataclass
class Attachment:
    """A file of the export (an `attachment` item): what a gallery or player shows."""

    ident: str  # post_id
    url: str
    caption: str = ""  # HTML: the attachment's excerpt
    alt: str = ""
    parent: str = ""  # the post_id of the post it is attached to
    order: int = 0  # menu_order
    mime: str = ""


@dataclass
class Media:
    """The export's attachments, by post_id."""

    attachments: dict[str, Attachment] = field(default_factory=dict)
    children: dict[str, list[Attachment]] = field(default_factory=dict)  # by parent

    def add(self, attachment: Attachment) -> None:
        if attachment.url:
            self.attachments[attachment.ident] = attachment
            self.children.setdefault(attachment.parent, []).append(attachment)

    def by_ids(self, ids: str) -> list[Attachment]:
        found = (self.attachments.get(i.strip()) for i in ids.split(","))
        return [a for a in found if a is not None]

    def attached(self, parent: str, kind: str) -> list[Attachment]:
        """The post's attachments of one kind (`image`, `audio`, `video`) in WordPress's
        default order: menu_order, then ID."""
        found = [a for a in self.children.get(parent, ()) if a.mime.startswith(kind)]
        return sorted(found, key=lambda a: (a.order, _number(a.ident)))


def _number(text: str) -> int:
    return int(text) if text.isdigit() else 0


def has_blocks(content: str) -> bool:
    """Block-editor content, as WordPress tells it."""
    return "<!-- wp:" in content


def render(content: str, media: Media | None = None, post: str = "") -> str:
    """The post's content (as exported) as the HTML its site shows; `post` is its
    post_id (a `[gallery]` without ids shows the images attached to it)."""
    if not content or not content.strip():
        return ""
    media = media or Media()
    blocks = has_blocks(content)
    text = shortcodes(content, media, post)
    if not blocks:
        text = autop(URL_LINE.sub(_embed_line, text))
    return str(media_as_links(_soup(text)))


def _embed_line(match: re.Match) -> str:
    """A URL alone on its line: WordPress embeds what it points to (oEmbed)."""
    url = entities.escape(match.group(1))
    return f'\n\n<p><a href="{url}">{url}</a></p>\n\n'


def autop(text: str) -> str:
    """wpautop, WordPress's paragraphs for classic content: blank lines separate
    paragraphs, other newlines are line breaks; block elements are not wrapped, `<pre>`
    is left alone."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept: list[str] = []
    text = _without_pre(text, kept)
    text = _TAG.sub(lambda m: m.group(0).replace("\n", " "), text)  # newlines inside tags
    text = re.sub(r"<br\s*/?>\s*<br\s*/?>", "\n\n", text, flags=re.I)
    text = _CLOSE_BLOCK.sub(r"\1\n\n", _OPEN_BLOCK.sub(r"\n\n\1", text))
    text = re.sub(r"(?<!\s)\s+(<figcaption\b)", r"\1", text, flags=re.I)
    text = re.sub(r"(</figcaption>)\s*", r"\1", text, flags=re.I)
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]
    text = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    text = re.sub(rf"<p>\s*({_ANY_BLOCK_TAG})", r"\1", text, flags=re.I)
    text = re.sub(rf"({_ANY_BLOCK_TAG})\s*</p>", r"\1", text, flags=re.I)
    text = re.sub(r"(?<!<br>)(?<![ \t])[ \t]*\n(?!$)", "<br>\n", _BR.sub("<br>", text))
    text = re.sub(rf"({_ANY_BLOCK_TAG})\s*<br>", r"\1", text, flags=re.I)
    text = re.sub(r"<br>(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)\b[^<>]*>)", r"\1", text)
    text = re.sub(r"<pre-(\d+)>", lambda m: kept[int(m.group(1))], text)
    return text.strip()


def _without_pre(text: str, kept: list[str]) -> str:
    """The text with each `<pre>…</pre>` put in `kept` and replaced by `<pre-N>`."""
    lower, out, at = text.lower(), [], 0
    while (start := lower.find("<pre", at)) != -1:
        end = lower.find("</pre>", start)
        if end == -1:
            break
        out.append(text[at:start] + f"<pre-{len(kept)}>")
        kept.append(text[start : end + 6])
        at = end + 6
    return "".join(out) + text[at:]


def attributes(text: str) -> dict[str, str]:
    """A shortcode's attributes, as WordPress reads them (`name="value"`, `name='value'`,
    `name=value`); values without a name are keyed by position (`0`, `1`…)."""
    found: dict[str, str] = {}
    position = 0
    for match in ATTRIBUTE.finditer(text):
        name, double, single, bare, quoted, loose = match.groups()
        if name:
            value = next(v for v in (double, single, bare) if v is not None)
            found[name.lower()] = entities.unescape(value)
        else:
            found[str(position)] = quoted if quoted is not None else loose
            position += 1
    return found


def shortcodes(text: str, media: Media, post: str) -> str:
    """WordPress's shortcodes as the HTML they show."""
    if "[" not in text:
        return text
    text = CAPTION.sub(_caption, text)
    text = GALLERY.sub(lambda m: _gallery(attributes(m.group(1)), media, post), text)
    text = MEDIA.sub(lambda m: _player(m, media, post), text)
    text = EMBED.sub(lambda m: _block(_link(m.group(1))), text)
    return SHORTCODE.sub("", text)


def _block(html: str) -> str:
    """Block HTML made by a shortcode, kept out of the paragraphs around it."""
    return f"\n\n{html}\n\n" if html else ""


def _caption(match: re.Match) -> str:
    """`[caption]`: the image (in its link) and its caption, from the attribute or from
    the text after the image."""
    given = attributes(match.group(1)).get("caption", "")
    inner = match.group(2)
    found = CAPTION_MEDIA.match(inner)
    image, rest = (found.group(1), found.group(2)) if found else (inner, "")
    if re.match(r"\s*<a\s", image, re.I) and not re.search(r"</a>\s*$", image, re.I):
        image += "</a>"  # a link around the image left open (it happens)
    caption = given or rest.strip()
    return _block(_figure(image, caption))


def _figure(media_html: str, caption: str) -> str:
    caption = f"<figcaption>{caption}</figcaption>" if caption.strip() else ""
    return f"<figure>{media_html}{caption}</figure>"


def _gallery(attrs: dict[str, str], media: Media, post: str) -> str:
    """`[gallery]`: its images (`ids` or `include`, else those attached to the post, or
    to the post `id`), each a figure with its caption."""
    ids = attrs.get("ids") or attrs.get("include")
    found = media.by_ids(ids) if ids else media.attached(attrs.get("id") or post, "image")
    excluded = set(attrs.get("exclude", "").replace(" ", "").split(","))
    figures = [
        _figure(f'<img src="{_attr(a.url)}" alt="{_attr(a.alt)}">', a.caption)
        for a in found
        if a.ident not in excluded
    ]
    return _block("\n".join(figures))


def _player(match: re.Match, media: Media, post: str) -> str:
    """`[audio]`, `[video]`: a link to the file (of its sources, the first);
    `[playlist]`: a link to each."""
    kind, attrs = match.group(1).lower(), attributes(match.group(2))
    urls = [attrs[name] for name in SOURCES if attrs.get(name)]
    urls += [v for k, v in attrs.items() if k.isdigit() and v.startswith(("http://", "https://"))]
    if not urls and attrs.get("ids"):
        urls = [a.url for a in media.by_ids(attrs["ids"])]
    if not urls:
        wanted = attrs.get("type", "audio") if kind == "playlist" else kind
        urls = [a.url for a in media.attached(post, wanted)]
    if kind != "playlist":
        urls = urls[:1]
    return _block("".join(_link(url) for url in urls))


def _link(url: str) -> str:
    url = _attr(entities.unescape(url.strip()))
    return f'<p><a href="{url}">{url}</a></p>'


def _attr(value: str) -> str:
    return entities.escape(value or "", quote=True)


def _soup(text: str) -> BeautifulSoup:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return BeautifulSoup(text, "html.parser")


def media_as_links(soup: BeautifulSoup) -> BeautifulSoup:
    """Players, frames and embeds as links to what they show, a file block's second link
    dropped, line breaks at the edge of a block dropped (see the module's docstring): what
    to change found in one walk over the tree, then changed."""
    found: dict[str, list[Tag]] = {"player": [], "embed": [], "button": [], "block": [soup]}
    for node in soup.descendants:
        if isinstance(node, Tag):
            kind = _kind(node)
            if kind:
                found[kind].append(node)
    for player in found["player"]:
        _player_link(soup, player)
    for wrapper in found["embed"]:
        _embed_link(soup, wrapper)
    for button in found["button"]:
        button.decompose()
    for block in found["block"]:
        _trim_breaks(block)
    return soup


def _kind(node: Tag) -> str:
    classes = node.get("class") or ()
    if node.name in ("video", "audio", "iframe"):
        return "player"
    if "wp-block-embed__wrapper" in classes:
        return "embed"
    if node.name == "a" and "wp-block-file__button" in classes:
        return "button"
    return "block" if node.name in BLOCK_NAMES else ""


def _trim_breaks(block: Tag) -> None:
    """Line breaks first or last in a block (a quote's `<cite>` counts as one): the browser
    shows nothing for them, and Markdown would show a `\\`."""
    for last in (False, True):
        for _ in range(EDGE_BREAKS):
            br = _edge_break(block, last)
            if br is None:
                break
            br.decompose()


def _edge_break(block: Tag, last: bool) -> Tag | None:
    """The `<br>` that begins (or ends) the block's content, inside inline elements too."""
    node = block
    while True:
        contents = reversed(node.contents) if last else node.contents
        edge = next((c for c in contents if _visible(c)), None)
        if not isinstance(edge, Tag) or edge.name in BLOCK_NAMES:
            return None
        if edge.name == "br":
            return edge
        node = edge


def _visible(node) -> bool:
    """An element, or text that is not blank (a comment is not)."""
    return isinstance(node, Tag) or (not isinstance(node, Comment) and bool(str(node).strip()))


def _player_link(soup: BeautifulSoup, element: Tag) -> None:
    source = element.get("src") or next(
        (s.get("src") for s in element.find_all("source") if s.get("src")), ""
    )
    if not source:
        element.decompose()
        return
    link = soup.new_tag("a", href=source)
    poster = element.get("poster")
    if poster:
        link.append(soup.new_tag("img", src=poster, alt=""))
    else:
        link.string = source
    element.replace_with(link)


def _embed_link(soup: BeautifulSoup, wrapper: Tag) -> None:
    """The embed block's wrapper holds the URL as text (WordPress fetches the embed when
    it shows the post)."""
    if wrapper.find(["a", "img", "iframe", "blockquote"]):
        return
    url = wrapper.get_text(strip=True)
    if not url.startswith(("http://", "https://")):
        return
    link = soup.new_tag("a", href=url)
    link.string = url
    wrapper.clear()
    wrapper.append(link)
