"""The Flask app: create_app(settings) wires settings, the served build and the blueprints."""

from __future__ import annotations

import io

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from ..config import Settings
from ..formats import Format
from ..remote import SparqlClient
from ..serve.current import Published
from ..serve.pool import QueryService
from . import crawl, dumps, errors, feeds, ldes, moved, reconcile, resources, search, shapes, sparql
from .current import cache_of, served
from .front import DOCUMENTS, SPARQL, Front
from .pages import readable_date
from .reader import page_reader


def create_app(settings: Settings | None = None) -> Flask:
    """The app serving settings.out's current build (building it is the caller's job:
    `python app.py` and `lod serve` build first when there is none)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.url_map.merge_slashes = False  # `/dumps//etc/passwd` is a 404, not a redirect
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body
    app.config["LOD_SETTINGS"] = settings
    app.json.sort_keys = False
    client = SparqlClient.from_settings(settings)  # None: the embedded engine
    app.extensions["lod.published"] = Published(settings.out, client, settings.base)
    app.extensions["lod.queries"] = QueryService(
        timeout=settings.query_timeout,
        concurrency=settings.query_concurrency,
        memory_mb=settings.query_memory_mb,
        memory_store_mb=settings.query_memory_store_mb,
    )
    errors.register(app)
    moved.register(app)
    app.register_blueprint(resources.blueprint)
    app.register_blueprint(sparql.blueprint)
    app.register_blueprint(dumps.blueprint)
    app.register_blueprint(reconcile.blueprint)
    app.register_blueprint(crawl.blueprint)
    app.register_blueprint(search.blueprint)
    app.register_blueprint(feeds.blueprint)
    app.register_blueprint(ldes.blueprint)
    app.register_blueprint(shapes.blueprint)
    app.before_request(_limit_chunked_body)
    app.after_request(_cors)
    app.after_request(_no_date)
    app.jinja_env.globals["served"] = served
    app.jinja_env.globals["page_reader"] = page_reader
    app.jinja_env.filters["date"] = readable_date
    app.jinja_env.globals["format_names"] = {f.media_type: f.title for f in Format}
    app.wsgi_app = Front(
        app.wsgi_app,
        app.extensions["lod.published"],
        cache_of(app),
        namers={DOCUMENTS: resources.named, SPARQL: sparql.named},
        max_body=settings.max_body,
    )
    if settings.trust_proxy:  # X-Forwarded-For, -Proto, -Host, -Port, -Prefix from N proxies
        n = settings.trust_proxy
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)
    return app


def _limit_chunked_body() -> None:
    """A body with no Content-Length (chunked) is read up to LOD_MAX_BODY here, and past it
    refused with 413, rather than cut at the limit and used (Werkzeug's limited stream stops
    silently on a terminated input)."""
    environ = request.environ
    if (
        environ.get("CONTENT_LENGTH")
        or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    ):
        return
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge(f"the request body is over {limit} bytes (LOD_MAX_BODY)")
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING")  # Werkzeug ignores Content-Length beside it
    environ.pop("wsgi.input_terminated", None)


def _no_date(response):
    """The HTTP server sends Date (gunicorn, Werkzeug's development server); Werkzeug's
    make_conditional adds its own, which made two."""
    response.headers.pop("Date", None)
    return response


def _cors(response):
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    response.headers.setdefault(
        "Access-Control-Expose-Headers", "ETag, Link, Content-Location, Retry-After, Vary"
    )
    return response
