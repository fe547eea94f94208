"""Ten hand-written capsules (one per incident class) and paraphrased incidents that should find them."""

from __future__ import annotations

from atlas_sre.capsules import Capsule, IncidentQuery, RootCausePattern


def _c(skill: str, trigger: str, procedure: list[str], evidence: list[str], kind: str, category: str,
       commands: list[str] | None = None) -> Capsule:
    return Capsule(skill=skill, trigger=trigger, procedure=procedure, evidence=evidence,
                   root_cause=RootCausePattern(kind=kind, category=category), commands=commands or [])


CAPSULES: list[Capsule] = [
    _c("mesh_subset_routing", "HTTP 503 errors through the Istio service mesh",
       ["istioctl analyze", "compare VirtualService route subsets with DestinationRule subsets",
        "read istio-proxy access logs for response flags NC and NR"],
       ["NC", "no cluster match", "503"], "DestinationRule", "Misconfiguration",
       ["istioctl analyze -n {namespace}", "kubectl -n {namespace} get virtualservice {service} -o yaml"]),
    _c("no_endpoints", "503 no healthy upstream: Service selector matches no ready pods",
       ["get the Service endpoints", "compare Service selector with pod labels"],
       ["no healthy upstream", "UH", "Endpoints: <none>"], "Service", "Misconfiguration"),
    _c("crashloop_config", "Pod in CrashLoopBackOff, container keeps restarting after start",
       ["describe the pod and read Last State", "read logs of the previous container",
        "diff referenced ConfigMap keys with what the app expects"],
       ["Back-off restarting failed container", "exit code 1"], "ConfigMap", "Misconfiguration"),
    _c("oom_killed", "Container OOMKilled with exit code 137: memory limit too low",
       ["describe the pod: Last State reason", "kubectl top pod memory", "compare memory limits with usage"],
       ["OOMKilled", "Exit Code: 137"], "Deployment", "ResourceExhaustion"),
    _c("pending_unschedulable", "Pods stuck Pending: FailedScheduling, insufficient cpu or untolerated taints",
       ["describe the pod scheduling events", "compare requests with node allocatable", "list node taints"],
       ["FailedScheduling", "Insufficient cpu", "untolerated taint"], "Node", "CapacityShortage"),
    _c("mtls_mismatch", "mTLS mismatch: upstream connect error or connection reset after PeerAuthentication",
       ["list PeerAuthentication and DestinationRule tls modes", "check sidecar injection of the client"],
       ["upstream connect error or disconnect/reset before headers", "UF", "URX"],
       "PeerAuthentication", "Misconfiguration"),
    _c("rbac_denied", "HTTP 403 RBAC access denied by an AuthorizationPolicy",
       ["list AuthorizationPolicy objects in the namespace", "compare allowed principals with the caller"],
       ["RBAC: access denied", "403"], "AuthorizationPolicy", "Misconfiguration"),
    _c("dns_resolution", "DNS resolution fails for a service name (NXDOMAIN)",
       ["check the CoreDNS pods", "resolve the name from a debug pod", "compare the name in env with Services"],
       ["no such host", "NXDOMAIN", "SERVFAIL"], "Service", "Misconfiguration"),
    _c("image_pull", "ImagePullBackOff: the image cannot be pulled",
       ["describe the pod events", "verify the image name and tag exist", "check imagePullSecrets"],
       ["ErrImagePull", "ImagePullBackOff", "manifest unknown"], "Deployment", "Misconfiguration"),
    _c("readiness_probe", "Pods never become Ready because the readiness probe fails",
       ["describe the pod probe events", "compare probe path and port with the container"],
       ["Readiness probe failed"], "Deployment", "Misconfiguration"),
]

# (incident, expected skill). Written the way incidents arrive, not copied from triggers.
INCIDENTS: list[tuple[str | IncidentQuery, str]] = [
    ("checkout returns 503 for 40% of requests; the istio-proxy log shows response flag NC",
     "mesh_subset_routing"),
    ("frontend answers 503 'no healthy upstream' (UH) and the backend endpoints list is empty", "no_endpoints"),
    ("payment pods restart over and over and show CrashLoopBackOff since the new release", "crashloop_config"),
    ("the worker container was killed for using too much memory; last state OOMKilled", "oom_killed"),
    ("new replicas never start: 0/3 nodes are available, insufficient cpu", "pending_unschedulable"),
    ("since strict mutual TLS was enabled calls fail: upstream connect error, reset before headers",
     "mtls_mismatch"),
    ("orders service gets HTTP 403 'RBAC: access denied' when calling cart", "rbac_denied"),
    ("app log: dial tcp: lookup redis on 10.96.0.10:53: no such host", "dns_resolution"),
    ("rollout stuck: new pods report ErrImagePull, tag not found in the registry", "image_pull"),
    (IncidentQuery(summary="Catalog pods never turn ready", alerts=[{"alertname": "KubePodNotReady",
                   "namespace": "shop", "severity": "warning"}],
                   symptoms=["Warning Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 500"]),
     "readiness_probe"),
    (IncidentQuery(summary="Checkout requests fail with HTTP 503",
                   alerts=[{"alertname": "HighRequestErrorRate", "service": "frontend"}],
                   symptoms=["istio-proxy: \"GET /cart\" 503 NC cluster_not_found"]),
     "mesh_subset_routing"),
    (IncidentQuery(summary="Shipping pods are crash looping",
                   alerts=[{"alertname": "KubePodCrashLooping"}],
                   symptoms=["Last State: Terminated, Reason: OOMKilled, Exit Code: 137"]),
     "oom_killed"),
]
