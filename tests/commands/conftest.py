"""Fixtures: a fake `kubectl` that records every invocation, so tests can prove what ran."""

from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

# Behaviour is chosen by words in argv (they are valid pod names, so the policy lets them through).
_FAKE = '''#!{python}
import json, os, sys, time
args = sys.argv[1:]
with open({marker!r}, "a") as fh:
    fh.write(json.dumps(args) + "\\n")
if "sleep-forever" in args:
    print("partial line before the hang", flush=True)
    time.sleep(60)
if "big-output" in args:
    for i in range(1000):
        print(f"line {{i:04d}} " + "x" * 20)
    sys.exit(0)
if "secret-output" in args:
    print("env:")
    print("- name: DB_PASSWORD")
    print("  value: hunter2")
    print("Authorization: Bearer abcdefghijklmnop123")
    print("DB_URL=postgres://app:s3cr3tpw@db:5432/shop")
    sys.exit(0)
if "literal-output" in args:
    print("before")
    print("has $(touch x) in it")
    print("after")
    sys.exit(0)
if "fail" in args:
    print("some stdout")
    print("Error from server (NotFound): pods \\"fail\\" not found", file=sys.stderr)
    sys.exit(1)
print("ARGV=" + json.dumps(args))
print("KUBECONFIG=" + os.environ.get("KUBECONFIG", ""))
print("KUBERC=" + os.environ.get("KUBERC", ""))
print("CWD=" + os.getcwd())
'''


@dataclass
class FakeKubectl:
    """Paths of the fake binary and of the marker file it appends each argv to."""

    binary: Path
    marker: Path

    def calls(self) -> list[str]:
        """The agent's commands (the layer's own structured reads, marked by `--show-managed-fields=false`,
        are left out: see commands.secret_values)."""
        lines = self.marker.read_text().splitlines() if self.marker.exists() else []
        return [line for line in lines if '"--show-managed-fields=false"' not in line]


@pytest.fixture
def fake_kubectl(tmp_path: Path) -> FakeKubectl:
    binary = tmp_path / "bin" / "fake-kubectl"
    binary.parent.mkdir()
    marker = tmp_path / "kubectl-was-run.marker"
    binary.write_text(textwrap.dedent(_FAKE).format(python=sys.executable, marker=str(marker)))
    binary.chmod(0o755)
    return FakeKubectl(binary=binary, marker=marker)
