"""What can go wrong, as types that carry what a user needs to act on it.

    LodError
    ├── SourceError            one fault in data/: file, line, field, message, hint
    │   ├── UnknownReference   a `kind/slug` that names no record
    │   └── ImportSourceError  one fault in a source being imported: file, item, field
    ├── ImportFailed           every ImportSourceError of one import; data/ left unchanged
    ├── BuildFailed            every SourceError of one build, reported together
    ├── PublishError           the build could not be written (disk, permissions)
    ├── NoBuild                nothing has been built yet where a build is needed
    ├── NotPublished           the SPARQL store serves no build yet, or one not in the build folder
    ├── ConfigError            a setting (LOD_*) that cannot be used
    └── QueryError             a SPARQL request the endpoint will not answer (has .status)
        ├── QuerySyntaxError   400: the parser's message
        ├── QueryRefused       400: update, LOAD, SERVICE, FROM <outside>
        ├── QueryTimeout       503: stopped at the time limit
        ├── QueryTooLarge      503: the worker ran out of its memory budget
        ├── TooManyQueries     429: the concurrency bound is reached (has .retry_after)
        ├── StoreUnavailable   503: the engine cannot be reached (has .retry_after)
        └── EngineError        502 (400 when the engine calls the query bad): its message

Non-conformance found by SHACL is data (`lod.validate.Report`); it becomes a BuildFailed only
when a violation blocks the build.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class LodError(Exception):
    """Base of every error `lod` reports to a user rather than as a traceback."""


@dataclass(eq=True)
class SourceError(LodError):
    file: str
    line: int
    field: str
    message: str
    hint: str = ""

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}:{field} {self.message}{hint}"

    def sort_key(self) -> tuple[str, int, str]:
        return (self.file, self.line, self.field)


class UnknownReference(SourceError):
    """A reference to a record that does not exist."""


@dataclass(eq=True)
class ImportSourceError(SourceError):
    """A fault in a feed, CMS export, page or CSV being imported (`lod import`): the file,
    the item (its GUID, link or position) and the field."""

    item: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        item = f" item {self.item}:" if self.item else ""
        field = f" {self.field}:" if self.field else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}:{item}{field} {self.message}{hint}"


class ImportFailed(LodError):
    """An import that wrote nothing: its faults, reported together."""

    def __init__(self, errors: list[SourceError], reason: str = ""):
        self.errors = list(errors)
        count = len(self.errors)
        tail = reason or f"{count} error{'s' if count != 1 else ''}"
        super().__init__(f"{tail}; nothing was imported (data/ is unchanged)")

    def __str__(self) -> str:
        return "\n".join([*map(str, self.errors), self.args[0]])


class BuildFailed(LodError):
    def __init__(self, errors: list[SourceError]):
        self.errors = sorted(errors, key=SourceError.sort_key)
        count = len(self.errors)
        super().__init__(f"{count} error{'s' if count != 1 else ''}; nothing was published")

    def __str__(self) -> str:
        return "\n".join([*map(str, self.errors), self.args[0]])


class PublishError(LodError):
    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot write the build to {self.path}: {reason}")


class NoBuild(LodError):
    def __init__(self, out: Path | str):
        super().__init__(f"no build in {out}: run `lod build` first")


class NotPublished(LodError):
    """The remote store names no build, or one this machine's build folder lacks."""


class ConfigError(LodError):
    """A setting from the environment that cannot be used."""


class QueryError(LodError):
    status = 400
    title = "Bad query"

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class QuerySyntaxError(QueryError):
    title = "Malformed query"


class QueryRefused(QueryError):
    title = "Query refused"


class QueryTimeout(QueryError):
    status = 503
    title = "Query timed out"


class QueryTooLarge(QueryError):
    status = 503
    title = "Query used too much memory"


class TooManyQueries(QueryError):
    status = 429
    title = "Too many queries"

    def __init__(self, message: str, retry_after: int = 1):
        self.retry_after = retry_after
        super().__init__(message)


class StoreUnavailable(QueryError):
    status = 503
    title = "Store unavailable"

    def __init__(self, message: str, retry_after: int = 5):
        self.retry_after = retry_after
        super().__init__(message)


class EngineError(QueryError):
    """The remote SPARQL store answered with an error: 400 when it calls the query bad (its
    own parser or limits), 502 when it failed."""

    title = "Store error"

    def __init__(self, message: str, status: int = 502):
        self.status = status
        super().__init__(message)
