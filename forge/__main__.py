"""`python -m forge` is the `scenario-forge` command."""

from forge.cli import main

main()
