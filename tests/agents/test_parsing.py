"""Reply parsing (one command or the diagnosis) and the probe's score parser."""

from __future__ import annotations

import pytest

from atlas_sre.agents.exceptions import FormatError, Submitted
from atlas_sre.agents.parsing import parse_action, parse_probe_score, teaching_text

DIAGNOSIS = '{"entities": [{"name": "shop/DestinationRule/reviews"}], "category": "Misconfiguration", "summary": "x"}'


@pytest.mark.parametrize("text, command", [
    ("I will list pods.\n```bash\nkubectl get pods -A\n```", "kubectl get pods -A"),
    ("```sh\n$ kubectl get vs -n shop -o yaml\n```", "kubectl get vs -n shop -o yaml"),
    ("```\n# comment first\nanalyze -A\n```", "analyze -A"),
    ("Let me check:\nkubectl describe pod web-1 -n shop", "kubectl describe pod web-1 -n shop"),
    ("```bash\nkubectl get pods | grep -v Running\n```", "kubectl get pods | grep -v Running"),
])
def test_one_command_is_read(text: str, command: str) -> None:
    assert parse_action(text) == command


def test_json_block_submits_a_normalised_diagnosis() -> None:
    with pytest.raises(Submitted) as info:
        parse_action(f"Done.\n```json\n{DIAGNOSIS}\n```")
    assert info.value.diagnosis.root_causes == ["shop/DestinationRule/reviews"]


def test_bare_json_and_default_namespace() -> None:
    with pytest.raises(Submitted) as info:
        parse_action('{"entities": [{"name": "DestinationRule/reviews"}]}', default_namespace="shop")
    assert info.value.diagnosis.root_causes == ["shop/DestinationRule/reviews"]


@pytest.mark.parametrize("text, fragment", [
    ("I think the problem is the mesh.", "no command and no diagnosis"),
    ("```bash\nkubectl get pods\nkubectl get svc\n```", "2 lines"),
    ("```bash\nkubectl get pods\n```\n```bash\nkubectl get svc\n```", "2 command blocks"),
    (f"```bash\nkubectl get pods\n```\n```json\n{DIAGNOSIS}\n```", "both a command and a diagnosis"),
    ('```json\n{"entities": [{"name": "x"}\n```', "could not be read"),
    ("kubectl get pods\nkubectl get svc", "several command lines"),
    ("```bash\n\n```", "no command"),
])
def test_garbled_replies_are_format_errors_with_a_reason(text: str, fragment: str) -> None:
    with pytest.raises(FormatError) as info:
        parse_action(text)
    assert fragment in str(info.value)


@pytest.mark.parametrize("text, score", [
    ("Score: 4/5. Good plan.", 4),
    ("I rate this 2 out of 5", 2),
    ("score: 1 - the plan is surface-level", 1),
    ("Score 5", 5),
    ("Capability level: 3", 3),
    ("rating=4", 4),
    ("4/5", 4),
    ("The student will fail completely on this task.", 1),
    ("Excellent plan, expert level.", 5),
    ("This is a weak plan with major gaps.", 2),
    ("A moderate plan, mixed quality.", 3),
    ("Solid and likely to succeed.", 4),
    ("The plan is not good.", 2),
    ("Probably a 2.", 2),
    ("503 errors need mesh checks; 40% of requests fail.", 3),
    ("", 3),
    ("no idea what to say", 1),
    ("Score: 9/10", 3),
])
def test_probe_score_table(text: str, score: int) -> None:
    assert parse_probe_score(text) == score


def test_teaching_text_keeps_only_the_student_facing_part() -> None:
    raw = "<thinking>the DR lacks v3</thinking><teaching>Check the routes.</teaching>"
    assert teaching_text(raw) == "Check the routes."
    assert teaching_text("<think>secret</think>Check endpoints.") == "Check endpoints."
    assert teaching_text("<teaching>cut off") == "cut off"
