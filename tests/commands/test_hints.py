"""Refusal hints: each row of the table turns a refused (or failed) line into the command to run instead."""

from __future__ import annotations

import pytest

from atlas_sre.commands import CommandRunner
from atlas_sre.commands.hints import HINTS, failure_hint, hints_for, refusal_hint
from atlas_sre.commands.next_checks import next_check
from atlas_sre.commands.policy import Pipeline, Refusal, check_command_line


@pytest.mark.parametrize("line, fragments", [
    ("kubectl logs shop-productpage-<pod-name> -c istio-proxy",
     ["`<pod-name>` is a placeholder", "use a real pod name from `kubectl get pods -A`"]),
    ("kubectl logs <pod> -n shop -c istio-proxy", ["use a real pod name from `kubectl get pods -n shop`"]),
    ("kubectl get pods -n <namespace>", ["use a real namespace from `kubectl get namespaces`"]),
    ("kubectl logs {pod} -n shop", ["`{pod}` is a placeholder", "`kubectl get pods -n shop`"]),
    ("kubectl logs $POD -n shop", ["`$POD` is a placeholder", "`kubectl get pods -n shop`"]),
    ("kubectl describe svc <service> -n shop", ["a real service name from `kubectl get services -n shop`"]),
    ("kubectl exec -it web-1 -n shop -- curl reviews:9080",
     ["`kubectl exec` is not allowed; read logs instead (`kubectl logs web-1 -n shop --tail=50`",
      "`curl` is not allowed"]),
    ("kubectl port-forward svc/reviews 9080 -n shop", ["`kubectl port-forward` is not allowed", "istio-proxy"]),
    ("kubectl cp web-1:/etc/app.conf app.conf", ["`kubectl cp` is not allowed; read logs instead"]),
    ("curl http://reviews.shop:9080", ["`curl` is not allowed", "`analyze -A`"]),
    ("wget http://reviews.shop:9080", ["`wget` is not allowed"]),
    ("kubectl get pods -n shop | xargs kubectl exec curl",
     ["after `|` only grep, head, tail, wc, sort, uniq, jq, awk (print only), cut may run",
      "`kubectl exec` is not allowed"]),
    ("kubectl get pods -n shop | sh",
     ["after `|` only grep, head, tail, wc, sort, uniq, jq, awk (print only), cut may run"]),
    ("kubectl get pods | sed 's/a/b/'", ["after `|` only grep"]),
    ("kubectl delete pod web-1 -n shop", ["this investigation is read-only", "`kubectl delete`"]),
])
def test_refusals_say_what_to_run_instead(line: str, fragments: list[str]) -> None:
    decision = check_command_line(line)
    assert isinstance(decision, Refusal)
    for fragment in fragments:
        assert fragment in decision.hint, decision.hint
    assert decision.message == f"{decision.reason}\nInstead: {decision.hint}"


def test_hints_never_change_what_is_allowed() -> None:
    for line in ("kubectl get pods -A", "kubectl logs web-1 -n shop -c istio-proxy --tail=50", "analyze -A",
                 "kubectl logs POD_NAME -n shop"):  # a caps placeholder runs (and fails with NotFound)
        assert isinstance(check_command_line(line), Pipeline)
    no_hint = check_command_line("kubectl get pods -o wide > out.txt")
    assert isinstance(no_hint, Refusal) and no_hint.hint == "" and no_hint.message == no_hint.reason


def test_one_placeholder_hint_per_line_and_at_most_two_hints() -> None:
    hint = refusal_hint("kubectl logs <pod-name> -n shop -c <container-name>")
    assert hint.count("placeholder") == 1
    assert len(hints_for("kubectl get pods | xargs kubectl exec -- curl x")) == 2


@pytest.mark.parametrize("line, fragment", [
    ("kubectl logs POD_NAME -n shop", "`POD_NAME` is a placeholder, not a name: use a real pod name from "
                                      "`kubectl get pods -n shop`"),
    ("kubectl describe deployment DEPLOYMENT_NAME -n shop", "a real deployment name"),
    ("kubectl logs your-pod -n shop", "`your-pod` is a placeholder"),
    ("kubectl logs NAME -n shop -c istio-proxy", "`NAME` is a placeholder"),  # copied from a hint
])
def test_a_failed_command_with_a_placeholder_is_explained(line: str, fragment: str) -> None:
    assert fragment in failure_hint(line)


def test_real_names_and_quoted_jsonpath_are_not_placeholders() -> None:
    assert "http_code" not in refusal_hint('kubectl get pods | xargs curl -w "%{http_code}" http://x')
    for line in ("kubectl get pods -n shop -o jsonpath='{.items[*].metadata.name}'",
                 "kubectl logs checkout-7d9f-x2 -n shop --tail=50", "kubectl get pods -l app=checkout -n shop",
                 "kubectl get events -A --field-selector type=Warning"):
        assert failure_hint(line) == "", line


def test_an_unknown_pod_is_listed_first_not_left_as_a_placeholder() -> None:
    hint = refusal_hint("kubectl get pods -n shop | xargs kubectl exec -it {} -- curl http://productpage.shop")
    assert "list the pods with `kubectl get pods -n shop`, then with a NAME from that list" in hint
    assert "POD" not in hint


def test_the_runner_shows_the_hint_with_the_refusal() -> None:
    result = CommandRunner().run("kubectl exec web-1 -n shop -- env")
    assert result.refused and result.reason is not None and "Instead:" not in result.reason
    assert result.observation.startswith("Refused by the read-only command policy: ")
    assert "\nInstead: `kubectl exec` is not allowed; read logs instead" in result.observation


def test_every_row_is_named_once() -> None:
    names = [h.name for h in HINTS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("line, fragment", [
    ("kubectl logs --previous checkout-7f9-abc -n shop", "`kubectl describe pod checkout-7f9-abc -n shop`"),
    ("kubectl logs checkout-7f9-abc -n shop", "`kubectl logs checkout-7f9-abc -n shop --previous --tail=50`"),
    ("kubectl logs web-1 -n shop -c istio-proxy --tail=50", "`analyze -A`"),
    ("kubectl get pods -A", "`kubectl describe pod` with the name of a pod that is not Running and Ready in "
                            "`kubectl get pods -n shop`"),
    ("kubectl describe pod web-1 -n shop", "`kubectl logs web-1 -n shop --tail=50`"),
    ("kubectl get svc", "`kubectl get events -n shop --field-selector type=Warning`"),
    ("kubectl logs POD -n shop", "`kubectl get pods -n shop` to find a real pod name"),
])
def test_a_repeat_gets_a_different_next_check(line: str, fragment: str) -> None:
    assert fragment in next_check(line, "shop")
