"""The WordPress REST API (`wp/v2`) as `lod sync` reads it: one HTTP session, the API found
from the site's address, collections read page by page, and every fault one line.

- The API: `{site}/wp-json/` (pretty permalinks), else `{site}/?rest_route=/` (plain ones);
  an address that ends with /wp-json is the API itself. Its index must list `wp/v2`.
- Retries: requests with urllib3's `Retry`: connection faults, timeouts, 429 and 5xx are
  tried again (GET only), the first retry at once, then after `Limits.backoff` seconds,
  doubled each time; a `Retry-After` (429, 503) is waited for instead, up to
  `Limits.longest_wait`. What still fails is a `SyncFailed` naming the
  request, the status or the fault, and the tries.
- Paging: `per_page` 100, ordered by id; `X-WP-Total` and `X-WP-TotalPages` are read on
  every page and must not change while a collection is read, nor an id come twice: a site
  edited under the sync fails it ("run it again"), it never half-reads it.
- Credentials: an application password (`Credentials`, from LOD_WP_USER and
  LOD_WP_PASSWORD, which lod.config reads: `credentials()`), sent as HTTP Basic over HTTPS
  only (plain HTTP to this machine only); never in a message, a URL or a file. An address
  that holds a user or password is refused.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ..errors import SyncFailed

RETRIED = (429, 500, 502, 503, 504)
LOCAL = ("127.0.0.1", "localhost", "::1")  # where plain HTTP may carry credentials
USER, PASSWORD = "LOD_WP_USER", "LOD_WP_PASSWORD"
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^)'\"]+)")


@dataclass(frozen=True)
class Limits:
    timeout: float = 30.0  # seconds to wait for an answer (and to connect, at most 10)
    retries: int = 4  # tries after the first, for faults that may pass
    backoff: float = 1.0  # seconds before the first retry, doubled for each next one
    longest_wait: float = 300.0  # a longer Retry-After is cut to this
    per_page: int = 100  # WordPress's largest page
    largest: int = 256 << 20  # bytes: a larger answer is refused


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str = field(repr=False)


def credentials(user: str | None, password: str | None) -> Credentials | None:
    """An application password from LOD_WP_USER and LOD_WP_PASSWORD (Settings.wp_user,
    wp_password): None for neither, ValueError naming the one that is missing."""
    if not user and not password:
        return None
    if not user or not password:
        missing = USER if not user else PASSWORD
        raise ValueError(f"{missing} is not set (credentials need both {USER} and {PASSWORD})")
    return Credentials(user, password)


def site_address(url: str) -> str:
    """The site's address as the sync names it: http(s), no user or password, no query,
    no trailing slash; ValueError saying what is wrong."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) address of a site")  # (it may hold a password)
    if parts.username or parts.password:
        raise ValueError(
            f"the address holds credentials: give them in {USER} and {PASSWORD}, never in the URL"
        )
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


class _Retry(Retry):
    """urllib3's Retry, counting the retries it makes into a shared list."""

    counter: list[int] | None = None

    def new(self, **options: Any) -> _Retry:
        fresh = super().new(**options)
        fresh.counter = self.counter
        return fresh

    def increment(self, *args: Any, **options: Any) -> Retry:
        fresh = super().increment(*args, **options)  # MaxRetryError when none is left
        if self.counter is not None:
            self.counter[0] += 1
        return fresh


def _retry(limits: Limits, counter: list[int]) -> _Retry:
    options: dict[str, Any] = {}
    if "retry_after_max" in inspect.signature(Retry).parameters:  # urllib3 >= 2.4
        options["retry_after_max"] = limits.longest_wait
    retry = _Retry(
        total=limits.retries,
        connect=limits.retries,
        read=limits.retries,
        status=limits.retries,
        other=0,
        redirect=5,
        allowed_methods=frozenset({"GET", "HEAD"}),
        status_forcelist=RETRIED,
        backoff_factor=limits.backoff / 2,  # retry n > 1 waits factor * 2 ** (n - 1)
        backoff_max=max(limits.longest_wait, limits.backoff),
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=True,
        **options,
    )
    retry.counter = counter
    return retry


@dataclass
class Answer:
    status: int
    data: Any
    headers: Mapping[str, str]


class Api:
    """The REST API of one site: `discover()` first, then `get` and `pages`."""

    def __init__(
        self, site: str, *, credentials: Credentials | None = None, limits: Limits | None = None
    ):
        self.site = site_address(site)
        host = urlsplit(self.site).hostname
        if credentials is not None and self.site.startswith("http:") and host not in LOCAL:
            raise ValueError("credentials are only sent over HTTPS (or to this machine)")
        self.limits = limits or Limits()
        self.retried = [0]
        self.requests = 0  # sent, retries included: `made`
        self.root = self.site + "/wp-json/"
        self.plain = False  # the API at ?rest_route= (plain permalinks)
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=_retry(self.limits, self.retried))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = "lod-sync (+https://github.com/)"
        self.session.headers["Accept"] = "application/json"
        if credentials is not None:
            self.session.auth = (credentials.user, credentials.password)
        self.authenticated = credentials is not None

    @property
    def made(self) -> int:
        return self.requests + self.retried[0]

    def close(self) -> None:
        self.session.close()

    def fail(self, reason: str) -> SyncFailed:
        return SyncFailed(self.site, reason)

    # the API's root

    def discover(self) -> dict:
        """The API's index (the site's name, description and home); where the API is."""
        fields = {"_fields": "name,description,url,home,namespaces,gmt_offset,timezone_string"}
        if self.site.endswith("/wp-json"):
            self.root = self.site + "/"
            self.site = self.site.removesuffix("/wp-json")
            index = self.get("", fields, allow=()).data
        else:
            index = self.get("", fields, allow=(404,)).data
            if index is None:
                self.plain = True  # no /wp-json/: plain permalinks
                index = self.get("", fields).data
        if not isinstance(index, dict) or "wp/v2" not in (index.get("namespaces") or []):
            raise self.fail(f"no WordPress REST API (wp/v2) at {self.url('')}")
        return index

    def url(self, route: str) -> str:
        if self.plain:
            return f"{self.site}/?rest_route=/{route}"
        return self.root + route

    # one request

    def get(self, route: str, params: dict | None = None, *, allow: tuple = ()) -> Answer:
        """GET a route of the API as JSON; an answer with a status in `allow` is returned
        as it is (its data None unless JSON), any other fault raises SyncFailed."""
        where = _where(route, params)
        before = self.retried[0]
        self.requests += 1
        timeout = self.limits.timeout
        try:
            response = self.session.get(
                self.url(route),
                params=params,
                timeout=(min(timeout, 10.0), timeout),
                stream=True,
            )
            with response:
                body = self._read(response, where)
        except requests.RequestException as error:
            tries = 1 + self.retried[0] - before
            raise self.fail(f"{where}: {_network(error, timeout, tries)}") from None
        tries = 1 + self.retried[0] - before
        if response.status_code in allow:
            return Answer(response.status_code, _json_or_none(body), response.headers)
        if response.status_code >= 400:
            raise self.fail(f"{where}: {self._status(response, body, tries)}")
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            kind = response.headers.get("Content-Type", "no Content-Type").split(";")[0]
            raise self.fail(
                f"{where}: not JSON ({_first_line(error)}; the site sent {kind})"
            ) from None
        return Answer(response.status_code, data, response.headers)

    def _read(self, response: requests.Response, where: str) -> bytes:
        """The answer's body, refused past `Limits.largest` bytes."""
        most, size, chunks = self.limits.largest, 0, []
        for chunk in response.iter_content(1 << 16):
            size += len(chunk)
            if size > most:
                raise self.fail(f"{where}: the answer is larger than {most >> 20} MB")
            chunks.append(chunk)
        return b"".join(chunks)

    def _status(self, response: requests.Response, content: bytes, tries: int) -> str:
        status = f"{response.status_code} {response.reason or ''}".strip()
        body = _json_or_none(content)
        code = body.get("code") if isinstance(body, dict) else None
        said = f" ({code})" if isinstance(code, str) and code else ""
        if response.status_code in (401, 403):
            if self.authenticated:
                return f"{status}{said}: the site refused the credentials of {USER}"
            return f"{status}{said}: the site wants credentials ({USER}, {PASSWORD})"
        if response.status_code in RETRIED:
            wait = response.headers.get("Retry-After")
            asked = f"; the site asks to wait {wait.strip()} s (Retry-After)" if wait else ""
            return f"{status} after {tries} {'try' if tries == 1 else 'tries'}{asked}"
        message = body.get("message") if isinstance(body, dict) else None
        detail = f": {_first_line(message)[:200]}" if isinstance(message, str) and message else ""
        return f"{status}{said}{detail}"

    # collections

    def pages(self, route: str, params: dict | None = None) -> Iterator[list[dict]]:
        """Every item of a collection, a page at a time (ordered by id); SyncFailed when
        its total changes while it is read or an id comes twice."""
        query = {**(params or {}), "per_page": self.limits.per_page, "orderby": "id"}
        query["order"] = "asc"
        page, pages, total, count, seen = 1, 1, None, 0, set()
        while page <= pages:
            answer = self.get(route, {**query, "page": page}, allow=(400,) if page > 1 else ())
            if answer.status >= 400:  # rest_post_invalid_page_number: fewer pages now
                raise self._changed(route, f"page {page} of {pages} is no longer there")
            if not isinstance(answer.data, list):
                raise self.fail(f"{_where(route, {'page': page})}: not a list of items")
            found = _totals(answer.headers)
            if found is None:
                raise self.fail(f"{_where(route, None)}: no X-WP-Total header in the answer")
            if total is None:
                total, pages = found
            elif found != (total, pages):
                raise self._changed(route, f"it had {total} items, then {found[0]}")
            count += len(answer.data)
            for item in answer.data:
                ident = item.get("id") if isinstance(item, dict) else None
                if ident in seen:
                    raise self._changed(route, f"item {ident} came twice")
                seen.add(ident)
            yield answer.data
            page += 1
        if total is not None and count != total:
            raise self._changed(route, f"it said {total} items and gave {count}")

    def _changed(self, route: str, what: str) -> SyncFailed:
        return self.fail(f"{route} changed while it was read ({what}); run the sync again")


def _where(route: str, params: dict | None) -> str:
    page = (params or {}).get("page")
    return f"GET {route or '/'}" + (f" page {page}" if page and page != 1 else "")


def _totals(headers: Mapping[str, str]) -> tuple[int, int] | None:
    try:
        return int(headers["X-WP-Total"]), int(headers["X-WP-TotalPages"])
    except (KeyError, ValueError):
        return None


def _json_or_none(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else ""


def _network(error: requests.RequestException, timeout: float, tries: int) -> str:
    """A network fault in words: a timeout, a refused connection, a broken answer."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    text = f"{error} {reason or ''}"
    times = f"{tries} {'try' if tries == 1 else 'tries'}"
    if isinstance(error, requests.ConnectTimeout) or "ConnectTimeout" in text:
        return f"could not connect within {min(timeout, 10.0):g} s ({times})"
    if isinstance(error, requests.Timeout) or "Read timed out" in text:
        return f"no answer within {timeout:g} s ({times})"
    if isinstance(error, requests.exceptions.SSLError):
        return f"TLS failed ({times})"
    if isinstance(error, requests.exceptions.TooManyRedirects | requests.exceptions.RetryError):
        return "too many redirects"
    if isinstance(error, requests.ConnectionError):
        found = _ERRNO.search(text)
        detail = found.group(1).strip() if found else "the connection failed"
        return f"cannot connect: {detail} ({times})"
    return f"the answer broke off ({type(error).__name__}, {times})"
