"""Starting and switching: `python app.py` and `lod serve` build when nothing is built; a
new build is served without a restart; a failed build leaves the last good one served."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests

from lod import Settings, build
from lod.errors import BuildFailed

from .conftest import ROOT, copy_data, free_port, start_server, stop_server

pytestmark = pytest.mark.slow  # builds and processes of their own, seconds each


def wait_for(url: str, process: subprocess.Popen, seconds: float = 90) -> requests.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([sys.executable, "app.py"], id="python-app.py"),
        pytest.param([sys.executable, "-m", "lod", "serve"], id="lod-serve"),
    ],
)
def test_start_builds_data_when_no_build_exists(tmp_path, command):
    port = free_port()
    env = {
        **os.environ,
        "LOD_OUT": str(tmp_path / "dist"),
        "PORT": str(port),
        "LOD_DATA": str(ROOT / "data"),
    }
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        response = wait_for(f"http://127.0.0.1:{port}/healthz", process)
        assert response.status_code == 200
        assert (tmp_path / "dist" / "current" / "manifest.json").exists()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_new_build_is_served_without_restart(tmp_path):
    data = copy_data(tmp_path / "data")
    out = tmp_path / "dist"
    first = build(Settings(data=data, out=out))
    server = start_server(out)
    try:
        assert server.get("/healthz").json()["build"] == first.id
        assert server.get("/doc/topic/press-freedom").status_code == 404
        with open(data / "topics" / "topics.yaml", "a", encoding="utf-8") as topics:
            topics.write("\n- id: press-freedom\n  name: Press freedom\n")
        second = build(Settings(data=data, out=out))
        # every gunicorn worker picks it up on its next request
        for _ in range(6):
            assert server.get("/healthz").json()["build"] == second.id
            assert server.get("/doc/topic/press-freedom.ttl").status_code == 200
    finally:
        stop_server(server)


def test_a_failed_build_leaves_the_last_good_one_served(tmp_path):
    data = copy_data(tmp_path / "data")
    out = tmp_path / "dist"
    good = build(Settings(data=data, out=out))
    server = start_server(out)
    try:
        (data / "people" / "broken.yaml").write_text("name: [unclosed\n", "utf-8")
        with pytest.raises(BuildFailed):
            build(Settings(data=data, out=out))
        assert server.get("/healthz").json()["build"] == good.id
        assert server.get("/doc/person/cecilie-kern.ttl").status_code == 200
    finally:
        stop_server(server)


def test_unwritable_output_fails_cleanly(tmp_path):
    """The output folder cannot be made (a file stands in its way; root ignores modes)."""
    out = tmp_path / "dist"
    out.write_text("not a folder", "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "lod", "build", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "cannot write the build" in done.stderr
    assert "Traceback" not in done.stderr
    assert out.read_text("utf-8") == "not a folder"
