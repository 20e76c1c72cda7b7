"""The `lod` command: flags onto library calls; a LodError becomes its message and exit 1.

Exit status: 0 ok, 1 invalid input or failed build, 2 usage (click's own).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import click
import orjson

from .config import Settings
from .errors import BuildFailed, ConfigError, LodError
from .formats import Format, ResultFormat
from .layout import VALIDATION_TEXT, Build, Output, open_build
from .make import Builder, validated
from .make import build as build_once
from .make.watching import Watch
from .publish import remote as upload
from .publish.local import mark_published
from .remote import SparqlClient
from .serve.guard import read
from .serve.pool import QueryService
from .serve.store import EmbeddedStore
from .vocab import KINDS

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


data_option = click.option("--data", help="Source folder [LOD_DATA, default data].")
out_option = click.option("--out", help="Build folder [LOD_OUT, default dist].")


class _Commands(click.Group):
    """The commands: a LodError from any of them becomes `error: …` on stderr and exit
    status 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LodError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(1)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lod")
def cli() -> None:
    """Publish news content (data/) as Linked Open Data."""


@cli.command()
@data_option
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
    help="Then stay up and build again whenever data/ changes, re-doing only what changed "
    "(told of changes by the system: inotify, FSEvents, ReadDirectoryChangesW).",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="With --watch: seconds between two looks at what changed in data/ (the files the "
    "system names; every file where it names none).",
)
@click.option(
    "--allow-removals",
    is_flag=True,
    help="Let published IRIs disappear (a deliberate clean start); says which were dropped.",
)
@click.option(
    "--trial",
    is_flag=True,
    help="A build to try things: served as usual, but its IRIs do not become permanent "
    "(published IRIs are still checked).",
)
def build(data, out, progress, then_publish, watch, interval, allow_removals, trial) -> None:
    """Convert, validate and write a new build, then switch dist/current to it. Its IRIs
    become permanent (dist/ledger/) unless --trial."""
    if trial and then_publish:
        raise click.UsageError("--trial builds are not published: leave out one of them")
    settings = _settings(data, out)
    client = _client(settings) if then_publish else None  # a missing setting fails first
    show = sys.stderr.isatty() if progress is None else progress
    progress = _progress(show)
    builder = Builder(settings, progress, allow_removals=allow_removals, trial=trial)
    if not watch:
        _built(settings, client, partial(_build_and_keep, builder, settings), show, progress)
        left = click.get_current_context().obj
        if builder.shared_with_writer and isinstance(left, list):
            left.append(builder)  # for main to exit without freeing it
        return
    watch = Watch(Path(settings.data))  # before the first build: no change is missed
    told = "as the system tells" if watch.observer is not None else "looking at every file"
    watching = (
        f"watching {Path(settings.data)}/ for changes ({told}, every {interval:g} s; "
        "lod/shapes/ is not watched; Ctrl-C to stop)"
    )
    # Stopped (Ctrl-C, or SIGTERM from a service manager), it keeps the last build's state
    # for the next `lod build` (lod.make.state).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        while True:
            try:
                paths = watch.take()
                if builder.changed(paths):
                    _built(settings, client, partial(builder.build, paths), show, progress)
                    click.echo(watching, err=True)
            except (LodError, OSError) as exc:  # a bad edit, a file gone mid-build: say, go on
                click.echo(f"error: {exc}\n(the last good build is still served)", err=True)
                click.echo(watching, err=True)
            time.sleep(interval)
    finally:
        watch.close()
        if settings.keep_state:
            click.echo("keeping the last build's state for the next `lod build`", err=True)
        builder.save()
        progress.done()


def _build_and_keep(builder: Builder, settings: Settings) -> Build:
    """A build, its state kept for the next `lod build`: a snapshot in the background. Why
    a kept state was not used is said (the build is then a full one)."""
    built = builder.build()
    if builder.ignored:
        click.echo(f"a full build: {builder.ignored}", err=True)
    builder.save(in_background=bool(settings.keep_in_background))
    return built


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
    for line in summarise(result.warnings, Path(result.path) / VALIDATION_TEXT):
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
        f"-> {Output(settings.out).current} in {time.perf_counter() - started:.2f} s"
        + (" (trial: its IRIs are not permanent)" if result.trial else "")
    )
    if client is not None:
        _publish(settings, client, result, show)


@cli.command("publish")
@click.argument("build_id", required=False)
@out_option
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
    mark_published(Output(settings.out), result)
    action = "loaded" if done.loaded else "switched to" if done.switched else "already serving"
    dropped = len(done.dropped)
    click.echo(
        f"published {result.id}: {action} <{done.graph}> at {client.where} in "
        f"{done.seconds:.1f} s; {dropped} old graph{'s' if dropped != 1 else ''} dropped"
    )


@cli.command()
@data_option
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
    if not Output(settings.out).current.exists():
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
@out_option
def query(sparql, fmt, out) -> None:
    """Run a SPARQL query on the current build; `-` reads it from stdin. The query is checked
    and limited as /sparql does (read-only, LOD_QUERY_TIMEOUT, LOD_QUERY_MEMORY_MB)."""
    if sparql == "-":
        sparql = sys.stdin.read()
    settings = _settings(None, out)
    store = EmbeddedStore(open_build(settings.out).store_path)
    asked = read(sparql)
    offered = {f.extension: f for f in asked.formats}
    if fmt == "table":
        chosen = Format.TURTLE if asked.is_graph else ResultFormat.JSON
    elif fmt in offered:
        chosen = offered[fmt]
    else:
        raise click.UsageError(
            f"--format {fmt} does not fit a {asked.form} query; use table or one of: "
            + ", ".join(offered)
        )
    with QueryService(settings.query_timeout, 1, settings.query_memory_mb) as service:
        answer = service.run(store, asked, chosen)
    if fmt == "table" and not asked.is_graph:
        click.echo(_table(orjson.loads(answer.body), sparql), nl=False)
    else:
        click.echo(answer.body.decode("utf-8"), nl=False)


@cli.command("search")
@click.argument("text", metavar="QUERY")
@click.option("--kind", type=click.Choice(list(KINDS)), help="Only records of this kind.")
@click.option(
    "--lang", metavar="TAG", help="The reader's language (BCP 47): records in it come first."
)
@click.option("--language", metavar="TAG", help="Only records whose text in this language matches.")
@click.option(
    "--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="Results shown."
)
@click.option("--json", "as_json", is_flag=True, help="The results as JSON.")
@out_option
def search_command(text, kind, lang, language, limit, as_json, out) -> None:
    """Full-text search of the current build, in every language: words (all required), "a
    phrase", pre*, -word to leave out; best first."""
    from .serve.search import SearchIndex

    settings = _settings(None, out)
    index = SearchIndex(open_build(settings.out).path)
    found = index.search(
        text, {"kind": kind or "", "language": language or ""}, page_size=limit, language=lang
    )
    if as_json:
        hits = [hit.as_json() for hit in found.hits]
        click.echo(orjson.dumps({"query": found.query, "total": found.total, "results": hits}))
        return
    several = len(index.languages) > 1  # then each result says its language
    for hit in found.hits:
        line = hit.as_json()
        date = f"  {line['date'][:10]}" if line["date"] else ""
        shown = f"  [{line['language']}]" if several else ""
        click.echo(f"{line['kind']:<12} {line['title']}{date}{shown}\n             {line['iri']}")
        click.echo(f"             {line['snippet']}")
    click.echo(f"({len(found.hits)} of {found.total})")


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

    from .check import audit  # requests only where it is needed

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


@cli.command("init")
@click.argument("folder", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", help="The dataset's title [asked; default: the folder's name].")
@click.option(
    "--base",
    help="Base IRI every record is published under, ending in / "
    "(https://data.example.org/) [asked].",
)
@click.option("--publisher", help="The publishing organisation's name [asked].")
@click.option("--publisher-url", help="Its web site.")
@click.option("--language", help="Language of the content, BCP 47 [asked; default en].")
@click.option("--license", "license_", help="Licence IRI [default: Creative Commons BY 4.0].")
def init_command(folder, title, base, publisher, publisher_url, language, license_) -> None:
    """Start a dataset of one's own in FOLDER (default: here): data/ with the dataset, its
    publisher and a first article, EDITING.md for editors, a .gitignore. It builds at once;
    what is not given as an option is asked for on a terminal."""
    from .errors import BadAnswer
    from .ingest.starter import LICENSE, Answers, start

    given = {
        "title": title,
        "base": base,
        "publisher": publisher,
        "publisher_url": publisher_url,
        "language": language,
        "license": license_,
    }
    defaults = {
        "title": folder.resolve().name.replace("-", " ").strip() or "News",
        "language": "en",
        "license": LICENSE,
    }
    asked = ("title", "base", "publisher", "language")
    interactive = sys.stdin.isatty()
    for name in asked:
        if given[name] is None and interactive:
            given[name] = click.prompt(name.capitalize(), default=defaults.get(name))
    missing = [f"--{name}" for name in ("base", "publisher") if given[name] is None]
    if missing:
        raise click.UsageError(f"{' and '.join(missing)} needed (or run it on a terminal)")
    answers = {k: v if v is not None else defaults.get(k) for k, v in given.items()}
    try:
        written = start(folder, Answers(**answers))
    except BadAnswer as bad:
        raise click.BadParameter(
            f"{bad.message}" + (f" ({bad.hint})" if bad.hint else ""),
            param_hint=f"--{bad.field.replace('_', '-')}",
        ) from None
    for path in written:
        click.echo(f"created {path}")
    where = "" if folder == Path(".") else f"cd {folder} && "
    click.echo(f"next: {where}lod build --trial && lod serve   (then open http://127.0.0.1:5000/)")


@cli.command("import")
@click.argument("sources", nargs=-1, required=True)
@click.option("--data", help="Folder to write into [LOD_DATA, default data].")
@click.option(
    "--dry-run", is_flag=True, help="Print what would be created or changed; write nothing."
)
@click.option(
    "--update", is_flag=True, help="Re-import changed items in place, keeping fields added by hand."
)
@click.option(
    "--skip-invalid", is_flag=True, help="Import the other items when some are invalid; list them."
)
@click.option("--pages", is_flag=True, help="WordPress: import pages too, as documents.")
@click.option(
    "--publisher", help="Publish the articles under this organisation (its id) instead of the site."
)
@click.option(
    "--verbose", "-v", is_flag=True, help="List every file created or changed, every item skipped."
)
def import_command(sources, data, dry_run, update, skip_invalid, pages, publisher, verbose):
    """Import feeds (RSS, Atom, JSON Feed), WordPress exports, web pages with schema.org, or a
    CSV of articles into data/ files, all or nothing."""
    from .ingest import Options, import_sources

    settings = _settings(data, None)
    report = import_sources(
        list(sources),
        settings.data,
        update=update,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        options=Options(pages=pages, publisher=publisher),
    )
    for line in report.lines(every=dry_run or verbose):
        click.echo(line)


@cli.command("sync")
@click.argument("url")
@click.option("--data", help="Folder to keep in step [LOD_DATA, default data].")
@click.option("--pages", is_flag=True, help="Pages too, as documents.")
@click.option(
    "--publisher", help="Publish the articles under this organisation (its id) instead of the site."
)
@click.option(
    "--dry-run", is_flag=True, help="Read the site and say what would change; write nothing."
)
@click.option(
    "--skip-invalid", is_flag=True, help="Sync the other posts when some are invalid; list them."
)
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
    help="Seconds to wait for each answer.",
)  # fmt: skip
@click.option(
    "--retries", type=click.IntRange(0, 10), default=4, show_default=True,
    help="Tries again after a timeout, 429 or 5xx (with back-off, honouring Retry-After).",
)  # fmt: skip
@click.option("--verbose", "-v", is_flag=True, help="List every record written, moved or gone.")
def sync_command(url, data, pages, publisher, dry_run, skip_invalid, timeout, retries, verbose):
    """Keep data/ in step with a live WordPress site (its REST API): new and edited posts
    become articles, unpublished or deleted ones entries of gone.yaml (410), a changed slug
    a `formerIds` (301). Only what changed since the last sync is read (data/.sync/ keeps
    where it got to). All or nothing; the last line sums it up
    (`sync URL: 3 new, 1 changed, 1 gone, 0 renamed`). Credentials, when the site needs
    them: an application password in LOD_WP_USER and LOD_WP_PASSWORD."""
    from .ingest.sync import SyncOptions, sync
    from .ingest.wpapi import Limits, credentials

    if not verbose:  # urllib3 says each retry on stderr; the one line that matters is ours
        logging.getLogger("urllib3").setLevel(logging.ERROR)
    settings = _settings(data, None)
    try:
        given = credentials(settings.wp_user, settings.wp_password)
    except ValueError as bad:
        raise ConfigError(str(bad)) from None
    options = SyncOptions(
        pages=pages,
        publisher=publisher,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        limits=Limits(timeout=timeout, retries=retries),
    )
    report = sync(url, settings.data, credentials=given, options=options)
    for line in report.lines(every=dry_run or verbose):
        click.echo(line)


@cli.group("link")
def link_group() -> None:
    """Propose and apply links between records and other graphs."""


@link_group.command("sameas")
@click.option(
    "--service",
    "service_url",
    required=True,
    help="A reconciliation service: its manifest URL, or its label in dataset.yaml's linkServices.",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(list(KINDS)),
    help="Kinds of record to link (repeatable) [default: organisation person place event topic].",
)
@click.option(
    "--review",
    default="sameas-review.yaml",
    show_default=True,
    help="The review file to write (YAML; edit its decisions, then `lod link apply` it); "
    "one there already is merged into: its decisions and comments are kept.",
)
@click.option(
    "--write",
    is_flag=True,
    help="Also write the review's accepted links into data/ (as `lod link apply`): those "
    "accepted automatically, and those accepted in a review merged into.",
)
@data_option
@click.option("--out", help="Build folder; answers are cached in its cache/link/ [LOD_OUT].")
@click.option(
    "--rate",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="Requests a second, at most.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.01),
    default=10.0,
    show_default=True,
    help="Seconds to wait for each answer.",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Retries of a request that timed out or failed (back-off 1 s, doubling).",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1, max=100),
    default=10,
    show_default=True,
    help="Queries a request (never more than the manifest's batchSize).",
)
@click.option(
    "--api",
    type=click.Choice(["0.2", "1.0"]),
    default=None,
    help="The API version to speak [default: 0.2 when the manifest offers it].",
)
@click.option("--no-cache", is_flag=True, help="Ask the service again, ignoring cached answers.")
def link_sameas(
    service_url, kinds, review, write, data, out, rate, timeout, retries, batch, api, no_cache
) -> None:
    """Propose sameAs links from a reconciliation service (Wikidata's, another lod …) for
    the records without one; write them to a review file, or merge them into the one there
    (its decisions and comments kept; one that cannot be merged is refused, untouched).
    Exit 1 when the service failed (what it answered is kept in the review file)."""
    from .link.matching import DEFAULT_KINDS, dataset_services, propose
    from .link.review import apply, check_review, write_review
    from .link.service import Client, find_service, service_from_manifest

    settings = _settings(data, out)
    services = dataset_services(settings.data)
    named = find_service(services, service_url)
    url = named.manifest if named else service_url
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(
            f"`{service_url}` is neither a URL nor a label in dataset.yaml's linkServices",
            param_hint="--service",
        )
    cache = None if no_cache else Output(settings.out).link_cache
    client = Client(
        url, timeout=timeout, retries=retries, rate=rate, cache=cache, version=api, batch=batch
    )
    service = named or service_from_manifest(url, client)
    check_review(review, service)  # a review there that cannot be merged: before asking
    run = propose(settings.data, service, client, kinds or DEFAULT_KINDS, settings.base)
    written = write_review(review, service, url, run, settings.data)
    candidates = sum(len(p.candidates) for p in run.proposals)
    click.echo(
        f"{run.asked} records asked, {len(run.proposals)} with candidates ({candidates} in all, "
        f"{run.accepted} accepted automatically); {written.summary()}"
    )
    if write:
        applied = apply(review, settings.data)
        click.echo(f"{len(applied.added)} sameAs links written into {settings.data}")
    for error in run.errors:
        click.echo(f"error: {error}", err=True)
    if run.unanswered:
        click.echo(f"error: {len(run.unanswered)} records were not answered", err=True)
    if run.errors:
        sys.exit(1)


@link_group.command("apply")
@click.argument("review")
@data_option
def link_apply(review, data) -> None:
    """Write the accepted links of a REVIEW file into data/ (only the lines they go on
    change); remember the rejected ones in data/.links/sameas-rejected.yaml."""
    from .link.review import apply

    settings = _settings(data, None)
    applied = apply(review, settings.data)
    for record, iri, file in applied.added:
        click.echo(f"{file}: {record} sameAs {iri}")
    click.echo(
        f"{len(applied.added)} links written, {applied.rejected} rejected (remembered), "
        f"{applied.undecided} undecided"
    )


@cli.group("export")
def export_group() -> None:
    """Write the data in formats other systems import."""


@export_group.command("mixnmatch")
@data_option
@click.option("--out", "target", help="File to write [default: standard output].")
def export_mixnmatch(data, target) -> None:
    """The Mix'n'match catalogue (TSV: id, name, description, type, url) of the
    organisations, people, places, events and topics, for Wikidata."""
    from .link.mixnmatch import export

    settings = _settings(data, None)
    tsv = export(settings.data, settings.base)
    if target:
        Path(target).write_bytes(tsv)
    else:
        sys.stdout.buffer.write(tsv)
        sys.stdout.flush()


@link_group.command("mentions")
@data_option
@click.option("--write", is_flag=True, help="Add the proposals to the articles' front matter.")
@click.option(
    "--article", "articles", multiple=True, help="Only this article (its id); repeatable."
)
def link_mentions(data, write, articles) -> None:
    """Find the names of known records in articles; propose `mentions` (and `about` for
    names in the headline) as a review list, or write them with --write."""
    from .link import mentions

    settings = _settings(data, None)
    only = {a if a.startswith("article/") else f"article/{a}" for a in articles} or None
    proposals = mentions.propose(settings.data, only)
    for line in mentions.review(proposals):
        click.echo(line)
    if write:
        changed = mentions.write(proposals)
        click.echo(f"wrote {changed} file{'s' if changed != 1 else ''}")


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
    """The `lod` program. A build whose state a detached snapshot writer shares (lod build)
    is left unfreed as the process exits: freeing millions of objects writes to each page,
    which copies it first (4.6 s and gigabytes at 100k articles), for memory the exit
    returns anyway. Run in-process (click's test runner), the command frees it as usual."""
    left_to_writer: list[Builder] = []
    try:
        cli(obj=left_to_writer)
    except SystemExit as leaving:
        if left_to_writer:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(leaving.code if isinstance(leaving.code, int) else 0)
        raise


def reference() -> str:
    """The command-line reference (docs/cli.md): every command and option of `lod`, from their
    click definitions.

        python -m lod.cli > docs/cli.md

    tests/test_docs.py fails when docs/cli.md differs."""
    lines = [
        "<!-- Generated by `python -m lod.cli > docs/cli.md` from the click definitions in",
        "lod/cli.py; tests/test_docs.py fails when they differ. -->",
        "# Command line",
        "",
        "`lod --version` names the version; `lod COMMAND --help` (or `-h`) says what this page",
        "says of a command; `python -m lod` is the same program.",
        "Exit status: 0 ok, 1 invalid input or a failed build (one line, `error: …`, never a",
        "traceback), 2 a usage error. Options in brackets name the setting they default to",
        "([Settings](settings.md)).",
        "",
    ]
    root = click.Context(cli, info_name="lod")
    commands = list(_commands(cli))
    lines += [f"- [`{name}`](#{name.replace(' ', '-')})" for name, _ in commands]
    lines.append("")
    for name, command in commands:
        context = click.Context(command, info_name=name, parent=root)
        usage = " ".join(command.collect_usage_pieces(context))
        lines += [f"## {name}", "", "```", f"{name} {usage}".rstrip(), "```", ""]
        lines += [" ".join(command.help.split()) if command.help else "", ""]
        rows = [_option_row(p, context) for p in command.get_params(context)]
        rows = [row for row in rows if row]
        if rows:
            lines += ["| option | value | default | meaning |", "|---|---|---|---|", *rows, ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _commands(group: click.Group, prefix: str = "lod"):
    """Each command of `group` with its full name (`lod link sameas`), in the order of
    definition, groups opened."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


def _option_row(param: click.Parameter, context: click.Context) -> str | None:
    """An option as a table row (arguments are in the usage line, --help in the intro)."""
    if not isinstance(param, click.Option) or "--help" in param.opts:
        return None
    names = ", ".join(f"`{o}`" for o in param.opts)
    names += "".join(f" / `{o}`" for o in param.secondary_opts)
    if param.is_flag and not param.secondary_opts:
        value = "flag"
    elif isinstance(param.type, click.Choice):
        value = " \\| ".join(f"`{c}`" for c in param.type.choices)
    elif isinstance(param.type, click.IntRange | click.FloatRange):
        low, high = param.type.min, param.type.max
        span = f"{low} to {high}" if high is not None else f"{low} or more"
        value = f"{param.type.name.split()[0]}, {span}"
    else:
        value = param.type.name.lower()
    if param.multiple:
        value += ", repeatable"
    default = param.get_default(context, call=False)
    given = isinstance(default, str | int | float) and not isinstance(default, bool)
    shown = f"`{default}`" if given else ""  # not unset, a flag's off, nor computed
    meaning = " ".join((param.help or "").split()).replace("|", "\\|")
    return f"| {names} | {value} | {shown} | {meaning} |"


if __name__ == "__main__":
    print(reference(), end="")
