"""The `atlas-sre` command: one module per command group, wired together in `app.py`.

Every command is a thin wrapper over a room's public functions; heavy imports happen inside each
command so `atlas-sre --help` and `sim serve` start fast. Every user error is one line on stderr
and a non-zero exit, never a traceback. See README.md for the module of each group.
"""

from atlas_sre.cli.app import app, main

__all__ = ["app", "main"]
