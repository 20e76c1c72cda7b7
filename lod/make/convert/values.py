"""Typed field values: each parser turns the text a publisher wrote into an RDF term, or
raises Invalid with a message (and a hint) that the converter pins to file, line and field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import langcodes
from rdflib import Literal, URIRef

from ...vocab import SLUG, XSD, BadIri, checked_iri

LANGUAGE_TAG = re.compile(r"[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{2,8})*")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")


class Invalid(ValueError):
    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint
        self.item: int | None = None  # which item of a list field, when known


def text(value: str) -> str:
    if not isinstance(value, str):
        raise Invalid("expected text")
    value = value.strip()
    if not value:
        raise Invalid("is empty")
    if "\x00" in value:
        raise Invalid("contains a NUL character")
    return value


def slug(value: str) -> str:
    """A record's id as written, or Invalid with the rule.

    >>> slug("un-headquarters")
    'un-headquarters'
    >>> slug("UN Headquarters")
    Traceback (most recent call last):
    lod.make.convert.values.Invalid: `UN Headquarters` is not a valid id
    """
    value = text(value)
    if not SLUG.fullmatch(value):
        raise Invalid(
            f"`{value}` is not a valid id",
            "use lower-case letters, digits and single hyphens, e.g. `un-headquarters`",
        )
    return value


def iri(value: str, web_only: bool = False) -> URIRef:
    """An absolute IRI; web_only asks for http(s) with a host (a page, an image)."""
    try:
        return URIRef(checked_iri(text(value), web_only))
    except BadIri as bad:
        raise Invalid(bad.message, bad.hint) from None


def date_or_datetime(value: str) -> Literal:
    """xsd:date or xsd:dateTime, as written; a date that does not exist is refused."""
    value = text(value)
    if DATE.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            raise Invalid(f"`{value}` is not a real date") from None
        return Literal(value, datatype=XSD.date)
    match = DATETIME.fullmatch(value)
    if match:
        day, minutes, seconds, zone = match.groups()
        lexical = f"{day}T{minutes}{seconds or ':00'}{zone or ''}"
        try:
            datetime.fromisoformat(lexical.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(f"`{value}` is not a real date and time") from None
        return Literal(lexical, datatype=XSD.dateTime)
    raise Invalid(
        f"`{value}` is not an ISO 8601 date", "write 2021-02-08, or 2021-02-08T10:00:00+01:00"
    )


def base(value: str) -> str:
    """A dataset's base IRI: http(s), ending in `/`, every record's IRI begins with it."""
    found = str(iri(value, web_only=True))
    if not found.endswith("/") or "?" in found or "#" in found:
        raise Invalid(f"`{found}` must end with `/` (and have no query or fragment)")
    return found


def language(value: str) -> str:
    """A BCP 47 tag whose subtags are in the IANA registry (langcodes), so a slip such as
    `fe` for `fr` is caught, not published.

    >>> language("fr-CA")
    'fr-CA'
    >>> language("fe")
    Traceback (most recent call last):
    lod.make.convert.values.Invalid: `fe` is not a BCP 47 language tag
    """
    value = text(value)
    if not LANGUAGE_TAG.fullmatch(value) or not langcodes.tag_is_valid(value):
        raise Invalid(f"`{value}` is not a BCP 47 language tag", "e.g. `en` or `fr-CA`")
    return value


def decimal(value: str, low: float, high: float) -> Literal:
    raw = text(value)
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise Invalid(f"`{raw}` is not a number") from None
    if not number.is_finite() or not low <= number <= high:
        raise Invalid(f"`{raw}` is outside {low:g} to {high:g}")
    return Literal(format(number.normalize(), "f"), datatype=XSD.decimal)
