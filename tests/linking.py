"""Small datasets and misbehaving reconciliation services for the linking tests: a remote
lod dataset ("elsewhere") served by a second lod app, a local dataset ("here") whose
records are linked to it, and hand-written servers (http.server) that answer slowly,
with errors, with malformed JSON, or not at all. Everything listens on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

DATASET = """\
title: {title}
description: A small dataset for the linking tests.
license: https://creativecommons.org/licenses/by/4.0/
publisher: {publisher}
language: en
base: {base}
"""

ELSEWHERE = "https://elsewhere.example.org/"
HERE = "https://here.example.org/"


def write_files(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


def elsewhere(root: Path) -> Path:
    """The remote dataset: one United Nations in New York, one Mercy Relief in Dublin,
    two organisations called Global Action (namesakes), a Geneva office."""
    return write_files(
        root,
        {
            "dataset.yaml": DATASET.format(title="Elsewhere", publisher="un", base=ELSEWHERE),
            "organisations/organisations.yaml": """\
- id: un
  name: United Nations
  location: new-york
  url: https://www.un.org/
  foundingDate: 1945-10-24
  sameAs: https://www.wikidata.org/wiki/Q1065
- id: mercy-relief
  name: Mercy Relief
  location: dublin
- id: global-action-1
  name: Global Action
  location: geneva
- id: global-action-2
  name: Global Action
  location: dublin
""",
            "places/places.csv": "id,name,containedInPlace\n"
            "new-york,New York City,\ndublin,Dublin,\ngeneva,Geneva,\n",
            "people/jane.yaml": "name: Jane Doe\n",
        },
    )


HERE_ORGS = """\
# our organisations; comments and layout must survive an apply
- id: united-nations
  name: United Nations
  location: nyc
  url: https://www.un.org

- id: mercy-relief
  name: Mercy Relief   # a twin of theirs, in another country
  location: nairobi

- id: global-action
  name: Global Action
  location: geneva

- id: nobody-knows
  name: Nobody Knows This Organisation
"""


def here(root: Path, service_url: str | None, api_properties: bool = True) -> Path:
    """The local dataset, naming the service at `service_url` in its linkServices."""
    dataset = DATASET.format(title="Here", publisher="united-nations", base=HERE)
    if service_url:
        dataset += f"""\
linkServices:
  - label: Elsewhere
    manifest: {service_url}
    ids: {ELSEWHERE}id/{{id}}
"""
        if api_properties:
            dataset += "    properties: {location: location, url: url}\n"
    return write_files(
        root,
        {
            "dataset.yaml": dataset,
            "organisations/organisations.yaml": HERE_ORGS,
            "places/places.csv": "id,name,sameAs\nnyc,New York City,\n"
            "nairobi,Nairobi,\ngeneva,Geneva,\n",
            "people/jane-doe.md": "---\nname: Jane Doe\n---\n\nA person.\n",
        },
    )


class Misbehaving:
    """A reconciliation service on 127.0.0.1 that misbehaves as told (`mode`):

    ok         answers every query with one candidate named like the query
    slow       answers the manifest, then never answers a query in time
    error      500 to every query
    flaky      503 to the first query request, then as ok
    malformed  200 with a body that is not JSON
    fail-after answers the first query request, then 500
    """

    def __init__(self, mode: str):
        self.mode = mode
        self.posts = 0
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: str | bytes, kind="application/json"):
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                manifest = {
                    "versions": ["0.2"],
                    "name": f"misbehaving ({outer.mode})",
                    "identifierSpace": "http://other.example.org/entity/",
                    "schemaSpace": "http://other.example.org/prop/",
                    "view": {"url": "http://other.example.org/entity/{{id}}"},
                    "batchSize": 1,
                }
                self._send(200, json.dumps(manifest))

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                outer.posts += 1
                mode = outer.mode
                if mode == "slow":
                    outer.release.wait(5)
                    return self._send(200, "{}")
                if mode == "error" or (mode == "fail-after" and outer.posts > 1):
                    return self._send(500, "Internal Server Error: the database is on fire")
                if mode == "flaky" and outer.posts == 1:
                    return self._send(503, "busy")
                if mode == "malformed":
                    return self._send(200, '{"q0": {"result": [')
                queries = json.loads(form["queries"][0])
                answer = {
                    key: {"result": [{"id": "X1", "name": q["query"], "score": 100, "match": True}]}
                    for key, q in queries.items()
                }
                self._send(200, json.dumps(answer))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Misbehaving:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
