// Replicates a Linked Data Event Stream with the `ldes-client` package (npm) and prints
// the state it ends in as N-Triples: each member replaces the triples of the resource it
// is a version of (dcterms:isVersionOf) with the triples of its named graph; a member
// typed as:Delete removes the resource. Used by tests/test_ldes.py.
//
//   LDES_CLIENT_MODULES=.ci/node/node_modules node tests/ldes_replicate.mjs URL
import path from "node:path";

const modules = process.env.LDES_CLIENT_MODULES;
const { replicateLDES, intoConfig } = await import(
  path.join(modules, "ldes-client", "dist", "lib", "client.js")
);

const DELETE = "https://www.w3.org/ns/activitystreams#Delete";
const RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

function term(t) {
  if (t.termType === "NamedNode") return `<${t.value}>`;
  if (t.termType === "BlankNode") return `_:${t.value}`;
  const text = JSON.stringify(t.value);
  if (t.language) return `${text}@${t.language}`;
  const type = t.datatype && t.datatype.value;
  if (type && type !== "http://www.w3.org/2001/XMLSchema#string") return `${text}^^<${type}>`;
  return text;
}

const client = replicateLDES(
  intoConfig({ url: process.argv[2], noShape: true }),
  "ascending",
);
const reader = client.stream({ highWaterMark: 10 }).getReader();
const state = new Map(); // resource IRI -> N-Triples lines
let members = 0;
for (;;) {
  const { value: member, done } = await reader.read();
  if (done) break;
  members += 1;
  const version = member.id.value;
  const resource = member.isVersionOf;
  if (!resource) throw new Error(`member ${version} has no dcterms:isVersionOf`);
  const deleted = member.quads.some(
    (q) => q.subject.value === version && q.predicate.value === RDF_TYPE && q.object.value === DELETE,
  );
  if (deleted) {
    state.delete(resource);
    continue;
  }
  const lines = member.quads
    .filter((q) => q.graph.termType === "NamedNode" && q.graph.value === version)
    .map((q) => `${term(q.subject)} ${term(q.predicate)} ${term(q.object)} .`);
  state.set(resource, lines);
}
for (const lines of state.values()) for (const line of lines) process.stdout.write(line + "\n");
process.stderr.write(`${members} members, ${state.size} resources\n`);
