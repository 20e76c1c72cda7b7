"""Dumps and the dataset description: /dumps/, /dumps/<file>, /.well-known/void.

Only the files a build's manifest lists, and their checksums (SHA256SUMS), can be sent, so
no path from the request ever reaches the file system (no traversal, encoded or not).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import Blueprint, render_template, send_file

from ..formats import ResultFormat
from ..layout import SUMS
from ..vocab import dataset_iri
from .current import served
from .errors import HttpError
from .resources import OFFERED, document_response, negotiated

blueprint = Blueprint("dumps", __name__)


@blueprint.get("/dumps/")
def index():
    build = served().build
    files = sorted(build.manifest["files"].items())
    return render_template("dumps.html", files=files, manifest=build.manifest)


@blueprint.get("/dumps/<path:name>")
def dump(name: str):
    build = served().build
    meta = build.manifest["files"].get(name)
    if name == SUMS:  # what `sha256sum -c` checks the downloads with
        meta = {"sha256": hashlib.sha256((build.path / SUMS).read_bytes()).hexdigest()}
    if meta is None:
        raise HttpError(404, f"No dump `{name[:80]}`; see /dumps/")
    mimetype = "text/turtle" if name.endswith(".ttl") else "application/gzip"
    if name == SUMS:
        mimetype = "text/plain"
    if name.endswith(".tsv"):  # mixnmatch.tsv, the catalogue for Wikidata's Mix'n'match
        mimetype = ResultFormat.TSV.media_type
    return send_file(
        build.path / name,
        mimetype=mimetype,
        as_attachment=name.endswith(".gz"),
        download_name=name,
        etag=meta["sha256"],
        last_modified=datetime.fromisoformat(build.manifest["created"]),
        conditional=True,
        max_age=3600,
    )


@blueprint.get("/.well-known/void")
def void():
    """The dataset's own document: VoID and DCAT, in every RDF format and HTML."""
    response = document_response(str(dataset_iri(served().base)), negotiated(OFFERED), [])
    response.headers["Vary"] = "Accept"  # negotiated: caches keep one answer per Accept
    return response
