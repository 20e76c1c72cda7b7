"""The build a request is answered from (lod.serve.current follows which one is served)."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g, request

from ..serve.cache import BuildCache, open_cache
from ..serve.current import Served
from .front import ANSWERED_FROM


def served() -> Served:
    """The build this request is answered from (the same one for the whole request)."""
    if "lod_served" not in g:
        g.lod_served = current_app.extensions["lod.published"].current()
        request.environ[ANSWERED_FROM] = g.lod_served.build.id  # what the front keeps under
    return g.lod_served


def cache() -> BuildCache:
    """The cache of the build this request is answered from (lod.serve.cache): what it holds
    is that build's, whose id makes the ETag."""
    return cache_of(current_app)(served())


def cache_of(app) -> Callable[[Served], BuildCache]:
    """What gives a build's cache, opened once per build, with `app`'s settings."""
    settings = app.config["LOD_SETTINGS"]

    def of(current: Served) -> BuildCache:
        return current.memo(
            "cache",
            lambda: open_cache(
                current.build.path.parent.parent,
                current.build.id,
                current.store.engine,
                max_mb=settings.cache_mb,
                result_entries=settings.result_cache_entries,
                result_mb=settings.result_cache_mb,
                result_entry_kb=settings.result_cache_entry_kb,
            ),
        )

    return of
