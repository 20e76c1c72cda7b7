"""The languages and translations of a multilingual WordPress site (Polylang, WPML).

What each plugin puts in a WordPress export (lod.ingest.wordpress reads the XML and hands
the values here):

- **Polylang** keeps both in taxonomies, which the exporter writes (of "All content"
  only). Each language is a term of `language`: its slug the language code (`en`), its
  description a PHP-serialized array with the `locale` (`en_GB`); a post names its
  language as `<category domain="language" nicename="en">`. Posts that translate each
  other share a term of `post_translations` (named `pll_…`) whose description is a
  serialized `{language slug: post id}`; a post names it as `<category
  domain="post_translations" nicename="pll_…">`.
- **WPML** keeps them in a table of its own, which the exporter does not write: a plain
  export of a WPML site says no post's language. Its "Export and Import" add-on writes
  them as custom fields of each post: `_wpml_import_language_code` (`en`, `pt-br`,
  `zh-hans`), `_wpml_import_translation_group` (one value for an original and its
  translations) and `_wpml_import_source_language_code` (empty on the original).

Serialized PHP is read with phpserialize (objects refused, so nothing of the file is ever
instantiated) and only its arrays of text and numbers are used.

A group of translations becomes an original and its translations, each its own record:
the original is the group's post in the dataset's first language, else the one WPML names
as the source, else the one with the lowest id; the others name it (`translationOf`). Only
posts that are imported count (a group whose post in the first language is a draft has
another original), a post whose language is unknown or is the original's is no
translation, and a translation whose slug is its original's (WPML and Polylang Pro let
translations share one) gets its language added (`hello-ar`), so the records never collide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import phpserialize

from . import languages, slugs

POLYLANG_LANGUAGE = "language"  # Polylang's taxonomy of languages
POLYLANG_GROUP = "post_translations"  # and of translation groups
POLYLANG_TERM_GROUP = "term_translations"  # categories' and tags' translation groups
WPML_LANGUAGE = "_wpml_import_language_code"
WPML_GROUP = "_wpml_import_translation_group"
WPML_SOURCE = "_wpml_import_source_language_code"
MAX_SERIALIZED = 64 * 1024  # a group of 40 languages is about 1 kB


def unserialized(text: str) -> dict:
    """A PHP-serialized array as a dict; {} for anything else (an object, damaged or
    oversized text)."""
    if not text or len(text) > MAX_SERIALIZED or not text.lstrip().startswith("a:"):
        return {}
    try:
        found = phpserialize.loads(text.strip().encode("utf-8"), decode_strings=True)
    except (ValueError, RecursionError, UnicodeDecodeError):
        return {}
    return found if isinstance(found, dict) else {}


def group_map(description: str) -> dict[str, int]:
    """A Polylang translation group's description: {language slug: post id}, its other
    keys (Polylang Pro keeps `sync` there) and ids that are not positive numbers left
    out."""
    found = {}
    for key, value in unserialized(description).items():
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(key, str) and isinstance(value, int) and value > 0 and key != "sync":
            found[key] = value
    return found


def language_tag(slug: str, description: str = "") -> str:
    """The tag of a Polylang language: its code (`en`) when that is a tag of the locale's
    language, else its locale (`en_GB` as `en-GB`); a code such as `cz`, which is no
    language, or `br` on a site whose locale is pt_BR (`br` is Breton), gives the locale."""
    locale = languages.tag(unserialized(description).get("locale"))
    code = languages.tag(slug)
    if code and (not locale or languages.same(code.split("-")[0], locale.split("-")[0])):
        return code
    return locale or code


@dataclass
class Post:
    """An imported post as the grouping needs it."""

    ident: int
    kind: str  # article or document
    slug: str  # its record's slug
    language: str = ""  # a tag, '' unknown
    group: str = ""  # its translation group, '' none
    source: bool = False  # WPML names it the original


@dataclass
class Placement:
    """What a post's record says of its language: its tag; for a post of a translation
    group, its slug (the one its translations name), and for a translation the slug of
    its original."""

    language: str
    slug: str = ""
    translation_of: str = ""


@dataclass
class Translations:
    """The export's languages and groups, gathered over a first pass, then settled."""

    language_tags: dict[str, str] = field(default_factory=dict)  # Polylang slug -> tag
    group_maps: dict[str, dict[str, int]] = field(default_factory=dict)  # group -> {slug: id}
    term_groups: list[dict[str, int]] = field(default_factory=list)  # {slug: term id}
    posts: dict[int, Post] = field(default_factory=dict)
    raw_languages: dict[int, str] = field(default_factory=dict)  # post id -> slug or code
    placements: dict[int, Placement] = field(default_factory=dict)
    repeated: set[int] = field(default_factory=set)  # ids two items have: none is placed

    def language_term(self, slug: str, description: str) -> None:
        """A term of Polylang's `language` taxonomy."""
        tag = language_tag(slug, description)
        if slug and tag:
            self.language_tags[slug] = tag

    def group_term(self, slug: str, description: str) -> None:
        """A term of Polylang's `post_translations` taxonomy."""
        if slug:
            self.group_maps[f"polylang:{slug}"] = group_map(description)

    def term_group(self, description: str) -> None:
        """A term of Polylang's `term_translations` taxonomy: a category or tag and its
        translations, by language slug."""
        members = group_map(description)
        if len(members) > 1:
            self.term_groups.append(members)

    def term_languages(self) -> list[dict[str, int]]:
        """The categories' and tags' translation groups, each {language tag: term id}."""
        found = []
        for members in self.term_groups:
            tagged = {self.language_tags.get(s) or languages.tag(s): i for s, i in members.items()}
            found.append({tag: ident for tag, ident in tagged.items() if tag})
        return found

    def post(
        self, post: Post, *, polylang: tuple[str, str] = ("", ""), wpml: tuple = ("", "", "")
    ) -> None:
        """An imported post, with what it says of its language: Polylang's (language slug,
        group slug), WPML's (language code, group, source language code)."""
        (pll_language, pll_group), (wpml_language, wpml_group, wpml_source) = polylang, wpml
        if post.ident in self.posts or post.ident in self.repeated:
            self.posts.pop(post.ident, None)
            self.repeated.add(post.ident)  # (hand-edited exports have such)
            return
        if wpml_language or wpml_group:
            self.raw_languages[post.ident] = wpml_language
            post.group = f"wpml:{wpml_group}" if wpml_group else ""
            post.source = bool(wpml_group) and not wpml_source
        else:
            self.raw_languages[post.ident] = pll_language
            post.group = f"polylang:{pll_group}" if pll_group else ""
        self.posts[post.ident] = post

    def settle(self, first_language: str) -> None:
        """Each post's language, and each group's original and translations, the original
        chosen by the dataset's first language."""
        for post in self.posts.values():
            raw = self.raw_languages.get(post.ident, "")
            post.language = self.language_tags.get(raw) or languages.tag(raw)
        self._grouped_by_maps()
        groups: dict[str, list[Post]] = {}
        for post in sorted(self.posts.values(), key=lambda p: p.ident):
            if post.group:
                groups.setdefault(post.group, []).append(post)
            self.placements[post.ident] = Placement(post.language)
        for members in groups.values():
            self._place(members, first_language)

    def _grouped_by_maps(self) -> None:
        """Polylang's group descriptions name posts too: a post a description names and
        whose item names no group (or no language) gets them from the description."""
        for group, members in self.group_maps.items():
            for language_slug, ident in members.items():
                post = self.posts.get(ident)
                if post is None:
                    continue
                post.group = post.group or group
                if post.group == group and not post.language:
                    post.language = self.language_tags.get(language_slug) or languages.tag(
                        language_slug
                    )

    def _place(self, members: list[Post], first_language: str) -> None:
        original = _original(members, first_language)
        self.placements[original.ident] = Placement(original.language, original.slug)
        taken = {original.slug}
        for post in members:
            if post is original or post.kind != original.kind:
                continue
            if not post.language or post.language == original.language:
                continue  # not a translation the build could accept: its own record
            slug = post.slug
            if slug in taken:
                slug = slugs.slug_for(f"{slug}-{post.language}", fallback=post.kind)
            taken.add(slug)
            self.placements[post.ident] = Placement(post.language, slug, original.slug)

    def in_own_terms(self, tag: str) -> str:
        """The site's language as its posts write it: a site in en-US whose posts say `en`
        writes its other posts (those the plugin gives no language) in `en`."""
        spoken = (post.language for post in sorted(self.posts.values(), key=lambda p: p.ident))
        return next((found for found in spoken if languages.same(found, tag)), tag)

    def of(self, ident: int) -> Placement | None:
        return self.placements.get(ident)


def _original(members: list[Post], first_language: str) -> Post:
    """The group's post in the first language, else WPML's source, else the first
    (members come by id)."""
    for post in members:
        if languages.same(post.language, first_language):
            return post
    return next((post for post in members if post.source), members[0])
