"""Publishing a build: loading it into a remote SPARQL store (`remote`)."""
