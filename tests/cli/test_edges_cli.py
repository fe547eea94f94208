"""CLI edges (issue 15): bad ports, missing paths, unwritable outputs and an empty path argument
each give one `error:` line and exit 2, never a traceback (run through the real `atlas-sre`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "atlas_sre", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def _one_error_line(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 2, run
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    return lines[0]


@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_sim_serve_refuses_a_port_out_of_range(port: str) -> None:
    line = _one_error_line(_cli("sim", "serve", "crashloop-missing-env", "--port", port))
    assert line == f"error: --port must be from 0 to 65535 (0: any free port), got {port}"


def test_sim_serve_refuses_a_now_out_of_range() -> None:
    line = _one_error_line(_cli("sim", "serve", "crashloop-missing-env", "--now", "9999-12-31T00:00:00Z"))
    assert line == "atlas-sre sim: error: --now: year 9999 is outside 1970-2200"


def test_sim_serve_refuses_a_bad_scenario_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: atlas-sre/v1\nkind: Scenario\nmetadata: {name: x}\n"
                   "spec: {incident: {summary: s}, clock: {start: yesterday}}\n")
    line = _one_error_line(_cli("sim", "serve", str(bad)))
    assert line.startswith(f"atlas-sre sim: error: {bad}:4: spec.clock.start: expected an RFC 3339 time")


def test_scenarios_list_of_a_missing_path() -> None:
    line = _one_error_line(_cli("scenarios", "list", "/nonexistent"))
    assert line.startswith("error: /nonexistent: no such file or built-in scenario")


def test_scenarios_generate_into_an_unwritable_place() -> None:
    line = _one_error_line(_cli("scenarios", "generate", "--count", "1", "--seed", "1", "--out", "/proc/nope"))
    assert line.startswith("error: cannot create --out /proc/nope:")


def test_scenarios_validate_of_an_empty_path_does_not_scan_the_current_folder(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("not: a scenario\n")  # would be found if "" meant "."
    run = _cli("scenarios", "validate", "", cwd=tmp_path)
    line = _one_error_line(run)
    assert line == "error: empty path argument (name a file, a folder or a built-in scenario)"
    assert "broken.yaml" not in run.stderr + run.stdout


def test_scenarios_validate_of_a_folder_without_scenarios(tmp_path: Path) -> None:
    line = _one_error_line(_cli("scenarios", "validate", str(tmp_path)))
    assert line == f"error: no scenario files (*.yaml) in {tmp_path}"


def test_scenarios_validate_of_a_device_is_not_read_forever() -> None:
    run = _cli("scenarios", "validate", "/dev/zero")
    assert run.returncode == 2 and run.stderr.strip() == "/dev/zero: not a regular file", run
