"""A build -> answers: the engines (embedded Oxigraph, a remote SPARQL store) behind one
interface, the SPARQL guard and the killable query workers. Reads build folders, never
builds; knows nothing of Flask."""
