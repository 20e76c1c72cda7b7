"""data/ -> a build folder: read the sources, convert them to RDF, validate, write the dumps,
the store and the indexes, switch dist/current. Knows nothing of serving or HTTP."""

from .builder import Builder, build
from .steps import Validated, validated

__all__ = ["Builder", "Validated", "build", "validated"]
