"""The read-only policy: every adversarial line refused, every benign line allowed, reasons readable."""

from __future__ import annotations

import random
import string

import pytest

from atlas_sre.commands import (
    KubectlCommand,
    Pipeline,
    Refusal,
    ToolCommand,
    check_command_line,
    check_kubectl_args,
)
from atlas_sre.commands.kubectl_policy import PolicyViolation

from .corpus import ADVERSARIAL, ADVERSARIAL_BY_CATEGORY, BENIGN

_ADVERSARIAL_CASES = [
    pytest.param(line, id=f"{category[:12]}-{i}")
    for category, lines in ADVERSARIAL_BY_CATEGORY.items()
    for i, line in enumerate(lines)
]


def test_corpus_sizes() -> None:
    assert len(ADVERSARIAL) >= 150
    assert len(BENIGN) >= 50
    assert not set(ADVERSARIAL) & set(BENIGN)


@pytest.mark.parametrize("line", _ADVERSARIAL_CASES)
def test_adversarial_lines_are_refused(line: str) -> None:
    decision = check_command_line(line)
    assert isinstance(decision, Refusal), f"not refused: {line!r}"
    assert decision.reason and "internal policy error" not in decision.reason


@pytest.mark.parametrize("line", BENIGN)
def test_benign_lines_are_allowed(line: str) -> None:
    decision = check_command_line(line)
    assert isinstance(decision, Pipeline), getattr(decision, "reason", "")


def test_fuzzed_lines_never_raise() -> None:
    rng = random.Random(1234)
    alphabet = string.printable + "\u0435\u200b\uff0d\u2013"
    words = ["kubectl", "get", "pods", "|", "grep", "-n", "'", '"', "$", "secret", "-o", "yaml", "jq", ";"]
    for _ in range(3000):
        if rng.random() < 0.5:
            line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        else:
            line = " ".join(rng.choice(words) for _ in range(rng.randint(1, 10)))
        decision = check_command_line(line)
        assert isinstance(decision, (Pipeline, Refusal))
        if isinstance(decision, Refusal):
            assert "internal policy error" not in decision.reason, line


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("kubectl delete pod x", "changes cluster state"),
        ("kubectl get secret db -o yaml", "describe secret"),
        ("kubectl get pods -w", "watches never end"),
        ("kubectl logs --follow x", "--tail=N"),
        ("kubectl get pods --context=prod", "layer chooses"),
        ("kub\u0435ctl get pods", "CYRILLIC SMALL LETTER IE"),
        ("kubectl get pods \u2013n shop", "EN DASH"),
        ("kube\u200bctl get pods", "ZERO WIDTH SPACE"),
        ("/usr/bin/kubectl get pods", "never given by path"),
        ("kubectl get pods > x", "redirection"),
        ("kubectl get pods | grep x /etc/passwd", "file operands"),
        ("kubectl get pods -o json | jq 'env'", "unsupported function"),
        ("kubectl get pods " + "a" * 5000, "limit is 4096"),
    ],
)
def test_refusal_reasons_are_specific(line: str, fragment: str) -> None:
    decision = check_command_line(line)
    assert isinstance(decision, Refusal)
    assert fragment in decision.reason


def test_pipeline_shape() -> None:
    decision = check_command_line("kubectl get pods -n shop -o wide | grep -v Running | head -5")
    assert isinstance(decision, Pipeline)
    assert isinstance(decision.source, KubectlCommand)
    assert decision.source.args == ("get", "pods", "-n", "shop", "-o", "wide")
    assert decision.source.namespace_given and not decision.source.all_namespaces
    assert [f.argv for f in decision.filters] == [("grep", "-v", "Running"), ("head", "-5")]


def test_single_quotes_are_literal_like_a_shell() -> None:
    decision = check_command_line("kubectl get pods | grep '$(touch x); `id` | $HOME'")
    assert isinstance(decision, Pipeline)
    assert decision.filters[0].argv == ("grep", "$(touch x); `id` | $HOME")


def test_double_quotes_allow_a_literal_trailing_dollar() -> None:
    decision = check_command_line('kubectl logs x | grep "timeout$"')
    assert isinstance(decision, Pipeline)
    assert decision.filters[0].argv == ("grep", "timeout$")


@pytest.mark.parametrize(
    "line",
    [
        "kubectl get pods secret -o yaml",  # a pod named "secret"
        "kubectl get -n secrets pods -o yaml",  # a namespace named "secrets"
        "kubectl get secrets -o name",
        "kubectl describe secrets -n shop",
        "kubectl auth can-i get secrets",
        "kubectl explain secret.data",
    ],
)
def test_secret_rule_is_about_contents_not_the_word(line: str) -> None:
    assert isinstance(check_command_line(line), Pipeline)


def test_tools_are_recognised_by_name() -> None:
    for line in ("analyze -n shop", "atlas-sre analyze -n shop"):
        decision = check_command_line(line)
        assert isinstance(decision, Pipeline)
        assert decision.source == ToolCommand(name="analyze", args=("analyze", "-n", "shop"))
    assert isinstance(check_command_line("mesh-check -A"), Refusal)
    assert isinstance(check_command_line("mesh-check -A", tool_names={"analyze", "mesh-check"}), Pipeline)


def test_istioctl_analyze_is_the_analyze_tool_and_nothing_else_of_istioctl_runs() -> None:
    decision = check_command_line("istioctl analyze -A | grep Error")
    assert isinstance(decision, Pipeline)
    assert decision.source == ToolCommand(name="analyze", args=("analyze", "-A"))
    for line in ("istioctl proxy-config clusters checkout-abc", "istioctl", "istioctl x describe pod web"):
        refused = check_command_line(line)
        assert isinstance(refused, Refusal) and "only `istioctl analyze` runs here" in refused.reason
        assert "kubectl logs POD -c istio-proxy" in refused.reason  # says what to read instead
    refused = check_command_line("istioctl analyze -A", tool_names={"mesh-check"})  # no analyzer given
    assert isinstance(refused, Refusal) and "not an allowed program" in refused.reason


@pytest.mark.parametrize(
    ("args", "namespace_given", "all_namespaces", "timeout_given"),
    [
        (["get", "pods"], False, False, False),
        (["get", "pods", "-nshop"], True, False, False),
        (["get", "pods", "--namespace=shop"], True, False, False),
        (["get", "pods", "-Ao", "wide"], False, True, False),
        (["get", "pods", "--all-namespaces"], False, True, False),
        (["--request-timeout", "5s", "get", "pods"], False, False, True),
    ],
)
def test_injection_hints(args: list[str], namespace_given: bool, all_namespaces: bool, timeout_given: bool) -> None:
    command = check_kubectl_args(args)
    assert (command.namespace_given, command.all_namespaces, command.request_timeout_given) == (
        namespace_given,
        all_namespaces,
        timeout_given,
    )


def test_value_flags_do_not_hide_the_verb() -> None:
    with pytest.raises(PolicyViolation, match="kubectl delete"):
        check_kubectl_args(["-n", "get", "delete", "pod", "x"])
    assert check_kubectl_args(["-n", "delete", "get", "pods"]).verb == "get"
