"""The reference agents without the `analyze` tool: the teacher never asks for it, the student never
plans it, and the student decides mesh causes from kubectl output alone (Services, Gateways, mTLS)."""

from __future__ import annotations

import textwrap

from atlas_sre.agents.reference.kube import Command, parse_services
from atlas_sre.agents.reference.mesh import gateway_problems, route_problems, tls_conflicts, yaml_objects
from atlas_sre.agents.reference.observe import Observer
from atlas_sre.agents.reference.student import ReferenceStudent, phrase_commands
from atlas_sre.agents.reference.teacher import ReferenceTeacher
from atlas_sre.agents.types import CapsuleBrief, Incident

INCIDENT = Incident.of("Requests to https://shop.example.com/ are failing with HTTP 503",
                       [{"alertname": "HighRequestErrorRate", "namespace": "shop", "service": "frontend"}])


def test_teacher_drops_checks_that_need_an_absent_tool() -> None:
    teacher = ReferenceTeacher()
    with_tool = teacher.assess(INCIDENT, "1. kubectl get pods -A")
    assert any(s.tool == "analyze" for s in with_tool.steps)  # not told: the analyzer is assumed
    teacher.available_tools = frozenset()
    without = teacher.assess(INCIDENT, "1. kubectl get pods -A")
    assert without.steps and not any(s.tool for s in without.steps)
    probe = teacher.probe(INCIDENT, "1. kubectl get pods -A")
    text = teacher.correct(INCIDENT, "1. kubectl get pods -A", probe).text.lower()
    assert "analyz" not in text and "istio-proxy" in text and "virtualservice" in text


def test_student_plans_no_command_for_an_absent_tool() -> None:
    student = ReferenceStudent()
    guidance = "1. Run the mesh analyzer (istioctl analyze). 2. Read the istio-proxy access log."
    assert "analyze -A" in student.directed_commands((), guidance)
    student.available_tools = frozenset()
    commands = student.directed_commands((), guidance)
    assert "analyze -A" not in commands and any("istio-proxy" in c for c in commands)
    capsule = CapsuleBrief(id="cap-1", skill="virtualservice_misconfiguration_debug", trigger="503",
                           procedure=["Run the analyzer (`analyze -A`) and read every Error line.",
                                      "Read the VirtualService routes."],
                           commands=["analyze -A", "kubectl get virtualservices -A -o yaml"])
    commands = student.directed_commands([capsule], None)
    assert commands == ["kubectl get virtualservices -A -o yaml"]
    plan = student.plan(INCIDENT, [capsule]).text
    assert "analyzer" not in plan.lower() and "VirtualService" in plan
    assert phrase_commands("run the analyzer", student.data.phrasebook, frozenset()) == []


def test_services_table_and_command_shape() -> None:
    table = textwrap.dedent("""\
        NAME       TYPE        CLUSTER-IP     EXTERNAL-IP   PORT(S)           AGE   SELECTOR
        frontend   ClusterIP   10.96.0.20     <none>        80/TCP,443/TCP    5d    app=frontend
        gateway    NodePort    10.96.0.21     <none>        8080:30080/TCP    5d    app=gateway
        """)
    assert parse_services(table, "shop") == {("shop", "frontend"): {80, 443}, ("shop", "gateway"): {8080}}
    assert Command.parse("kubectl get services -n shop -o wide").source == "services"
    assert Command.parse("kubectl get svc -A").source == "services"


VS = textwrap.dedent("""\
    apiVersion: v1
    kind: List
    items:
    - kind: VirtualService
      metadata: {name: reviews, namespace: shop}
      spec:
        hosts: [reviews]
        http:
        - route:
          - destination: {host: %s, port: {number: %d}}
    """)


def test_route_to_a_missing_service_blames_the_service_if_its_pods_run_else_the_route() -> None:
    services = {("shop", "frontend"): {80}, ("shop", "ratings"): {9080}}
    objects = yaml_objects(VS % ("reviews", 9080))
    assert [p[0] for p in route_problems(objects, services, lambda n, ns: n == "reviews")] == ["shop/Service/reviews"]
    objects = yaml_objects(VS % ("reviewz", 9080))
    assert [p[0] for p in route_problems(objects, services, lambda n, ns: False)] == ["shop/VirtualService/reviews"]
    objects = yaml_objects(VS % ("ratings", 9081))
    found = route_problems(objects, services, lambda n, ns: True)
    assert [p[0] for p in found] == ["shop/VirtualService/reviews"] and "9081" in found[0][2]
    assert route_problems(yaml_objects(VS % ("ratings", 9080)), services, lambda n, ns: True) == []
    assert route_problems(objects, {("other", "x"): {1}}, lambda n, ns: True) == []  # shop not listed: no judgement


GW = textwrap.dedent("""\
    apiVersion: v1
    kind: List
    items:
    - kind: Gateway
      metadata: {name: shop-gateway, namespace: shop}
      spec:
        servers:
        - hosts: [%s]
          port: {number: 80, name: http, protocol: HTTP}
    - kind: VirtualService
      metadata: {name: shop, namespace: shop}
      spec:
        gateways: [%s]
        hosts: [shop.example.com]
        http:
        - route:
          - destination: {host: frontend}
    """)


def test_gateway_binding_and_host_mismatch() -> None:
    text = INCIDENT.text()
    assert gateway_problems(yaml_objects(GW % ("shop.example.com", "shop-gateway")), text) == []
    assert gateway_problems(yaml_objects(GW % ("'*.example.com'", "shop-gateway")), text) == []
    missing = gateway_problems(yaml_objects(GW % ("shop.example.com", "istio-system/main-gateway")), text)
    assert [p[0] for p in missing] == ["shop/VirtualService/shop"] and "does not exist" in missing[0][2]
    mismatch = gateway_problems(yaml_objects(GW % ("www.shop.example.com", "shop-gateway")), text)
    assert [p[0] for p in mismatch] == ["shop/Gateway/shop-gateway"]  # the users' URL names the VS host


def test_tls_disabled_towards_a_strict_namespace() -> None:
    objects = yaml_objects(textwrap.dedent("""\
        apiVersion: v1
        kind: List
        items:
        - kind: PeerAuthentication
          metadata: {name: default, namespace: istio-system}
          spec: {mtls: {mode: STRICT}}
        - kind: DestinationRule
          metadata: {name: details, namespace: shop}
          spec: {host: details, trafficPolicy: {tls: {mode: DISABLE}}}
        - kind: DestinationRule
          metadata: {name: ratings, namespace: shop}
          spec: {host: ratings, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}
        """))
    assert [p[0] for p in tls_conflicts(objects)] == ["shop/DestinationRule/details"]
    assert tls_conflicts([o for o in objects if o["kind"] != "PeerAuthentication"]) == []


def test_observer_proposes_from_services_and_yaml_in_either_order() -> None:
    services = "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE\nratings ClusterIP 10.0.0.1 <none> 9080/TCP 1d\n"
    for order in ((0, 1), (1, 0)):
        obs = Observer(ReferenceStudent().data.evidence, "shop", focus_namespaces=frozenset({"shop"}))
        steps = [("kubectl get services -n shop -o wide", services),
                 ("kubectl get virtualservices -A -o yaml", VS % ("ratings", 9081))]
        for i in order:
            obs.read(*steps[i])
        best = obs.ranked()[0]
        assert best.entity == "shop/VirtualService/reviews" and best.confidence >= 0.85, obs.ranked()
