"""One Settings object: defaults < data/dataset.yaml (read by the build) < environment (LOD_*).

The base IRI lives in data/dataset.yaml; LOD_BASE overrides it at build time, and the app
serves whatever base the current build was made with (it is in the build's manifest).

LOD_SPARQL_ENDPOINT switches the app from the embedded engine to a remote SPARQL store
(lod.remote); its credentials come from the environment only, and never appear in a repr.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHAPES_DIR = Path(__file__).resolve().parent / "shapes"  # package data: installed with lod


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def memory_mb() -> int:
    """The memory this process may use, in MB: the machine's, or its control group's limit
    (a container's) when that is lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        total = min(total, int(CGROUP_MEMORY_MAX.read_text()))
    except (OSError, ValueError):  # no limit ("max"), or no cgroup v2
        pass
    return total // (1024 * 1024)


CGROUP_MEMORY_MAX = Path("/sys/fs/cgroup/memory.max")
MEMORY_STORE_SHARE = 4  # query workers' copies of the store take at most 1/4 of the memory


VARIABLES = {  # Settings field -> the environment variable that sets it
    "data": "LOD_DATA",
    "out": "LOD_OUT",
    "base": "LOD_BASE",
    "query_timeout": "LOD_QUERY_TIMEOUT",
    "query_concurrency": "LOD_QUERY_CONCURRENCY",
    "query_memory_mb": "LOD_QUERY_MEMORY_MB",
    "query_memory_store_mb": "LOD_QUERY_MEMORY_STORE_MB",
    "cache_mb": "LOD_CACHE_MB",
    "result_cache_mb": "LOD_RESULT_CACHE_MB",
    "result_cache_entries": "LOD_RESULT_CACHE_ENTRIES",
    "result_cache_entry_kb": "LOD_RESULT_CACHE_ENTRY_KB",
    "max_body": "LOD_MAX_BODY",
    "host": "HOST",
    "port": "PORT",
    "sparql_endpoint": "LOD_SPARQL_ENDPOINT",
    "sparql_update": "LOD_SPARQL_UPDATE",
    "sparql_graph_store": "LOD_SPARQL_GRAPH_STORE",
    "sparql_user": "LOD_SPARQL_USER",
    "sparql_password": "LOD_SPARQL_PASSWORD",
    "wp_user": "LOD_WP_USER",
    "wp_password": "LOD_WP_PASSWORD",
    "trust_proxy": "LOD_TRUST_PROXY",
    "keep_state": "LOD_KEEP_STATE",
    "keep_in_background": "LOD_KEEP_IN_BACKGROUND",
    "build_memory_mb": "LOD_BUILD_MEMORY_MB",
}


@dataclass(frozen=True)
class Settings:
    data: Path = Path("data")
    out: Path = Path("dist")
    base: str | None = None
    shapes: Path = SHAPES_DIR
    query_timeout: float = 10.0
    query_concurrency: int = field(default_factory=_cpu_count)
    query_memory_mb: int = 1024
    query_memory_store_mb: int = -1  # a build this small is queried from memory; 0: never;
    # -1 (unset): each query worker's share of a quarter of the memory (__post_init__)
    cache_mb: int = 1024  # answers kept per build, all kinds (lod.serve.cache.Bounds); 0: none
    result_cache_mb: int = 256  # of which query answers, the oldest dropped first
    result_cache_entries: int = 10_000
    result_cache_entry_kb: int = 4096  # a larger query answer is not kept
    max_body: int = 1_048_576
    host: str = "127.0.0.1"
    port: int = 5000
    sparql_endpoint: str | None = None  # a remote store's query URL; None: embedded
    sparql_update: str | None = None  # its SPARQL Update URL (publishing)
    sparql_graph_store: str | None = None  # its Graph Store Protocol URL (publishing)
    sparql_user: str | None = None
    sparql_password: str | None = field(default=None, repr=False)
    wp_user: str | None = None  # `lod sync`: a WordPress user with an application password
    wp_password: str | None = field(default=None, repr=False)
    trust_proxy: int = 0  # proxies in front whose X-Forwarded-* headers are believed
    keep_state: int = 1  # builds keep their state for the next process (lod.make.state); 0: no
    keep_in_background: int = 1  # `lod build` leaves a snapshot to a detached process; 0: no
    build_memory_mb: int = 1024  # what a build's bounded steps may hold at once (lod.make)

    def __post_init__(self) -> None:
        if self.query_memory_store_mb < 0:  # in-memory copies answer scans 3-4 times faster
            share = memory_mb() // (MEMORY_STORE_SHARE * max(self.query_concurrency, 1))
            object.__setattr__(self, "query_memory_store_mb", share)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Defaults, then LOD_* (and HOST/PORT) from the environment, then explicit overrides."""
        env = os.environ if environ is None else environ
        names = VARIABLES
        types = {f.name: f.type for f in fields(cls)}
        values = {}
        for name, variable in names.items():
            if variable in env and env[variable] != "":
                values[name] = _coerce(types[name], env[variable], variable)
        settings = cls(**values)
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **given)


ZERO_OFF = {
    "LOD_CACHE_MB",
    "LOD_QUERY_MEMORY_STORE_MB",
    "LOD_KEEP_STATE",
    "LOD_KEEP_IN_BACKGROUND",
    "LOD_BUILD_MEMORY_MB",
}  # 0 turns these off


def _coerce(type_name: str, raw: str, variable: str):
    try:
        if type_name == "Path":
            return Path(raw)
        if type_name == "float":
            value = float(raw)
        elif type_name == "int":
            value = int(raw)
        else:
            return raw
    except ValueError:
        raise ConfigError(f"{variable}={raw!r} is not a number") from None
    if value < 0 or (value == 0 and variable not in ZERO_OFF):
        raise ConfigError(f"{variable}={raw!r} must be positive")
    return value


# What each variable means, for the settings reference (docs/settings.md); a default shown in
# words where the field's own default is computed or unset.
MEANINGS = {
    "LOD_DATA": (None, "the source folder"),
    "LOD_OUT": (
        None,
        "the output folder; `current` in it is the build served "
        "([the output folder](output-folder.md))",
    ),
    "LOD_BASE": (
        "`base` in `data/dataset.yaml`",
        "the base IRI of the dataset, ending with `/`; read at build time (the app serves the "
        "base its build was made with)",
    ),
    "LOD_QUERY_TIMEOUT": (None, "seconds a SPARQL query or a search may run; past it 503"),
    "LOD_QUERY_CONCURRENCY": (
        "the CPU count",
        "SPARQL queries and searches running at once per app process; past it 429",
    ),
    "LOD_QUERY_MEMORY_MB": (None, "the address-space limit of each query worker"),
    "LOD_QUERY_MEMORY_STORE_MB": (
        "a quarter of the memory ÷ `LOD_QUERY_CONCURRENCY`",
        "query workers copy the build's store into memory when it fits this (estimated at 640 "
        "bytes a triple: 512 MB holds about 800k triples, 10k articles, and 1.4 GB 100k "
        "articles); unset, each query worker's share of a quarter of the machine's memory, or "
        "of its container's limit (cgroup `memory.max`) when lower: 3 GB on 24 GB and 2 "
        "cores; `0`: always from the store on disk",
    ),
    "LOD_CACHE_MB": (
        None,
        "answers (documents, query results, query pages) kept per build in "
        "`dist/cache/serve/<build id>/serve.sqlite` (`serve-<hash>.sqlite` per remote store: "
        "engines may answer a query differently), shared by the app's processes, each answer "
        "once, headers and body; past it no more documents are added; `0`: no cache",
    ),
    "LOD_RESULT_CACHE_MB": (None, "of which query answers, the oldest dropped first"),
    "LOD_RESULT_CACHE_ENTRIES": (None, "query answers kept per build, the oldest dropped first"),
    "LOD_RESULT_CACHE_ENTRY_KB": (None, "a larger query answer is answered but not kept"),
    "LOD_MAX_BODY": (None, "the largest request body in bytes; past it 413"),
    "HOST": (None, "the interface `python app.py` and `lod serve` listen on"),
    "PORT": (None, "the port `python app.py` and `lod serve` listen on"),
    "LOD_SPARQL_ENDPOINT": (
        "unset: the embedded engine",
        "a SPARQL 1.1 store's query URL: the app reads from it ([Run on Virtuoso](virtuoso.md))",
    ),
    "LOD_SPARQL_UPDATE": (
        "`LOD_SPARQL_ENDPOINT`",
        "its SPARQL 1.1 Update URL (`lod publish`)",
    ),
    "LOD_SPARQL_GRAPH_STORE": (
        "unset",
        "its Graph Store Protocol URL (`lod publish` loads through it)",
    ),
    "LOD_SPARQL_USER": (
        "unset",
        "the account for the store, answered as it asks (Digest or Basic); environment only",
    ),
    "LOD_SPARQL_PASSWORD": ("unset", "its password; environment only, never shown"),
    "LOD_WP_USER": (
        "unset",
        "`lod sync`: the WordPress user to read the site as, for a site that wants one "
        "([Keep in step with WordPress](sync.md)); environment only",
    ),
    "LOD_WP_PASSWORD": (
        "unset",
        "that user's application password; environment only, sent over HTTPS only, never "
        "shown or written",
    ),
    "LOD_TRUST_PROXY": (
        "unset: trust none",
        "the number of reverse proxies in front of the app whose `X-Forwarded-For`, `-Proto`, "
        "`-Host`, `-Port` and `-Prefix` headers are believed ([Deploy](deploy.md))",
    ),
    "LOD_KEEP_STATE": (
        None,
        "each build keeps its state in `dist/cache/` so that the next `lod build` rebuilds "
        "only what changed ([Caching](caching.md)); `0`: nothing kept, every `lod build` is "
        "a full one (saves the disk space, and after a full build the snapshot's work in a "
        "detached process: 7 s and 2 GB at 100k articles, 85 s and 16.8 GB at a million, "
        "where reading it back takes 71 s of the next build's 107 s)",
    ),
    "LOD_KEEP_IN_BACKGROUND": (
        None,
        "`lod build` returns once its build is served and leaves the snapshot of its state, "
        "when one is due, to a detached process that holds the build lock until it is "
        "written; `0`: written before `lod build` returns (a container stopped when `lod "
        "build` exits)",
    ),
    "LOD_BUILD_MEMORY_MB": (
        None,
        "the memory a build's bounded steps may hold at once: the store is bulk-loaded in "
        "batches of N-Triples that fit it (Oxigraph's bulk loader holds 3.5 to 4.5 bytes per "
        "byte of N-Triples it is given, and a build's whole N-Triples at 100k articles are "
        "about 400 MB); the build's graph and the state it keeps still grow with the data "
        "([Scale](scale.md)); `0`: no bound (the store in one bulk load)",
    ),
}


def markdown() -> str:
    """The settings reference (docs/settings.md): every variable `Settings.from_env` reads,
    its default and its meaning."""
    defaults = {f.name: f.default for f in fields(Settings)}
    lines = [
        "<!-- Generated by `python -m lod.config > docs/settings.md` from lod/config.py;",
        "tests/test_docs.py fails when they differ. -->",
        "# Settings",
        "",
        "Environment variables override `data/dataset.yaml`, which overrides the defaults.",
        "An empty variable counts as unset; a number must be positive (`0` is allowed where",
        "the table says what it does). `lod` commands, `python app.py` and",
        "`lod.web:create_app()` read the same variables.",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name, variable in VARIABLES.items():
        shown, meaning = MEANINGS[variable]
        if shown is None:
            value = defaults[name]
            shown = f"`{int(value) if isinstance(value, float) and value.is_integer() else value}`"
        lines.append(f"| `{variable}` | {shown} | {meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
