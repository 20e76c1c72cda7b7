"""The one build path: `build()` for `lod build`, and a Builder that stays up between builds
(`lod build --watch`) to re-do only what changed.

A build from scratch reads every file, converts and validates every record, and writes
every dump and the whole store: two minutes and a half at 100k articles, almost all of it
the same as last time. A Builder keeps what the last good build made (the sources, the
graph (as its dump's N-Triples lines, in a file, each subject's read back into terms when
asked for: a full build lets go of its terms as it writes them), the validation findings,
the dump parts, the store; its first build takes it from the last process, see
lod.make.state) and, when data/ changes:

- reads again only the files whose time, size or inode changed;
- converts again the records of those files: the graph loses the triples they made and
  gains the new ones (each triple has one maker: a record makes triples about itself, its
  hash nodes and data document, and the inverse of the links it declares, which no kind
  declares from the other side; the tests check it), and the VoID description is made
  again;
- validates again the nodes whose triples changed and the nodes they link to;
- re-serialises and compresses the dump parts those nodes fall in, and makes the store as
  a checkpoint of the last one (hard links) with the same changes applied.

What it cannot do that way (dataset.yaml changed, a record removed or renamed, shapes that
pyshacl runs) it does in full, reading again only the files that changed. A rebuild that
fails on the data changes nothing, on disk or in the Builder; one that fails writing the
build (a full disk) leaves the last build served and makes the next build a full one. The
tests check that a rebuild writes what a fresh build of the same data writes, byte for
byte.
"""

from __future__ import annotations

import copy
import gc
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import pyoxigraph
from rdflib import URIRef
from rdflib.term import Node

from ..config import Settings
from ..errors import BuildFailed, PublishError, SourceError
from ..layout import Build, Output
from ..publish.local import lock
from ..triples import Triples, to_oxigraph
from ..vocab import mint
from . import permanence
from .answers import Answers
from .changes import Hashed
from .convert import Conversion, contribution, index_records, subjects
from .convert.values import slug
from .forked import detached
from .listings import Listings
from .parts import Blocks, Lines, Members, Part
from .permanence import GONE
from .shacl import Finding, evaluate, follows_links
from .sources import Found, Record, assemble, files, read, refreshed
from .state import (
    MAX_STEPS,
    State,
    StateIgnored,
    Step,
    forget_racy,
    load_state,
    name_files_as,
    save_state,
    save_step,
)
from .steps import (
    Progress,
    Validated,
    dataset_file,
    load_store,
    output,
    validated,
    write,
)
from .validate import plan, report
from .void import describe


@contextmanager
def _young_collections_only() -> Iterator[None]:
    """No full collection of the heap while a build runs, only of the young generations.

    A full build makes millions of objects that live on, and the collector scans the
    whole heap each time it has grown by a quarter: 22 full collections and 12 s of a
    100k-article build, which found a few dozen objects (a build makes no garbage cycles of
    any size). Young collections still free the short-lived cycles."""
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], NO_FULL_COLLECTION)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


NO_FULL_COLLECTION = 1 << 30  # young collections before a full one: never, in a build

Before = dict[Node, frozenset]  # subjects' (predicate, object) pairs before a change


def build(
    settings: Settings,
    progress: Progress = lambda _: None,
    allow_removals: bool = False,
    trial: bool = False,
) -> Build:
    """A new build from settings.data, switched to as dist/current when complete
    (`allow_removals`: published IRIs may disappear; `trial`: its IRIs do not become
    permanent; see lod.make.permanence)."""
    builder = Builder(settings, progress, allow_removals=allow_removals, trial=trial)
    built = builder.build()
    builder.save()
    return built


class Builder:
    """Builds data/ again and again, each time from what the last good build left: kept
    in memory, or (the first time) as the last process left it in dist/cache/ (see
    lod.make.state)."""

    def __init__(
        self,
        settings: Settings,
        progress: Progress = lambda _: None,
        allow_removals: bool = False,
        trial: bool = False,
    ):
        self.settings = settings
        self.allow_removals = allow_removals
        self.trial = trial
        self.progress = progress
        self.state: State | None = None
        self.loaded = False  # whether the state on disk was looked for
        # The builds made since the state on disk (None: that state is not an ancestor of
        # self.state: the next save writes a snapshot), the steps on disk after its
        # snapshot, and the build they lead to.
        self.journal: list[Step] | None = None
        self.on_disk: tuple[int, str] = (0, "")
        self.tried: Found | None = None  # data/ as the last build (good or not) found it
        self.tried_faults = False  # whether that look found faults (files not sources)
        # the files the system named since the last good build (None: not known, every
        # file's stamp is compared)
        self.told: set[str] | None = None
        # Whether a detached writer shares this process's pages of the state (save): then
        # freeing the state would copy every page first (4 s at 100k articles).
        self.shared_with_writer = False
        self.gone_tried: tuple | None = None  # data/gone.yaml's stamp then
        self.ignored: str | None = None  # why the state on disk was not used, if it was not
        # the last build's check of its IRIs, and what it was checked against then
        self.iris: tuple[tuple, permanence.Permanence] | None = None

    def changed(self, paths: Iterable[str] | None = None) -> bool:
        """Whether data/ (data/gone.yaml included) changed since the last build was tried
        (`paths`: the files that may have, as the operating system said; else every file
        is looked at)."""
        data = Path(self.settings.data)
        if paths is not None and not paths and self.tried is not None and not self.tried_faults:
            return False  # the system said nothing changed (data/gone.yaml included)
        looked = self._look(paths, [])
        return looked != self.tried or permanence.stamp(data / GONE) != self.gone_tried

    def _look(self, paths: Iterable[str] | None, errors: list[SourceError]) -> Found:
        """data/'s source files: those of the last build tried with `paths` looked at
        again, or (no paths, a last look that found faults, a path that is not a source
        file) every file, as `files` does."""
        if paths is not None and self.tried is not None and not self.tried_faults:
            found = refreshed(self.tried, Path(self.settings.data), paths)
            if found is not None:
                return found
        return files(Path(self.settings.data), errors)

    def build(self, paths: Iterable[str] | None = None) -> Build:
        """A new build of data/, by the shortest way from the last one (`paths`: the files
        changed since the last build was tried, if the operating system said which:
        lod.make.watching)."""
        with _young_collections_only():
            out = output(self.settings)
            with lock(out):
                if not self.loaded and self.settings.keep_state:
                    self.progress("resume")
                    self.loaded = True
                    self._resume()
                errors: list[SourceError] = []
                scanned = time.time_ns()
                found = self.tried = self._look(paths, errors)
                self.tried_faults = bool(errors)
                self.gone_tried = permanence.stamp(Path(self.settings.data) / GONE)
                told = self.told = None if paths is None or self.told is None else self.told
                if told is not None:
                    told.update(paths)
                state = self.state
                self.progress("load")
                changed = _changed(found, state, told)
                by_file = _read(found, state, changed, errors)
                try:
                    if state is None or not self._incremental(found, state):
                        self.state = self._full(out, found, scanned, by_file, errors, state)
                    else:
                        self.state = self._rebuild(
                            out, found, scanned, by_file, errors, state, changed
                        )
                    self.told = set()  # a good build: the files named from here on
                finally:
                    # What the Builder keeps is millions of objects that live on: frozen, out of
                    # the collector's way.
                    gc.collect(1)
                    gc.freeze()
                return self.state.build

    def save(self, in_background: bool = False) -> None:
        """Keep the last good build's state on disk for the next process's first build: as
        the steps made since the state on disk, or as a new snapshot.

        In the background (what `lod build` does, about to exit): the steps are written
        first, even past MAX_STEPS, then a snapshot that is due is written by a detached
        process, as `git gc --auto` does, which holds the build lock until it is done (the
        next build waits for it). The command returns once its build is served, not 10 s
        later at 100k articles; should the snapshot never be written (the process
        killed), the next process replays the steps, one more than usual. The caller
        should then exit without freeing the state (see shared_with_writer)."""
        if self.state is None or self.journal == [] or not self.settings.keep_state:
            return
        with lock(output(self.settings)):
            self.progress("keep")
            written, last = self._save_steps(in_background)
            # a snapshot is due when the steps do not reach this build, or are too many
            due = last != self.state.build.id or written > MAX_STEPS
            if due and in_background and self._save_detached():
                return
            if due and save_state(self.settings, self.state):
                written, last = 0, self.state.build.id
            self.journal = [] if last == self.state.build.id else None
            self.on_disk = (written, last)

    def _save_steps(self, in_background: bool) -> tuple[int, str]:
        """The journal's steps written after those on disk, in order until one is not
        (those after it could not be replayed): (the steps on disk, the build the last
        made). None are written without a journal (what is on disk is no ancestor of this
        build), nor, in the foreground, past MAX_STEPS (the steps a next process replays at
        most: a snapshot is written instead)."""
        written, last = self.on_disk
        if self.journal is None or (not in_background and written + len(self.journal) > MAX_STEPS):
            return written, last
        for step in self.journal:
            if not save_step(self.settings, written + 1, step, last):
                break
            written, last = written + 1, step.build.id
        return written, last

    def _save_detached(self) -> bool:
        """The snapshot handed to a detached process, which holds the build lock until it
        is done; whether one could be started. Once it is, what is on disk is unknown here
        (written or not), and the state is shared with the writer."""
        if not detached(partial(save_state, self.settings, self.state)):
            return False
        self.journal, self.on_disk = None, (0, "")
        self.shared_with_writer = True
        return True

    def _resume(self) -> None:
        """Take the state the last process left on disk (its snapshot and steps replayed),
        if it is there, intact and for this build."""
        try:
            kept = load_state(self.settings)
        except StateIgnored as reason:
            self.ignored = (
                f"the state kept in {Output(self.settings.out).cache}/ was not used: {reason}"
            )
            return
        if kept is None:
            return
        state, steps = kept
        dataset = dataset_file(self.settings)
        name_files_as(state, dataset)
        try:
            for step in steps:
                name_files_as(step, dataset)
                state = self._replay(state, step)
        except (BuildFailed, OSError) as error:  # the lines' file, a source gone: in full
            self.ignored = f"a step of the state kept could not be replayed ({error})"
            return
        if steps:  # the dump's parts and their hashes once, for the last step only (the
            # next build compresses the parts that are new since the snapshot)
            state.hashed.follow(state.blocks.parts(), state.build.id)
        forget_racy(state)
        self.state, self.journal, self.on_disk = state, [], (len(steps), state.build.id)

    def _incremental(self, found: Found, state: State) -> bool:
        dataset = str(Path(self.settings.data) / "dataset.yaml")
        return (
            found.get(dataset) == state.found.get(dataset)
            and plan(Path(self.settings.shapes)).pyshacl is None
        )

    def _full(
        self, out: Output, found: Found, scanned: int, by_file, errors, state: State | None
    ) -> State:
        """A build of every record; what it made kept for the next build."""
        self.journal = None  # what is on disk is no longer an ancestor
        sources = assemble(found, by_file, errors)
        checked = validated(self.settings, self.progress, sources)
        self.progress("ntriples")
        graph, records = checked.graph.by_subject, checked.conversion.records
        listings, answers = Listings(), Answers()

        def made(subject: Node, pairs: set) -> None:
            """A subject's block made: its pairs listed, counted, and let go of (the
            listings grow as the graph shrinks, not on top of it)."""
            answers.add(subject, pairs)
            if subject in records:
                listings.add(subject, pairs, checked.conversion)
            graph[subject] = None

        spill = self._spill(out)
        try:
            blocks = Blocks.of(checked.graph, spill, made)
        except OSError as exc:  # the lines' file could not be written (a full disk)
            if spill is not None:
                spill.discard()
            raise PublishError(exc.filename or out.cache, exc.strerror or str(exc)) from None
        # what reads the graph from here on reads it once (the search index) or a few
        # subjects at a time (the next builds): from the blocks' lines
        checked.read_back(list(graph), blocks.lines)
        graph.clear()  # its keys, until the build's end
        parts = blocks.parts()
        members = state.members if state else Members()
        hashed = state.hashed if state else Hashed()
        kept = self._permanence(out, checked.conversion)
        fill = partial(load_store, memory_mb=self.settings.build_memory_mb)
        kept_parts = (members, listings, hashed, answers)
        built = write(out, checked, parts, *kept_parts, fill, self.progress, kept)
        self._checked(out, kept)
        findings = _by_focus(checked.report.findings)
        return State(found, scanned, by_file, checked, findings, blocks, *kept_parts, built)

    def _rebuild(
        self,
        out: Output,
        found: Found,
        scanned: int,
        by_file,
        errors,
        state: State,
        changed: list[str],
    ) -> State:
        """The next build from the last one: the changed files' records converted again,
        the graph and validation brought up to date, then the build written."""
        self.progress("convert")
        edit = _edit(found, by_file, errors, state, changed)
        if edit is None:  # a record gone or renamed
            return self._full(out, found, scanned, by_file, errors, state)
        checked, changes, findings = self._apply(edit, state, self.progress)
        self.progress("ntriples")
        try:
            try:
                _advance(state, checked, changes)
            except OSError as exc:  # the lines' file could not be added to
                raise PublishError(exc.filename or out.cache, exc.strerror or str(exc)) from None
            parts = state.blocks.parts()
            store = _StoreCheckpoint(state, changes, checked.graph)
            kept = self._permanence(out, checked.conversion, edit.same_iris)
            built = write(
                out,
                checked,
                parts,
                state.members,
                state.listings,
                state.hashed,
                state.answers,
                store,
                self.progress,
                kept,
            )
            self._checked(out, kept)
        except BaseException:
            self.state = None  # the graph is ahead of what is published: start again in full
            self.journal = None
            raise
        if self.journal is not None:
            self.journal.append(Step(found, scanned, {p: by_file.get(p) for p in changed}, built))
        return _next(state, found, scanned, by_file, checked, findings, built)

    def _replay(self, state: State, step: Step) -> State:
        """The state after `step`, made from `state` as the build that made it did, with
        nothing written."""
        by_file = {
            path: step.changed[path] if path in step.changed else state.by_file[path]
            for path in step.found
        }
        errors: list[SourceError] = []
        edit = _edit(step.found, by_file, errors, state, list(step.changed))
        if edit is None:
            raise BuildFailed(errors)
        checked, changes, findings = self._apply(edit, state, lambda _: None)
        _advance(state, checked, changes)
        return _next(state, step.found, step.scanned, by_file, checked, findings, step.build)

    def _apply(self, edit: _Edit, state: State, progress: Progress):
        """The kept graph with the edit's triples removed and added and the VoID description
        made again, then validated where it changed: (validated, changes, findings by
        focus). On any failure the graph and the validation index are put back as they
        were, so the Builder still holds the last good build."""
        conversion = state.validated.conversion
        graph, dataset, records = conversion.triples, conversion.dataset, edit.records
        old_description = state.validated.description
        census = copy.deepcopy(state.validated.census)
        data = state.validated.data
        touched = (
            {s for s, _, _ in edit.removed}
            | edit.made.by_subject.keys()
            | old_description.by_subject.keys()
        )
        before: Before = {s: frozenset(graph.by_subject.get(s, ())) for s in touched}
        try:
            graph.remove(old_description)
            graph.remove(edit.removed)
            graph.update(edit.made)
            census.count(edit.removed, records.keys(), -1)
            census.count(edit.added, records.keys())
            description = describe(graph, dataset, list(records), census)
            graph.update(description)
            for subject in description.by_subject:
                before.setdefault(subject, frozenset())
            changes = {
                s: pairs for s, pairs in before.items() if graph.by_subject.get(s, set()) != pairs
            }
            progress("validate")
            findings = self._validate(state, changes)
            converted = Conversion(graph, dataset, records, index=edit.index)
            all_findings = [f for found in findings.values() for f in found]
            checked = Validated(
                converted,
                description,
                report(all_findings, converted, dataset_file(self.settings)),
                census,
                data,
            )
            if checked.report.violations:
                raise BuildFailed([result.as_error() for result in checked.report.violations])
        except BaseException:
            for subject, pairs in before.items():
                graph.put(subject, pairs)
            data.refresh(before)
            raise
        return checked, changes, findings

    def _spill(self, out: Output) -> Lines | None:
        """A new file for this build's N-Triples lines: kept with its state, or (no state
        kept) gone with the process; None (held in memory) when none can be made (no cache
        folder)."""
        name = f"{time.time_ns()}-{os.getpid()}"
        try:
            return Lines(out.state_lines(name), temporary=not self.settings.keep_state).opened()
        except OSError:
            return None

    def _permanence(
        self, out: Output, conversion: Conversion, same_iris: bool = False
    ) -> permanence.Permanence:
        """The IRIs checked against the ledger; the last build's check when its records
        and their former ids are this one's (`same_iris`: an edit in place, most edits)
        and neither the ledger nor data/gone.yaml changed since it was written (a check
        of every IRI ever published, and the ledger written again, saved)."""
        if same_iris and self.iris is not None and self.iris[0] == self._iri_inputs(out):
            return self.iris[1]
        return permanence.check(
            out, Path(self.settings.data), conversion, self.allow_removals, self.trial
        )

    def _iri_inputs(self, out: Output) -> tuple:
        data = Path(self.settings.data)
        stamps = (permanence.stamp(out.ledger), permanence.stamp(data / GONE))
        return (*stamps, self.allow_removals, self.trial)

    def _checked(self, out: Output, kept: permanence.Permanence) -> None:
        """Keep a build's check of its IRIs for the next (none that removed IRIs from the
        ledger: the next build's differs)."""
        self.iris = None if kept.removed else (self._iri_inputs(out), kept)

    def _validate(self, state: State, changes: Before) -> dict[str, list[Finding]]:
        """The findings after the changes: the nodes whose triples changed, and the nodes
        they link to (or linked to), are validated again; every node when a node that was
        there before changed class, or when a shape reads the triples of linked nodes, as
        then the results of nodes linking to a changed node change too."""
        shapes = plan(Path(self.settings.shapes)).native
        data = state.validated.data
        reclassed = data.refresh(changes)
        if any(changes[s] for s in reclassed) or follows_links(shapes):
            return _by_focus(evaluate(shapes, data))
        graph = data.by_subject
        again = set(changes)
        for subject, pairs in changes.items():
            again.update(o for _, o in pairs | graph.get(subject, set()) if isinstance(o, URIRef))
        kept = {
            focus: found for focus, found in state.findings.items() if URIRef(focus) not in again
        }
        return kept | _by_focus(evaluate(shapes, data, again))


@dataclass
class _Edit:
    """What changed files change: the triples their records made before and make now."""

    records: dict[URIRef, Record]  # every record after the edit, by subject
    index: dict[str, dict[str, Record]]  # every record after the edit, by kind and slug
    made: Triples  # what the changed files' records make now
    removed: list  # triples made before and no longer
    added: list  # triples made now and not before
    same_iris: bool  # the same records, of the same former ids, as the last build's


def _edit(
    found: Found, by_file, errors: list[SourceError], state: State, changed: list[str]
) -> _Edit | None:
    """The edit from the last build's files to these (`changed`: the files read again);
    None when a record is gone or renamed (then the graph cannot be edited: a full build).
    BuildFailed on bad input."""
    dataset = state.validated.conversion.dataset
    old = [r for path in changed for r in state.by_file.get(path, [])]
    new = [r for path in changed for r in by_file.get(path, [])]
    kept = _in_place(found, state, changed, old, new)
    if _originals_moved(old, new, state.validated.conversion.index):
        return None
    if kept is not None:
        index, records = kept
    else:  # records came, went or changed ids: index them all again
        index = index_records(assemble(found, by_file, errors).records, errors)
        records = subjects(index, dataset.base)
        if not errors and not state.validated.conversion.records.keys() <= records.keys():
            return None
    if errors:
        raise BuildFailed(errors)
    made_before = _contributions(old, dataset, index, errors)
    made = _contributions(new, dataset, index, errors)
    if errors:
        raise BuildFailed(errors)
    removed = [t for t in made_before if t not in made]
    added = [t for t in made if t not in made_before]
    same_iris = kept is not None and [_former(r) for r in old] == [_former(r) for r in new]
    return _Edit(records, index, made, removed, added, same_iris)


def _former(record: Record):
    return record.values.get("formerIds")


def _originals_moved(old: list[Record], new: list[Record], index) -> bool:
    """Whether an edited record that others translate changed its language or became a
    translation itself: its translations are checked against it (convert.fields.Translation),
    so a full build checks them again."""
    facts = {
        (r.kind, r.id): (r.values.get("inLanguage"), r.values.get("translationOf")) for r in old
    }
    moved = {
        f"{r.kind}/{r.id}"
        for r in new
        if facts.get((r.kind, r.id), (None, None))
        != (r.values.get("inLanguage"), r.values.get("translationOf"))
    }
    if not moved:
        return False
    return any(
        f"{kind}/{str(record.values.get('translationOf', '')).rsplit('/', 1)[-1]}" in moved
        for kind in ("article", "document")
        for record in index.get(kind, {}).values()
        if record.values.get("translationOf")
    )


def _in_place(found: Found, state: State, changed: list[str], old, new) -> tuple | None:
    """The index and the records by subject, when the changed files were edited in place
    and hold records of the same kinds and ids in the same order as before: the last
    build's, with the new records in place of the old (a second of indexing and minting
    saved at 100k records). None otherwise."""
    if any(path not in found or path not in state.found for path in changed):
        return None
    if [(r.kind, r.id) for r in old] != [(r.kind, r.id) for r in new]:
        return None
    conversion = state.validated.conversion
    index = {kind: dict(records) for kind, records in conversion.index.items()}
    records = dict(conversion.records)
    for record in new:
        key = slug(record.id)
        index[record.kind][key] = records[mint(conversion.dataset.base, record.kind, key)] = record
    return index, records


def _next(state: State, found, scanned, by_file, checked, findings, built) -> State:
    """The state after an incremental build: the kept index, blocks, members, listings,
    hashes and answers (brought up to date in place) with what the build made anew."""
    return replace(
        state,
        found=found,
        scanned=scanned,
        by_file=by_file,
        validated=checked,
        findings=findings,
        build=built,
    )


def _advance(state: State, checked: Validated, changes: Before) -> None:
    """The kept blocks, listings and answers brought up to the edited graph."""
    state.blocks.replace(checked.graph, changes)
    owners = {URIRef(str(s).split("#", 1)[0]) for s in changes}
    state.listings.update(checked.graph, checked.conversion, owners)
    state.answers.update(checked.graph, changes)


def _changed(found: Found, state: State | None, told: set[str] | None) -> list[str]:
    """The files whose stamp is not the last good build's (changed, came or went): among
    `told` (the files the system named since that build), or among every file."""
    if state is None:
        return list(found)
    if told is not None:
        return sorted(path for path in told if found.get(path) != state.found.get(path))
    changed = [path for path, stamp in found.items() if state.found.get(path) != stamp]
    return changed + [path for path in state.found if path not in found]


def _read(
    found: Found, state: State | None, changed: list[str], errors: list[SourceError]
) -> dict[str, list[Record]]:
    """Each file's records: read again where it `changed`, else as read last time."""
    by_file = {} if state is None else dict(state.by_file)
    for path in changed:
        if path in found:
            by_file[path] = list(read(path, found[path][0], errors))
        else:
            by_file.pop(path, None)
    return by_file


def _contributions(records: list[Record], dataset, index, errors: list[SourceError]) -> Triples:
    made = Triples()
    for record in records:
        triples, faults = contribution(record, dataset, index)
        made.update(triples)
        errors.extend(faults)
    return made


def _by_focus(findings: list[Finding]) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.focus, []).append(finding)
    return grouped


class _StoreCheckpoint:
    """Makes a build's store as a checkpoint of the last build's (RocksDB hard-links its
    files) with the changed subjects' triples replaced."""

    def __init__(self, state: State, changes: Before, graph: Triples):
        self.previous = state.build.store_path
        self.changes = {
            s: (pairs, frozenset(graph.by_subject.get(s, ()))) for s, pairs in changes.items()
        }

    def __call__(self, path: Path, parts: list[Part]) -> None:
        pyoxigraph.Store.read_only(str(self.previous)).backup(str(path))
        store = pyoxigraph.Store(str(path))
        for subject, (old, new) in self.changes.items():
            for predicate, obj in old - new:
                store.remove(_quad(subject, predicate, obj))
            store.extend(_quad(subject, predicate, obj) for predicate, obj in new - old)
        store.flush()


def _quad(subject, predicate, obj) -> pyoxigraph.Quad:
    return pyoxigraph.Quad(to_oxigraph(subject), to_oxigraph(predicate), to_oxigraph(obj))
