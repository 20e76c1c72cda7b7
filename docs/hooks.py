"""MkDocs hook (mkdocs.yml): the repository's files that the pages link to outside docs/
(../SECURITY.md, ../deploy/nginx.conf …) become part of the site, under repository/, so the
links work in the built site as they do in the repository. Markdown files among them are
rendered as pages (and what they link to is added in turn); other files are copied."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File, Files, InclusionLevel

LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"```.*?```", re.S)


def _targets(text: str, src_uri: str) -> list[str]:
    """The relative links of a Markdown text, as paths relative to docs/ (`../deploy/x`)."""
    found = []
    for link in LINK.findall(FENCE.sub("", text)):
        path = link.partition("#")[0]
        if not path or "://" in path or path.startswith(("/", "mailto:")):
            continue
        found.append(posixpath.normpath(posixpath.join(posixpath.dirname(src_uri), path)))
    return found


def on_files(files: Files, config) -> Files:
    docs = Path(config.docs_dir).resolve()
    root = docs.parent
    queue = [f for f in files if f.is_documentation_page()]
    added: set[str] = set()
    while queue:
        page = queue.pop()
        text = Path(page.abs_src_path).read_text("utf-8")
        for target in _targets(text, page.src_uri):
            path = (docs / target).resolve()
            if path.is_relative_to(docs) or not path.is_relative_to(root):
                continue  # a page of the site (MkDocs checks it), or outside the repository
            if target in added or not path.is_file():
                continue  # seen, or missing (tests/test_docs.py says so)
            relative = path.relative_to(root).as_posix()
            dest = "repository/" + (
                relative[: -len(".md")] + ".html" if relative.endswith(".md") else relative
            )
            file = File(
                target,
                str(docs),
                config.site_dir,
                config.use_directory_urls,
                dest_uri=dest,
                inclusion=InclusionLevel.NOT_IN_NAV,
            )
            files.append(file)
            added.add(target)
            if file.is_documentation_page():
                queue.append(file)
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    """In a page from outside docs/ (../README.md), a link into docs/ (`docs/fields.md`)
    becomes one MkDocs resolves from docs/ (`/fields.md`, absolute_links: relative_to_docs)."""
    if not page.file.src_uri.startswith("../"):
        return markdown
    docs = Path(config.docs_dir).resolve()
    here = (docs / page.file.src_uri).resolve().parent

    def into_docs(match: re.Match) -> str:
        link = match.group(1)
        path, hash_, anchor = link.partition("#")
        if not path or "://" in path or path.startswith(("/", "mailto:")):
            return match.group(0)
        target = (here / path).resolve()
        if not target.is_relative_to(docs):
            return match.group(0)
        return f"](/{target.relative_to(docs).as_posix()}{hash_}{anchor})"

    parts = re.split(r"(```.*?```)", markdown, flags=re.S)  # code is not links
    return "".join(p if p.startswith("```") else LINK.sub(into_docs, p) for p in parts)
