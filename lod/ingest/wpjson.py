"""WordPress REST API objects (`wp/v2`) -> the items `lod import` makes records of.

A post of the API becomes the RawItem a WXR export's item becomes (lod.ingest.wordpress),
so the records are the same: the GUID its identity, `slug` its slug, `date` and `date_gmt`
its publication date with the site's offset, its author (the user's display name), its
categories with their ancestors (`parent`: `broader`) and its tags as topics.

What the API gives differently:

- the body is WordPress's rendered HTML (`content.rendered`: paragraphs and shortcodes
  already done by the site), so it is converted as HTML; shortcodes a site no longer
  renders (a plugin removed), left as text, are removed as the importer removes them;
- the excerpt is WordPress's own (the opening words) when the post has none: that one is
  not a description and is dropped (a post's manual excerpt is kept);
- the featured image (`featured_media`) is the article's `image`; its caption, when it
  has one, opens the body as a figure (image and caption), the Markdown the importer makes
  of a `[caption]`: the data model has no field for an image's caption;
- a post's language is Polylang Pro's `lang` field (Polylang's free plugin and WPML add
  none to the API); its `translations` ({language: post id}) are not read yet: linking a
  translation to its original across syncs needs the original's record, which an
  incremental sync may not have read.

Users, terms and media come embedded in the posts (`_embed`); what is not embedded (an
embed refused, a user the site hides) is asked for by id (`Lookups.missing`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from typing import Any

from . import html, languages
from .common import Agent, RawItem, Term, local_with_offset
from .model import Site
from .wordpress import STATUS, with_ancestors

EMBED = "author,wp:term,wp:featuredmedia"
_MORE = re.compile(r"\s*(?:\[(?:…|\.\.\.)\]|…)\s*$")


def site(index: dict) -> Site:
    """The site from the API's index: its name, home and tagline."""
    return Site(
        html.to_text(text_of(index.get("name"))),
        text_of(index.get("home")) or text_of(index.get("url")),
        "",
        html.to_text(text_of(index.get("description"))),
    )


@dataclass
class Lookups:
    """Users, categories, tags and media by id, from embeds and from their endpoints."""

    users: dict[int, dict] = field(default_factory=dict)
    categories: dict[int, dict] = field(default_factory=dict)
    tags: dict[int, dict] = field(default_factory=dict)
    media: dict[int, dict] = field(default_factory=dict)
    _topics: dict[str, Term] | None = field(default=None, repr=False)
    _asked: set[tuple[str, int]] = field(default_factory=set, repr=False)

    def topics(self) -> dict[str, Term]:
        """Every category as a Term by slug (made once: categories are read first)."""
        if self._topics is None:
            self._topics = terms_by_slug(self.categories)
        return self._topics

    def absorb(self, post: dict) -> None:
        """What a post brings embedded (its author, terms and featured image)."""
        embedded = post.get("_embedded") or {}
        for user in embedded.get("author") or []:
            self._keep(self.users, user, "name")
        for group in embedded.get("wp:term") or []:
            for term in group or []:
                taxonomy = term.get("taxonomy") if isinstance(term, dict) else None
                if taxonomy == "post_tag":
                    self._keep(self.tags, term, "slug")
        for medium in embedded.get("wp:featuredmedia") or []:
            self._keep(self.media, medium, "source_url")

    @staticmethod
    def _keep(table: dict[int, dict], found: Any, needed: str) -> None:
        """An embedded object, unless it is an error (`{code, message}`) or lacks what is
        needed of it."""
        if isinstance(found, dict) and isinstance(found.get("id"), int) and found.get(needed):
            table.setdefault(found["id"], found)

    def missing(self, posts: list[dict]) -> dict[str, list[int]]:
        """The ids the posts name that are neither known nor asked for yet, by endpoint
        (the caller asks for them: they are not given twice)."""
        wanted: dict[str, set[int]] = {"users": set(), "tags": set(), "media": set()}
        for post in posts:
            wanted["users"].update(_ids([post.get("author")]))
            wanted["tags"].update(_ids(post.get("tags")))
            wanted["media"].update(_ids([post.get("featured_media")]))
        known = {"users": self.users, "tags": self.tags, "media": self.media}
        found = {}
        for name, ids in wanted.items():
            new = sorted(i for i in ids - known[name].keys() if (name, i) not in self._asked)
            self._asked.update((name, i) for i in new)
            if new:
                found[name] = new
        return found

    def add(self, endpoint: str, items: list[dict]) -> None:
        table = {"users": self.users, "tags": self.tags, "media": self.media}[endpoint]
        needed = {"users": "name", "tags": "slug", "media": "source_url"}[endpoint]
        for item in items:
            self._keep(table, item, needed)


def _ids(values: Any) -> set[int]:
    if not isinstance(values, list):
        return set()
    return {value for value in values if isinstance(value, int) and value > 0}


def text_of(value: Any) -> str:
    """A field that is text, or `{rendered: text}`; '' for anything else."""
    if isinstance(value, dict):
        value = value.get("rendered")
    return value.strip() if isinstance(value, str) else ""


def unpublished(post: dict) -> str:
    """Why a post the API gave is not published (as `lod import` says it), or ''."""
    status = text_of(post.get("status")) or "publish"
    if status != "publish":
        return STATUS.get(status, status)
    content = post.get("content")
    if isinstance(content, dict) and content.get("protected"):
        return "password-protected"
    return ""


def item(post: dict, lookups: Lookups, *, file: str, kind: str = "article") -> RawItem:
    """The RawItem of a published post (or page, as a `document`)."""
    image, figure = _featured(post, lookups)
    body = html.shortcodes(text_of(post.get("content")))
    return RawItem(
        file=file,
        position=post.get("id") or 0,
        ident=text_of(post.get("guid")),
        link=text_of(post.get("link")),
        slug_source=text_of(post.get("slug")),
        title=text_of(post.get("title")),
        html=figure + body,
        summary=_excerpt(post, body),
        published=_time(post, "date"),
        updated=_time(post, "modified"),
        authors=_authors(post, lookups),
        terms=_terms(post, lookups),
        image=image,
        language=languages.tag(text_of(post.get("lang"))),
        kind=kind,
    )


def _time(post: dict, name: str) -> str:
    """`date` or `modified` (site time) with the offset its `_gmt` twin implies; '' when
    unset."""
    local = text_of(post.get(name))
    if not local:
        return ""
    try:
        return local_with_offset(local, text_of(post.get(f"{name}_gmt")))
    except ValueError:
        return local  # refused by the importer's date check, naming it


def _authors(post: dict, lookups: Lookups) -> list[Agent]:
    user = lookups.users.get(post.get("author"))  # type: ignore[arg-type]
    if not user:
        return []
    name = html.to_text(text_of(user.get("name")))
    return [Agent(name, key=text_of(user.get("slug")) or str(user["id"]))] if name else []


def terms_by_slug(categories: dict[int, dict]) -> dict[str, Term]:
    """Every category as a Term, its parent's slug its `broader`."""
    found = {}
    for category in categories.values():
        parent = categories.get(category.get("parent") or 0)
        found[text_of(category.get("slug"))] = Term(
            text_of(category.get("slug")),
            html.to_text(text_of(category.get("name"))),
            text_of(parent.get("slug")) if parent else "",
        )
    return found


def _terms(post: dict, lookups: Lookups) -> list[Term]:
    """The post's categories, each with its ancestors, then its tags."""
    by_slug = lookups.topics()
    found: list[Term] = []
    for ident in post.get("categories") or []:
        category = lookups.categories.get(ident)
        if category:
            found.extend(with_ancestors(by_slug[text_of(category.get("slug"))], by_slug))
    for ident in post.get("tags") or []:
        tag = lookups.tags.get(ident)
        if tag:
            found.append(Term(text_of(tag.get("slug")), html.to_text(text_of(tag.get("name")))))
    return found


def _featured(post: dict, lookups: Lookups) -> tuple[str, str]:
    """(the featured image's URL, the figure that opens the body when it has a caption)."""
    medium = lookups.media.get(post.get("featured_media"))  # type: ignore[arg-type]
    if not medium:
        return "", ""
    url = text_of(medium.get("source_url"))
    caption = html.to_text(text_of(medium.get("caption")))
    if not url or not caption:
        return url, ""
    alt = text_of(medium.get("alt_text"))
    return url, (
        f'<figure><img src="{escape(url)}" alt="{escape(alt)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>\n"
    )


def _excerpt(post: dict, body: str) -> str:
    """The post's own excerpt (HTML); '' for none, or for WordPress's automatic one (the
    body's opening words, then `[…]`)."""
    excerpt = post.get("excerpt")
    if isinstance(excerpt, dict) and isinstance(excerpt.get("raw"), str):
        return excerpt["raw"]  # context=edit: the excerpt as written
    rendered = text_of(excerpt)
    words = "".join(_MORE.sub("", html.to_text(rendered)).split())
    if not words or "".join(html.to_text(body).split()).startswith(words):
        return ""
    return rendered
