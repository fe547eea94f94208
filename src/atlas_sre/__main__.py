"""`python -m atlas_sre` is the `atlas-sre` command."""

from atlas_sre.cli import main

main()
