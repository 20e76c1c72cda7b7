"""The Flask app: create_app(settings) wires settings, the served build and the blueprints."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from .. import publish
from ..config import Settings
from ..formats import Format
from ..queries import QueryService
from ..remote import SparqlClient
from . import crawl, dumps, errors, reconcile, resources, sparql
from .current import Published, served
from .pages import readable_date


def create_app(settings: Settings | None = None, *, build_if_missing: bool = False) -> Flask:
    settings = settings or Settings.from_env()
    if build_if_missing and not (Path(settings.out) / "current").exists():
        publish.build(settings)
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
    )
    errors.register(app)
    app.register_blueprint(resources.blueprint)
    app.register_blueprint(sparql.blueprint)
    app.register_blueprint(dumps.blueprint)
    app.register_blueprint(reconcile.blueprint)
    app.register_blueprint(crawl.blueprint)
    app.after_request(_cors)
    app.jinja_env.globals["served"] = served
    app.jinja_env.filters["date"] = readable_date
    app.jinja_env.globals["format_names"] = {f.media_type: f.title for f in Format}
    return app


def _cors(response):
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    response.headers.setdefault(
        "Access-Control-Expose-Headers", "ETag, Link, Content-Location, Retry-After, Vary"
    )
    return response
