"""The dumps as other consumers read them: Raptor's `rapper` (an independent C parser) and
jsonld.js (the reference JSON-LD processor for JavaScript), both in safe, offline modes."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from lod.formats import Format

from .conftest import ROOT, require

NODE_MODULES = Path(os.environ.get("LOD_NODE_MODULES", ROOT / ".ci" / "node" / "node_modules"))
JSONLD_TO_NQUADS = """
const jsonld = require(process.argv[1] + '/jsonld');
let input = '';
process.stdin.on('data', d => input += d).on('end', async () => {
  const doc = JSON.parse(input);
  // no documentLoader: a remote @context would fail, as it must for offline consumers
  const nquads = await jsonld.toRDF(doc, {format: 'application/n-quads', safe: true,
    documentLoader: url => { throw new Error('refused to fetch ' + url); }});
  process.stdout.write(nquads);
});
"""


def reference(built) -> Graph:
    data = gzip.decompress(built.dump(Format.NTRIPLES).read_bytes())
    return Graph().parse(data=data, format="nt")


@pytest.mark.parametrize(
    ("fmt", "syntax"), [(Format.NTRIPLES, "ntriples"), (Format.TURTLE, "turtle")], ids=["nt", "ttl"]
)
def test_rapper_reads_the_dumps_as_the_same_graph(built, fmt, syntax, tmp_path):
    require(shutil.which("rapper") is not None, "rapper (raptor2-utils)")
    source = tmp_path / f"dump.{fmt.extension}"
    source.write_bytes(gzip.decompress(built.dump(fmt).read_bytes()))
    done = subprocess.run(
        ["rapper", "-q", "-i", syntax, "-o", "ntriples", str(source), "https://lod.example.org/"],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert isomorphic(Graph().parse(data=done.stdout, format="nt"), reference(built))


def jsonld_js(document: bytes) -> Graph:
    """The graph jsonld.js reads in a JSON-LD document, offline."""
    require(
        shutil.which("node") is not None and (NODE_MODULES / "jsonld").is_dir(),
        "node with jsonld.js (.ci/run: npm install jsonld)",
    )
    done = subprocess.run(
        ["node", "-e", JSONLD_TO_NQUADS, str(NODE_MODULES)],
        input=document,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    return Graph().parse(data=done.stdout, format="nt")


def test_jsonld_js_reads_the_jsonld_dump_offline(built):
    document = gzip.decompress(built.dump(Format.JSONLD).read_bytes())
    assert isomorphic(jsonld_js(document), reference(built))
    assert isinstance(json.loads(document)["@context"], dict)
