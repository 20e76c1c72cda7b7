"""The reader's language: which of the dataset's languages a page a person reads is in.

An explicit choice in the URL (`?lang=fr`) wins, and the page's links keep it, so a reader
who picked a language stays in it; the answer is the same whatever the browser asks, and a
shared cache keys on the URL. Without one, Accept-Language is negotiated over the dataset's
languages (lod.languages.negotiate: `fr-CH` reads `fr`, a language not offered reads the
first), and the answer says `Vary: Accept-Language` when there was a choice to make. A
`?lang=` the dataset does not offer is 404, naming those it does: each language of a page
has one URL, so no cache or crawler keeps copies under made-up names.

Only pages a person reads negotiate (a resource's page, the home page, the lists): the RDF
formats carry every language, and read neither the header nor the parameter. The words of
the interface are English whatever the page's language (docs/reader-language.md):
`interface` marks them so, so that a screen reader speaks them as English.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlencode

from flask import Response, g, request
from markupsafe import Markup, escape

from ..languages import autonym, best, chosen, direction, fallback, negotiate
from .current import served
from .errors import HttpError

INTERFACE = "en"  # the language of the interface's fixed words (not translated)
PARAMETER = "lang"


class Text(NamedTuple):
    """A text to show and its language tag ("" when it has none)."""

    text: str
    lang: str


@dataclass(frozen=True)
class Reader:
    """A page's language, the dataset's languages, and whether the URL chose it."""

    language: str
    offered: tuple[str, ...]
    chosen: bool = False

    @property
    def order(self) -> tuple[str, ...]:
        """Where to look for a text: this language, then the dataset's in their order."""
        return fallback(self.language, self.offered)

    @property
    def direction(self) -> str:
        return direction(self.language)

    @property
    def variant(self) -> str:
        """What names this page's language in a cache key or an ETag: a chosen language's
        page (its links keep `?lang=`) differs from the negotiated one."""
        return f"{PARAMETER}={self.language}" if self.chosen else self.language

    @property
    def varies(self) -> bool:
        """Whether the answer depends on Accept-Language."""
        return not self.chosen and len(self.offered) > 1

    @property
    def query(self) -> dict[str, str]:
        """The query parameter a link keeps (none when the language was negotiated)."""
        return {PARAMETER: self.language} if self.chosen else {}

    def url_query(self, **more) -> str:
        """`?lang=fr&offset=100`: a link's query string, with the choice kept."""
        pairs = {**self.query, **{k: v for k, v in more.items() if v is not None}}
        return "?" + urlencode(pairs) if pairs else ""

    def pick(self, texts: Iterable[tuple[str, str]]) -> Text | None:
        """The text to show of (tag, text) pairs, by lod.languages.rank; None for none."""
        found = best(texts, self.order)
        return None if found is None else Text(found[1], found[0] or "")

    def about(self, manifest: dict, field: str = "title") -> Text:
        """The dataset's `title` or `description` in this language, falling back in order
        (a build made before `titles` and `descriptions` has the first language's only)."""
        texts = manifest.get(f"{field}s") or {manifest["language"]: manifest[field]}
        return self.pick(texts.items())

    def attributes(self, tag: str | None, always: bool = False) -> Markup:
        """` lang="fr"` for a text in `tag` in a page in another language (or `always`: a
        value among values in several), with ` dir` when it is written the other way from
        the page. A text with no language (a date, a number, an IRI) in a page written
        right to left takes its direction from its own letters (`dir="auto"`): else
        `23 February 2021` reads `February 2021 23`."""
        if not tag:
            return Markup(' dir="auto"') if self.direction == "rtl" else Markup("")
        if not always and tag.lower() == self.language.lower():
            return Markup("")
        written = direction(tag)
        turn = f' dir="{written}"' if written != self.direction else ""
        return Markup(f' lang="{escape(tag)}"{turn}')

    @property
    def interface(self) -> Markup:
        """The attribute of the interface's own words (English) on this page: their
        language only, laid out in the page's direction like the rest of its frame."""
        same = self.language.split("-")[0].lower() == INTERFACE
        return Markup("") if same else Markup(f' lang="{INTERFACE}"')


def labels_of(entry: dict, first: str) -> dict[str, str]:
    """A lists.json entry's label in each language, {tag: text} (lists.json gives `labels`
    only for several; one label is in `lang`, else in the dataset's `first` language; an
    entry with no label has none).

    >>> labels_of({"label": "Nueva York", "lang": "es"}, "en")
    {'es': 'Nueva York'}
    >>> labels_of({"label": "New York"}, "en")
    {'en': 'New York'}
    """
    if "labels" in entry:
        return entry["labels"]
    return {entry.get("lang", first): entry["label"]} if entry["label"] else {}


def menu_name(tag: str) -> str:
    """The language's own name as a menu shows it: the first letter a capital where the
    script has them (`Français`, `Русский`; `العربية` as it is), as CLDR's context transforms
    write a language's name in a list or menu (Babel does not ship those)."""
    name = autonym(tag)
    return name[:1].upper() + name[1:]


def offered(manifest: dict) -> tuple[str, ...]:
    """A build's languages in order (a build made before `languages` has `language`)."""
    return tuple(manifest.get("languages") or [manifest["language"]])


def reader() -> Reader:
    """This request's page language (once per request): `?lang=`, else Accept-Language;
    404 for a `?lang=` not offered."""
    if "reader" not in g:
        languages = offered(served().build.manifest)
        asked = request.args.get(PARAMETER)
        if asked:
            picked = chosen(asked, languages)
            if picked is None:
                raise HttpError(
                    404,
                    f"No language `{asked[:40]}` here; offered: " + ", ".join(languages),
                )
            g.reader = Reader(picked, languages, chosen=True)
        else:
            accepted = negotiate(request.headers.get("Accept-Language"), languages)
            g.reader = Reader(accepted, languages)
    return g.reader


def page_reader() -> Reader:
    """The reader of the page being rendered: its own when it negotiated one, else the
    dataset's first language (a SPARQL or search page: not negotiated)."""
    if "reader" in g:
        return g.reader
    languages = offered(served().build.manifest)
    return Reader(languages[0], languages)


def said(response: Response, here: Reader, *varies: str) -> Response:
    """The page's Content-Language, and Vary naming `varies` (Accept, for a negotiated
    format) and Accept-Language when the language was negotiated among several."""
    response.headers["Content-Language"] = here.language
    vary = [*varies, *(["Accept-Language"] if here.varies else [])]
    if vary:
        response.headers["Vary"] = ", ".join(vary)
    return response
