"""A real Virtuoso (Debian's virtuoso-opensource-7-bin) for the tests and bench/engines.py:
its own database in a folder of its own, on free ports of 127.0.0.1, started and stopped
by process id.

Publishing uses Virtuoso's authenticated endpoints with its default `dba`/`dba` account
(digest authentication): /sparql-auth for SPARQL Update and /sparql-graph-crud-auth for the
Graph Store Protocol. Test only: a deployment gives the loader its own account with the
SPARQL_UPDATE role, and the app reads through the anonymous /sparql, which cannot write.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import requests

BINARY = "virtuoso-t"
USER = PASSWORD = "dba"  # Virtuoso's default administrator: test only

INI = """\
[Database]
DatabaseFile = {folder}/virtuoso.db
ErrorLogFile = {folder}/virtuoso.log
LockFile = {folder}/virtuoso.lck
TransactionFile = {folder}/virtuoso.trx
xa_persistent_file = {folder}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {folder}/virtuoso-temp.db
TransactionFile = {folder}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
DirsAllowed = {folder}
ServerThreads = 20
CheckpointInterval = 60

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {folder}
ServerThreads = 20
MaxClientConnections = 20
KeepAliveTimeout = 10

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def available() -> bool:
    return shutil.which(BINARY) is not None


class Virtuoso:
    """One Virtuoso server: `start()`, `stop()` (SIGTERM, then SIGKILL), `kill()`."""

    def __init__(self, folder: Path, *, buffers: int = 10_000):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sql_port, self.http_port = free_port(), free_port()
        self.ini = self.folder / "virtuoso.ini"
        self.ini.write_text(
            INI.format(
                folder=self.folder,
                sql_port=self.sql_port,
                http_port=self.http_port,
                buffers=buffers,
                dirty=buffers * 3 // 4,
            )
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def endpoint(self) -> str:
        return self.url + "/sparql"

    def env(self, *, publish: bool = False) -> dict[str, str]:
        """The app's settings for this store; with `publish`, the loader's too."""
        settings = {"LOD_SPARQL_ENDPOINT": self.endpoint}
        if publish:
            settings |= {
                "LOD_SPARQL_UPDATE": self.url + "/sparql-auth",
                "LOD_SPARQL_GRAPH_STORE": self.url + "/sparql-graph-crud-auth",
                "LOD_SPARQL_USER": USER,
                "LOD_SPARQL_PASSWORD": PASSWORD,
            }
        return settings

    def client(self, **options):
        from lod.remote import SparqlClient

        return SparqlClient(
            self.endpoint,
            update=self.url + "/sparql-auth",
            graph_store=self.url + "/sparql-graph-crud-auth",
            user=USER,
            password=PASSWORD,
            **options,
        )

    def start(self, within: float = 90) -> None:
        if self.running:
            return
        log = open(self.folder / "stdout.log", "ab")
        self.process = subprocess.Popen(
            [BINARY, "+foreground", "+configfile", str(self.ini)],
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"virtuoso-t exited with status {self.process.returncode}:\n" + self.log()
                )
            try:
                answer = requests.get(self.endpoint, params={"query": "ASK {}"}, timeout=(0.5, 5))
                if answer.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"virtuoso-t did not answer within {within:g} s:\n" + self.log())

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, within: float = 30) -> None:
        """SIGTERM (Virtuoso shuts down cleanly), then SIGKILL if it is not gone in time."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(within)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def log(self, lines: int = 40) -> str:
        texts = []
        for name in ("virtuoso.log", "stdout.log"):
            path = self.folder / name
            if path.exists():
                texts += path.read_text("utf-8", "replace").splitlines()[-lines:]
        return "\n".join(texts)
