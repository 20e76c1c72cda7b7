"""One error shape, rendered per channel: an HTML page for browsers, JSON for everyone else.

    {"error": {"status": 404, "title": "Not Found", "message": "…"}}

No response ever carries a stack trace: unexpected exceptions are logged and answered with
a generic 500.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from ..errors import LodError, QueryError
from ..formats import Format, negotiate

log = logging.getLogger(__name__)


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

    @app.errorhandler(QueryError)
    def query_error(error: QueryError):
        headers = {}
        if hasattr(error, "retry_after"):
            headers["Retry-After"] = str(error.retry_after)
        return render(HttpError(error.status, error.message, error.title, headers))

    @app.errorhandler(LodError)
    def lod_error(error: LodError):
        log.warning("request failed: %s", error)
        return render(HttpError(503, str(error)))

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
