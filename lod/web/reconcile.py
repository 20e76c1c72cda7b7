"""The W3C Entity Reconciliation service at /reconcile: what OpenRefine speaks (API 0.2),
plus the routes of the 1.0 draft where they differ.

    GET  /reconcile                      the manifest (JSONP with `callback=`)
    GET|POST /reconcile  queries=…       a 0.2 batch {"q0": {"query": …}} -> {"q0": {"result": …}}
    POST /reconcile/match                a 1.0-draft batch {"queries": [{"conditions": …}]}
                                         -> {"results": [{"candidates": …}]} (JSON body, or
                                         `queries=` as a form field or in the query string);
                                         /reconcile/reconcile is the same route, as the
                                         draft's text names it
    GET  /reconcile/suggest/{entity,type,property}?prefix=…&cursor=…
    GET  /reconcile/preview?id=kind/slug  an HTML card
    GET|POST /reconcile  extend=…        0.2 data extension {"ids", "properties"} ->
                                         {"meta", "rows": {id: {property: [values]}}}
    POST /reconcile/extend               1.0-draft data extension -> {"meta", "rows": [...]}
    GET  /reconcile/extend/propose?type=…  the properties to offer for a type (both versions)

Entity ids are `kind/slug`, so `{base}doc/{id}` is the record's page. Matching itself is
lod.link.reconcile.NameIndex, read once per build from its reconcile.json. A malformed batch
is a 400 in the app's one error shape, and nothing of it is answered.

Names are matched in every language. Answers (candidates, suggestions, previews, extended
values) are in the language asked for, falling back in the dataset's order: `lang=` in the
query string or form (so that a service URL such as /reconcile?lang=fr, which OpenRefine
keeps, answers in French; the manifest it gets there carries it to suggest and preview),
else Accept-Language (the 1.0 draft), else the dataset's first language, which the
manifest's `lang` names. Such answers say the language chosen (Content-Language) and vary
by Accept-Language; 1.0-draft answers give each candidate's and text's own `lang` and `dir`.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for
from markupsafe import Markup

from ..languages import chosen, direction, negotiate
from ..layout import EXTEND_VALUES, RECONCILE_INDEX
from ..link.extend import MAX_IDS, MAX_PROPERTIES, Extension
from ..link.reconcile import BadQuery, Candidate, Condition, NameIndex
from ..vocab import KINDS, doc_prefix, id_prefix
from .current import served
from .errors import HttpError
from .moved import renamed
from .resources import conditional

blueprint = Blueprint("reconcile", __name__, url_prefix="/reconcile")

BATCH_SIZE = 50  # what the manifest advises
MAX_BATCH = 500  # past it, 413
MAX_CURSOR = 100_000
PREVIEW_SIZE = {"width": 400, "height": 180}
CALLBACK = re.compile(r"[A-Za-z_$][\w$.]{0,127}", re.ASCII)
QUERY_KEYS_02 = {"query", "type", "limit", "properties", "type_strict"}
QUERY_KEYS_10 = {"type", "limit", "lang", "dir", "conditions"}
JSON = "application/json"
JAVASCRIPT = "application/javascript"


@blueprint.route("", methods=["GET", "POST"])
def service():
    """The manifest, or the answer to a 0.2 query batch (`queries=`, GET or POST form)."""
    raw = request.values.get("queries")
    if raw is None and "extend" in request.values:
        query = _extend_query(_json(request.values["extend"], "extend"))
        return _reply(_extend_02(query), _language())
    if raw is None:
        if request.method == "POST":
            raise HttpError(
                400,
                "POST a query batch as the form field `queries` (API 0.2), or a JSON body "
                '{"queries": […]} to /reconcile/match (1.0 draft); data extension as '
                '`extend={"ids": […], "properties": [{"id": …}]}`',
            )
        return _reply(_manifest())
    batch = _json(raw, "queries")
    if not isinstance(batch, dict):
        raise HttpError(400, '`queries` must be a JSON object: {"q0": {"query": "…"}, …}')
    _limit_batch(len(batch))
    parsed = {key: _query_02(key, query) for key, query in batch.items()}
    index, language = _index(), _language()
    return _reply(
        {
            key: {"result": [_result(c) for c in _match(index, query, language)]}
            for key, query in parsed.items()
        },
        language,
    )


@blueprint.route("/match", methods=["GET", "POST"])
@blueprint.route("/reconcile", methods=["GET", "POST"])
def match():
    """A 1.0-draft batch: {"queries": [{"conditions": [...], "type": …, "limit": …}]}."""
    if request.is_json:
        body = _json(request.get_data(), "the body")
    elif "queries" in request.values:
        body = _json(request.values["queries"], "queries")
    else:
        raise HttpError(
            400,
            'POST a JSON body {"queries": [{"conditions": [{"matchType": "name", '
            '"propertyValue": "…"}]}]}',
        )
    if not isinstance(body, dict) or not isinstance(body.get("queries"), list):
        raise HttpError(400, 'The batch must be a JSON object {"queries": […]}.')
    queries = body["queries"]
    _limit_batch(len(queries))
    parsed = [_query_10(i, query) for i, query in enumerate(queries)]
    index, language = _index(), _language()
    return _reply(
        {
            "results": [
                {"candidates": [_result(c, True) for c in _match(index, query, language)]}
                for query in parsed
            ]
        },
        language,
    )


@blueprint.route("/extend", methods=["GET", "POST"])
def extend():
    """1.0-draft data extension: a JSON body {"ids": […], "properties": [{"id": …}]} (or
    `extend=` as a form field or query parameter) -> {"meta": […], "rows": [{"id",
    "properties": [{"id", "values"}]}]}."""
    if request.is_json:
        body = _json(request.get_data(), "the body")
    elif "extend" in request.values:
        body = _json(request.values["extend"], "extend")
    else:
        raise HttpError(
            400, 'POST a JSON body {"ids": ["kind/slug"], "properties": [{"id": "name"}]}'
        )
    ids, pids = _extend_query(body)
    extension, language = _extension(), _language()
    rows = [
        {
            "id": i,
            "properties": [
                {"id": p, "values": extension.values(i, p, language, tagged=True)} for p in pids
            ],
        }
        for i in ids
    ]
    return _reply({"meta": extension.meta(pids, ids), "rows": rows}, language)


@blueprint.get("/extend/propose")
def propose():
    """The properties to offer for a type (both versions): {"type", "properties", "limit"}."""
    type_id = request.args.get("type", "").strip()
    limit = _whole(request.args.get("limit", "20"), "limit")
    if not 1 <= limit <= 100:
        raise HttpError(400, "`limit` must be 1 to 100")
    try:
        found = _extension().propose(type_id or None, limit)
    except BadQuery as bad:
        raise HttpError(400, str(bad)) from None
    answer = {"properties": found, "limit": limit}
    if type_id:
        answer["type"] = type_id
    return _reply(answer)


@blueprint.get("/suggest/entity")
def suggest_entity():
    index, language = _index(), _language()
    prefix, limit, cursor = _suggest_args()
    type_id = request.args.get("type") or None
    try:
        found = index.suggest(prefix, type_id, limit, cursor, language)
    except BadQuery as bad:
        raise HttpError(400, str(bad)) from None
    return _reply({"result": [_suggestion(c) for c in found]}, language)


@blueprint.get("/suggest/type")
def suggest_type():
    prefix, limit, cursor = _suggest_args()
    return _reply({"result": _index().suggest_types(prefix, limit, cursor)})


@blueprint.get("/suggest/property")
def suggest_property():
    """The properties to match by (sameAs …), then those data extension offers."""
    prefix, limit, cursor = _suggest_args()
    index = _index()
    found = index.suggest_properties(prefix, MAX_CURSOR, 0)
    found += Extension(index).suggest(prefix, {p["id"] for p in found})
    return _reply({"result": found[cursor : cursor + limit]})


@blueprint.get("/preview")
def preview():
    entity_id = request.args.get("id", "").strip()
    if not entity_id:
        raise HttpError(400, "Give the entity to preview: /reconcile/preview?id=kind/slug")
    index, language = _index(), _language()
    entity_id = renamed(entity_id)
    entry, candidate = index.entry(entity_id), index.candidate(entity_id, language)
    if entry is None or candidate is None:
        raise HttpError(404, f"No entity `{entity_id[:80]}` in this dataset.")
    kind, slug = candidate.id.split("/", 1)
    body = render_template(
        "preview.html",
        candidate=candidate,
        language=language,
        direction=direction,
        texts=_lang_attributes(candidate.lang),
        date=entry.get("date"),
        types=candidate.type_list(),
        page=url_for("resources.document", kind=kind, name=slug, _external=True),
        iri=f"{id_prefix(served().base)}{candidate.id}",
        size=PREVIEW_SIZE,
    )
    response = _in_language(Response(body, mimetype="text/html"), language)
    return conditional(response, _variant(language))


@blueprint.after_request
def _preflight(response: Response) -> Response:
    """CORS for every route (the app adds Allow-Origin: *); preflights get the methods
    and headers a browser client may use, so a JSON POST from any page is allowed."""
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = (
            "Content-Type, Accept, Accept-Language, Cache-Control"
        )
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


# the manifest


def _manifest() -> dict:
    """The manifest. Asked with `lang=` (a service URL that chooses a language), its
    suggest and preview URLs keep it: clients add their own parameters to those."""
    current = served()
    manifest = current.build.manifest
    endpoint = url_for("reconcile.service", _external=True)
    asked = chosen(request.args.get("lang"), manifest["languages"])
    keep = f"lang={asked}" if asked else ""
    suggest = {"service_url": endpoint}
    return {
        "versions": ["0.2", "1.0-draft"],
        "name": manifest["title"],
        "identifierSpace": id_prefix(current.base),
        "schemaSpace": "https://schema.org/",
        "documentation": url_for("resources.home", _external=True),
        "view": {"url": f"{doc_prefix(current.base)}{{{{id}}}}"},
        "preview": {
            "url": f"{endpoint}/preview?id={{{{id}}}}" + (f"&{keep}" if keep else ""),
            **PREVIEW_SIZE,
        },
        "suggest": {
            what: {**suggest, "service_path": f"/suggest/{what}" + (f"?{keep}" if keep else "")}
            for what in ("entity", "type", "property")
        },
        "extend": {  # 0.2's service object (OpenRefine reads it) and the 1.0 draft's flag
            "propose_properties": {**suggest, "service_path": "/extend/propose"},
            "property_settings": [],
            "proposeProperties": True,
            "propertySettings": [],
        },
        "defaultTypes": [{"id": kind, "name": kind.capitalize()} for kind in KINDS],
        "batchSize": BATCH_SIZE,
        "standardizedScore": True,
        "lang": manifest["language"],
        "dir": direction(manifest["language"]),
    }


# parsing the two batch formats into NameIndex.match arguments


def _object_with(query: Any, allowed: set[str], where: str, example: str) -> None:
    """400 unless `query` is an object whose fields are all `allowed`."""
    if not isinstance(query, dict):
        raise HttpError(400, f"{where} must be an object {example}")
    unknown = set(query) - allowed
    if unknown:
        raise HttpError(
            400,
            f"{where}: unknown field `{sorted(unknown)[0][:40]}`; allowed: "
            + ", ".join(sorted(allowed)),
        )


def _query_02(key: str, query: Any) -> dict:
    where = f"query `{key[:40]}`"
    _object_with(query, QUERY_KEYS_02, where, '{"query": "…"}')
    text = query.get("query")
    if text is not None and not isinstance(text, str):
        raise HttpError(400, f"{where}: `query` must be a string")
    type_ids = _types(query.get("type"), where)
    strict = query.get("type_strict", "any")
    if strict not in ("any", "all", "should"):
        raise HttpError(400, f"{where}: `type_strict` must be any, all or should")
    properties = query.get("properties", [])
    if not isinstance(properties, list):
        raise HttpError(400, f'{where}: `properties` must be a list of {{"pid": …, "v": …}}')
    conditions = []
    for prop in properties:
        if not isinstance(prop, dict) or not {"pid", "v"} <= set(prop):
            raise HttpError(400, f'{where}: each property is {{"pid": "…", "v": …}}')
        if not isinstance(prop["pid"], str):
            raise HttpError(400, f"{where}: a property's `pid` must be a string")
        conditions.append(Condition(prop["pid"], _values(prop["v"], where)))
    if text is None and not conditions:
        raise HttpError(400, f"{where} needs a `query` or at least one property")
    return {
        "query": text,
        "type": type_ids,
        "properties": conditions,
        "limit": _limit(query.get("limit"), where),
        "type_strict": strict,
    }


def _query_10(number: int, query: Any) -> dict:
    where = f"query {number}"
    _object_with(query, QUERY_KEYS_10, where, '{"conditions": […]}')
    type_id = query.get("type")
    if type_id is not None and not isinstance(type_id, str):
        raise HttpError(400, f"{where}: `type` must be one type id (a string)")
    conditions = query.get("conditions")
    if not isinstance(conditions, list) or not conditions:
        raise HttpError(400, f"{where}: `conditions` must be a non-empty list")
    names, properties = [], []
    for condition in conditions:
        if not isinstance(condition, dict) or "propertyValue" not in condition:
            raise HttpError(400, f'{where}: each condition has "matchType" and "propertyValue"')
        kind = condition.get("matchType")
        values = _values(condition["propertyValue"], where)
        required = condition.get("required", False)
        quantifier = condition.get("matchQuantifier", "any")
        if not isinstance(required, bool):
            raise HttpError(400, f"{where}: `required` must be true or false")
        if quantifier not in ("any", "all", "none"):
            raise HttpError(400, f"{where}: `matchQuantifier` must be any, all or none")
        if kind == "name":
            names.extend(values)
        elif kind in ("id", "property"):
            pid = "id" if kind == "id" else condition.get("propertyId")
            if not isinstance(pid, str) or not pid:
                raise HttpError(400, f"{where}: a property condition needs a `propertyId`")
            properties.append(Condition(pid, values, required, quantifier))
        else:
            raise HttpError(400, f"{where}: `matchType` must be name, id or property")
    return {
        "query": names,
        "type": _types(type_id, where),
        "properties": properties,
        "limit": _limit(query.get("limit"), where),
        "type_strict": "any",
    }


def _types(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise HttpError(400, f"{where}: `type` must be a type id or a list of them")


def _values(value: Any, where: str) -> tuple[str, ...]:
    """A property value (string, number, boolean, {"id": …}) or a list of them, as text."""
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, bool):
            found.append("true" if item else "false")
        elif isinstance(item, int | float):
            found.append(json.dumps(item))
        elif isinstance(item, dict) and isinstance(item.get("id"), str):
            found.append(item["id"])
        else:
            raise HttpError(
                400, f'{where}: a value is a string, a number, a boolean or {{"id": "…"}}'
            )
    return tuple(found)


def _limit(value: Any, where: str) -> int:
    if value is None:
        return 10
    if isinstance(value, bool) or not isinstance(value, int | float) or value % 1:
        raise HttpError(400, f"{where}: `limit` must be a whole number")
    if value < 1:
        raise HttpError(400, f"{where}: `limit` must be at least 1")
    return int(min(value, 100))


def _match(index: NameIndex, query: dict, language: str) -> list[Candidate]:
    try:
        return index.match(**query, language=language)
    except BadQuery as bad:
        raise HttpError(400, str(bad)) from None


def _result(candidate: Candidate, tagged: bool = False) -> dict:
    """A candidate as a result: `tagged` (the 1.0 draft) with the language and direction
    of its name and description, which API 0.2 has no fields for."""
    found = {
        "id": candidate.id,
        "name": candidate.name,
        "type": candidate.type_list(),
        "score": candidate.score,
        "match": candidate.match,
    }
    if candidate.description:
        found["description"] = candidate.description
    if tagged:
        found.update(_tags(candidate))
    return found


def _tags(candidate: Candidate) -> dict:
    """A candidate's `lang` and `dir`, when its name has a language."""
    lang = candidate.lang
    return {"lang": lang, "dir": direction(lang)} if lang else {}


def _extend_query(body: Any) -> tuple[list[str], list[str]]:
    """A data extension query {"ids": […], "properties": [{"id": …, "settings": …}]}:
    its ids and property ids, or a 400 (a 413 past the limits)."""
    if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
        raise HttpError(400, 'An extension query is {"ids": [...], "properties": [{"id": ...}]}')
    ids, properties = body["ids"], body.get("properties")
    if not all(isinstance(i, str) for i in ids):
        raise HttpError(400, "`ids` must be a list of entity ids (kind/slug)")
    if not isinstance(properties, list) or not all(
        isinstance(p, dict) and isinstance(p.get("id"), str) for p in properties
    ):
        raise HttpError(400, '`properties` must be a list of {"id": "…"}')
    if len(ids) > MAX_IDS or len(properties) > MAX_PROPERTIES:
        raise HttpError(
            413, f"at most {MAX_IDS} ids and {MAX_PROPERTIES} properties in one extension query"
        )
    return ids, [p["id"] for p in properties]


def _extend_02(query: tuple[list[str], list[str]]) -> dict:
    """A 0.2 extension answer: {"meta": […], "rows": {id: {property: [values]}}}."""
    ids, pids = query
    extension, language = _extension(), _language()
    rows = {i: {p: extension.values(i, p, language) for p in pids} for i in ids}
    return {"meta": extension.meta(pids, ids), "rows": rows}


def _suggestion(candidate: Candidate) -> dict:
    """A suggested entity (both versions: 0.2 allows more fields than it names)."""
    found = {"id": candidate.id, "name": candidate.name, "notable": candidate.type_list()}
    if candidate.description:
        found["description"] = candidate.description
    return found | _tags(candidate)


# requests and replies


def _language() -> str:
    """The language to answer in: `lang=` when the dataset has it, else the reader's
    (Accept-Language) among the dataset's languages, else its first."""
    offered = served().build.manifest["languages"]
    asked = chosen(request.values.get("lang"), offered)
    return asked or negotiate(request.headers.get("Accept-Language"), offered)


def _lang_attributes(lang: str | None) -> Markup:
    """The HTML attributes of an element whose text is in `lang` (none when it has no
    language): the card's page is in the reader's language, a name may have fallen back."""
    if not lang:
        return Markup("")
    return Markup(' lang="{}" dir="{}"').format(lang, direction(lang))


def _in_language(response: Response, language: str) -> Response:
    """An answer whose texts were chosen by language: it says which, and that it varies
    with Accept-Language."""
    response.headers["Content-Language"] = language
    response.vary.add("Accept-Language")
    return response


def _index() -> NameIndex:
    try:
        current = served()
        path = current.build.path / RECONCILE_INDEX
        return current.memo("reconcile", lambda: NameIndex.load(path))
    except (OSError, ValueError, KeyError):
        raise HttpError(
            503, "This build has no reconciliation index: run `lod build` again."
        ) from None


def _extension() -> Extension:
    """Data extension over the served build (its values read from its extend.jsonl)."""
    return Extension(_index(), served().build.path / EXTEND_VALUES)


def _json(raw: str | bytes, name: str) -> Any:
    """Strict JSON: no NaN or Infinity, no nesting deep enough to exhaust the stack."""
    try:
        return json.loads(raw, parse_constant=_not_json)
    except (ValueError, RecursionError) as bad:
        raise HttpError(400, f"`{name}` is not valid JSON: {str(bad)[:200]}") from None


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _limit_batch(count: int) -> None:
    if count > MAX_BATCH:
        raise HttpError(413, f"{count} queries in one batch; at most {MAX_BATCH} (advised: 50)")


def _suggest_args() -> tuple[str, int, int]:
    prefix = request.args.get("prefix", "")
    cursor = _whole(request.args.get("cursor", "0"), "cursor")
    limit = _whole(request.args.get("limit", "10"), "limit")
    if cursor > MAX_CURSOR or not 1 <= limit <= 100:
        raise HttpError(400, f"`cursor` must be at most {MAX_CURSOR}, `limit` 1 to 100")
    return prefix, limit, cursor


def _whole(raw: str, name: str) -> int:
    if not raw.isdigit() or len(raw) > 9:
        raise HttpError(400, f"`{name}` must be a whole number, not `{raw[:40]}`")
    return int(raw)


def _variant(language: str | None = None) -> str:
    """This request's representation, for the build's ETag: host (the manifest's URLs name
    it), path, query and callback, and the language its texts were chosen in."""
    seen = f"{request.host} {request.full_path} {language or ''}"
    digest = hashlib.sha256(seen.encode("utf-8")).hexdigest()[:20]
    return f"reconcile-{digest}"


def _reply(data: dict, language: str | None = None) -> Response:
    """JSON, or JSONP when `callback=` names a safe function (OpenRefine 0.2 clients use
    it for GET): `/**/name({...});` as JavaScript with nosniff, nothing else around it.
    `language`: the language its texts were chosen in (see _in_language)."""
    callback = request.args.get("callback")
    if callback is None:
        response = current_app.response_class(json.dumps(data, ensure_ascii=False), mimetype=JSON)
    else:
        if not CALLBACK.fullmatch(callback):
            raise HttpError(
                400, "`callback` must be a JavaScript name: letters, digits, _, $ and dots"
            )
        body = f"/**/{callback}({json.dumps(data, ensure_ascii=True)});"
        response = current_app.response_class(body, mimetype=JAVASCRIPT)
        response.headers["X-Content-Type-Options"] = "nosniff"
    if language is not None:
        _in_language(response, language)
    if request.method in ("GET", "HEAD"):
        return conditional(response, _variant(language))
    response.headers["Cache-Control"] = "no-store"
    return response
