"""`python -m lod` is the `lod` command."""

from .cli import main

main()
