"""What can go wrong, as types that carry what a user needs to act on it.

    LodError
    ├── SourceError            one fault in data/: file, line, field, message, hint
    │   ├── UnknownReference   a `kind/slug` that names no record
    │   └── ImportSourceError  one fault in a source being imported: file, item, field
    ├── ImportFailed           every ImportSourceError of one import; data/ left unchanged
    ├── SyncFailed             a `lod sync` that wrote nothing: the site, what went wrong
    ├── BuildFailed            every SourceError of one build, reported together
    ├── PublishError           the build could not be written (disk, permissions)
    ├── NoBuild                nothing has been built yet where a build is needed
    ├── NotPublished           the SPARQL store serves no build yet, or one not in the build folder
    ├── ConfigError            a setting (LOD_*) that cannot be used
    └── QueryError             a SPARQL request the endpoint will not answer
        ├── QuerySyntaxError   the parser's message
        ├── QueryRefused       update, LOAD, SERVICE, FROM <outside>
        ├── BadSearch          a full-text search that cannot be read
        ├── QueryTimeout       stopped at the time limit
        ├── QueryTooLarge      the worker ran out of its memory budget, or results too large
        ├── TooManyQueries     the concurrency bound is reached (has .retry_after)
        ├── StoreUnavailable   the engine cannot be reached (has .retry_after)
        └── EngineError        the remote store failed: its message
            └── EngineRefusedQuery  the remote store called the query bad

No error here knows HTTP: lod.web.errors maps each type to a status, in one table.

Non-conformance found by SHACL is data (`lod.make.validate.Report`); it becomes a BuildFailed only
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


class SyncFailed(LodError):
    """A `lod sync` that wrote nothing: the source, and what went wrong on one line (the
    site's fault, the network's, or the items' faults listed before it)."""

    def __init__(self, source: str, reason: str, errors: list[SourceError] | None = None):
        self.source, self.reason, self.errors = source, reason, list(errors or [])
        super().__init__(f"sync {source}: {reason}; nothing was written (data/ is unchanged)")

    def __str__(self) -> str:
        return "\n".join([*map(str, self.errors), self.args[0]])


class BuildFailed(LodError):
    """A build that published nothing: every error found, causes first (a file that could
    not be read, a field that is wrong), then references to records that are not there,
    which are often their consequences (the record's own file could not be read)."""

    def __init__(self, errors: list[SourceError]):
        self.errors = sorted(errors, key=lambda e: (isinstance(e, UnknownReference), e.sort_key()))
        count = len(self.errors)
        super().__init__(f"{count} error{'s' if count != 1 else ''}; nothing was published")

    def __str__(self) -> str:
        return "\n".join([*map(str, self.errors), self.args[0]])


class PublishError(LodError):
    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot write the build to {self.path}: {reason}")


class HelperFailed(LodError):
    """A helper process (lod.make.apart) that failed its work: it ended (out of memory,
    killed) or answered what cannot be read."""

    def __init__(self, function: str, why: str):
        self.function, self.why = function, why
        super().__init__(f"a helper process running {function} failed: {why}")


class NoBuild(LodError):
    def __init__(self, out: Path | str):
        super().__init__(f"no build in {out}: run `lod build` first")


class TrialNotPublished(LodError):
    """A trial build (`lod build --trial`) asked to be published: its IRIs are not in the
    ledger, so publishing it would let them disappear unnoticed later."""

    def __init__(self, build_id: str):
        self.build_id = build_id
        super().__init__(
            f"build {build_id} is a trial (lod build --trial): its IRIs are not permanent, so "
            "it is not published; build without --trial, then publish"
        )


class NotPublished(LodError):
    """The remote store names no build, or one this machine's build folder lacks."""


class InitRefused(LodError):
    """`lod init` into a folder that already holds some of the files it would write."""

    def __init__(self, folder: Path | str, taken: list[str]):
        self.folder, self.taken = str(folder), taken
        shown = ", ".join(taken[:5]) + (f" and {len(taken) - 5} more" if len(taken) > 5 else "")
        super().__init__(
            f"{self.folder} already holds {shown}: nothing written (choose a new folder)"
        )


class BadAnswer(LodError):
    """A value given to `lod init` that the build would refuse."""

    def __init__(self, field: str, message: str, hint: str = ""):
        self.field, self.message, self.hint = field, message, hint
        super().__init__(f"{field}: {message}" + (f" ({hint})" if hint else ""))


class ConfigError(LodError):
    """A setting from the environment that cannot be used."""


class QueryError(LodError):
    """A SPARQL request the endpoint will not answer; `message` says why, for the user."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class QuerySyntaxError(QueryError):
    """The parser's message."""


class BadSearch(QueryError):
    """A full-text search that cannot be read (too long, nothing to look for)."""


class QueryRefused(QueryError):
    """An update, LOAD, SERVICE, FROM <outside>: what this read-only endpoint never runs."""


class QueryTimeout(QueryError):
    """Stopped at the time limit."""


class QueryTooLarge(QueryError):
    """The query's worker ran out of its memory budget, or its results past the cap."""


class TooManyQueries(QueryError):
    """The concurrency bound is reached; try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int = 1):
        self.retry_after = retry_after
        super().__init__(message)


class StoreUnavailable(QueryError):
    """The engine cannot be reached now; try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int = 5):
        self.retry_after = retry_after
        super().__init__(message)


class EngineError(QueryError):
    """The remote SPARQL store answered with an error of its own."""


class EngineRefusedQuery(EngineError):
    """The remote SPARQL store called the query bad (its parser or its limits)."""
