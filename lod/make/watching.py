"""What changed in data/, as the operating system says when it happens (watchdog: inotify
on Linux, FSEvents on macOS, ReadDirectoryChangesW on Windows), for `lod build --watch`.

Without it a watch looks at every file's stamp at each look, and a build once more: at a
million articles each look is 12 s of a core. With it, a build looks again at only the
files named (lod.make.sources.refreshed). Files created, written, removed, moved or
touched are named; what cannot be taken file by file (a folder created, removed or moved,
events the system dropped) asks for the look at every file, as does a system whose
watchdog observer would itself poll or hold a descriptor per file (then the watch polls,
as before).
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from watchdog.events import (
    DirModifiedEvent,
    EventsLostEvent,
    FileClosedNoWriteEvent,
    FileOpenedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

NATIVE = ("linux", "darwin", "win32")  # where watchdog's Observer is the system's own API
UNNAMED = (FileOpenedEvent, FileClosedNoWriteEvent, DirModifiedEvent)  # nothing written


class Watch(FileSystemEventHandler):
    """The files of a folder that changed since last asked (`take`), told by the
    operating system; None (look at every file) when that cannot be known."""

    def __init__(self, folder: Path):
        self.folder = os.path.join(str(Path(folder)), "")
        self.lock = threading.Lock()
        self.paths: set[str] | None = set()
        self.observer: Observer | None = None
        if not sys.platform.startswith(NATIVE):
            return
        observer = Observer()
        try:
            observer.schedule(self, str(Path(folder)), recursive=True)
            observer.start()
        except OSError:  # no inotify watch left (fs.inotify.max_user_watches), no folder
            return
        self.observer = observer

    def on_any_event(self, event: FileSystemEvent) -> None:
        if isinstance(event, UNNAMED):
            return
        named = [str(p) for p in (event.src_path, event.dest_path) if p]  # moved: both
        named = [path for path in named if not self._hidden(path)]
        with self.lock:
            if isinstance(event, EventsLostEvent) or event.is_directory and named:
                self.paths = None
            elif self.paths is not None:
                self.paths.update(named)

    def _hidden(self, path: str) -> bool:
        """Whether a path is in a hidden file or folder (.git/, an editor's .swp), which
        are no sources: their events are not changes."""
        names = path.removeprefix(self.folder).split(os.sep)
        return any(name.startswith(".") for name in names)

    def take(self) -> set[str] | None:
        """The files that changed since the last take (none: an empty set); None when
        every file must be looked at (always, without the system's events)."""
        with self.lock:
            taken, self.paths = self.paths, set()
        return taken if self.observer is not None else None

    def close(self) -> None:
        if self.observer is not None:
            self.observer.stop()
            self.observer.join()
            self.observer = None
