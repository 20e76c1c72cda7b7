"""The command line as a new user meets it: one line for a bad setting, the same query
errors as /sparql, usage errors for a format that does not fit, each phase with its own
time, warnings summarised, and the small things (LOD_BASE named, one Date header)."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from lod import Settings
from lod.cli import _Progress, _table, cli, summarise
from lod.web import create_app

from .conftest import DATA, ROOT, copy_data


def run(*args: str, env: dict | None = None, **options) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        **options,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LOD_QUERY_TIMEOUT": "abc"}, "error: LOD_QUERY_TIMEOUT='abc' is not a number"),
        ({"LOD_TRUST_PROXY": "0"}, "error: LOD_TRUST_PROXY='0' must be positive"),
        ({"LOD_KEEP_IN_BACKGROUND": "yes"}, "error: LOD_KEEP_IN_BACKGROUND='yes' is not a number"),
    ],
)
def test_app_py_says_a_bad_setting_in_one_line(env, message):
    done = run("app.py", env=env)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [message]


def test_app_py_says_invalid_data_without_a_traceback(tmp_path):
    data = copy_data(tmp_path / "data")
    (data / "people" / "bad.yaml").write_text("name: Bad\nnickname: x\n", "utf-8")
    done = run("app.py", env={"LOD_DATA": str(data), "LOD_OUT": str(tmp_path / "dist")})
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "bad.yaml:2: nickname: unknown person field" in done.stderr


@pytest.mark.parametrize(
    "query",
    [
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "FOO",
        "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    ],
)
def test_lod_query_gives_the_errors_sparql_gives(built, query):
    out = built.path.parent.parent
    done = run("-m", "lod", "query", query, "--out", str(out))
    assert done.returncode == 1
    web = create_app(Settings(data=DATA, out=out)).test_client()
    answer = web.get("/sparql", query_string={"query": query}, headers={"Accept": "*/*"})
    assert 400 <= answer.status_code < 500
    message = answer.get_json()["error"]["message"]
    assert done.stderr.strip() == f"error: {message}"


@pytest.mark.parametrize(
    ("query", "fmt"),
    [
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "ttl"),
        ("ASK { ?s ?p ?o }", "nt"),
        ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "csv"),
        ("DESCRIBE <https://lod.example.org/id/person/cecilie-kern>", "json"),
    ],
)
def test_a_format_that_does_not_fit_the_query_is_a_usage_error(built, query, fmt):
    out = str(built.path.parent.parent)
    result = CliRunner().invoke(cli, ["query", query, "--format", fmt, "--out", out])
    assert result.exit_code == 2
    assert f"--format {fmt} does not fit" in result.output


def test_select_star_columns_come_in_the_query_order(built):
    out = str(built.path.parent.parent)
    query = (
        "SELECT * WHERE { ?zeta a <https://schema.org/Person> ; "
        "<https://schema.org/name> ?alpha ; <https://schema.org/jobTitle> ?mid }"
    )
    result = CliRunner().invoke(cli, ["query", query, "--out", out])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split() == ["zeta", "alpha", "mid"]


def test_table_reorders_only_select_star():
    answer = {"head": {"vars": ["b", "a"]}, "results": {"bindings": []}}
    assert _table(answer, "SELECT ?b ?a WHERE { ?a ?p ?b }").split()[:2] == ["b", "a"]
    assert _table(answer, "SELECT * WHERE { ?a ?p ?b }").split()[:2] == ["a", "b"]


def test_each_phase_is_printed_with_its_own_time(monkeypatch, capsys):
    clock = iter([0.0, 1.0, 4.0, 4.0, 4.5])
    monkeypatch.setattr("lod.cli.time.perf_counter", lambda: next(clock))
    progress = _Progress(True)  # started at 0
    progress("load")  # 1.0
    progress("convert")  # 4.0: load took 3
    progress.done()  # 4.5: convert took 0.5
    assert capsys.readouterr().err.splitlines() == ["  load: 3.00 s", "  convert: 0.50 s"]


def test_warnings_are_summarised_by_message(tmp_path):
    warnings = [
        SimpleNamespace(file=f"data/events/e{i}.yaml", line=4, field="startDate", message="m")
        for i in range(5000)
    ] + [SimpleNamespace(file="data/articles/a.md", line=3, field="image", message="n")]
    lines = summarise(warnings, tmp_path / "validation.txt")
    assert lines[0] == "warning: startDate: m (5000×)"
    assert lines[1:4] == [f"  data/events/e{i}.yaml:4" for i in range(3)]
    assert lines[4] == "  … and 4997 more"
    assert "warning: image: n (1×)" in lines
    assert lines[-1] == f"all 5001 warnings: {tmp_path / 'validation.txt'}"
    assert len(lines) < 12


def test_lod_build_prints_the_summary_not_every_warning(tmp_path):
    result = CliRunner().invoke(
        cli, ["build", "--data", str(DATA), "--out", str(tmp_path / "dist"), "--progress"]
    )
    assert result.exit_code == 0, result.output
    assert "warning: startDate: a startDate is recommended (2×)" in result.output
    assert "validation.txt" in result.output
    assert "  validate: " in result.output and "  store: " in result.output


def test_a_bad_lod_base_names_the_variable(tmp_path):
    done = run(
        "-m",
        "lod",
        "build",
        "--data",
        str(DATA),
        "--out",
        str(tmp_path / "dist"),
        env={"LOD_BASE": "https://example.org/no-slash"},
    )
    assert done.returncode == 1
    assert "LOD_BASE: `https://example.org/no-slash` must end with `/`" in done.stderr
    assert "dataset.yaml" not in done.stderr


def test_lod_validate_does_not_speak_of_publishing(tmp_path):
    data = copy_data(tmp_path / "data")
    (data / "people" / "bad.yaml").write_text("name: Bad\nnickname: x\n", "utf-8")
    done = run("-m", "lod", "validate", "--data", str(data))
    assert done.returncode == 1
    assert "nickname: unknown person field" in done.stderr
    assert "published" not in done.stderr
    assert done.stderr.strip().endswith("1 error")


def test_lod_build_watch_says_what_it_watches(tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lod",
            "build",
            "--watch",
            "--data",
            str(DATA),
            "--out",
            str(tmp_path / "dist"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in process.stderr:
            if line.startswith("watching"):
                assert f"watching {DATA}/ for changes" in line
                break
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()


def test_one_date_header(built):
    app = create_app(Settings(data=DATA, out=built.path.parent.parent)).test_client()
    response = app.get("/doc/person/cecilie-kern.ttl")
    assert len(response.headers.getlist("Date")) <= 1
