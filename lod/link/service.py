"""The client of a remote reconciliation service (the W3C Reconciliation API), and which
service `lod link sameas` asks.

`Client` speaks the API to any service, 0.2 (form `queries=`/`extend=` POSTed to the
service URL) or the 1.0 draft (JSON POSTed to `/match` and `/extend`): in batches no
larger than the manifest's `batchSize`, each request with a timeout, retried with
exponential back-off on a timeout, a refused connection, 429 or 5xx, at most `rate`
requests a second, and every answer kept in an on-disk cache (keyed by URL and body), so
running again asks only what was not answered. Answers are checked and shaped alike
whatever the version: a candidate is {"id", "name", "score", "match"}, a property value
{"id", "name"} (an entity) or its text.

A service is named in dataset.yaml's `linkServices` (`find_service`: by label or manifest
URL), or only by its manifest URL (`service_from_manifest`: its ids are the manifest's
`identifierSpace`). lod.link.matching asks it for candidates.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from ..errors import LodError
from ..make.convert.services import LinkService

USER_AGENT = "lod-link-sameas/1 (a Linked Open Data publisher asking for sameAs candidates)"


class ServiceFailed(LodError):
    """A reconciliation service that did not answer, answered what cannot be read, or
    cannot be used as it was named."""


@dataclass
class Client:
    """A remote reconciliation service, by its manifest URL (the service's root)."""

    url: str
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 1.0  # seconds before the first retry; doubled each time
    rate: float = 1.0  # requests a second, at most
    cache: Path | None = None
    version: str | None = None  # "0.2" or "1.0"; None: from the manifest (0.2 when offered)
    batch: int = 10
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    requests_sent: int = 0
    _last: float = -1e9
    _manifest: dict | None = None

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        self.session.headers["User-Agent"] = USER_AGENT

    @property
    def manifest(self) -> dict:
        if self._manifest is None:
            found = self._request("GET", self.url)
            if not isinstance(found, dict) or not isinstance(found.get("name", ""), str):
                raise ServiceFailed(f"{self.url}: the answer is not a reconciliation manifest")
            self._manifest = found
        return self._manifest

    @property
    def api(self) -> str:
        if self.version is None:
            versions = self.manifest.get("versions") or ["0.2"]
            self.version = "0.2" if "0.2" in versions else "1.0"
        return self.version

    @property
    def batch_size(self) -> int:
        advised = self.manifest.get("batchSize")
        if isinstance(advised, int) and advised >= 1:
            return min(advised, self.batch)
        return self.batch

    @property
    def extends(self) -> bool:
        return isinstance(self.manifest.get("extend"), dict)

    def default_types(self) -> set[str]:
        found = self.manifest.get("defaultTypes") or []
        return {t["id"] for t in found if isinstance(t, dict) and isinstance(t.get("id"), str)}

    def match(self, queries: Sequence[dict]) -> list[list[dict]]:
        """Candidates for each query ({"query", "limit"?, "type"?, "properties"?: [(pid,
        value)]}): per query a list of {"id", "name", "score", "match"}."""
        ask = self._match_02 if self.api == "0.2" else self._match_10
        return [[_candidate(c, self.url) for c in result] for result in ask(queries)]

    def extend(self, ids: Sequence[str], pids: Sequence[str]) -> dict[str, dict[str, list]]:
        """Each id's values of each property: {id: {pid: [value, …]}}, a value being
        {"id", "name"} (an entity) or its text."""
        query = {"ids": list(ids), "properties": [{"id": p} for p in pids]}
        ask = self._extend_02 if self.api == "0.2" else self._extend_10
        return {i: {p: _values(v) for p, v in props.items()} for i, props in ask(query).items()}

    # the two versions of the API

    def _match_02(self, queries: Sequence[dict]) -> list[list]:
        batch = {}
        for i, q in enumerate(queries):
            one: dict[str, Any] = {"query": q["query"], **_options(q)}
            if q.get("properties"):
                one["properties"] = [{"pid": p, "v": v} for p, v in q["properties"]]
            batch[f"q{i}"] = one
        answer = self._request("POST", self.url, data={"queries": json.dumps(batch)})
        return [self._part(answer, f"q{i}", "result") for i in range(len(queries))]

    def _match_10(self, queries: Sequence[dict]) -> list[list]:
        batch = []
        for q in queries:
            conditions = [{"matchType": "name", "propertyValue": q["query"]}]
            conditions += [
                {"matchType": "property", "propertyId": p, "propertyValue": v}
                for p, v in q.get("properties", ())
            ]
            batch.append({"conditions": conditions, **_options(q)})
        answer = self._request("POST", f"{self.url}/match", json_body={"queries": batch})
        found = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(found, list) or len(found) != len(queries):
            raise ServiceFailed(f"{self.url}/match: the answer has no `results` list")
        return [self._part({"r": r}, "r", "candidates") for r in found]

    def _extend_02(self, query: dict) -> dict[str, dict]:
        answer = self._request("POST", self.url, data={"extend": json.dumps(query)})
        rows = answer.get("rows") if isinstance(answer, dict) else None
        if not isinstance(rows, dict):
            raise ServiceFailed(f"{self.url}: the extension answer has no `rows` object")
        return {i: r for i, r in rows.items() if isinstance(r, dict)}

    def _extend_10(self, query: dict) -> dict[str, dict]:
        answer = self._request("POST", f"{self.url}/extend", json_body=query)
        rows = answer.get("rows") if isinstance(answer, dict) else None
        if not isinstance(rows, list):
            raise ServiceFailed(f"{self.url}/extend: the answer has no `rows` list")
        return {
            row["id"]: {p.get("id"): p.get("values", []) for p in row.get("properties", [])}
            for row in rows
            if isinstance(row, dict) and isinstance(row.get("id"), str)
        }

    def _part(self, answer: Any, key: str, name: str) -> list:
        part = answer.get(key) if isinstance(answer, dict) else None
        found = part.get(name) if isinstance(part, dict) else None
        if not isinstance(found, list):
            raise ServiceFailed(f"{self.url}: the answer lacks `{key}.{name}`")
        return found

    # HTTP: cache, rate, retries

    def _request(self, method: str, url: str, data=None, json_body=None) -> Any:
        body = json.dumps([method, url, data, json_body], sort_keys=True)
        key = hashlib.sha256(body.encode("utf-8")).hexdigest()
        cached = self.cache / key[:2] / f"{key}.json" if self.cache else None
        if cached is not None and cached.is_file():
            return json.loads(cached.read_text("utf-8"))
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            self._wait_turn()
            try:
                response = self.session.request(
                    method, url, data=data, json=json_body, timeout=self.timeout
                )
            except requests.Timeout:
                problem = f"did not answer within {self.timeout:g} s"
                continue
            except requests.ConnectionError as exc:
                problem = f"could not be reached ({_reason(exc)})"
                continue
            if response.status_code == 429 or response.status_code >= 500:
                problem = f"answered HTTP {response.status_code}: {_snippet(response.text)}"
                continue
            found = _json(response, url)
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_text(json.dumps(found), "utf-8")
            return found
        tries = self.retries + 1
        raise ServiceFailed(f"{url} {problem} ({tries} {'try' if tries == 1 else 'tries'})")

    def _wait_turn(self) -> None:
        gap = 1.0 / self.rate if self.rate > 0 else 0.0
        wait = self._last + gap - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self._last = time.monotonic()
        self.requests_sent += 1


def _options(query: dict) -> dict:
    """A query's limit and type, where it has them (the same in both versions)."""
    return {name: query[name] for name in ("limit", "type") if query.get(name)}


def _json(response: requests.Response, url: str) -> Any:
    """The answer of a request not to be retried, or ServiceFailed."""
    if response.status_code >= 400:
        raise ServiceFailed(
            f"{url} answered HTTP {response.status_code}: {_snippet(response.text)}"
        )
    try:
        return response.json()
    except ValueError:
        raise ServiceFailed(f"{url} answered malformed JSON: {_snippet(response.text)!r}") from None


def _reason(exc: Exception) -> str:
    text = str(exc)
    for known in ("Connection refused", "Name or service not known", "Connection reset"):
        if known in text:
            return known.lower()
    return text[:120]


def _snippet(text: str) -> str:
    return " ".join(text.split())[:120]


def _candidate(raw: Any, url: str) -> dict:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise ServiceFailed(f"{url}: a candidate without an `id`")
    score = raw.get("score", 0)
    return {
        "id": raw["id"],
        "name": raw.get("name") if isinstance(raw.get("name"), str) else raw["id"],
        "score": float(score) if isinstance(score, int | float) else 0.0,
        "match": raw.get("match") is True,
    }


def _values(raw: Any) -> list:
    found = []
    for value in raw if isinstance(raw, list) else []:
        if not isinstance(value, dict):
            continue
        if "id" in value:
            found.append({"id": str(value["id"]), "name": str(value.get("name", ""))})
        else:
            for tag in ("str", "date", "int", "float"):
                if tag in value:
                    found.append(str(value[tag]))
    return found


# which service


def find_service(services: Sequence[LinkService], wanted: str) -> LinkService | None:
    """The service of dataset.yaml named by label or manifest URL."""
    for service in services:
        if wanted in (service.label, service.manifest) or wanted.rstrip(
            "/"
        ) == service.manifest.rstrip("/"):
            return service
    return None


def service_from_manifest(url: str, client: Client) -> LinkService:
    """A service dataset.yaml does not name: its ids are the manifest's identifierSpace."""
    space = client.manifest.get("identifierSpace")
    if not isinstance(space, str) or not space.startswith(("http://", "https://")):
        raise ServiceFailed(
            f"{url} is not in dataset.yaml's linkServices and its manifest has no "
            "identifierSpace: name it in linkServices with its `ids` pattern"
        )
    name = client.manifest.get("name") or urlsplit(url).netloc
    return LinkService(label=str(name), manifest=url, ids=space + "{id}")
