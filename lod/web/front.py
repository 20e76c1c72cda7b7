"""Whole answers kept per build (lod.serve.cache), used in front of the app and in its routes.

`Front` is WSGI middleware: what the app has already answered with 200 from this build is
answered again from the build's cache, headers and body as the app sent them, without going
through Flask (negotiation, reading and checking the query):

* a document, `GET /doc/<kind>/<slug>.<ext>` with no query string; an HTML page in the
  language Accept-Language asks (lod.web.reader), or `?lang=` names, each kept apart, with
  its `Vary: Accept-Language` when it was negotiated (`Named.headers`: this request's);
* a SPARQL query's answer, `GET /sparql?query=…` or a query POSTed (application/sparql-query
  or a form, at most QUERY_BODY bytes): the front reads the request (lod.web.sparql.asked)
  and the route uses what it read, so the query is read, checked and hashed once.

Anything else, a request with a conditional or range header, and any miss go to the app.
Routes look up what the front cannot name (a negotiated document, a later page of links, a
long query) with `kept`, and mark the answer they compute with `keep`: the front keeps it,
once, under that key, when the app answered 200 to a GET or POST from the build whose cache
it goes into (the app puts that build's id in the request's environ, at ANSWERED_FROM), and
it is looked up in the cache of the build served when a request arrives (the cache file and
every key carry the build id). A redirect, a 404, a 410, a refused or failed query is never
kept, so what the app decides is decided by the app.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from flask import Response, request
from werkzeug.wrappers import Request

from ..serve.cache import BuildCache, Key
from .current import ANSWERED_FROM, cache

KEEP = "lod.keep"  # environ: (key, headers of this request only) of the answer to keep
LOOKED = "lod.looked"  # environ: (build id, key) the front looked up and did not find
DOCUMENTS = "/doc/"
SPARQL = "/sparql"
QUERY_TYPES = ("application/sparql-query", "application/x-www-form-urlencoded")
QUERY_BODY = 64 * 1024  # a longer query POSTed goes to the app, which looks it up itself
KEPT_METHODS = ("GET", "POST")  # a HEAD's body is empty: never kept
HOP_HEADERS = frozenset({"date", "connection", "keep-alive", "transfer-encoding", "server"})
# request headers that could make the app answer otherwise: such requests go to the app
CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_RANGE")


@dataclass(frozen=True)
class Named:
    """What names a request's answer, and headers of this request only that go with it (a
    page whose language was negotiated: `Vary: Accept-Language`, which the kept answer, kept
    for every request naming the same key, cannot hold)."""

    key: Key
    headers: tuple[tuple[str, str], ...] = ()


class Front:
    """WSGI middleware (see the module docstring). `cache_of(served)` gives a build's
    BuildCache (or None); `namers` map a path's start to what names its request: a function
    of the request (Werkzeug's) and the build served, giving a Key, a Named or None;
    `max_body` is the app's LOD_MAX_BODY (a longer body the app refuses, so the front never
    reads it)."""

    def __init__(
        self,
        app,
        published,
        cache_of: Callable,
        namers: dict[str, Callable] | None = None,
        max_body: int = QUERY_BODY,
    ):
        self.app = app
        self.published = published
        self.cache_of = cache_of
        self.namers = namers or {}
        self.max_body = min(max_body, QUERY_BODY)

    def __call__(self, environ, start_response):
        try:
            served = self.published.current()
            cache = self.cache_of(served)
        except Exception:  # no build, a store down: the app answers (with its own errors)
            return self.app(environ, start_response)
        if cache is None or not cache.enabled:
            return self.app(environ, start_response)
        named = self._name(environ, served)
        if named is not None:
            kept = cache.get(named.key)
            if kept is not None:
                headers, body = kept
                start_response("200 OK", [*headers, *named.headers])
                return [body]
            environ[LOOKED] = (cache.build_id, named.key)
        return self._answer(environ, start_response, cache)

    def _answer(self, environ, start_response, cache: BuildCache):
        """The app's answer, kept when the app marked it and it qualifies."""
        captured: list = []

        def capture(status, headers, exc_info=None):
            captured[:] = [status, headers]
            return start_response(status, headers, exc_info)

        chunks = self.app(environ, capture)
        marked = environ.get(KEEP)
        if (
            marked is None
            or not captured
            or not captured[0].startswith("200")
            or environ.get("REQUEST_METHOD") not in KEPT_METHODS
            or environ.get(ANSWERED_FROM) != cache.build_id
        ):
            return chunks
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        key, per_request = marked
        dropped = HOP_HEADERS | per_request
        cache.keep(key, [(n, v) for n, v in captured[1] if n.lower() not in dropped], body)
        return [body]

    def _name(self, environ, served) -> Named | None:
        """What names the request's answer, or None when the app must answer it. A query's
        body is read here (and given to the app as it was)."""
        if any(environ.get(name) for name in CONDITIONAL):
            return None
        path = environ.get("PATH_INFO", "")
        namer = next((n for start, n in self.namers.items() if path.startswith(start)), None)
        if namer is None or not self._readable(environ):
            return None
        named = namer(Request(environ), served)
        body = environ.get("wsgi.input")
        if isinstance(body, io.BytesIO):  # the body the front read: the app reads it again
            body.seek(0)
        return Named(named) if isinstance(named, Key) else named

    def _readable(self, environ) -> bool:
        """Whether the request's body, if any, is one the front may read: a query POSTed with
        its length, at most `max_body` bytes (then put back for the app to read)."""
        method = environ.get("REQUEST_METHOD")
        if method == "GET":
            return True
        kind = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
        try:
            length = int(environ.get("CONTENT_LENGTH") or "-1")
        except ValueError:
            return False
        if method != "POST" or kind not in QUERY_TYPES or not 0 < length <= self.max_body:
            return False
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length))
        return True


def kept(key: Key) -> Response | None:
    """The answer kept under `key` in the cache of the build this request is answered from,
    or None (at once when the front looked it up already)."""
    current = cache()
    if request.environ.get(LOOKED) == (current.build_id, key):
        return None
    found = current.get(key)
    if found is None:
        return None
    headers, body = found
    return Response(body, headers=headers)


def keep(key: Key, per_request: tuple[str, ...] = ()) -> None:
    """Have the front keep this request's answer under `key` when the app answers it with
    200, without the `per_request` headers (this request's only: a negotiated document's
    Vary and Content-Location)."""
    request.environ[KEEP] = (key, frozenset(name.lower() for name in per_request))
