"""A stand-in for WordPress's REST API on 127.0.0.1, for the faults a real site cannot be
made to show on demand (a 429, a 500, broken JSON, a timeout, a total that changes
between two pages): the collections `lod sync` reads, paged as WordPress pages them
(`X-WP-Total`, `X-WP-TotalPages`, `per_page`, `page`, `include`, `_fields`,
`modified_after`), and rules
that answer a request otherwise.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Rule:
    """Answer requests to `route` (and `page`, when given) with `status`, `headers` and
    `body` (bytes as they are, anything else as JSON), after `delay` seconds; `times`
    requests, or all (None). `then` runs instead, for a rule that changes the site and
    lets the request be answered as usual."""

    route: str
    status: int = 200
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int | None = None
    page: str | None = None
    then: Callable[[], None] | None = None

    def matches(self, route: str, query: dict) -> bool:
        if self.times == 0 or route != self.route:
            return False
        return self.page is None or query.get("page", ["1"])[0] == self.page


def post(ident: int) -> dict:
    day = f"2024-03-{ident % 28 + 1:02d}"
    return {
        "id": ident,
        "date": f"{day}T10:00:00",
        "date_gmt": f"{day}T09:00:00",
        "modified": f"{day}T10:00:00",
        "modified_gmt": f"{day}T09:00:00",
        "slug": f"post-{ident}",
        "status": "publish",
        "type": "post",
        "link": f"https://news.example.org/post-{ident}/",
        "guid": {"rendered": f"https://news.example.org/?p={ident}"},
        "title": {"rendered": f"Post {ident}"},
        "content": {"rendered": f"<p>Body of post {ident}.</p>\n", "protected": False},
        "excerpt": {"rendered": f"<p>Body of post {ident}.</p>\n", "protected": False},
        "author": 1,
        "featured_media": 0,
        "categories": [1],
        "tags": [],
        "_embedded": {"author": [{"id": 1, "name": "Ann Editor", "slug": "ann"}]},
    }


class FakeWordPress:
    """The stand-in: `url`, `posts` (change them), `rules` (added by `fault`),
    `requests` (each path asked, with its query)."""

    def __init__(self, count: int = 3, per_page: int | None = None):
        self.posts = [post(i) for i in range(1, count + 1)]
        self.categories = [{"id": 1, "name": "News", "slug": "news", "parent": 0}]
        self.users = [{"id": 1, "name": "Ann Editor", "slug": "ann"}]
        self.rules: list[Rule] = []
        self.requests: list[str] = []
        self.per_page = per_page  # the most a page holds, whatever is asked
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> FakeWordPress:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fault(self, route: str, **rule) -> Rule:
        made = Rule(route, **rule)
        self.rules.append(made)
        return made

    def answer(self, route: str, query: dict) -> tuple[int, dict[str, str], object]:
        """(status, headers, body) of a request as WordPress answers it."""
        if route == "":
            index = {
                "name": "Example News",
                "description": "News",
                "home": "https://news.example.org",
            }
            return 200, {}, {**index, "namespaces": ["wp/v2"]}
        collections = {
            "wp/v2/posts": self.posts,
            "wp/v2/categories": self.categories,
            "wp/v2/pages": [],
            "wp/v2/users": self.users,
            "wp/v2/tags": [],
            "wp/v2/media": [],
        }
        if route in collections:
            return _page(collections[route], query, self.per_page)
        head, _, ident = route.rpartition("/")
        if head == "wp/v2/posts" and ident.isdigit():
            found = [p for p in self.posts if p["id"] == int(ident)]
            if found:
                return 200, {}, found[0]
            return 404, {}, {"code": "rest_post_invalid_id", "message": "Invalid post ID."}
        return 404, {}, {"code": "rest_no_route", "message": "No route was found."}


def _page(items: list[dict], query: dict, most: int | None) -> tuple[int, dict, object]:
    if "modified_after" in query:  # site time, as WordPress compares it
        items = [item for item in items if item["modified"] > query["modified_after"][0]]
    if "include" in query:
        wanted = {int(i) for i in query["include"][0].split(",")}
        items = [item for item in items if item["id"] in wanted]
    per_page = min(int(query.get("per_page", ["10"])[0]), most or 100)
    page = int(query.get("page", ["1"])[0])
    pages = max(1, -(-len(items) // per_page))
    if page > pages:
        body = {"code": "rest_post_invalid_page_number", "message": "The page number is too large."}
        return 400, {}, body
    shown = items[(page - 1) * per_page : page * per_page]
    if "_fields" in query:
        keep = query["_fields"][0].split(",")
        shown = [{k: v for k, v in item.items() if k in keep} for item in shown]
    headers = {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(pages)}
    return 200, headers, shown


def _handler(fake: FakeWordPress):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            route = parts.path.removeprefix("/wp-json/").removeprefix("/wp-json").strip("/")
            if parts.path == "/" and "rest_route" in query:  # plain permalinks
                route = query.pop("rest_route")[0].strip("/")
            fake.requests.append(self.path)
            for rule in fake.rules:
                if rule.matches(route, query):
                    if rule.times is not None:
                        rule.times -= 1
                    if rule.then is not None:
                        rule.then()
                        break
                    time.sleep(rule.delay)
                    self._send(rule.status, rule.headers, rule.body)
                    return
            self._send(*fake.answer(route, query))

        def _send(self, status: int, headers: dict[str, str], body: object) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        def log_message(self, *args) -> None:
            pass

    return Handler
