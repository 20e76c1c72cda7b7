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
from .common import Agent, Publisher, RawItem, Term, entities, local_with_offset
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
    publisher = Publisher(options)
    language = ""
    for event, element, position in xmlsafe.stream(path, {"item"}, options.max_bytes):
        if event == "start":
            root = element
            continue
        if publisher.slug is None:
            channel = xmlsafe.child(root, "channel")
            if channel is None:
                raise ImportSourceError(path, 0, "channel", "a WordPress export needs a <channel>")
            language = xmlsafe.child_text(channel, "language")
            yield from publisher.site(_site(channel, language))
            people, terms = _people(channel), _terms(channel)
        if event != "item":
            continue
        reason = _unpublished(element, options)
        if reason:
            yield Skipped(path, _label(element, position), reason)
            continue
        item = _item(path, element, position, people, terms, language)
        yield from entities(item, publisher.slug, options)


def _site(channel: Element, language: str) -> Site:
    return Site(
        html.to_text(xmlsafe.child_text(channel, "title")),
        xmlsafe.child_text(channel, "base_blog_url", WP) or xmlsafe.child_text(channel, "link", ""),
        language,
        html.to_text(xmlsafe.child_text(channel, "description")),
    )


def _label(element: Element, position: int) -> str:
    """How a message names a post: its GUID, else its link, else its position."""
    return (
        xmlsafe.child_text(element, "guid") or xmlsafe.child_text(element, "link") or f"#{position}"
    )


STATUS = {"future": "scheduled", "trash": "trashed", "inherit": "revision"}  # else as written


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


def _item(path, element, position, people, terms, language) -> RawItem:
    published, modified = _dates(element)
    return RawItem(
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
        authors=_creators(element, people),
        terms=_item_terms(element, terms),
        language=language,
        wordpress=True,
        kind="document" if _wp(element, "post_type") == "page" else "article",
    )


def _dates(element: Element) -> tuple[str, str]:
    """(published, modified) with the site's offset. A post_date that is no date is kept as
    written, so the item is refused naming it (every article needs one); a post_modified
    that is no date is left out."""
    try:
        published = _site_time(element, "post_date")
    except ValueError:
        published = _wp(element, "post_date")
    try:
        modified = _site_time(element, "post_modified")
    except ValueError:
        modified = ""
    return published, modified


def _site_time(element: Element, name: str) -> str:
    """post_date or post_modified (site time, no offset) with the offset its `_gmt` twin
    implies; '' when unset (WordPress writes 0000-00-00 00:00:00)."""
    local = _wp(element, name)
    if not local or local.startswith("0000"):
        return ""
    return local_with_offset(local, _wp(element, f"{name}_gmt"))


def _item_terms(element: Element, terms: dict[str, Term]) -> list[Term]:
    """The post's categories, each with its ancestors (a post in a subcategory is about its
    parents too), and its tags; other taxonomies (formats, custom ones) are not topics."""
    found: list[Term] = []
    for category in xmlsafe.children(element, "category", ""):
        domain = category.get("domain", "category")
        if domain not in ("category", "post_tag"):
            continue
        nicename = category.get("nicename") or xmlsafe.text(category)
        term = terms.get(nicename) or Term(nicename, xmlsafe.text(category))
        found.extend(_with_ancestors(term, terms) if domain == "category" else [term])
    return found


def _creators(element: Element, people: dict[str, Agent]) -> list[Agent]:
    """The post's authors: dc:creator holds a login, the channel's wp:author its name."""
    logins = (xmlsafe.text(creator) for creator in xmlsafe.children(element, "creator", DC))
    return [people.get(login) or Agent(login, key=login) for login in logins if login]


def _excerpt(element: Element) -> str:
    for sub in element:
        if xmlsafe.local(sub.tag) == "encoded" and "excerpt" in xmlsafe.namespace(sub.tag):
            return xmlsafe.text(sub)
    return ""
