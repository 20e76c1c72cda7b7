"""Whole answers kept per build (lod.serve.cache), in front of the web app: WSGI middleware,
apart from the cache it uses (which knows no WSGI)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable

ANSWERED_FROM = "lod.answered_from"  # the WSGI environ key where the app puts its build's id
DOCUMENTS = "/doc/"
SPARQL = "/sparql"
QUERY_TYPES = ("application/sparql-query", "application/x-www-form-urlencoded")
QUERY_BODY = 64 * 1024  # a longer query POSTed goes to the app, kept answer or not
HOP_HEADERS = {"date", "connection", "keep-alive", "transfer-encoding", "server"}
# request headers that could make the app answer otherwise: such requests go to the app
CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_RANGE")


class ResponseFront:
    """WSGI middleware: what the app has already answered with 200 from this build is
    answered again from the build's cache, headers and body as the app sent them, without
    going through the app (Flask, negotiation, the query's check):

    * a document, `GET /doc/<kind>/<slug>.<ext>` with no query string;
    * a SPARQL query's answer, `GET /sparql?…` or a query POSTed (application/sparql-query
      or a form, at most QUERY_BODY bytes), for the same Accept header.

    Anything else, a request with a conditional or range header, and any miss go to the
    app, whose answer is kept when it qualifies (query answers with the results, under
    their bounds).

    A kept answer is used only with the build it was made from: it is kept only when the
    app answered from the build whose cache it goes into (the app puts that build's id in
    the request's environ, at ANSWERED_FROM), and looked up in the cache of the build
    served when the request arrives (the cache file and every key carry the build id). A
    redirect, a 404, a 410 or a refused query is never kept, so what the app decides is
    decided by the app. `cache_of(served)` gives a build's BuildCache (or None)."""

    def __init__(self, app, published, cache_of: Callable):
        self.app = app
        self.published = published
        self.cache_of = cache_of

    def __call__(self, environ, start_response):
        key = self._key(environ)
        if key is None:
            return self.app(environ, start_response)
        try:
            served = self.published.current()
            cache = self.cache_of(served)
        except Exception:  # no build, a store down: the app answers (with its own errors)
            return self.app(environ, start_response)
        if cache is None or not cache.enabled:
            return self.app(environ, start_response)
        kept = cache.response(key)
        if kept is not None:
            headers, body = kept
            start_response("200 OK", headers)
            return [body]
        captured: list = []

        def capture(status, headers, exc_info=None):
            captured[:] = [status, headers]
            return start_response(status, headers, exc_info)

        chunks = self.app(environ, capture)
        if not captured or not captured[0].startswith("200"):
            return chunks
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        if environ.get(ANSWERED_FROM) == cache.build_id:
            headers = [(n, v) for n, v in captured[1] if n.lower() not in HOP_HEADERS]
            cache.keep_response(key, headers, body)
        return [body]

    @staticmethod
    def _key(environ) -> tuple | None:
        """What names the request's answer, or None when the app must answer it. A query's
        body is read here (and given to the app as it was)."""
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        if any(environ.get(name) for name in CONDITIONAL):
            return None
        where = (environ.get("SCRIPT_NAME", ""), environ.get("HTTP_X_FORWARDED_PREFIX", ""))
        if path.startswith(DOCUMENTS):
            if method != "GET" or environ.get("QUERY_STRING") or "." not in path.rpartition("/")[2]:
                return None
            return ("response", path, *where)
        if path != SPARQL:
            return None
        body = b""
        if method == "POST":
            body = _query_body(environ)
            if body is None:
                return None
        elif method != "GET" or not environ.get("QUERY_STRING"):
            return None
        return (
            "answer",
            method,
            environ.get("QUERY_STRING", ""),
            environ.get("CONTENT_TYPE", ""),
            hashlib.blake2b(body, digest_size=20).hexdigest(),
            environ.get("HTTP_ACCEPT", ""),
            *where,
        )


def _query_body(environ) -> bytes | None:
    """The body of a query POSTed with its length (then put back for the app to read), or
    None for any other POST."""
    kind = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    try:
        length = int(environ.get("CONTENT_LENGTH") or "-1")
    except ValueError:
        return None
    if kind not in QUERY_TYPES or not 0 < length <= QUERY_BODY:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body
