"""Benchmark of the capsule store and retrieval at 1k, 10k and 100k capsules.

Run: `.venv/bin/python bench/capsules.py [--sizes 1000,10000,100000] [--queries 300]`.
Prints one `name=value` line per figure (latencies in ms). Deterministic (seeded); ~1 min on 2 cores.

Synthetic capsules are varied on purpose: 24 incident archetypes, each with paraphrased triggers,
procedure steps and evidence drawn from pools, plus domain modifiers and a long tail of rare words
(component names), so posting lists have a realistic skew (a few very common terms, many rare).
Queries are incident texts written the way alerts and summaries read, not copies of triggers.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from atlas_sre.capsules import (
    Capsule,
    CapsuleRetriever,
    CapsuleStore,
    EvidencePattern,
    RetrievalConfig,
    RootCausePattern,
)

# archetype: (skill, trigger phrases, procedure steps, evidence, (kind, category), query phrases)
ARCHETYPES: list[tuple[str, list[str], list[str], list[str], tuple[str, str], list[str]]] = [
    ("mesh_subset_routing", ["503 errors through the service mesh", "HTTP 503 NC from istio sidecar",
     "requests fail with no cluster match"], ["istioctl analyze", "compare VirtualService subsets with "
     "DestinationRule", "read istio-proxy access log response flags"], ["NC", "no cluster match", "503"],
     ("DestinationRule", "Misconfiguration"), ["checkout returns HTTP 503 NC", "503s from envoy"]),
    ("no_healthy_upstream", ["503 UH no healthy upstream", "service has no ready endpoints"],
     ["get endpoints of the service", "compare service selector with pod labels"], ["UH", "no healthy upstream",
     "<none>"], ("Service", "Misconfiguration"), ["no healthy upstream 503 UH", "endpoints empty"]),
    ("crashloop_config", ["pod in CrashLoopBackOff after deploy", "container keeps restarting"],
     ["describe pod for last state", "read previous container logs", "diff configmap keys"],
     ["CrashLoopBackOff", "Back-off restarting failed container"], ("ConfigMap", "Misconfiguration"),
     ["pods crash looping restarting", "CrashLoopBackOff on payment"]),
    ("oom_killed", ["container OOMKilled exit code 137", "memory limit too low"],
     ["describe pod last state reason", "kubectl top pod memory", "compare limits to usage"],
     ["OOMKilled", "137"], ("Deployment", "ResourceExhaustion"), ["OOMKilled pods restarting", "exit 137"]),
    ("pending_unschedulable", ["pods stuck Pending", "FailedScheduling insufficient cpu"],
     ["describe pod scheduling events", "check node allocatable and taints", "check resource quota"],
     ["FailedScheduling", "Insufficient cpu", "untolerated taint"], ("Node", "CapacityShortage"),
     ["new pods pending unschedulable", "FailedScheduling 0/3 nodes"]),
    ("mtls_strict", ["connection reset upstream mTLS", "503 UF after PeerAuthentication STRICT"],
     ["list PeerAuthentication policies", "check sidecar injection on client", "read access log UF URX"],
     ["UF", "upstream connect error", "connection reset"], ("PeerAuthentication", "Misconfiguration"),
     ["upstream connect error reset before headers mtls", "UF URX flags"]),
    ("rbac_denied", ["403 RBAC access denied in mesh", "AuthorizationPolicy denies traffic"],
     ["list AuthorizationPolicy", "read access log for RBAC", "compare principals"],
     ["RBAC: access denied", "403"], ("AuthorizationPolicy", "Misconfiguration"),
     ["HTTP 403 rbac access denied", "forbidden between services"]),
    ("dns_failure", ["DNS resolution failures", "no such host for service name"],
     ["check coredns pods", "resolve name from a pod", "check service name in env"],
     ["no such host", "NXDOMAIN", "SERVFAIL"], ("Service", "Misconfiguration"),
     ["lookup failed no such host", "dns errors NXDOMAIN"]),
    ("image_pull", ["ImagePullBackOff on rollout", "ErrImagePull manifest unknown"],
     ["describe pod events", "verify image tag exists", "check imagePullSecrets"],
     ["ImagePullBackOff", "ErrImagePull", "manifest unknown"], ("Deployment", "Misconfiguration"),
     ["image pull backoff after release", "cannot pull image"]),
    ("readiness_probe", ["pods not ready readiness probe failing", "endpoints removed probe"],
     ["describe pod probe events", "compare probe path and port"], ["Readiness probe failed", "404"],
     ("Deployment", "Misconfiguration"), ["readiness probe failed 404", "pods 0/1 ready"]),
    ("network_policy", ["timeouts after NetworkPolicy change", "connection timed out between pods"],
     ["list NetworkPolicy", "compare podSelector and ingress rules"], ["i/o timeout", "UT"],
     ("NetworkPolicy", "Misconfiguration"), ["requests time out i/o timeout", "calls hang then timeout"]),
    ("secret_missing", ["CreateContainerConfigError secret not found", "missing secret key"],
     ["describe pod events", "list secrets in namespace"], ["CreateContainerConfigError", "not found"],
     ("Secret", "Misconfiguration"), ["container config error secret missing", "secret not found"]),
    ("hpa_maxed", ["HPA at max replicas latency high", "autoscaler cannot scale"],
     ["describe hpa", "kubectl top pods cpu"], ["ScalingLimited", "max replicas"],
     ("HorizontalPodAutoscaler", "CapacityShortage"), ["latency up hpa maxed out", "scaling limited"]),
    ("pvc_pending", ["PVC Pending pod waiting for volume", "FailedMount volume"],
     ["describe pvc", "check storageclass"], ["ProvisioningFailed", "FailedMount"],
     ("PersistentVolumeClaim", "Misconfiguration"), ["volume mount failed pvc pending", "FailedMount"]),
    ("quota_exceeded", ["forbidden exceeded quota", "ResourceQuota blocks pods"],
     ["describe resourcequota", "read replicaset events"], ["exceeded quota", "FailedCreate"],
     ("ResourceQuota", "CapacityShortage"), ["replicaset FailedCreate exceeded quota", "quota"]),
    ("wrong_port", ["connection refused target port", "service targetPort mismatch"],
     ["compare service targetPort with container port", "read app logs for listen address"],
     ["connection refused", "UF"], ("Service", "Misconfiguration"), ["connection refused port", "ECONNREFUSED"]),
    ("timeout_vs", ["504 gateway timeout virtualservice timeout", "UT upstream timeout"],
     ["read VirtualService timeout", "check upstream latency"], ["UT", "504", "upstream request timeout"],
     ("VirtualService", "Misconfiguration"), ["504 upstream request timeout", "gateway timeout UT"]),
    ("circuit_breaker", ["503 UO overflow circuit breaking", "outlier detection ejects hosts"],
     ["read DestinationRule connectionPool", "read outlier detection"], ["UO", "overflow"],
     ("DestinationRule", "Misconfiguration"), ["503 UO overflow", "circuit breaker trips"]),
    ("fault_injection", ["FI fault injected errors", "abort injected by virtualservice"],
     ["read VirtualService fault block"], ["FI", "fault filter abort"], ("VirtualService", "Misconfiguration"),
     ["fault filter abort FI", "errors injected"]),
    ("node_not_ready", ["node NotReady pods evicted", "kubelet stopped posting status"],
     ["get nodes conditions", "describe node"], ["NotReady", "NodeNotReady"], ("Node", "NodeFailure"),
     ["node notready evictions", "pods evicted node pressure"]),
    ("cert_expired", ["x509 certificate expired", "TLS handshake failure"],
     ["check secret tls.crt dates", "read gateway logs"], ["x509", "certificate has expired"],
     ("Secret", "Expiry"), ["x509 certificate expired handshake", "tls errors at ingress"]),
    ("env_wrong_url", ["app cannot reach dependency wrong env URL", "connection to wrong host"],
     ["read deployment env vars", "compare with service names"], ["connection refused", "unknown host"],
     ("Deployment", "Misconfiguration"), ["dependency url wrong env var", "calls go to wrong host"]),
    ("liveness_kill", ["liveness probe failed container killed", "restarts due to liveness"],
     ["describe pod probe events", "compare timeouts with startup time"], ["Liveness probe failed"],
     ("Deployment", "Misconfiguration"), ["liveness probe killing pods", "restarts liveness failed"]),
    ("cpu_throttle", ["high latency cpu throttling", "cpu limit throttled"],
     ["kubectl top pods", "compare cpu limits"], ["throttled", "cpu"], ("Deployment", "ResourceExhaustion"),
     ["slow responses cpu throttled", "p99 latency high cpu limit"]),
]
MODIFIERS = ("after deploy", "during rollout", "in production", "intermittently", "for 40% of requests",
             "on one node", "behind the gateway", "since config change", "under load", "for grpc calls",
             "for websocket", "canary only", "across namespaces", "at night batch", "in staging")
SYLLABLES = ("ka", "zu", "mo", "ri", "te", "lan", "vor", "qui", "pex", "dra", "sil", "nor", "bex", "tal")


def rare_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def make_capsules(n: int, seed: int = 7) -> list[Capsule]:
    rng = random.Random(seed)
    rare = [rare_word(rng) for _ in range(max(50, n // 10))]
    out = []
    for i in range(n):
        skill, triggers, steps, evidence, (kind, cat), _ = ARCHETYPES[i % len(ARCHETYPES)]
        trig = f"{rng.choice(triggers)} {rng.choice(MODIFIERS)} {rng.choice(rare)}"
        proc = rng.sample(steps, k=max(1, len(steps) - rng.randint(0, 1))) + [f"step {i} {rng.choice(rare)}"]
        out.append(Capsule(
            skill=f"{skill}_{rng.choice(rare)}", trigger=trig, procedure=proc,
            commands=["kubectl -n {namespace} describe pod -l app={workload}"],
            evidence=[EvidencePattern(pattern=e) for e in rng.sample(evidence, k=min(2, len(evidence)))],
            root_cause=RootCausePattern(kind=kind, category=cat), source="trajectory",
        ))
    return out


def make_queries(n: int, seed: int = 11) -> list[tuple[str, str]]:
    """(incident text, archetype skill it was written from)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        skill, _, _, evidence, _, phrases = rng.choice(ARCHETYPES)
        alert = rng.choice(("HighRequestErrorRate", "KubePodCrashLooping", "KubePodNotReady", "HighLatency"))
        out.append((f"{rng.choice(phrases)} {rng.choice(MODIFIERS)}. Alert {alert} firing in namespace shop "
                    f"service frontend. Symptom: {rng.choice(evidence)} seen in output", skill))
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_size(n: int, queries: list[tuple[str, str]], workdir: Path) -> None:
    capsules = make_capsules(n)
    store = CapsuleStore(workdir / f"capsules-{n}.sqlite")
    t0 = time.perf_counter()
    for i in range(0, n, 5000):
        store.upsert_many(capsules[i:i + 5000])
    insert_s = time.perf_counter() - t0
    print(f"capsules_{n}_insert_rate_per_s={n / insert_s:.0f}")
    if n <= 1000:
        one = make_capsules(200, seed=99)
        t0 = time.perf_counter()
        for c in one:
            store.upsert(c)
        print(f"capsules_{n}_insert_rate_one_tx_each_per_s={len(one) / (time.perf_counter() - t0):.0f}")
    store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"capsules_{n}_file_mb={store.path.stat().st_size / 2**20:.2f}")
    retriever = CapsuleRetriever(store, RetrievalConfig())
    t0 = time.perf_counter()
    retriever.refresh()
    print(f"capsules_{n}_index_build_s={time.perf_counter() - t0:.3f}")
    retriever.retrieve(queries[0][0])
    lat, hits, right = [], 0, 0
    for q, skill in queries:
        t0 = time.perf_counter()
        res = retriever.retrieve(q)
        lat.append((time.perf_counter() - t0) * 1000)
        hits += bool(res)
        right += bool(res) and res[0].capsule.skill.startswith(skill + "_")
    print(f"capsules_{n}_query_p50_ms={statistics.median(lat):.3f}")
    print(f"capsules_{n}_query_p99_ms={pct(lat, 0.99):.3f}")
    print(f"capsules_{n}_query_max_ms={max(lat):.3f}")
    print(f"capsules_{n}_queries_with_hits={hits}/{len(queries)}")
    print(f"capsules_{n}_top1_right_archetype={right / len(queries):.3f}")
    ids = [c.id for c in capsules[:500]]
    t0 = time.perf_counter()
    for i, cid in enumerate(ids):
        store.record_use(cid, i % 3 != 0, tokens_delta=-50.0, time_delta=-2.0)
    print(f"capsules_{n}_record_use_per_s={len(ids) / (time.perf_counter() - t0):.0f}")
    store.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args(argv)
    queries = make_queries(args.queries)
    print(f"python={sys.version.split()[0]}")
    print(f"queries={len(queries)}")
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="capsule-bench-") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            bench_size(n, queries, Path(tmp))
    print(f"total_s={time.perf_counter() - t_all:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
