"""The reference student on canned command output: phrasebook, owners, evidence rules, habits, honesty."""

from __future__ import annotations

import ast
from pathlib import Path

from agent_doubles import FakeEnvironment

from atlas_sre.agents.loop import run_investigation
from atlas_sre.agents.reference.data import ReferenceData
from atlas_sre.agents.reference.kube import Command, duration_s, owner_by_name, parse_pods
from atlas_sre.agents.reference.observe import Observer
from atlas_sre.agents.reference.student import ReferenceStudent, phrase_commands
from atlas_sre.agents.types import Briefing, Incident

DATA = ReferenceData.load()
PODS = """NAMESPACE     NAME                        READY   STATUS             RESTARTS         AGE
kube-system   coredns-zr25ctfhhp-7b4ld    1/1     Running            0                120m
shop          checkout-gl9qp5649h-qxvxt   0/1     CrashLoopBackOff   28 (3m18s ago)   120m
shop          frontend-f8slj2d245-g7xdt   2/2     Running            0                120m
"""
DESCRIBE = """Name:             checkout-gl9qp5649h-qxvxt
Namespace:        shop
Labels:           app=checkout
                  pod-template-hash=gl9qp5649h
Controlled By:  ReplicaSet/checkout-gl9qp5649h
Containers:
  checkout:
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       OOMKilled
      Exit Code:    137
"""
NC_LINE = ('[2026-11-26T09:59:24.391Z] "GET /reviews/0 HTTP/1.1" 503 NC cluster_not_found - "-" 0 0 0 - "-" "Go" '
           '"8bc7" "reviews:9080" "-" - - 10.96.210.119:9080 10.244.0.5:40711 - -\n')
UPSTREAM_500 = ('[2026-11-26T09:59:24.391Z] "GET /cart HTTP/1.1" 500 - via_upstream - "-" 0 0 3 3 "-" "Go" "8bc7" '
                '"cart:8080" "10.244.0.9:8080" outbound|8080||cart.shop.svc.cluster.local 10.244.0.5:1 '
                '10.96.0.1:8080 10.244.0.5:2 - default\n')
RBAC_LINE = ('[2026-11-26T09:59:24.391Z] "GET /x HTTP/1.1" 403 - rbac_access_denied_matched_policy[ns[shop]-policy'
             '[deny-all]-rule[0]] - "-" 0 19 0 - "-" "Go" "8bc7" "cart:8080" "-" inbound|8080|| - 10.244.0.9:8080 '
             '10.244.0.5:3 - -\n')
YAML = """apiVersion: v1
items:
- apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata: {name: reviews, namespace: shop}
  spec:
    hosts: [reviews]
    http:
    - route:
      - destination: {host: reviews, subset: v1}
      - destination: {host: reviews, subset: v3}
- apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata: {name: reviews-rule, namespace: shop}
  spec:
    host: reviews.shop.svc.cluster.local
    subsets: [{name: v1, labels: {version: v1}}]
kind: List
"""


def test_phrases_become_commands_in_the_order_they_are_written() -> None:
    text = "First read the istio-proxy logs, then compare the VirtualService with the DestinationRule subsets."
    assert phrase_commands(text, DATA.phrasebook) == [
        "kubectl logs {caller_pod} -n {caller_ns} -c istio-proxy --tail=100",
        "kubectl get virtualservices -A -o yaml", "kubectl get destinationrules -A -o yaml"]
    assert phrase_commands("Run istioctl analyze.", DATA.phrasebook) == ["analyze -A"]
    assert phrase_commands("nothing relevant here", DATA.phrasebook) == []


def test_owners_by_kubernetes_naming_conventions() -> None:
    assert owner_by_name("shop", "checkout-gl9qp5649h-qxvxt") == "shop/Deployment/checkout"
    assert owner_by_name("shop", "redis-0") == "shop/StatefulSet/redis"
    assert owner_by_name("ops", "db-janitor-29340530-npmvs") == "ops/Job/db-janitor-29340530"
    assert owner_by_name("shop", "standalone") == "shop/Pod/standalone"


def test_command_shapes() -> None:
    assert Command.parse("kubectl describe pod web-1 -n shop").source == "describe_pod"
    logs = Command.parse("kubectl logs web-1 -n shop -c istio-proxy --tail=100")
    assert (logs.source, logs.subject, logs.namespace) == ("proxy_logs", "web-1", "shop")
    assert Command.parse("kubectl get pods -A").source == "get_pods"
    assert Command.parse("kubectl get destinationrules -n shop -o yaml").source == "yaml"
    assert Command.parse("analyze -A").source == "analyze"


def test_describe_gives_the_owner_and_oomkilled_evidence() -> None:
    obs = Observer(DATA.evidence, "shop")
    obs.read("kubectl describe pod checkout-gl9qp5649h-qxvxt -n shop", DESCRIBE)
    best = obs.ranked()[0]
    assert (best.entity, best.category, best.rule) == ("shop/Deployment/checkout", "Resource Saturation", "oom-killed")
    assert best.confidence >= 0.85


def test_envoy_flags_lead_to_the_mesh_objects() -> None:
    obs = Observer(DATA.evidence, "shop")
    followups = obs.read("kubectl logs productpage-v1-abc-x -n shop -c istio-proxy --tail=100", NC_LINE * 3)
    assert "kubectl get destinationrules -n shop -o yaml" in followups
    assert obs.candidates["shop/DestinationRule/reviews"].rule == "envoy:NC"
    chain = obs.read("kubectl logs frontend-abc-x -n shop -c istio-proxy --tail=100", UPSTREAM_500)
    assert chain == ["kubectl logs {pod_of:shop/cart} -n shop -c istio-proxy --tail=100"]
    obs.read("kubectl logs cart-abc-x -n shop -c istio-proxy --tail=100", RBAC_LINE)
    assert obs.ranked()[0].entity == "shop/AuthorizationPolicy/deny-all"


def test_yaml_cross_check_finds_the_missing_subset() -> None:
    obs = Observer(DATA.evidence, "shop")
    obs.read("kubectl get virtualservices,destinationrules -n shop -o yaml", YAML)
    best = obs.ranked()[0]
    assert best.entity == "shop/DestinationRule/reviews-rule" and best.confidence == 0.9
    assert "subset v3" in best.evidence


def test_objects_outside_the_incident_namespaces_are_discounted() -> None:
    obs = Observer(DATA.evidence, "shop", focus_namespaces=frozenset({"shop"}))
    obs.propose("monitoring/Deployment/exporter", "Resource Saturation", 0.88, "OOM", "r")
    obs.propose("shop/DestinationRule/details", "Misconfiguration", 0.7, "subset", "r")
    obs.propose("istio-system/AuthorizationPolicy/waf", "Misconfiguration", 0.88, "deny", "r")
    assert [c.entity for c in obs.ranked()] == ["istio-system/AuthorizationPolicy/waf", "shop/DestinationRule/details",
                                                "monitoring/Deployment/exporter"]


def test_the_habit_is_pods_describe_logs_and_blames_what_it_saw() -> None:
    runner = FakeEnvironment({
        "kubectl get pods -A": PODS,
        "kubectl describe pod checkout-gl9qp5649h-qxvxt -n shop": DESCRIBE.replace("OOMKilled", "Error"),
        "kubectl logs checkout-gl9qp5649h-qxvxt -n shop --previous --tail=50":
            "panic: config: required key DATABASE_URL missing\n",
    })
    incident = Incident.of("checkout pods keep restarting")
    student = ReferenceStudent()
    traj = run_investigation(student, runner, Briefing(incident, student.plan(incident).text, namespace="shop"))
    # the crash loop seen in `describe` makes it read the previous container's logs before its usual logs
    assert runner.ran == ["kubectl get pods -A", "kubectl describe pod checkout-gl9qp5649h-qxvxt -n shop",
                          "kubectl logs checkout-gl9qp5649h-qxvxt -n shop --previous --tail=50"]
    assert traj.outcome == "submitted"
    assert traj.diagnosis["entities"][0]["name"] == "shop/Deployment/checkout"
    assert "DATABASE_URL" in traj.diagnosis["entities"][0]["evidence"]


def test_guidance_changes_what_runs_first() -> None:
    runner = FakeEnvironment({"kubectl get pods -A": PODS})
    incident = Incident.of("503 on checkout", [{"alertname": "HighRequestErrorRate", "namespace": "shop",
                                                "service": "frontend"}])
    traj = run_investigation(ReferenceStudent(), runner, Briefing(incident, "", "Read the istio-proxy access log."))
    assert runner.ran[:2] == ["kubectl get pods -A",
                              "kubectl logs frontend-f8slj2d245-g7xdt -n shop -c istio-proxy --tail=100"]
    assert traj.outcome == "submitted"


def test_no_evidence_and_nothing_wrong_means_no_fault() -> None:
    healthy = PODS.replace("0/1     CrashLoopBackOff   28 (3m18s ago)", "1/1     Running            0          ")
    traj = run_investigation(ReferenceStudent(), FakeEnvironment({"kubectl get pods -A": healthy}),
                             Briefing(Incident.of("verify that the shop is fine")))
    assert traj.outcome == "submitted" and traj.diagnosis["entities"] == []


def test_restart_ages_are_read_and_old_restarts_on_ready_pods_are_history() -> None:
    table = PODS.replace("0/1     CrashLoopBackOff   28 (3m18s ago)", "1/1     Running            1 (4h28m ago) ")
    rows = {r.name: r for r in parse_pods(table, "default")}
    checkout = rows["checkout-gl9qp5649h-qxvxt"]
    assert (checkout.restarts, checkout.last_restart_s, checkout.status) == (1, 4 * 3600 + 28 * 60, "Running")
    assert not checkout.abnormal and checkout.recent_restarts == 0
    crashing = {r.name: r for r in parse_pods(PODS, "default")}["checkout-gl9qp5649h-qxvxt"]
    assert crashing.last_restart_s == 198 and crashing.abnormal
    assert duration_s("2d3h") == 2 * 86400 + 3 * 3600 and duration_s("(3m") is None


def test_old_noise_without_a_current_symptom_is_answered_no_fault() -> None:
    """A restart hours ago and an analyzer Warning about past state are history: nothing to blame."""
    table = PODS.replace("0/1     CrashLoopBackOff   28 (3m18s ago)", "1/1     Running            1 (4h28m ago) ")
    analyze = ("Warning [ATL202] (Deployment shop/checkout) container checkout last terminated OOMKilled "
               "(exit code 137) 4h28m ago and has run ready since (1 restart(s) in 1 pod(s)); past, not current.\n")
    env = FakeEnvironment({"kubectl get pods -A": table, "analyze -A": analyze})
    traj = run_investigation(ReferenceStudent(), env, Briefing(Incident.of("a restart on checkout overnight; "
                                                                           "does the shop need attention?"),
                                                               guidance="Run the analyzer (analyze -A)."))
    assert "analyze -A" in env.ran and traj.diagnosis["entities"] == []
    # The same Warning while a pod fails now is weak evidence worth reporting.
    env = FakeEnvironment({"kubectl get pods -A": PODS, "analyze -A": analyze})
    traj = run_investigation(ReferenceStudent(), env, Briefing(Incident.of("checkout is down"),
                                                               guidance="Run the analyzer (analyze -A)."))
    assert [e["name"] for e in traj.diagnosis["entities"]][:1] == ["shop/Deployment/checkout"]


def test_the_agents_room_cannot_reach_scenarios_or_ground_truth() -> None:
    """Architecture guard: no module of the agents room imports the scenario, simulator or grading code."""
    root = Path(__file__).resolve().parents[2] / "src" / "atlas_sre" / "agents"
    forbidden = ("atlas_sre.scenarios", "atlas_sre.sim", "atlas_sre.grading.truth", "atlas_sre.grading.scoring",
                 "atlas_sre.protocol")
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
