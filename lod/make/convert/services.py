"""`linkServices` in data/dataset.yaml: the reconciliation services the dataset links to.

    linkServices:
      - label: Wikidata
        manifest: https://wikidata.reconci.link/en/api
        ids: http://www.wikidata.org/entity/{id}
        types: {organisation: Q43229, person: Q5}          # optional: kind -> service type
        properties: {url: P856, foundingDate: P571}         # optional: field -> service property

`ids` is the IRI pattern of the service's entity ids: the `sameAs` IRI of a match is the
pattern with `{id}` replaced, and the part before `{id}` names the target graph (its VoID
link set is titled with the label).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ...vocab import KINDS
from . import values
from .fields import Invalid


@dataclass(frozen=True)
class LinkService:
    """One reconciliation service named in dataset.yaml."""

    label: str
    manifest: str
    ids: str  # the IRI pattern, with one `{id}`
    types: tuple[tuple[str, str], ...] = ()  # (kind, the service's type id)
    properties: tuple[tuple[str, str], ...] = ()  # (our field, the service's property id)

    @property
    def space(self) -> str:
        """What every sameAs IRI to this service starts with."""
        return self.ids.split("{id}", 1)[0]

    @property
    def host(self) -> str:
        return urlsplit(self.space).netloc

    def iri(self, entity_id: str) -> str:
        """The sameAs IRI of one of the service's ids (an id that already is an IRI of
        the pattern is kept)."""
        if entity_id.startswith(("http://", "https://")):
            return entity_id
        return self.ids.replace("{id}", entity_id)

    def type_of(self, kind: str) -> str | None:
        return dict(self.types).get(kind)


def parse(raw: Any, fault) -> tuple[LinkService, ...]:
    """The list under `linkServices`; `fault(index, field, message)` for each problem."""
    if not isinstance(raw, list):
        fault(None, "", "must be a list of {label, manifest, ids}")
        return ()
    found = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            fault(i, "", "each service is a mapping {label, manifest, ids}")
            continue
        service = _service(i, item, fault)
        if service is not None:
            found.append(service)
    labels = [s.label for s in found]
    for i, label in enumerate(labels):
        if label in labels[:i]:
            fault(i, "label", f"a second service labelled `{label}`")
    return tuple(found)


def _service(i: int, item: dict, fault) -> LinkService | None:
    """One service, or None when a field is unknown or wrong (each fault reported)."""
    ok = True
    for name in item:
        if name not in FIELDS:
            fault(i, name, "unknown field; allowed: " + ", ".join(FIELDS))
            ok = False
    found: dict[str, Any] = {}
    for name, read in _READERS.items():
        try:
            # A missing field reads as an empty mapping: no mapping is a required string
            # (so `missing`), and no types or properties is none.
            found[name] = read(item.get(name, {}))
        except Invalid as bad:
            fault(i, name, bad.message)
            ok = False
    return LinkService(**found) if ok else None


def _required(raw: Any) -> str:
    """A required field's value: a string that is not blank."""
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid("missing: a required field")
    return raw


def _label(raw: Any) -> str:
    return values.text(_required(raw))


def _manifest(raw: Any) -> str:
    """The manifest's URL: fetched, so on the web (http or https)."""
    return str(values.iri(_required(raw), web_only=True))


def _ids(raw: Any) -> str:
    """The IRI pattern: `{id}` once, so that an id makes one IRI and the part before it
    names the target graph; an IRI once an id is put in."""
    pattern = _required(raw).strip()
    if pattern.count("{id}") != 1:
        raise Invalid(f"`{pattern}` must hold `{{id}}` once")
    values.iri(pattern.replace("{id}", "x"))
    return pattern


def _mapping(raw: Any) -> tuple[tuple[str, str], ...]:
    """A mapping of our names to the service's ids (none blank), as sorted pairs."""
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in raw.items()
    ):
        raise Invalid("must be a mapping of names to the service's ids")
    return tuple(sorted((k, v.strip()) for k, v in raw.items()))


def _types(raw: Any) -> tuple[tuple[str, str], ...]:
    """Kinds to the service's types: a key that is no kind is a mistake, not ignored."""
    found = _mapping(raw)
    unknown = [k for k in raw if k not in KINDS]
    if unknown:
        raise Invalid(f"`{unknown[0]}` is not a kind; use one of " + ", ".join(KINDS))
    return found


# Each field's reader, in the order their faults are reported.
_READERS = {
    "label": _label,
    "manifest": _manifest,
    "ids": _ids,
    "types": _types,
    "properties": _mapping,
}
FIELDS = tuple(_READERS)
