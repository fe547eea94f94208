"""Every command the reference teacher names for a model student runs on the served built-in scenarios.

A model copies the commands its guidance names; one the command policy refuses or kubectl rejects
would cost it a step and teach it nothing. So every command of every strategy's guidance, for every
built-in incident, goes through the real command layer and real kubectl (`POD` replaced by a pod of
the incident's namespace, as the guidance tells the student to do)."""

from __future__ import annotations

import re
import shutil

import pytest

from atlas_sre.agents.reference.teacher import ReferenceTeacher
from atlas_sre.agents.types import ProbeResult, strategy_for
from atlas_sre.environments import default_tools, open_scenario
from atlas_sre.scenarios.catalog import builtin_paths

pytestmark = [pytest.mark.kubectl, pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl missing")]
ANALYZE_FOUND_ISSUES = 79  # istioctl analyze's exit code when it reports a finding
PLAN = "1. kubectl get pods\n2. describe the failing pod\n3. read its logs"


def test_every_named_command_runs_on_every_builtin_incident() -> None:
    teacher = ReferenceTeacher()
    teacher.name_commands = True
    ran: set[str] = set()
    for path in [p for p in builtin_paths() if p.parent.name == "builtin"]:
        with open_scenario(path, tools=default_tools()) as env:
            incident = env.incident
            assert incident is not None
            pods = env.execute(f"kubectl get pods -n {incident.namespace or env.namespace} -o name")
            pod = pods.observation.split()[0].removeprefix("pod/") if pods.exit_code == 0 and pods.observation else ""
            commands: set[str] = set()
            for score in (1, 3):  # Heavy and Medium name every step; Light names one of them
                probe = teacher.probe(incident, PLAN)
                text = teacher.correct(incident, PLAN, ProbeResult(score, probe.response, strategy_for(score))).text
                commands.update(re.findall(r"`([^`]+)`", text))
            for command in sorted(commands):
                if "POD" in command and not pod:
                    continue
                result = env.execute(command.replace("POD", pod))
                assert not result.refused, (path.stem, command, result.observation[:200])
                if "POD" in command and result.exit_code:
                    # kubectl's own answer about the pod it was given (no sidecar, never restarted), not the command
                    assert re.search(r"container .* (is not valid|not found)|previous terminated container",
                                     result.observation), (path.stem, command, result.observation[:200])
                    continue
                found = result.argv[:1] == ["analyze"] and result.exit_code == ANALYZE_FOUND_ISSUES
                assert result.exit_code == 0 or found, (path.stem, command, result.observation[:200])
                ran.add(command)
    assert {"analyze -A", "kubectl get virtualservices,gateways,destinationrules -A -o yaml"} <= ran
