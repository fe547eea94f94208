"""Hand-built episode records (imported by the other consolidation tests) and the record adapters."""

from __future__ import annotations

from typing import Any

from atlas_sre.capsules.episode import EpisodeRecord, parse_alert_lines

MESH_GUIDANCE = (
    "Your plan misses checks this kind of incident needs. Run them before your usual checks: "
    "1. Read the istio-proxy access log of the failing caller's pod and note the Envoy response flags "
    "(NC, UH, UF, URX, UO) and the destination. 2. Compare the VirtualService routes with the "
    "DestinationRule subsets for that destination. 3. Check PeerAuthentication (mTLS mode) against the "
    "DestinationRule TLS settings. Decide from what their output shows."
)


def _proxy_line(code: int, flags: str, details: str, caller: str, host: str) -> str:
    return (f'[2026-01-10T12:00:01.123Z] "POST /charge HTTP/1.1" {code} {flags} {details} - "-" 0 0 3 - "-" '
            f'"{caller}/1.0" "5f1c" "{host}:8080" "-" - - 10.244.0.12:8080 10.244.0.7:41234 - -')


def mesh_record(ns: str = "shop", caller: str = "checkout", pod: str = "checkout-7d9f8c6b5d-x2x4z",
                dest: str = "payment", tail: int = 100, **extra: Any) -> dict[str, Any]:
    """A taught mesh episode: the caller's proxy log shows `503 NC cluster_not_found`; the
    DestinationRule of the destination lacks the subset the VirtualService routes to."""
    host = f"{dest}.{ns}.svc.cluster.local"
    logs = "\n".join([_proxy_line(200, "-", "via_upstream", caller, host),
                      _proxy_line(503, "NC", "cluster_not_found", caller, host),
                      _proxy_line(503, "NC", "cluster_not_found", caller, host)])
    vs = (f"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {dest}\n"
          f"  namespace: {ns}\nspec:\n  hosts: [{dest}]\n  http:\n  - route:\n    - destination:\n"
          f"        host: {dest}\n        subset: v2\n")
    dr = (f"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {dest}\n"
          f"  namespace: {ns}\nspec:\n  host: {dest}\n  subsets:\n  - name: v1\n"
          "    labels:\n      version: v1\n")
    record: dict[str, Any] = {
        "incident": f"{caller.capitalize()} returns HTTP 503 for about 40% of requests",
        "alerts": [{"alertname": "HighRequestErrorRate", "severity": "critical", "namespace": ns,
                    "service": caller, "summary": f"High request error rate on service {caller}"}],
        "guidance": MESH_GUIDANCE, "strategy": "Medium",
        "commands": [
            {"line": f"kubectl get pods -n {ns}", "exit_code": 0,
             "observation": f"NAME   READY   STATUS    RESTARTS   AGE\n{pod}   2/2   Running   0   3h\n"
                            f"{dest}-6c5f7b8d9c-q7w2k   2/2   Running   0   3h\n"},
            {"line": f"kubectl logs {pod} -n {ns} -c istio-proxy --tail={tail}", "exit_code": 0,
             "observation": logs},
            {"line": f"kubectl get virtualservices -n {ns} -o yaml", "exit_code": 0, "observation": vs},
            {"line": f"kubectl get destinationrules {dest} -n {ns} -o yaml", "exit_code": 0,
             "observation": dr},
        ],
        "diagnosis": {"entities": [{"name": f"{ns}/DestinationRule/{dest}",
                                    "evidence": "503 NC cluster_not_found", "contributing_factor": True}],
                      "category": "Misconfiguration"},
        "correct": True, "namespaces": [ns], "tokens": 1200, "baseline_tokens": 1500,
    }
    return {**record, **extra}


def crash_record(ns: str = "store", workload: str = "cart", pod: str = "cart-6f7d8c9b5b-kq2xz",
                 **extra: Any) -> dict[str, Any]:
    """An untaught (trajectory) crash episode: OOMKilled in `describe pod`."""
    describe = (f"Name:             {pod}\nNamespace:        {ns}\nStatus:           Running\nContainers:\n"
                f"  {workload}:\n    State:          Waiting\n      Reason:       CrashLoopBackOff\n"
                "    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n"
                "    Restart Count:  7\n    Limits:\n      memory:  64Mi\n")
    record: dict[str, Any] = {
        "incident": f"Pods of the {workload} service keep restarting; orders cannot be added to the basket",
        "alerts": [{"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": ns, "pod": pod}],
        "commands": [
            {"line": f"kubectl get pods -n {ns}", "exit_code": 0,
             "observation": f"NAME  READY  STATUS  RESTARTS  AGE\n{pod}  0/1  CrashLoopBackOff  7  12m\n"},
            {"line": f"kubectl describe pod {pod} -n {ns}", "exit_code": 0, "observation": describe},
            {"line": f"kubectl logs {pod} -n {ns} --previous", "exit_code": 0,
             "observation": "starting cart service\nloading catalogue cache\n"},
        ],
        "diagnosis": {"entities": [{"name": f"{ns}/Deployment/{workload}",
                                    "evidence": f"{pod}: Last State Terminated, Reason OOMKilled"}],
                      "category": "Resource Saturation"},
        "correct": True, "namespaces": [ns],
    }
    return {**record, **extra}


def _step(label: str, n: int, command: str, output: str) -> dict[str, Any]:
    return {"type": "step", "label": label, "n": n, "kind": "command", "command": command, "exit_code": 0,
            "truncated": False, "messages": [
                {"role": "assistant", "content": f"```bash\n{command}\n```"},
                {"role": "user", "content": f"Exit code: 0 (1 lines)\n```\n{output}\n```"}]}


def bench_record() -> dict[str, Any]:
    """The runner's consolidation record: an `EpisodeResult` dump plus the loaded protocol trace."""
    incident = ("Users get HTTP 503 on the product page\n\nFiring alerts:\n- HighRequestErrorRate (critical) "
                "namespace=shop service=productpage: High request error rate on service productpage")
    diagnosis = {"entities": [{"name": "shop/VirtualService/reviews", "contributing_factor": True,
                               "reasoning": "rule", "evidence": "analyze: Error [IST0101] (VirtualService "
                               "shop/reviews) Referenced host+subset in destinationrule not found"}],
                 "category": "Misconfiguration"}
    analyze = ("Error [IST0101] (VirtualService shop/reviews) Referenced host+subset in destinationrule "
               'not found: "reviews+v3"')
    result = {
        "problem": "Users get HTTP 503 on the product page", "namespace": "shop",
        "learning": {"learning_guidance": "1. Run the mesh analyzer (istioctl analyze).",
                     "strategy": "Medium", "capability_score": 2},
        "diagnostic": {"capability_score": 2, "learning_strategy": "Medium"},
        "capsules": [{"id": "cap-00000000000000aa"}], "guided_diagnosis": diagnosis,
        "guided_run": {"duration_s": 2.5}, "baseline_run": {"duration_s": 4.0},
        "grades": {"guided": {"correct": True}, "baseline": {"correct": False}},
        "commands": {"guided": ["analyze -A"], "baseline": ["kubectl get pods -A"]},
        "tokens": {"student": {"plan": {"total_tokens": 100}, "execute_baseline": {"total_tokens": 900}}},
    }
    records = [{"type": "teaching", "incident": incident},
               {"type": "run", "label": "baseline", "incident": incident},
               _step("baseline", 1, "kubectl get pods -A", "NAME READY"),
               {"type": "run", "label": "guided", "incident": incident},
               _step("guided", 1, "analyze -A", analyze),
               {"type": "step", "label": "guided", "n": 2, "kind": "submit", "command": None, "messages": []}]
    return {
        "key": "train/atlas+capsules/mesh/i0/r0", "scenario": "mesh", "mode": "atlas+capsules",
        "outcome": "submitted", "diagnosis": diagnosis, "grade": {"correct": True},
        "baseline": {"correct": False, "student_tokens": 1000}, "wall_s": 7.0,
        "tokens": {"student.plan": {"prompt": 80, "completion": 20}, "student.plan_guided": {"prompt": 90,
                   "completion": 30}, "student.execute": {"prompt": 400, "completion": 80},
                   "teacher.probe": {"prompt": 400, "completion": 10}},
        "capsules_used": ["cap-00000000000000aa"], "teaching": {"strategy": "Medium",
                                                                "guidance": "1. Run the mesh analyzer."},
        "trace": {"task": {}, "result": result, "records": records},
    }


def test_plain_dict_and_string_commands_are_accepted() -> None:
    rec = EpisodeRecord.of({"incident": "x", "commands": ["kubectl get pods -A"], "correct": None})
    assert [c.line for c in rec.commands] == ["kubectl get pods -A"]
    assert rec.correct is None and rec.diagnosis is None


def test_bench_record_adapter_reads_the_trace() -> None:
    rec = EpisodeRecord.of(bench_record())
    assert rec.episode_id == "train/atlas+capsules/mesh/i0/r0"
    assert rec.guidance == "1. Run the mesh analyzer."
    assert rec.strategy == "Medium"
    assert [c.line for c in rec.commands] == ["analyze -A"]  # the guided run only
    assert rec.commands[0].observation.startswith("Error [IST0101]")
    assert rec.correct is True and rec.baseline_correct is False
    assert rec.tokens == 80 + 20 + 90 + 30 + 400 + 80  # student tokens of the reported run
    assert rec.baseline_tokens == 1000
    assert (rec.wall_s, rec.baseline_wall_s) == (2.5, 4.0)
    assert rec.applied_capsules == ["cap-00000000000000aa"]
    assert rec.namespaces == ["shop"]
    summary = "High request error rate on service productpage"
    assert rec.alerts == [{"alertname": "HighRequestErrorRate", "severity": "critical", "namespace": "shop",
                           "service": "productpage", "summary": summary}]
    assert rec.diagnosis is not None and rec.diagnosis.root_causes[0].kind == "VirtualService"


def test_protocol_result_adapter_uses_the_guided_run() -> None:
    trace = bench_record()["trace"]
    rec = EpisodeRecord.of({"result": trace["result"], "records": trace["records"]})
    assert rec.guidance.startswith("1. Run the mesh analyzer")
    assert rec.tokens == 100  # plan only: no guided phases in this hand-built token dict
    assert rec.baseline_tokens == 1000
    assert rec.correct is True and rec.baseline_correct is False


def test_error_episode_is_never_correct() -> None:
    record = {**bench_record(), "outcome": "error"}
    assert EpisodeRecord.of(record).correct is False
    assert EpisodeRecord.of({**bench_record(), "grade": None}).correct is None


def test_alert_lines_parse_labels_and_summary() -> None:
    text = "Checkout is slow\n\nFiring alerts:\n- HighLatency (warning) namespace=shop service=checkout: p99"
    assert parse_alert_lines(text) == [{"alertname": "HighLatency", "severity": "warning",
                                        "namespace": "shop", "service": "checkout", "summary": "p99"}]
