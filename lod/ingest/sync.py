"""`lod sync URL`: keep data/ in step with a live WordPress site, through its REST API.

One sync, all or nothing:

1. data/ is locked (two syncs of one folder never overlap) and the site's state read
   (data/.sync/<site>.yaml, lod.ingest.syncfiles: what the last sync imported).
2. The site is read, nothing written yet: the API's index (the site, which becomes the
   publisher), every category (for parents), every id the site publishes with its
   `modified_gmt` (`_fields=id,modified_gmt`, paged), then the posts modified since the
   last sync (`modified_after`, `_embed`, paged until done), then by id (`include`) what
   the listing shows new or changed that those did not bring (a scheduled post gone live,
   an edit the mark missed), and the users, tags and media not embedded.
3. Each published post becomes records as `lod import --update` makes them (the same
   RawItem -> entities -> Writer path, so the same Markdown, slugs and update rules: the
   site's fields replaced, `about` merged, every other field added by hand kept); a post
   whose slug changed moves its file, the old slug added to `formerIds` (301).
4. A post the last sync imported that the site no longer lists (unpublished, made
   private, trashed, deleted) is asked for by id for its reason, and becomes an entry of
   data/gone.yaml with that reason and the date (410); its file is removed. A post
   published again gets its record back and its entry removed.
5. Records, removals, gone.yaml and the new state are committed together; any fault
   before (the network, the site, an invalid post) leaves data/ as it was, and the sync
   can simply run again.

Pages are synced too with `pages` (as documents). Credentials, when the site needs them,
are an application password given by the caller (the command reads LOD_WP_USER and
LOD_WP_PASSWORD); they are never written anywhere.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import ImportSourceError, SyncFailed
from ..make import sources
from ..make.permanence import GONE
from . import wpjson
from .common import Publisher, entities
from .model import Entity, Fault, Options, Site, Skipped, Tally
from .syncfiles import GoneList, Section, State, SyncWriter, locked
from .wpapi import Api, Credentials, Limits

__all__ = ["Report", "SyncOptions", "sync"]

SECTIONS = {"posts": "article", "pages": "document"}
BATCH = 100  # ids asked for in one request (`include`)
REASONS = 50  # posts gone from the site asked for one by one (their reason); the rest not
FIELDS = {
    "users": "id,name,slug",
    "tags": "id,name,slug",
    "media": "id,source_url,caption,alt_text",
}
WHY = {
    "trash": "trashed on {site}",
    "draft": "unpublished on {site} (a draft again)",
    "pending": "unpublished on {site} (pending review)",
    "future": "unpublished on {site} (scheduled)",
    "private": "made private on {site}",
}


@dataclass
class SyncOptions:
    pages: bool = False  # WordPress pages too, as documents
    publisher: str | None = None  # an organisation of the dataset, instead of the site
    dry_run: bool = False
    skip_invalid: bool = False  # a post that cannot become a record is listed, not fatal
    limits: Limits = field(default_factory=Limits)
    today: str = ""  # the date of gone entries (default: today, UTC)


@dataclass
class Report:
    site: str
    dry_run: bool
    new: list[str]
    changed: list[str]
    gone: list[str]
    renamed: list[tuple[str, str]]
    tally: Tally
    read: int  # posts (and pages) read
    requests: int  # HTTP requests made, retries included
    seconds: float
    notes: list[str] = field(default_factory=list)  # links to records taken out or moved

    def summary(self) -> str:
        """The one line a monitoring system reads."""
        line = (
            f"sync {self.site}: {len(self.new)} new, {len(self.changed)} changed, "
            f"{len(self.gone)} gone, {len(self.renamed)} renamed"
        )
        return line + (" (dry run: nothing written)" if self.dry_run else "")

    def lines(self, every: bool = False) -> list[str]:
        out = []
        if every:
            out += [f"new {ref}" for ref in self.new]
            out += [f"changed {ref}" for ref in self.changed]
            out += [f"renamed {old} -> {new}" for old, new in self.renamed]
            out += [f"gone {ref}" for ref in self.gone]
            others = [r for r in self.tally.created + self.tally.changed if r not in self.new]
            out += [f"wrote {ref}" for ref in others if ref not in self.changed]
            out.append(f"read {self.read} items in {self.requests} requests, {self.seconds:.1f} s")
        out += [str(skipped) for skipped in self.tally.skipped]
        out += [f"skipped as invalid: {error}" for error in self.tally.invalid]
        out += self.notes
        out.append(self.summary())
        return out


def sync(
    url: str,
    data: str | Path,
    *,
    credentials: Credentials | None = None,
    options: SyncOptions | None = None,
) -> Report:
    """Bring data/ in step with the WordPress site at `url`; SyncFailed (data/ unchanged)
    on any fault."""
    options = options or SyncOptions()
    try:
        api = Api(url, credentials=credentials, limits=options.limits)
    except ValueError as bad:
        raise SyncFailed(_shown(url), str(bad)) from None
    data = Path(data)
    created = not data.exists()
    started = time.monotonic()
    try:
        data.mkdir(parents=True, exist_ok=True)
        with locked(data, api.site):
            run = Run(api, data, options)
            run.run()
    except BaseException:
        _drop_if_empty(data, created)
        raise
    finally:
        api.close()
    if options.dry_run:
        _drop_if_empty(data, created)
    return run.report(time.monotonic() - started)


def _shown(url: str) -> str:
    """An address as a message may show it: without any user or password; not at all when
    it is no http(s) address (`user:password@host` parses as a scheme)."""
    parts = urlsplit(url or "")
    host = parts.netloc.rpartition("@")[2]
    if parts.scheme not in ("http", "https") or not host:
        return "(not an http(s) address)"
    return f"{parts.scheme}://{host}{parts.path}"


def _drop_if_empty(data: Path, created: bool) -> None:
    if created and data.is_dir() and not any(data.iterdir()):
        data.rmdir()


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _references(record) -> Iterator[tuple[str, int, str]]:
    """(field, line, `kind/slug`) of every text value of a record that reads as a ref."""
    for name, value in record.values.items():
        items = value if isinstance(value, list) else [value]
        for number, item in enumerate(items):
            if isinstance(item, str) and "/" in item and not item.startswith("http"):
                yield name, record.line_of(name, number if isinstance(value, list) else None), item


def _since(mark: str) -> str:
    """The `modified_after` for a mark: one second before it (WordPress's times have whole
    seconds, and `after` is strict: an edit in the mark's second is read again)."""
    try:
        moment = datetime.fromisoformat(mark)
    except ValueError:
        return ""
    return (moment - timedelta(seconds=1)).isoformat(timespec="seconds")


class Run:
    """One sync: read the site into a staged write, then commit it."""

    def __init__(self, api: Api, data: Path, options: SyncOptions):
        self.api, self.data, self.options = api, data, options
        self.writer = SyncWriter(data, update=True, dry_run=options.dry_run)
        self.lookups = wpjson.Lookups()
        self.errors: list[ImportSourceError] = []
        self.after: dict[str, Section] = {}
        self.gone: list[str] = []
        self.read = 0
        self.publisher = ""
        self.today = options.today or datetime.now(UTC).date().isoformat()
        self.state: State | None = None
        self.notes: list[str] = []
        self.gone_list: GoneList | None = None

    def run(self) -> None:
        try:
            self._site()
            self._categories()
            for name in ("posts", "pages") if self.options.pages else ("posts",):
                self._section(name)
            if self.errors:
                count = len(self.errors)
                raise SyncFailed(
                    self.api.site,
                    f"{count} post{'s' if count != 1 else ''} cannot become records "
                    "(--skip-invalid imports the others)",
                    self.errors,
                )
            self._finish()
            self.writer.finish()
            self.writer.commit()
        finally:
            self.writer.abort()

    def report(self, seconds: float) -> Report:
        body = {f"{kind}/" for kind in SECTIONS.values()}
        renamed = {new for _, new in self.writer.renamed}
        tally = self.writer.tally
        return Report(
            self.api.site,
            self.options.dry_run,
            [r for r in tally.created if r[: r.find("/") + 1] in body and r not in renamed],
            [r for r in tally.changed if r[: r.find("/") + 1] in body and r not in renamed],
            self.gone,
            self.writer.renamed,
            tally,
            self.read,
            self.api.made,
            seconds,
            self.notes,
        )

    # the site, its categories

    def _site(self) -> None:
        index = self.api.discover()
        self.state = State.load(self.data, self.api.site)
        self.gone_list = GoneList(self.data, self.api.site)
        self.writer.gone = set(self.gone_list.listed)
        publisher = Publisher(Options(publisher=self.options.publisher))
        for event in publisher.site(wpjson.site(index)):
            if isinstance(event, Site):
                self.writer.found_site(event)
            else:
                self.writer.add(event)
        self.publisher = publisher.slug or ""

    def _categories(self) -> None:
        fields = {"_fields": "id,name,slug,parent"}
        for page in self.api.pages("wp/v2/categories", fields):
            for category in page:
                if isinstance(category, dict) and isinstance(category.get("id"), int):
                    self.lookups.categories[category["id"]] = category

    # one collection: posts or pages

    def _section(self, name: str) -> None:
        route = f"wp/v2/{name}"
        before = self.state.section(name)
        self.after[name] = Section(before.mark, dict(before.records), dict(before.gone))
        listed = self._listing(route)
        fetched: set[int] = set()
        params = {"_embed": wpjson.EMBED}
        if _since(before.mark):
            params["modified_after"] = _since(before.mark)
        for page in self.api.pages(route, params):
            self._take(name, page, fetched)
        unread = [
            ident
            for ident, modified in listed.items()
            if ident not in fetched and before.records.get(ident, ("", ""))[1] != modified
        ]
        for chunk in _chunks(unread):
            query = {"_embed": wpjson.EMBED, "include": ",".join(map(str, chunk))}
            for page in self.api.pages(route, query):
                self._take(name, page, fetched)
        vanished = [i for i in before.records if i not in listed and i not in fetched]
        self._vanished(name, route, vanished)

    def _listing(self, route: str) -> dict[int, str]:
        """Every id the site publishes, with its modified_gmt."""
        listed = {}
        for page in self.api.pages(route, {"_fields": "id,modified_gmt"}):
            for entry in page:
                if isinstance(entry, dict) and isinstance(entry.get("id"), int):
                    listed[entry["id"]] = str(entry.get("modified_gmt") or "")
        return listed

    def _take(self, name: str, posts: list, fetched: set[int]) -> None:
        """A page of posts: what they name looked up, then each made into records."""
        posts = [post for post in posts if isinstance(post, dict)]
        for post in posts:
            if not isinstance(post.get("id"), int):
                raise self.api.fail(f"wp/v2/{name}: an item without an id")
            self.lookups.absorb(post)
        self._look_up(posts)
        for post in posts:
            fetched.add(post["id"])
            self.read += 1
            self._post(name, post)

    def _look_up(self, posts: list[dict]) -> None:
        """Users, tags and media the posts name but did not embed, by id; one the site
        will not show (a user it hides) is left out of the records."""
        for endpoint, ids in self.lookups.missing(posts).items():
            for chunk in _chunks(ids):
                query = {"include": ",".join(map(str, chunk)), "per_page": BATCH}
                query["_fields"] = FIELDS[endpoint]
                answer = self.api.get(f"wp/v2/{endpoint}", query, allow=(400, 401, 403, 404))
                if answer.status < 400 and isinstance(answer.data, list):
                    self.lookups.add(endpoint, answer.data)

    def _post(self, name: str, post: dict) -> None:
        ident, after = post["id"], self.after[name]
        reason = wpjson.unpublished(post)
        if reason:
            if ident in after.records:
                self._declare_gone(name, ident, f"{reason} on {self.api.site}")
            else:
                label = wpjson.text_of(post.get("link")) or f"#{ident}"
                self.writer.tally.skipped.append(Skipped(self.api.site, label, reason))
            return
        kind = SECTIONS[name]
        item = wpjson.item(
            post, self.lookups, file=self.api.url(f"wp/v2/{name}/{ident}"), kind=kind
        )
        previous = after.records.get(ident, ("", ""))[0] or after.gone.get(ident, "")
        for event in entities(item, self.publisher, Options()):
            if isinstance(event, Fault):
                self._fault(event)
            elif isinstance(event, Entity):
                self._add(name, ident, post, event, previous)

    def _fault(self, event: Fault) -> None:
        if self.options.skip_invalid:
            self.writer.tally.invalid.append(event.error)
        else:
            self.errors.append(event.error)

    def _add(self, name: str, ident: int, post: dict, entity: Entity, previous: str) -> None:
        if entity.kind != SECTIONS[name]:
            self.writer.add(entity)  # its author, topics
            return
        after = self.after[name]
        if previous:
            self.writer.expect(entity.identity, previous)
        self.writer.add(entity)
        after.records[ident] = (entity.ref, str(post.get("modified_gmt") or ""))
        modified = wpjson.text_of(post.get("modified"))
        after.mark = max(after.mark, modified)
        if after.gone.get(ident) == entity.ref:  # published again under its old id
            self.gone_list.revive(after.gone.pop(ident))

    # what the site no longer publishes

    def _vanished(self, name: str, route: str, idents: list[int]) -> None:
        """Posts the listing lacks: those still published (a listing that moved under
        the sync) kept, the others declared gone, each with its reason."""
        if not idents:
            return
        still: set[int] = set()
        for chunk in _chunks(idents):
            query = {"include": ",".join(map(str, chunk)), "_fields": "id"}
            for page in self.api.pages(route, query):
                still.update(entry.get("id") for entry in page if isinstance(entry, dict))
        for number, ident in enumerate(i for i in idents if i not in still):
            reason = (
                self._reason(route, ident)
                if number < REASONS
                else f"no longer published on {self.api.site}"
            )
            if reason:
                self._declare_gone(name, ident, reason)

    def _reason(self, route: str, ident: int) -> str:
        """Why the site no longer publishes a post, as far as it tells ('' when it does
        publish it after all)."""
        site = self.api.site
        answer = self.api.get(
            f"{route}/{ident}", {"_fields": "id,status,content"}, allow=(401, 403, 404, 410)
        )
        if answer.status in (404, 410):
            return f"deleted from {site}"
        if answer.status in (401, 403) or not isinstance(answer.data, dict):
            return f"no longer public on {site}"
        status = wpjson.text_of(answer.data.get("status"))
        if status == "publish":
            why = wpjson.unpublished(answer.data)
            return f"{why} on {site}" if why else ""
        return WHY.get(status, "unpublished on {site} (" + status + ")").format(site=site)

    def _declare_gone(self, name: str, ident: int, reason: str) -> None:
        after = self.after[name]
        ref, _ = after.records.pop(ident)
        path = self.writer.file_of(ref)
        if path is None or not path.is_file():
            return  # taken out of data/ by hand already
        self.writer.remove(path)
        self.gone_list.add(ref, reason, self.today)
        self.gone.append(ref)
        after.gone[ident] = ref

    # the end

    def _dangling(self) -> list[str]:
        """Links that records of data/ (added by hand) make to a record this sync took
        out or moved: the build refuses them, so they are named."""
        moved = {old: new for old, new in self.writer.renamed}
        if not self.gone and not moved:
            return []
        removed = {str(path) for path in self.writer.removals}
        notes = []
        for record in sources.load(self.data).records:
            if record.file in removed:
                continue
            for name, line, ref in _references(record):
                if ref in moved:
                    notes.append(f"{record.file}:{line}: {name}: {ref} is now {moved[ref]}")
                elif ref in self.gone:
                    notes.append(f"{record.file}:{line}: {name}: {ref} is gone: remove the link")
        return notes

    def _finish(self) -> None:
        self.notes = self._dangling()
        for name, section in self.after.items():
            self.state.sections[name] = section
        if self.gone_list.changed:
            self.writer.stage_file(GONE, self.gone_list.text)
        text = self.state.text()
        if text != self.state.original:
            self.writer.stage_file(str(self.state.path.relative_to(self.data)), text)
