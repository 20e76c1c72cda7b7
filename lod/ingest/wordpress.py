"""WordPress export files (WXR 1.0-1.2: RSS 2.0 with the `wp:` namespace).

The export namespace is read in both forms WordPress writes, `http://wordpress.org/export/1.x/`
(self-hosted WordPress up to 5.x) and `https://wordpress.org/export/1.x/` (WordPress.com,
current WordPress), any 1.x version. A file whose `wp:` elements are in neither (or that
has none) is refused whole, naming the namespace it has: nothing of it could be read.

Published posts become articles; pages only when asked (as documents). Drafts, pending,
private, scheduled, trashed and password-protected posts, attachments, menu items,
revisions and any other post type are skipped and counted, never published. An export
in which posts are to be published but none can be (every one invalid) is an error, even
with --skip-invalid.

- **Bodies** as the site shows them (lod.ingest.wpcontent): block-editor content as it is,
  classic content with WordPress's paragraphs; captions, galleries (from the export's
  attachments), audio, video and embeds kept as images and links with their captions.
- **Titles**: the text WordPress shows (inline tags dropped, entities decoded, `<` kept
  as text). A published post without a title gets the first words of its text as its
  headline (up to ten words, `…` when cut); one without any text, "(no title)", as
  WordPress's own lists call it. Neither stops the import.
- **Topics**: the categories and tags the imported posts use, and no others, with a
  category's ancestors (a post in a subcategory is about its parents; the parent is the
  category's `broader`); a tag with the name of a category (case aside) is that
  category's topic; WXR 1.0's `domain="tag"` is a tag.
- **People**: one per author login (`dc:creator` names the login; a creator written
  with stray characters or as the e-mail address or display name is matched to its
  author).
- **Dates** with the site's offset: post_date is site time, post_date_gmt the same
  moment in UTC (and so is the item's pubDate, which exports without post_date_gmt
  have). When neither gives one (post_date_gmt `0000-00-00 00:00:00`: drafts published
  by some plugins, old exports), the offset is that of the post nearest in time whose
  dates give one; when no post gives one, the time is kept without an offset.
- **Featured image**: the post's `_thumbnail_id` attachment, else its first image.
- **Languages and translations** of a multilingual site, as Polylang and WPML's Export and
  Import write them: each post's `inLanguage`, and `translationOf` for the translations of
  a group (lod.ingest.wplang, read in the first pass).
"""

from __future__ import annotations

import bisect
import html as entities
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element

from ..errors import ImportSourceError
from . import html, languages, wpcontent, wplang, xmlsafe
from .common import Agent, Publisher, RawItem, Term, local_with_offset, record_slug
from .common import entities as records
from .model import Entity, Event, Fault, Options, Site, Skipped

WP = ("http://wordpress.org/export/", "https://wordpress.org/export/")
WXR = re.compile(r"https?://wordpress\.org/export/\d+\.\d+/?")
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
NEVER = {"attachment", "nav_menu_item", "revision"}
STATUS = {"future": "scheduled", "trash": "trashed", "inherit": "revision"}  # else as written
UNTITLED = "(no title)"
HEADLINE_WORDS = 10


def _wp(element: Element, name: str) -> str:
    """The text of the element's `wp:` child of that name ('' for none)."""
    return xmlsafe.text(next(iter(_wp_children(element, name)), None))


def _wp_children(element: Element, name: str) -> list[Element]:
    """The element's `wp:` children of that name, in either export namespace."""
    return [
        sub
        for sub in element
        if xmlsafe.local(sub.tag) == name and xmlsafe.namespace(sub.tag).startswith(WP)
    ]


def _meta(element: Element, key: str) -> str:
    """A post's `wp:postmeta` value for that key ('' for none)."""
    for meta in _wp_children(element, "postmeta"):
        if _wp(meta, "meta_key") == key:
            return _wp(meta, "meta_value")
    return ""


# -- the first pass: what every post may need from anywhere in the export -------------


@dataclass
class Survey:
    """What a first pass over the export finds: whether it is one (its namespaces), its
    attachments, the offsets its dates give (site time against UTC), and the languages
    and translations of the posts it imports (lod.ingest.wplang)."""

    options: Options = field(default_factory=Options)
    media: wpcontent.Media = field(default_factory=wpcontent.Media)
    translations: wplang.Translations = field(default_factory=wplang.Translations)
    offsets: list[tuple[datetime, timedelta]] = field(default_factory=list)
    namespaces: set[str] = field(default_factory=set)
    language: str = ""  # the site's (its channel's, in its posts' terms)
    references: dict[tuple[str, str, str], None] = field(default_factory=dict)  # ordered set

    @property
    def wxr(self) -> bool:
        return any(WXR.fullmatch(ns) for ns in self.namespaces)

    def item(self, element: Element) -> None:
        self.namespaces.update(xmlsafe.namespace(sub.tag) for sub in element)
        for category in xmlsafe.children(element, "category", ""):
            found = reference(category)
            if found is not None:
                self.references[found] = None
        if _wp(element, "post_type") == "attachment":
            self.media.add(_attachment(element))
        local = _wp_time(_wp(element, "post_date"))
        offset = _offset(local, _utc(element, "post_date"))
        if offset is not None:
            self.offsets.append((local, offset))
        if not _unpublished(element, self.options) and _wp(element, "post_id").isdigit():
            self._language(element)

    def _language(self, element: Element) -> None:
        """An imported post's language and translation group, as Polylang (taxonomies)
        or WPML's Export and Import (custom fields) write them."""
        named = {
            category.get("domain"): category.get("nicename") or xmlsafe.text(category)
            for category in xmlsafe.children(element, "category", "")
        }
        kind = "document" if _wp(element, "post_type") == "page" else "article"
        item = RawItem(
            "",
            0,
            ident=xmlsafe.child_text(element, "guid"),
            link=xmlsafe.child_text(element, "link", ""),
            slug_source=_wp(element, "post_name"),
            title=entities.escape(_headline(xmlsafe.child_text(element, "title", ""), ""), False),
            kind=kind,
        )
        self.translations.post(
            wplang.Post(int(_wp(element, "post_id")), kind, record_slug(item)),
            polylang=(
                named.get(wplang.POLYLANG_LANGUAGE, ""),
                named.get(wplang.POLYLANG_GROUP, ""),
            ),
            wpml=tuple(
                _meta(element, key)
                for key in (wplang.WPML_LANGUAGE, wplang.WPML_GROUP, wplang.WPML_SOURCE)
            ),
        )

    def channel(self, channel: Element) -> None:
        self.namespaces.update(xmlsafe.namespace(sub.tag) for sub in channel)
        self.offsets.sort()
        for term in _wp_children(channel, "term"):
            taxonomy = _wp(term, "term_taxonomy")
            slug, description = _wp(term, "term_slug"), _wp(term, "term_description")
            if taxonomy == wplang.POLYLANG_LANGUAGE:
                self.translations.language_term(slug, description)
            elif taxonomy == wplang.POLYLANG_GROUP:
                self.translations.group_term(slug, description)
            elif taxonomy == wplang.POLYLANG_TERM_GROUP:
                self.translations.term_group(description)
        site = languages.tag(xmlsafe.child_text(channel, "language"))
        self.translations.settle(self.options.language or site)
        self.language = self.translations.in_own_terms(site)

    def nearest_offset(self, local: datetime) -> timedelta | None:
        """The offset of the post nearest in time that gives one."""
        if not self.offsets:
            return None
        at = bisect.bisect_left(self.offsets, (local, timedelta.min))
        near = self.offsets[max(at - 1, 0) : at + 1]
        return min(near, key=lambda pair: abs(pair[0] - local))[1]


def survey(path: str, options: Options) -> Survey:
    """The first pass; ImportSourceError when the file has no element in the export
    namespace (nothing of it could be read)."""
    found = Survey(options)
    root = None
    for event, element, _ in xmlsafe.stream(path, {"item"}, options.max_bytes):
        if event == "start":
            root = element
        elif event == "item":
            found.item(element)
        else:
            channel = xmlsafe.child(element, "channel")
            found.channel(channel if channel is not None else element)
    if root is not None and not found.wxr:
        raise _not_wxr(path, found.namespaces)
    return found


KNOWN_NAMESPACES = {
    "",
    CONTENT,
    DC,
    "http://wellformedweb.org/CommentAPI/",
    "http://www.w3.org/2005/Atom",
    "http://purl.org/rss/1.0/modules/syndication/",
    "http://purl.org/rss/1.0/modules/slash/",
}


def _not_wxr(path: str, namespaces: set[str]) -> ImportSourceError:
    others = sorted(ns for ns in namespaces - KNOWN_NAMESPACES if "/excerpt/" not in ns)
    found = (
        f"its WordPress elements are in {', '.join(f'`{ns}`' for ns in others)}"
        if others
        else "it has no WordPress (`wp:`) elements"
    )
    return ImportSourceError(
        path,
        0,
        "",
        f"not a WordPress export that can be read: {found}",
        "WXR uses http:// or https://wordpress.org/export/1.0/, 1.1/ or 1.2/",
    )


def _attachment(element: Element) -> wpcontent.Attachment:
    return wpcontent.Attachment(
        ident=_wp(element, "post_id"),
        url=_wp(element, "attachment_url") or xmlsafe.child_text(element, "guid"),
        caption=_excerpt(element),
        alt=_meta(element, "_wp_attachment_image_alt"),
        parent=_wp(element, "post_parent"),
        order=int(_wp(element, "menu_order")) if _wp(element, "menu_order").isdigit() else 0,
        mime=_wp(element, "post_mime_type") or _mime(_wp(element, "attachment_url")),
    )


def _mime(url: str) -> str:
    """The kind of file by its extension, for exports without post_mime_type."""
    extension = url.rsplit(".", 1)[-1].lower() if "." in url else ""
    for kind, extensions in wpcontent.EXTENSIONS.items():
        if extension in extensions:
            return f"{kind}/{extension}"
    return ""


def _wp_time(text: str) -> datetime | None:
    """A WordPress date (`2012-02-16 15:52:55`), None for none or all zeros."""
    text = (text or "").strip()
    if not text or text.startswith("0000"):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _utc(element: Element, name: str) -> datetime | None:
    """The UTC twin of post_date or post_modified: its `_gmt` field; for post_date, else
    the item's pubDate (where the export writes post_date_gmt, as RFC 822)."""
    utc = _wp_time(_wp(element, f"{name}_gmt"))
    if utc is None and name == "post_date":
        try:
            moment = parsedate_to_datetime(xmlsafe.child_text(element, "pubDate", ""))
        except (TypeError, ValueError, IndexError):
            return None
        if moment is not None and moment.tzinfo is not None:
            utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc


def _offset(local: datetime | None, utc: datetime | None) -> timedelta | None:
    """Site time against UTC, when both are there and the difference is an offset (a
    draft's pubDate of 1970 is not)."""
    if local is None or utc is None or abs(local - utc) > timedelta(hours=14):
        return None
    return local - utc


# -- the second pass: the channel, then each post --------------------------------------


@dataclass
class Authors:
    """The export's authors (wp:author), found by login, else by e-mail address or
    display name, case and stray characters aside: one person per login."""

    by_login: dict[str, Agent] = field(default_factory=dict)
    by_other: dict[str, Agent] = field(default_factory=dict)  # address, display name

    @classmethod
    def of(cls, channel: Element) -> Authors:
        authors = cls()
        for author in _wp_children(channel, "author"):
            login = _wp(author, "author_login")
            display = _wp(author, "author_display_name")
            full = f"{_wp(author, 'author_first_name')} {_wp(author, 'author_last_name')}"
            agent = Agent(html.to_text(display or full.strip() or login), key=login)
            authors.by_login.setdefault(_key(login), agent)
            for other in (_wp(author, "author_email"), display):
                if _key(other):
                    authors.by_other.setdefault(_key(other), agent)
        return authors

    def find(self, creator: str) -> Agent | None:
        """The author a `dc:creator` names; a creator who is not one of the export's
        authors is a person of that name."""
        name = creator.strip().strip("<>\"' ")
        if not name:
            return None
        key = _key(name)
        return self.by_login.get(key) or self.by_other.get(key) or Agent(name, key=name)


def _key(text: str) -> str:
    """A login, address or name as compared: case, spaces and characters a login cannot
    have aside."""
    return re.sub(r"[^\w.@+-]", "", text or "").casefold()


TAXONOMIES = {"category": "category", "post_tag": "post_tag", "tag": "post_tag", "": "category"}
"""A post's <category> by its domain: WXR 1.0 writes tags as `tag`, and each category a
second time without a domain."""


def reference(category: Element) -> tuple[str, str, str] | None:
    """(taxonomy, slug, name) of a post's <category>; None for other taxonomies (post
    formats, custom ones), which are not topics."""
    taxonomy = TAXONOMIES.get(category.get("domain") or "")
    if taxonomy is None:
        return None
    name = xmlsafe.text(category)
    return taxonomy, category.get("nicename") or name, name


@dataclass
class Topics:
    """The export's categories and tags (wp:category, wp:tag, wp:term, and those posts
    name without their being declared), found by taxonomy and slug. A tag, or a term a
    post names, whose name is that of a term already known (case aside) is that term:
    one topic, under the slug that is not the other's with a `-2` WordPress added."""

    by_slug: dict[tuple[str, str], Term] = field(default_factory=dict)
    by_name: dict[str, Term] = field(default_factory=dict)
    slugs: dict[int, list[str]] = field(default_factory=dict)  # id(term) -> its slugs
    final: dict[str, Term] = field(default_factory=dict)  # by the slug chosen
    by_id: dict[str, Term] = field(default_factory=dict)  # by WordPress's term id

    @classmethod
    def of(
        cls,
        channel: Element,
        references: dict[tuple[str, str, str], None],
        groups: list[dict[str, int]] = (),
        first_language: str = "",
    ) -> Topics:
        """The export's terms; those of a translation group (Polylang's
        `term_translations`, {tag: term id}) are one topic named in each language."""
        topics = cls()
        for category in _wp_children(channel, "category"):
            nicename, parent = _wp(category, "category_nicename"), _wp(category, "category_parent")
            name, ident = _wp(category, "cat_name"), _wp(category, "term_id")
            topics.add("category", nicename, name, parent, distinct=True, ident=ident)
        for tag in _wp_children(channel, "tag"):
            topics.add(
                "post_tag", _wp(tag, "tag_slug"), _wp(tag, "tag_name"), ident=_wp(tag, "term_id")
            )
        for term in _wp_children(channel, "term"):
            taxonomy = _wp(term, "term_taxonomy")
            if taxonomy in ("category", "post_tag"):
                name, parent = _wp(term, "term_name"), _wp(term, "term_parent")
                topics.add(
                    taxonomy, _wp(term, "term_slug"), name, parent, ident=_wp(term, "term_id")
                )
        for taxonomy, slug, name in references:
            topics.add(taxonomy, slug, name)
        for group in groups:
            topics.translated(group, first_language)
        topics.settle()
        return topics

    def add(
        self, taxonomy: str, slug: str, name: str, parent: str = "", distinct=False, ident=""
    ) -> None:
        """A term; `distinct`: a declared category, never merged by name (two categories
        of one name under different parents are two topics)."""
        label = html.to_text(name) or slug
        if (taxonomy, slug) in self.by_slug or not label:
            return
        term = None if distinct else self.by_name.get(_name_key(label))
        if term is None:
            term = Term(slug or label, label, parent if taxonomy == "category" else "")
            self.slugs[id(term)] = []
        self.slugs[id(term)].append(slug or label)
        self.by_slug[taxonomy, slug] = term
        self.by_name.setdefault(_name_key(label), term)
        if ident:
            self.by_id.setdefault(ident, term)

    def translated(self, group: dict[str, int], first_language: str) -> None:
        """The terms of a translation group made one: the term in the first language (else
        the group's first) keeps its slug and parent, and takes every member's label by
        language; posts naming another member name it."""
        members = [(tag, self.by_id[str(i)]) for tag, i in group.items() if str(i) in self.by_id]
        if len({id(term) for _, term in members}) < 2:
            return
        keeper = next(
            (term for tag, term in members if languages.same(tag, first_language)),
            members[0][1],
        )
        keeper.labels = {tag: term.label for tag, term in members}
        merged = {id(term) for _, term in members} - {id(keeper)}
        for key, term in list(self.by_slug.items()):
            if id(term) in merged:
                self.by_slug[key] = keeper

    def settle(self) -> None:
        """Each term's slug chosen among its slugs, and its `broader` made the slug its
        parent got ('' for a parent not exported)."""
        terms = {id(t): t for t in self.by_slug.values()}.values()
        for term in terms:
            term.slug_source = _first_plain(self.slugs[id(term)])
        for term in terms:
            parent = self.by_slug.get(("category", term.broader)) if term.broader else None
            term.broader = parent.slug_source if parent is not None and parent is not term else ""
        self.final = {term.slug_source: term for term in terms}

    def of_item(self, element: Element) -> list[Term]:
        """The post's categories, each with its ancestors, and its tags."""
        found: list[Term] = []
        for category in xmlsafe.children(element, "category", ""):
            known = reference(category)
            term = self.by_slug.get(known[:2]) if known else None
            if term is not None:
                found.extend(with_ancestors(term, self.final))
        return found


def with_ancestors(term: Term, terms: dict[str, Term]) -> list[Term]:
    """The term and its ancestors, by `broader` in `terms` (by slug); a parent not in
    them ends the chain, and the last term loses its `broader` (lod.ingest.wpjson reads
    the REST API's categories with it too)."""
    chain, seen = [term], {term.slug_source}
    while chain[-1].broader and chain[-1].broader not in seen:
        parent = terms.get(chain[-1].broader)
        if parent is None:  # a parent not exported
            chain[-1] = Term(chain[-1].slug_source, chain[-1].label)
            break
        seen.add(parent.slug_source)
        chain.append(parent)
    return chain


def _first_plain(slugs: list[str]) -> str:
    """The first slug that is not another one with a number added (`template-2` when
    `template` is there too)."""
    for slug in slugs:
        base, dash, number = slug.rpartition("-")
        if not (dash and number.isdigit() and base in slugs):
            return slug
    return slugs[0]


def _name_key(label: str) -> str:
    return " ".join(label.split()).casefold()


@dataclass
class Export:
    """What every post of the export is read with."""

    path: str
    options: Options
    survey: Survey
    authors: Authors = field(default_factory=Authors)
    topics: Topics = field(default_factory=Topics)
    language: str = ""


def read(path: str, options: Options) -> Iterator[Event]:
    """The export's site and publisher, then each post's records (or why it is skipped,
    or its faults); ImportSourceError for an export nothing can be read from."""
    export = Export(path, options, survey(path, options))
    publisher = Publisher(options)
    tally = Counter()
    for event, element, position in xmlsafe.stream(path, {"item"}, options.max_bytes):
        if event == "start":
            root = element
            continue
        if publisher.slug is None:
            yield from publisher.site(_channel(export, root))
        if event != "item":
            continue
        reason = _unpublished(element, options)
        if reason:
            yield Skipped(path, _label(element, position), reason)
            continue
        for record in records(_item(export, element, position), publisher.slug, options):
            tally[_counted(record)] += 1
            yield record
    _check_something_read(path, tally)


def _channel(export: Export, root: Element) -> Site:
    channel = xmlsafe.child(root, "channel")
    if channel is None:
        raise ImportSourceError(export.path, 0, "channel", "a WordPress export needs a <channel>")
    export.language = export.survey.language
    export.authors, export.topics = (
        Authors.of(channel),
        Topics.of(
            channel,
            export.survey.references,
            export.survey.translations.term_languages(),
            export.options.language or export.language,
        ),
    )
    return Site(
        html.to_text(xmlsafe.child_text(channel, "title")),
        _wp(channel, "base_blog_url") or xmlsafe.child_text(channel, "link", ""),
        export.language,
        html.to_text(xmlsafe.child_text(channel, "description")),
    )


def _counted(event: Event) -> str:
    """How the end-of-file check counts an event: a post imported, one fault, or ''."""
    if isinstance(event, Entity) and event.kind in ("article", "document"):
        return "imported"
    if isinstance(event, Fault):  # by its field and kind (`not a date`), not its value
        return f"{event.error.field}: {event.error.message}".split("`")[0].strip(": ")
    return ""


def _check_something_read(path: str, tally: Counter) -> None:
    """An export whose posts to publish are all invalid gives nothing: an error naming
    why, not an import of nothing."""
    faults = {reason: n for reason, n in tally.items() if reason not in ("imported", "")}
    if faults and not tally["imported"]:
        reasons = ", ".join(f"{n}× {reason}" for reason, n in Counter(faults).most_common())
        raise ImportSourceError(
            path, 0, "", f"nothing could be imported: every post to publish is invalid ({reasons})"
        )


def _label(element: Element, position: int) -> str:
    """How a message names a post: its GUID, else its link, else its position."""
    return (
        xmlsafe.child_text(element, "guid") or xmlsafe.child_text(element, "link") or f"#{position}"
    )


def _unpublished(element: Element, options: Options) -> str:
    """Why a post is not published (as the message says it), or '' when it is: only posts,
    and pages when asked, that are published and not behind a password."""
    post_type = _wp(element, "post_type") or "post"
    status = _wp(element, "status") or "publish"
    if post_type in NEVER:
        return post_type.replace("_", " ")
    if post_type == "page" and not options.pages:
        return "page (import pages with --pages)"
    if post_type not in ("post", "page"):
        return f"post type `{post_type}`"
    if status != "publish":
        return STATUS.get(status, status)
    if _wp(element, "post_password"):
        return "password-protected"
    return ""


def _item(export: Export, element: Element, position: int) -> RawItem:
    post = _wp(element, "post_id")
    body = wpcontent.render(
        xmlsafe.child_text(element, "encoded", CONTENT), export.survey.media, post
    )
    published, modified = _dates(element, export.survey)
    thumbnail = export.survey.media.attachments.get(_meta(element, "_thumbnail_id"))
    placed = export.survey.translations.of(int(post)) if post.isdigit() else None
    return RawItem(
        file=export.path,
        position=position,
        ident=xmlsafe.child_text(element, "guid"),
        link=xmlsafe.child_text(element, "link", ""),
        slug_source=(placed.slug if placed else "") or _wp(element, "post_name"),
        title=entities.escape(_headline(xmlsafe.child_text(element, "title", ""), body), False),
        html=body,
        summary=_excerpt(element),
        published=published,
        updated=modified,
        authors=_creators(element, export.authors),
        terms=export.topics.of_item(element),
        image=thumbnail.url if thumbnail else "",
        language=(placed.language if placed else "") or export.language,
        kind="document" if _wp(element, "post_type") == "page" else "article",
        translation_of=placed.translation_of if placed else "",
    )


INLINE = re.compile(
    r"</?(?:a|abbr|b|bdi|bdo|br|cite|code|del|dfn|em|font|i|ins|kbd|mark|q|s|samp|small|span|"
    r"strike|strong|sub|sup|time|u|var|wbr)\b[^>]*>",
    re.I,
)


def _headline(title: str, body: str) -> str:
    """The post's title as plain text: inline tags dropped (a title cannot hold more),
    entities decoded, anything else (`<html>`) kept as the text WordPress shows; for a
    post without one, the first words of its text, else "(no title)"."""
    text = INLINE.sub("", re.sub(r"<br\s*/?>", " ", title, flags=re.I))
    text = " ".join(entities.unescape(text).split())
    if text:
        return text
    words = html.to_text(body).split()
    if not words:
        return UNTITLED
    cut = " ".join(words[:HEADLINE_WORDS]).rstrip(".,;:!?-–—")
    return cut + "…" if len(words) > HEADLINE_WORDS else cut


def _dates(element: Element, found: Survey) -> tuple[str, str]:
    """(published, modified) with the site's offset. A post_date that is no date is kept as
    written, so the item is refused naming it (every article needs one); a post_modified
    that is no date is left out."""
    published = _site_time(element, "post_date", found)
    if published is None:
        published = _wp(element, "post_date")
    return published, _site_time(element, "post_modified", found) or ""


def _site_time(element: Element, name: str, found: Survey) -> str | None:
    """post_date or post_modified (site time) with the offset its UTC twin gives, else
    the offset of the post nearest in time, else none; '' when unset, None when not a
    date."""
    raw = _wp(element, name)
    if not raw or raw.startswith("0000"):
        return ""
    local = _wp_time(raw)
    if local is None:
        return None
    offset = _offset(local, _utc(element, name))
    if offset is None:
        offset = found.nearest_offset(local)
    return local_with_offset(raw, str(local - offset) if offset is not None else "")


def _creators(element: Element, authors: Authors) -> list[Agent]:
    """The post's authors: dc:creator holds a login, the channel's wp:author its name."""
    found: list[Agent] = []
    for creator in xmlsafe.children(element, "creator", DC):
        agent = authors.find(xmlsafe.text(creator))
        if agent is not None and agent not in found:
            found.append(agent)
    return found


def _excerpt(element: Element) -> str:
    for sub in element:
        if xmlsafe.local(sub.tag) == "encoded" and "excerpt" in xmlsafe.namespace(sub.tag):
            return xmlsafe.text(sub)
    return ""
