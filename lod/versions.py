"""The language versions of a record's page: its page in each of the dataset's languages
(`?lang=fr`) and its translations (schema:workTranslation), as search engines read them
(hreflang alternates, on the page and in the sitemap) and as a reader follows them ("also
in: français, العربية").

A work and its translations are one cluster, the original its root. Every page of a cluster
names the same versions, so that search engines find them agreeing, each naming the others
and itself: in each language, the translation written in it, else the original's page in
that language; a translation in a language the dataset does not list, its own page; and
`x-default`, the original's page as negotiated. A record that is no work, or has no
translation, is a cluster of its own.

Made once per build from lists.json (each work's `language` and `translationOf`), never a
query per request, and kept in the build (versions.json) as only what differs from a
cluster of its own: the clusters of translations, and the works in a language the dataset
does not list. A page then needs no list of every record (a million articles' lists.json is
a gigabyte in each app process).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT = "x-default"
WORKS = ("article", "document")  # the kinds whose records have language versions


@dataclass(frozen=True)
class Version:
    """One version of a page: its hreflang, the record whose page it is, and the `?lang=`
    its URL carries (None: the page as negotiated)."""

    hreflang: str
    iri: str
    lang: str | None


class Versions:
    """The clusters of one build's records (see the module docstring)."""

    def __init__(self, languages: Sequence[str], kept: dict | None = None):
        self.languages = tuple(languages)
        kept = kept or {}
        self.root: dict[str, str] = kept.get("root", {})  # a translation -> its original
        # an original (or a work in another language) -> {tag: work}
        self.members: dict[str, dict[str, str]] = kept.get("members", {})

    @classmethod
    def of_lists(cls, lists: dict[str, list[dict]], languages: Sequence[str]) -> Versions:
        """The clusters of the records of lists.json."""
        return cls.of_works([e for kind in WORKS for e in lists.get(kind, [])], languages)

    @classmethod
    def of_works(cls, works: list[dict], languages: Sequence[str]) -> Versions:
        """The clusters of lists.json's entries of works (`works`, in its order: all of
        them, or only those in a cluster of several or in a language the dataset lacks,
        and the originals they translate, as lod.make.listings keeps them). A work alone
        in its cluster, in one of the dataset's languages, is left out: `of` and
        `translations` answer the same for it without."""
        self = cls(languages)
        first, listed = self.languages[0], set(self.languages)
        known = {e["iri"] for e in works}
        parent = {e["iri"]: e["translationOf"] for e in works if e.get("translationOf") in known}
        for iri in parent:
            root, seen = iri, {iri}
            while root in parent and parent[root] not in seen:  # a translation's translation
                root = parent[root]
                seen.add(root)
            self.root[iri] = root
        clustered = self.root.keys() | set(self.root.values())
        kept = [  # lists.json names a work's language when it is not the first
            (e["iri"], e.get("language", first))
            for e in works
            if e["iri"] in clustered or e.get("language", first) not in listed
        ]
        # originals first: where a translation shares its original's language, the original
        for iri, language in sorted(kept, key=lambda work: work[0] in self.root):
            self.members.setdefault(self.root.get(iri, iri), {}).setdefault(language, iri)
        return self

    def kept(self) -> dict:
        """What versions.json keeps: the clusters of several works, and those of a work in a
        language the dataset does not list (any other is a cluster of its own, whose
        versions need nothing kept)."""
        members = {
            root: works
            for root, works in self.members.items()
            if len(works) > 1 or not works.keys() <= set(self.languages)
        }
        return {"root": self.root, "members": members}

    def translations(self, iri: str) -> dict[str, str]:
        """The other works of the cluster of `iri`, by language: {tag: work}."""
        root = self.root.get(iri, iri)
        return {tag: work for tag, work in self.members.get(root, {}).items() if work != iri}

    def of(self, iri: str) -> list[Version]:
        """Every version of the page of `iri`, the same for each page of its cluster; none
        when there is one language and no translation."""
        root = self.root.get(iri, iri)
        members = self.members.get(root, {})
        if len(self.languages) < 2 and len(members) < 2:
            return []
        found = [Version(tag, members.get(tag, root), tag) for tag in self.languages]
        found += [Version(t, w, None) for t, w in members.items() if t not in self.languages]
        return [*found, Version(DEFAULT, root, None)]
