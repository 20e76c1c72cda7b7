"""The build a request is answered from (lod.serve.current follows which one is served), and
that build's cache of whole answers (lod.serve.cache)."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g, request

from ..serve.cache import Bounds, BuildCache, open_cache
from ..serve.current import Served

ANSWERED_FROM = "lod.answered_from"  # the WSGI environ key where the app puts its build's id


def served() -> Served:
    """The build this request is answered from (the same one for the whole request)."""
    if "lod_served" not in g:
        g.lod_served = current_app.extensions["lod.published"].current()
        request.environ[ANSWERED_FROM] = g.lod_served.build.id  # what the front keeps under
    return g.lod_served


def cache() -> BuildCache:
    """The cache of the build this request is answered from: what it holds is that build's,
    whose id makes the ETag."""
    return cache_of(current_app)(served())


def cache_of(app) -> Callable[[Served], BuildCache]:
    """What gives a build's cache, opened once per build, with `app`'s settings."""
    bounds = Bounds.of(app.config["LOD_SETTINGS"])

    def of(current: Served) -> BuildCache:
        return current.memo(
            "cache",
            lambda: open_cache(
                current.build.path.parent.parent, current.build.id, current.store.engine, bounds
            ),
        )

    return of
