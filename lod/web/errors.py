"""One error shape, rendered per channel: an HTML page for browsers, JSON for everyone else.

    {"error": {"status": 404, "title": "Not Found", "message": "…"}}

Library errors (lod.errors) know nothing of HTTP: `STATUSES` maps each type to its status
and title, in one table (the most specific type listed wins). No response ever carries a
stack trace: unexpected exceptions, and library errors the table does not list, are logged
and answered with a generic 500.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from ..errors import (
    BadSearch,
    EngineError,
    EngineRefusedQuery,
    LodError,
    NoBuild,
    NotPublished,
    QueryError,
    QueryRefused,
    QuerySyntaxError,
    QueryTimeout,
    QueryTooLarge,
    StoreUnavailable,
    TooManyQueries,
)
from ..formats import Format, negotiate

log = logging.getLogger(__name__)

STATUSES: dict[type[LodError], tuple[int, str]] = {
    QuerySyntaxError: (400, "Malformed query"),
    QueryRefused: (400, "Query refused"),
    BadSearch: (400, "Bad search"),
    EngineRefusedQuery: (400, "Store error"),
    QueryTimeout: (503, "Query timed out"),
    QueryTooLarge: (503, "Query used too much memory"),
    TooManyQueries: (429, "Too many queries"),
    StoreUnavailable: (503, "Store unavailable"),
    EngineError: (502, "Store error"),
    QueryError: (400, "Bad query"),
    NoBuild: (503, "Nothing built yet"),
    NotPublished: (503, "Build not published"),
}
"""Each library error a request may raise: its HTTP status and title."""


class HttpError(Exception):
    """An answer that is not a success: status, short title, message for a person."""

    def __init__(
        self,
        status: int,
        message: str,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.message = status, message
        self.title = title or _reason(status)
        self.headers = headers or {}


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def render(error: HttpError) -> Response:
    wants_html = (
        negotiate(
            request.headers.get("Accept"), [Format.JSONLD, Format.HTML], default=Format.JSONLD
        )
        is Format.HTML
    )
    if wants_html:
        body = render_template("error.html", error=error)
        response = Response(body, status=error.status, mimetype="text/html")
    else:
        response = jsonify(
            error={"status": error.status, "title": error.title, "message": error.message}
        )
        response.status_code = error.status
    response.headers.update(error.headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    app.register_error_handler(HttpError, render)

    @app.errorhandler(LodError)
    def lod_error(error: LodError):
        return render(as_http(error))

    @app.errorhandler(HTTPException)
    def http_exception(error: HTTPException):
        headers = {k: v for k, v in error.get_headers() if k.lower() in ("allow", "retry-after")}
        return render(
            HttpError(error.code or 500, error.description or error.name, error.name, headers)
        )

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unexpected error")
        return render(HttpError(500, "The server could not answer this request."))


def as_http(error: LodError) -> HttpError:
    """The answer to a library error, from STATUSES; a 500 (logged) for one it lacks."""
    known = next((STATUSES[cls] for cls in type(error).__mro__ if cls in STATUSES), None)
    if known is None:
        log.error("unexpected library error: %r", error)
        return HttpError(500, "The server could not answer this request.")
    status, title = known
    if status >= 500:
        log.warning("request failed: %s", error)
    retry_after = getattr(error, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return HttpError(status, str(error), title, headers)
