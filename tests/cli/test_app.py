"""The root app: every command group is wired, and `atlas-sre --help` loads no room but `cli`."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from atlas_sre.cli import app

COMMANDS = ["version", "exec", "analyze", "investigate", "mcp", "bench", "report", "demo", "view"]
GROUPS = ["sim", "scenarios", "models", "capsules", "export"]


def test_help_lists_every_command_and_group_in_order() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    listed = [line.split()[1] for line in result.output.splitlines() if line.startswith("│ ") and len(line.split()) > 2]
    assert [name for name in listed if name in COMMANDS + GROUPS] == COMMANDS + GROUPS


def test_importing_the_cli_loads_no_other_room() -> None:
    """Start-up speed: rooms are imported inside each command, never when the app is built."""
    code = "import json, sys, atlas_sre.cli; print(json.dumps([m for m in sys.modules if m.startswith('atlas_sre.')]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out)
    assert loaded and all(m.startswith("atlas_sre.cli") for m in loaded), loaded
