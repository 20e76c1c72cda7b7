"""The documentation: the site builds strictly; the tutorial (and the README's tour) run as
they are written, on a fresh folder; the reference pages are what the code generates (the
commands, the settings, the fields, the URLs, the output folder); every link of the README
and docs/ resolves inside the repository, and none leaves it."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest

from lod import Settings, cli, config, layout
from lod import build as lod_build
from lod.make.convert import REGISTRY
from lod.make.convert.reference import DATASET, EXAMPLES, markdown
from lod.make.steps import validated
from lod.vocab import KINDS

from .conftest import ROOT, free_port, wait_for_lock

DOCS = ROOT / "docs"
FIELDS = DOCS / "fields.md"
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in DOCS.glob("*.md"))


def test_the_field_reference_is_generated_from_the_kind_tables():
    assert FIELDS.read_text("utf-8") == markdown(), (
        "docs/fields.md is stale: python -m lod.make.convert.reference > docs/fields.md"
    )


def test_the_field_reference_names_every_field_of_every_kind():
    text = FIELDS.read_text("utf-8")
    for name, kind in REGISTRY.items():
        section = text.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
        for field in kind.fields:
            assert f"| `{field.name}` |" in section, (name, field.name)


def test_the_examples_build(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "dataset.yaml").write_text(DATASET, "utf-8")
    for kind, (name, text) in EXAMPLES.items():
        folder = data / KINDS[kind]
        folder.mkdir()
        (folder / name).write_text(text, "utf-8")
    checked = validated(Settings(data=data, out=tmp_path / "dist"))
    assert not checked.report.violations
    kinds = {record.kind for record in checked.conversion.records.values()}
    assert kinds == set(REGISTRY)


def _links(path: Path) -> list[str]:
    text = path.read_text("utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code is not links
    text = re.sub(r"`[^`]+`", "", text)  # nor is inline code
    return re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r"<(https?://[^>\s]+)>", text)


def _slug(heading: str) -> str:
    """A heading's anchor, as MkDocs makes it (Python-Markdown's toc slugify)."""
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", heading).strip().lower())


@pytest.mark.parametrize("document", ["README.md", *PAGES])
def test_links_resolve_inside_the_repository(document):
    """Every link leads to a file of the repository (a heading of it, if it names one): the
    docs are read by people who have the repository and nothing else."""
    path = ROOT / document
    for link in _links(path):
        if link.startswith("http://127.0.0.1:5000/"):
            continue  # the server the reader runs
        assert not re.match(r"[a-z]+:", link), f"{document}: {link} leaves the repository"
        target, _, anchor = link.partition("#")
        resolved = (path.parent / target).resolve() if target else path
        assert resolved.is_relative_to(ROOT), f"{document}: {link} leaves the repository"
        assert resolved.exists(), f"{document}: {link} does not exist"
        if anchor and resolved.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", resolved.read_text("utf-8"), flags=re.M)
            slugs = {_slug(h) for h in headings}
            assert anchor in slugs, f"{document}: no heading for #{anchor} in {target or document}"


def test_the_readme_links_the_field_reference():
    assert "(docs/fields.md)" in (ROOT / "README.md").read_text("utf-8")


def test_the_output_folder_reference_is_generated_from_the_layout():
    assert (ROOT / "docs" / "output-folder.md").read_text("utf-8") == layout.markdown(), (
        "docs/output-folder.md is stale: python -m lod.layout > docs/output-folder.md"
    )


def _documented(path: str) -> list[str]:
    """The names an ENTRIES path stands for, as glob patterns (`<id>` any name,
    `{a,b}` each of a and b)."""
    names = []
    for one in path.split(", "):
        one = re.sub(r"<[a-z]+>", "*", one.rstrip("/"))
        found = re.search(r"\{([^}]*)\}", one)
        choices = found.group(1).split(",") if found else [""]
        names += [one.replace(found.group(0), c) if found else one for c in choices]
    return names


def test_every_file_a_build_and_the_app_leave_is_in_the_layout(tmp_path):
    """Whatever a build (state and caches included) and a served request write under the
    output folder is named in lod.layout.ENTRIES, so its table in the docs is complete."""
    from lod.web import create_app

    out = tmp_path / "dist"
    settings = Settings(data=ROOT / "data", out=out, keep_in_background=0)
    lod_build(settings)
    create_app(settings).test_client().get("/doc/organisation/mia-mga.ttl")
    patterns = [n for e in layout.ENTRIES for n in _documented(e.path)]
    for path in out.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            continue  # its files are checked
        relative = path.relative_to(out).as_posix()
        inside = relative.split("/")
        # a documented folder covers what is inside it
        shown = ["/".join(inside[: i + 1]) for i in range(len(inside))]
        assert any(fnmatch(s, p) for s in shown for p in patterns), relative


# --- the reference, generated from the code ------------------------------------------------


@pytest.mark.parametrize(
    "page, generate, command",
    [
        ("cli.md", cli.reference, "python -m lod.cli > docs/cli.md"),
        ("settings.md", config.markdown, "python -m lod.config > docs/settings.md"),
        ("urls.md", None, "python -m lod.web.reference > docs/urls.md"),
    ],
)
def test_the_reference_pages_are_generated_from_the_code(page, generate, command):
    if generate is None:
        from lod.web import reference

        generate = reference.markdown
    assert (DOCS / page).read_text("utf-8") == generate(), f"docs/{page} is stale: {command}"


def test_the_command_reference_names_every_command_and_option():
    page = (DOCS / "cli.md").read_text("utf-8")
    commands = dict(cli._commands(cli.cli))
    assert {"lod build", "lod link sameas", "lod export mixnmatch"} <= set(commands)
    for name, command in commands.items():
        section = page.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
        for param in command.params:
            for option in param.opts + param.secondary_opts:
                if option.startswith("--"):
                    assert f"`{option}`" in section, f"{name} {option}"


def test_the_settings_reference_names_every_setting():
    page = (DOCS / "settings.md").read_text("utf-8")
    for variable in config.VARIABLES.values():
        assert f"| `{variable}` |" in page, variable
    assert set(config.MEANINGS) == set(config.VARIABLES.values())


def test_every_route_of_the_app_is_in_the_url_reference(tmp_path):
    from lod.web import create_app, reference

    app = create_app(Settings(data=tmp_path, out=tmp_path))
    page = (DOCS / "urls.md").read_text("utf-8")
    for rule, _ in reference.rules(app):
        assert f"| `{reference.shown(rule)}` |" in page, rule
    assert set(reference.ROUTES) == {rule for rule, _ in reference.rules(app)}, "a stale line"


# --- the site ----------------------------------------------------------------------------


def test_the_site_builds_strictly(tmp_path):
    """`mkdocs build --strict`: every page in the nav, every link and anchor found, the
    repository's files the pages link to part of the site."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    nav = (ROOT / "mkdocs.yml").read_text("utf-8")
    for page in PAGES:
        name = Path(page).name
        if name != "index.md":
            assert f": {name}\n" in nav, f"{page} is not in the nav"
        assert (tmp_path / name.replace(".md", ".html")).exists(), page
    assert (tmp_path / "repository" / "deploy" / "nginx.conf").exists()
    assert not re.search(r"https?://(?!127\.0\.0\.1)", _fetched(tmp_path)), "fetched from outside"


def _fetched(site: Path) -> str:
    """What the site's pages load (style sheets, scripts, fonts, images): none from outside."""
    found = []
    for page in site.glob("*.html"):
        text = page.read_text("utf-8")
        found += re.findall(r'<(?:link|script|img)[^>]*(?:href|src)="([^"]+)"', text)
    return "\n".join(found)


# --- the tutorial, run as it is written --------------------------------------------------

RUN = "<!-- tutorial -->"
OUTPUT = "<!-- output -->"
BLOCK = re.compile(r"(<!-- (?:tutorial|output) -->)\n```[a-z]*\n(.*?)```", re.S)


def blocks(page: Path) -> list[tuple[list[str], str]]:
    """The page's commands in order, a block at a time, each block with the output the page
    shows after it ("" when it shows none): code blocks marked `<!-- tutorial -->` hold
    commands, one a line (or more, inside quotes); those marked `<!-- output -->` what the
    block before printed."""
    found: list[tuple[list[str], str]] = []
    for marker, text in BLOCK.findall(page.read_text("utf-8")):
        if marker == OUTPUT:
            assert found and not found[-1][1], f"{page.name}: an output without its commands"
            found[-1] = (found[-1][0], text)
            continue
        commands, command = [], ""
        for line in text.splitlines():
            command += line
            try:
                shlex.split(command, comments=True)
            except ValueError:  # a quote still open: the command goes on
                command += "\n"
                continue
            commands.append(command)
            command = ""
        assert not command, f"{page.name}: a quote never closed in {text!r}"
        found.append((commands, ""))
    return found


def script(commands: list[str], port: int, log: Path) -> str:
    """One bash script running the commands in order (so `cd` and variables carry over),
    each after a line naming it; `lod serve` in the background until it answers, and the
    server the reader would open on port 5000 on `port`."""
    lines = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"]
    for number, command in enumerate(commands):
        lines.append(f"echo '@@ step {number}'")
        if command.strip() == "lod serve":
            lines += [
                f"lod serve >{shlex.quote(str(log))} 2>&1 &",
                "for _ in $(seq 300); do",
                f"  curl -s -o /dev/null http://127.0.0.1:{port}/healthz && break; sleep 0.1",
                "done",
            ]
        else:
            lines.append(command.replace("127.0.0.1:5000", f"127.0.0.1:{port}"))
    return "\n".join(lines) + "\n"


def shows(shown: str, printed: str) -> bool:
    """Whether `printed` has the lines `shown`, in order (`…` alone skips lines, within a
    line stands for anything; spaces at the ends of lines do not count)."""
    lines = [line.strip() for line in printed.splitlines()]
    at = 0
    for want in shown.splitlines():
        want = want.strip()
        if want == "…":
            continue
        pattern = re.compile(".*".join(map(re.escape, want.split("…"))) + "$")
        while at < len(lines) and not pattern.match(lines[at]):
            at += 1
        if at == len(lines):
            return False
        at += 1
    return True


def run_page(page: Path, tmp_path: Path) -> None:
    """Run a page's commands from the repository's root, with a fresh home folder and this
    repository's `lod`, and check each output the page shows."""
    found = blocks(page)
    assert found, f"{page.name}: no commands"
    home, bin_ = tmp_path / "home", tmp_path / "bin"
    home.mkdir()
    bin_.mkdir()
    lod = bin_ / "lod"
    lod.write_text(
        f"#!/bin/sh\nPYTHONPATH={shlex.quote(str(ROOT))} exec {shlex.quote(sys.executable)}"
        ' -m lod "$@"\n'
    )
    lod.chmod(0o755)
    port = free_port()
    env = {
        "PATH": f"{bin_}:{os.environ['PATH']}",
        "HOME": str(home),
        "TMPDIR": str(tmp_path),
        "LANG": "C.UTF-8",
        "PORT": str(port),
    }
    commands = [command for block, _ in found for command in block]
    done = subprocess.run(
        ["bash", "-c", script(commands, port, tmp_path / "serve.log")],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    printed = re.split(r"^@@ step \d+\n", done.stdout, flags=re.M)[1:]
    ran = len(printed) - (done.returncode != 0)  # the commands that ran to their end
    at = 0
    for block, shown in found:  # what the page shows, up to the first command that failed
        if at + len(block) > ran:
            break
        output = "".join(printed[at : at + len(block)])
        at += len(block)
        assert shows(shown, output), f"{page.name}: `{block[-1]}` printed\n{output}"
    if done.returncode != 0:
        failed = commands[len(printed) - 1]
        pytest.fail(f"{page.name}: `{failed}` failed ({done.returncode}):\n{printed[-1]}")
    for out in home.rglob("dist"):
        if (out / ".lock").exists():
            wait_for_lock(out)  # the snapshot writer a build may leave


@pytest.mark.slow
def test_the_tutorial_runs_as_written(tmp_path):
    run_page(DOCS / "tutorial.md", tmp_path)


@pytest.mark.slow
def test_the_readme_tour_runs_as_written(tmp_path):
    run_page(ROOT / "README.md", tmp_path)


def test_the_tutorial_checker_reads_commands_and_outputs(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- tutorial -->\n```sh\ncd x\nlod query 'SELECT\n*'\n```\n\n"
        "<!-- output -->\n```text\na\n…\nc … e\n```\n"
    )
    assert blocks(page) == [(["cd x", "lod query 'SELECT\n*'"], "a\n…\nc … e\n")]
    assert shows("a\n…\nc … e\n", "a\nb\nc d e\n")
    assert not shows("a\n…\nc … e\n", "c d e\na\n")
