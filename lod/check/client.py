"""HTTP for `lod check`: one session, a timeout on every request, the dataset's IRIs
fetched from the checked URL; a server that does not answer, or answers other than
expected, is a `Failed` check in words for the report, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import requests

USER_AGENT = "lod-check/0.1 (+https://github.com/lod)"


class Failed(Exception):
    """What a check found wrong, in words for the report."""


class Unreachable(Failed):
    """The server did not answer at all."""


@dataclass
class Client:
    """HTTP for the checks: one session, a timeout on every request, IRIs under the
    dataset's base fetched from the checked root."""

    root: str
    timeout: float
    base: str | None = None
    session: requests.Session = field(default_factory=requests.Session)

    def local(self, iri: str) -> str:
        """Where an IRI of the data is fetched: under the base, from the checked root.

        >>> Client("http://127.0.0.1:5000", 10, "https://lod.example.org/").local(
        ...     "https://lod.example.org/id/article/x")
        'http://127.0.0.1:5000/id/article/x'
        """
        if self.base and iri.startswith(self.base):
            return f"{self.root}/{iri[len(self.base) :]}"
        return iri

    def show(self, url: str) -> str:
        """A URL as the report names it: its path when it is on the checked root."""
        if url.startswith(self.root + "/"):
            return url[len(self.root) :]
        return url

    def get(self, url: str, accept: str | None = None, **options) -> requests.Response:
        headers = {"User-Agent": USER_AGENT, **options.pop("headers", {})}
        if accept:
            headers["Accept"] = accept
        options.setdefault("allow_redirects", False)
        try:
            return self.session.get(url, headers=headers, timeout=self.timeout, **options)
        except requests.Timeout:
            raise Unreachable(f"no answer from {url} within {self.timeout:g} s") from None
        except requests.ConnectionError as exc:
            raise Unreachable(f"cannot connect to {url} ({_reason(exc)})") from None
        except requests.RequestException as exc:
            raise Failed(f"{url}: {exc}") from None


def expect(response: requests.Response, status: int) -> None:
    """Failed, naming the request and its answer, unless the answer has this status."""
    if response.status_code != status:
        raise Failed(
            f"{response.request.method} {response.url} answered {response.status_code} "
            f"{response.reason}, expected {status}"
        )


def media_type(response: requests.Response) -> str:
    """The answer's media type, without parameters, in lower case ("" without one)."""
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def _reason(exc: requests.ConnectionError) -> str:
    """Why a connection failed, in the words of the usual causes, not urllib3's chain of
    wrapped exceptions."""
    text = str(exc)
    for known in (
        "Connection refused",
        "Name or service not known",
        "No route to host",
        "Temporary failure in name resolution",
        "certificate verify failed",
        "Connection reset by peer",
        "Network is unreachable",
    ):
        if known.lower() in text.lower():
            return known.lower()
    return short(text)


def short(text: str, limit: int = 200) -> str:
    """A text on one line, cut at `limit` characters (an error can quote a whole page)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
