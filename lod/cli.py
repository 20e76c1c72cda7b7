"""The `lod` command: flags onto library calls; a LodError becomes its message and exit 1.

Exit status: 0 ok, 1 invalid input or failed build, 2 usage (click's own).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
import orjson

from .build import Builder, upload, validated
from .build import build as build_once
from .build.steps import mark_published
from .config import Settings
from .errors import BuildFailed, ConfigError, LodError
from .folder import Build, open_build
from .formats import Format, ResultFormat
from .remote import SparqlClient
from .serve.guard import precheck
from .serve.pool import QueryService
from .serve.store import EmbeddedStore

QUERY_FORMATS = [
    "table",
    *(f.extension for f in ResultFormat),
    *(f.extension for f in Format.rdf()),
]


class _Progress:
    """Each phase on stderr with the time it took, printed when the next one starts (and the
    last by `done`); silent when not `enabled`."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.phase: str | None = None
        self.started = time.perf_counter()

    def __call__(self, phase: str) -> None:
        self.done()
        self.phase, self.started = phase, time.perf_counter()

    def done(self) -> None:
        if self.enabled and self.phase is not None:
            took = time.perf_counter() - self.started
            click.echo(f"  {self.phase}: {took:.2f} s", err=True)
        self.phase = None


def _progress(enabled: bool) -> _Progress:
    return _Progress(enabled)


def _settings(data: str | None, out: str | None) -> Settings:
    return Settings.from_env(data=Path(data) if data else None, out=Path(out) if out else None)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lod")
def cli() -> None:
    """Publish news content (data/) as Linked Open Data."""


@cli.command()
@click.option("--data", help="Source folder [LOD_DATA, default data].")
@click.option("--out", help="Build folder; dist/current is served [LOD_OUT, default dist].")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show phases on stderr (default: when stderr is a terminal).",
)
@click.option(
    "--publish",
    "then_publish",
    is_flag=True,
    help="Then load it into the SPARQL store and serve it from there (as `lod publish`).",
)
@click.option(
    "--watch",
    is_flag=True,
    help="Then stay up and build again whenever data/ changes, re-doing only what changed.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="With --watch: seconds between two looks at data/.",
)
@click.option(
    "--allow-removals",
    is_flag=True,
    help="Let published IRIs disappear (a deliberate clean start); says which were dropped.",
)
def build(data, out, progress, then_publish, watch, interval, allow_removals) -> None:
    """Convert, validate and write a new build, then switch dist/current to it."""
    settings = _settings(data, out)
    client = _client(settings) if then_publish else None  # a missing setting fails first
    show = sys.stderr.isatty() if progress is None else progress
    progress = _progress(show)
    if not watch:
        make = lambda: build_once(settings, progress, allow_removals)  # noqa: E731
        _built(settings, client, make, show, progress)
        return
    builder = Builder(settings, progress, allow_removals=allow_removals)
    watching = (
        f"watching {Path(settings.data)}/ for changes (every {interval:g} s; shapes/ is not "
        "watched; Ctrl-C to stop)"
    )
    while True:
        try:
            if builder.changed():
                _built(settings, client, builder.build, show, progress)
                click.echo(watching, err=True)
        except (LodError, OSError) as exc:  # a bad edit, a file gone mid-build: say, go on
            click.echo(f"error: {exc}\n(the last good build is still served)", err=True)
            click.echo(watching, err=True)
        time.sleep(interval)


def _built(
    settings: Settings,
    client,
    make: Callable[[], Build],
    show: bool,
    progress: _Progress | None = None,
) -> None:
    started = time.perf_counter()
    try:
        result = make()
    finally:
        if progress is not None:
            progress.done()
    for line in summarise(result.warnings, Path(result.path) / "validation.txt"):
        click.echo(line, err=True)
    if result.removed:
        click.echo(
            f"removed {len(result.removed)} published IRIs (--allow-removals): "
            + ", ".join(result.removed),
            err=True,
        )
    manifest = result.manifest
    click.echo(
        f"build {result.id}: {manifest['triples']} triples, "
        f"{sum(manifest['counts'].values())} resources, {manifest['warnings']} warnings "
        f"-> {Path(settings.out) / 'current'} in {time.perf_counter() - started:.2f} s"
    )
    if client is not None:
        _publish(settings, client, result, show)


@cli.command("publish")
@click.argument("build_id", required=False)
@click.option("--out", help="Build folder [LOD_OUT, default dist].")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show phases on stderr (default: when stderr is a terminal).",
)
def publish_command(build_id, out, progress) -> None:
    """Load a build (dist/current, or BUILD_ID of dist/builds/) into the SPARQL store
    (LOD_SPARQL_ENDPOINT, LOD_SPARQL_UPDATE, LOD_SPARQL_GRAPH_STORE) and switch the
    app to it; a build still in the store (a roll-back) is switched to at once."""
    settings = _settings(None, out)
    client = _client(settings)
    result = open_build(settings.out, build_id)
    show = sys.stderr.isatty() if progress is None else progress
    _publish(settings, client, result, show)


def _client(settings: Settings) -> SparqlClient:
    client = SparqlClient.from_settings(settings)
    if client is None:
        raise ConfigError(
            "publishing needs a SPARQL store: set LOD_SPARQL_ENDPOINT, LOD_SPARQL_UPDATE and "
            "LOD_SPARQL_GRAPH_STORE (and LOD_SPARQL_USER, LOD_SPARQL_PASSWORD)"
        )
    return client


EXAMPLES = 3  # warnings shown per message


def summarise(warnings, report: Path) -> list[str]:
    """Warnings grouped by message: each with its count and a few places (a build of 100k
    articles has thousands); the full list is in the build's validation.txt."""
    groups: dict[str, list] = {}
    for warning in warnings:
        groups.setdefault(f"{warning.field}: {warning.message}", []).append(warning)
    lines = []
    for message, found in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
        lines.append(f"warning: {message} ({len(found)}×)")
        lines += [f"  {w.file}:{w.line}" for w in found[:EXAMPLES]]
        if len(found) > EXAMPLES:
            lines.append(f"  … and {len(found) - EXAMPLES} more")
    if groups:
        lines.append(f"all {len(warnings)} warnings: {report}")
    return lines


def _publish(settings: Settings, client: SparqlClient, result: Build, show: bool):
    progress = _progress(show)
    try:
        done = upload.publish(result, client, progress)
    finally:
        progress.done()
    mark_published(settings.out, result)
    action = "loaded" if done.loaded else "switched to" if done.switched else "already serving"
    dropped = len(done.dropped)
    click.echo(
        f"published {result.id}: {action} <{done.graph}> at {client.where} in "
        f"{done.seconds:.1f} s; {dropped} old graph{'s' if dropped != 1 else ''} dropped"
    )


@cli.command()
@click.option("--data", help="Source folder [LOD_DATA, default data].")
@click.option(
    "--engine",
    type=click.Choice(["native", "pyshacl"]),
    default="native",
    show_default=True,
    help="SHACL engine: lod's own, or pyshacl (the reference: slower, same report).",
)
def validate(data, engine) -> None:
    """Convert and validate only: report every problem, exit 1 on errors."""
    try:
        checked = validated(_settings(data, None), engine=engine)
    except BuildFailed as failed:  # as `lod build` says it, but validating publishes nothing
        count = len(failed.errors)
        lines = [*map(str, failed.errors), f"{count} error{'s' if count != 1 else ''}"]
        click.echo("error: " + "\n".join(lines), err=True)
        sys.exit(1)
    click.echo(checked.report.text(), nl=False)


@cli.command()
@click.option("--host", help="Interface to listen on [HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="Port [PORT, default 5000].")
@click.option("--data", help="Source folder, built when no build exists [LOD_DATA].")
@click.option("--out", help="Build folder to serve [LOD_OUT].")
def serve(host, port, data, out) -> None:
    """Serve dist/current (building data/ first if there is no build)."""
    from .web import create_app  # Flask only where it is needed

    settings = Settings.from_env(
        host=host, port=port, data=Path(data) if data else None, out=Path(out) if out else None
    )
    if not (Path(settings.out) / "current").exists():
        build_once(settings)
    app = create_app(settings)
    app.run(host=settings.host, port=settings.port, threaded=True)


@cli.command()
@click.argument("sparql")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(QUERY_FORMATS),
    default="table",
    show_default=True,
    help="Results: table, json, xml, csv, tsv; graphs: ttl, jsonld, nt, rdf.",
)
@click.option("--out", help="Build folder [LOD_OUT, default dist].")
def query(sparql, fmt, out) -> None:
    """Run a SPARQL query on the current build; `-` reads it from stdin. The query is checked
    and limited as /sparql does (read-only, LOD_QUERY_TIMEOUT, LOD_QUERY_MEMORY_MB)."""
    if sparql == "-":
        sparql = sys.stdin.read()
    settings = _settings(None, out)
    store = EmbeddedStore(open_build(settings.out).store_path)
    form = precheck(sparql)
    graph_form = form in ("CONSTRUCT", "DESCRIBE")
    results = ResultFormat.JSON if fmt == "table" else ResultFormat.__members__.get(fmt.upper())
    graph = Format.from_extension(fmt) if graph_form else None
    if fmt != "table" and (graph_form and graph is None or not graph_form and results is None):
        fits = (
            [f.extension for f in Format.rdf()]
            if graph_form
            else [f.extension for f in ResultFormat]
        )
        raise click.UsageError(
            f"--format {fmt} does not fit a {form} query; use table or one of: " + ", ".join(fits)
        )
    with QueryService(settings.query_timeout, 1, settings.query_memory_mb) as service:
        answer = service.run(
            store,
            sparql,
            accept_results=results or ResultFormat.JSON,
            accept_graph=graph or Format.TURTLE,
        )
    if fmt == "table" and not graph_form:
        click.echo(_table(orjson.loads(answer.body), sparql), nl=False)
    else:
        click.echo(answer.body.decode("utf-8"), nl=False)


@cli.command("check")
@click.argument("url")
@click.option(
    "--timeout",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds to wait for each answer.",
)
def check_command(url, timeout) -> None:
    """Audit a running deployment at URL as a Linked Data client; exit 1 if a check fails."""
    from urllib.parse import urlsplit

    from .link import audit  # requests only where it is needed

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"`{url}` is not an http(s) URL", param_hint="URL")
    results = []
    for result in audit.audit(url, timeout):
        results.append(result)
        click.echo(result.line())
    click.echo(audit.summary(results))
    if not all(r.ok for r in results):
        sys.exit(1)


SELECT_ALL = re.compile(r"\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?\*", re.IGNORECASE)
VARIABLE = re.compile(r"[?$]([A-Za-z0-9_]+)")


def _table(results: dict, sparql: str = "") -> str:
    """SPARQL JSON results as an aligned table (an ASK as yes or no); the columns of a
    `SELECT *` in the order the query first names its variables."""
    if "boolean" in results:
        return f"{'yes' if results['boolean'] else 'no'}\n"
    names = results["head"]["vars"]
    if SELECT_ALL.search(sparql):
        where = sparql[SELECT_ALL.search(sparql).end() :]
        first = {name: i for i, name in enumerate(dict.fromkeys(VARIABLE.findall(where)))}
        names = sorted(names, key=lambda n: first.get(n, len(first)))
    rows = [
        [row.get(n, {}).get("value", "") for n in names] for row in results["results"]["bindings"]
    ]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"


def main() -> None:
    try:
        # without standalone mode, ctx.exit(n) comes back as the return value
        status = cli.main(standalone_mode=False)
        sys.exit(status if isinstance(status, int) else 0)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as usage:
        usage.show()
        sys.exit(usage.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except LodError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
