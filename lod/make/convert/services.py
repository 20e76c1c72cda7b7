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

FIELDS = ("label", "manifest", "ids", "types", "properties")


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
    ok = True
    for name in item:
        if name not in FIELDS:
            fault(i, name, "unknown field; allowed: " + ", ".join(FIELDS))
            ok = False
    found: dict[str, Any] = {}
    for name in ("label", "manifest", "ids"):
        raw = item.get(name)
        if not isinstance(raw, str) or not raw.strip():
            fault(i, name, "missing: a required field")
            ok = False
            continue
        try:
            if name == "manifest":
                found[name] = str(values.iri(raw, web_only=True))
            elif name == "ids":
                pattern = raw.strip()
                if pattern.count("{id}") != 1:
                    raise Invalid(f"`{pattern}` must hold `{{id}}` once")
                values.iri(pattern.replace("{id}", "x"))
                found[name] = pattern
            else:
                found[name] = values.text(raw)
        except Invalid as bad:
            fault(i, name, bad.message)
            ok = False
    for name in ("types", "properties"):
        raw = item.get(name, {})
        if not isinstance(raw, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in raw.items()
        ):
            fault(i, name, "must be a mapping of names to the service's ids")
            ok = False
            continue
        if name == "types":
            unknown = [k for k in raw if k not in KINDS]
            if unknown:
                fault(i, name, f"`{unknown[0]}` is not a kind; use one of " + ", ".join(KINDS))
                ok = False
                continue
        found[name] = tuple(sorted((k, v.strip()) for k, v in raw.items()))
    return LinkService(**found) if ok else None
