"""Our data <-> other graphs: the reconciliation index's matching, and the audit of a
deployment as a Linked Data client sees it."""
