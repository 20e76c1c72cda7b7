"""WordPress export files (WXR 1.0-1.2: RSS 2.0 with the `wp:` namespace).

Published posts become articles; categories and tags become topics (a category's parent
its `broader`); authors become people; the site becomes the publisher organisation.
Drafts, pending, private, scheduled, trashed and password-protected posts, attachments,
menu items, revisions and any other post type are skipped and counted, never published;
pages are imported only when asked (as documents).
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element

from ..errors import ImportSourceError
from . import html, xmlsafe
from .common import Agent, RawItem, Term, entities, local_with_offset, site_entity
from .model import Event, Options, Site, Skipped

WP = "http://wordpress.org/export/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
EXCERPT = "http://wordpress.org/export/"  # wp excerpt namespace: .../export/1.2/excerpt/
DC = "http://purl.org/dc/elements/1.1/"
NEVER = {"attachment", "nav_menu_item", "revision"}


def _wp(element: Element, name: str) -> str:
    return xmlsafe.child_text(element, name, WP)


def _people(channel: Element) -> dict[str, Agent]:
    people = {}
    for author in xmlsafe.children(channel, "author", WP):
        login = _wp(author, "author_login")
        display = _wp(author, "author_display_name")
        full = f"{_wp(author, 'author_first_name')} {_wp(author, 'author_last_name')}".strip()
        people[login] = Agent(html.to_text(display or full or login), key=login)
    return people


def _terms(channel: Element) -> dict[str, Term]:
    """Categories (with parents) and tags by nicename."""
    terms = {}
    for category in xmlsafe.children(channel, "category", WP):
        nicename = _wp(category, "category_nicename")
        terms[nicename] = Term(
            nicename, html.to_text(_wp(category, "cat_name")), _wp(category, "category_parent")
        )
    for tag in xmlsafe.children(channel, "tag", WP):
        slug = _wp(tag, "tag_slug")
        terms.setdefault(slug, Term(slug, html.to_text(_wp(tag, "tag_name"))))
    for term in xmlsafe.children(channel, "term", WP):
        if _wp(term, "term_taxonomy") in ("category", "post_tag"):
            slug = _wp(term, "term_slug")
            terms.setdefault(
                slug, Term(slug, html.to_text(_wp(term, "term_name")), _wp(term, "term_parent"))
            )
    return terms


def _with_ancestors(term: Term, terms: dict[str, Term]) -> list[Term]:
    chain, seen = [term], {term.slug_source}
    while chain[-1].broader and chain[-1].broader not in seen:
        parent = terms.get(chain[-1].broader)
        if parent is None:
            chain[-1] = Term(chain[-1].slug_source, chain[-1].label)  # a parent not exported
            break
        seen.add(parent.slug_source)
        chain.append(parent)
    return chain


def read(path: str, options: Options) -> Iterator[Event]:
    root = None
    people: dict[str, Agent] = {}
    terms: dict[str, Term] = {}
    publisher = None
    language = ""
    for event, element, position in xmlsafe.stream(path, {"item"}, options.max_bytes):
        if event == "start":
            root = element
            continue
        if publisher is None:
            channel = xmlsafe.child(root, "channel")
            if channel is None:
                raise ImportSourceError(path, 0, "channel", "a WordPress export needs a <channel>")
            language = xmlsafe.child_text(channel, "language")
            site = Site(
                html.to_text(xmlsafe.child_text(channel, "title")),
                xmlsafe.child_text(channel, "base_blog_url", WP)
                or xmlsafe.child_text(channel, "link", ""),
                language,
                html.to_text(xmlsafe.child_text(channel, "description")),
            )
            org = site_entity(site, options)
            publisher = org.slug
            yield site
            if not options.publisher:
                yield org
            people, terms = _people(channel), _terms(channel)
        if event != "item":
            continue
        yield from _item(path, element, position, people, terms, publisher, language, options)


def _item(path, element, position, people, terms, publisher, language, options):
    post_type = _wp(element, "post_type") or "post"
    status = _wp(element, "status") or "publish"
    label = (
        xmlsafe.child_text(element, "guid")
        or xmlsafe.child_text(element, "link")
        or (f"#{position}")
    )
    if post_type in NEVER:
        yield Skipped(path, label, post_type.replace("_", " "))
        return
    if post_type == "page" and not options.pages:
        yield Skipped(path, label, "page (import pages with --pages)")
        return
    if post_type not in ("post", "page"):
        yield Skipped(path, label, f"post type `{post_type}`")
        return
    if status != "publish":
        reason = {"future": "scheduled", "trash": "trashed", "inherit": "revision"}.get(
            status, status
        )
        yield Skipped(path, label, reason)
        return
    if _wp(element, "post_password"):
        yield Skipped(path, label, "password-protected")
        return
    local, gmt = _wp(element, "post_date"), _wp(element, "post_date_gmt")
    published = ""
    if local and not local.startswith("0000"):
        try:
            published = local_with_offset(local, gmt)
        except ValueError:
            published = local  # reported as a bad date with the item
    modified = ""
    local_m, gmt_m = _wp(element, "post_modified"), _wp(element, "post_modified_gmt")
    if local_m and not local_m.startswith("0000"):
        try:
            modified = local_with_offset(local_m, gmt_m)
        except ValueError:
            modified = ""
    item_terms: list[Term] = []
    for category in xmlsafe.children(element, "category", ""):
        domain = category.get("domain", "category")
        if domain not in ("category", "post_tag"):
            continue
        nicename = category.get("nicename") or xmlsafe.text(category)
        term = terms.get(nicename) or Term(nicename, xmlsafe.text(category))
        item_terms.extend(_with_ancestors(term, terms) if domain == "category" else [term])
    creators = []
    for creator in xmlsafe.children(element, "creator", DC):
        login = xmlsafe.text(creator)
        if login:
            creators.append(people.get(login) or Agent(login, key=login))
    item = RawItem(
        file=path,
        position=position,
        ident=xmlsafe.child_text(element, "guid"),
        link=xmlsafe.child_text(element, "link", ""),
        slug_source=_wp(element, "post_name"),
        title=xmlsafe.child_text(element, "title", ""),
        html=xmlsafe.child_text(element, "encoded", CONTENT),
        summary=_excerpt(element),
        published=published,
        updated=modified,
        authors=creators,
        terms=item_terms,
        language=language,
        wordpress=True,
        kind="document" if post_type == "page" else "article",
    )
    yield from entities(item, publisher, options)


def _excerpt(element: Element) -> str:
    for sub in element:
        if xmlsafe.local(sub.tag) == "encoded" and "excerpt" in xmlsafe.namespace(sub.tag):
            return xmlsafe.text(sub)
    return ""
