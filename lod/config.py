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
    trust_proxy: int = 0  # proxies in front whose X-Forwarded-* headers are believed
    keep_state: int = 1  # builds keep their state for the next process (lod.make.state); 0: no
    keep_in_background: int = 1  # `lod build` leaves a snapshot to a detached process; 0: no

    def __post_init__(self) -> None:
        if self.query_memory_store_mb < 0:  # in-memory copies answer scans 3-4 times faster
            share = memory_mb() // (MEMORY_STORE_SHARE * max(self.query_concurrency, 1))
            object.__setattr__(self, "query_memory_store_mb", share)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Defaults, then LOD_* (and HOST/PORT) from the environment, then explicit overrides."""
        env = os.environ if environ is None else environ
        names = {
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
            "trust_proxy": "LOD_TRUST_PROXY",
            "keep_state": "LOD_KEEP_STATE",
            "keep_in_background": "LOD_KEEP_IN_BACKGROUND",
        }
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
