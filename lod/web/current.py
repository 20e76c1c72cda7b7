"""The build a request is answered from (lod.serve.current follows which one is served)."""

from __future__ import annotations

from flask import current_app, g

from ..serve.current import Served


def served() -> Served:
    """The build this request is answered from (the same one for the whole request)."""
    if "lod_served" not in g:
        g.lod_served = current_app.extensions["lod.published"].current()
    return g.lod_served
