"""Our data <-> other graphs: our reconciliation service (`reconcile`, `extend`), sameAs
links proposed by other services (`service` asks, `matching` checks, `review` is what the
publisher decides on), names of records found in articles (`mentions`), and the
Mix'n'match catalogue (`mixnmatch`)."""
