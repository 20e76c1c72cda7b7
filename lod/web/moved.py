"""Published IRIs that are no longer records (lod.make.permanence wrote what became of
them into the build folder): 301 to where one went, 410 Gone for one removed."""

from __future__ import annotations

import orjson
from flask import Response, redirect, request, url_for

from ..layout import GONE, REDIRECTS
from ..vocab import KINDS, SLUG, id_prefix
from .current import served
from .errors import HttpError


def _read(name: str) -> dict:
    current = served()

    def load() -> dict:
        try:
            return orjson.loads((current.build.path / name).read_bytes())
        except (OSError, ValueError):
            return {}  # a build made before IRIs were kept has neither

    return current.memo(f"permanence-{name}", load)


def moved_to(iri: str) -> str | None:
    """The IRI of the record `iri` was renamed to (its `formerIds`), or None."""
    return _read(REDIRECTS).get(iri)


def check(kind: str, slug: str, endpoint: str, **values: str) -> None:
    """Before a resource is looked up: a 301 (raised as an answer) when `kind/slug` moved,
    a 410 when it is gone. `endpoint` and `values` make the new URL (`slug` replaced)."""
    if kind not in KINDS or not SLUG.fullmatch(slug):
        return
    iri = f"{id_prefix(served().base)}{kind}/{slug}"
    values = values or {"slug": slug}
    target = moved_to(iri)
    if target is not None:
        new_slug = target.rsplit("/", 1)[-1]
        values = {k: v.replace(slug, new_slug, 1) for k, v in values.items()}
        location = url_for(endpoint, kind=kind, **values)
        if request.query_string:
            location += "?" + request.query_string.decode("latin-1")
        raise Moved(redirect(location, 301))
    gone = _read(GONE).get(iri)
    if gone is not None:
        raise HttpError(
            410,
            f"The {kind} `{slug}` was removed on {gone.get('date', '?')}: "
            f"{gone.get('reason', 'no reason given')}",
            title="Gone",
        )


class Moved(Exception):
    """A resource moved: its answer is the redirect it carries."""

    def __init__(self, response: Response):
        super().__init__(response.location)
        self.response = response


def register(app) -> None:
    app.register_error_handler(Moved, lambda moved: moved.response)


def renamed(entity_id: str) -> str:
    """A reconciliation id (`kind/slug`, as stored in someone's OpenRefine project) of a
    renamed record as its record's id now; any other id as it is."""
    base = served().base
    target = moved_to(f"{id_prefix(base)}{entity_id}")
    return target.removeprefix(id_prefix(base)) if target else entity_id
