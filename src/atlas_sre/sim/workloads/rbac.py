"""The RBAC objects kube-apiserver's bootstrap policy and kubeadm create in every cluster.

`kubectl get clusterroles` on a real cluster lists the user-facing roles (cluster-admin, admin,
edit, view), the `system:*` roles of the components and controllers, and kubeadm's own; each
has the binding that grants it. This is a representative set with the real rules (the
user-facing aggregated roles carry their aggregationRule and the rules they aggregate), labelled
`kubernetes.io/bootstrapping: rbac-defaults` and auto-updated as the apiserver leaves them.
Objects the scenario declares itself replace these (materialize keeps declared names).
"""

from __future__ import annotations

from typing import Any

from atlas_sre.sim.state import Obj

API = "rbac.authorization.k8s.io/v1"
_BOOT = {"kubernetes.io/bootstrapping": "rbac-defaults"}
_AUTO = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]
Rule = dict[str, Any]


def rule(groups: str, resources: str, verbs: list[str], names: list[str] | None = None) -> Rule:
    """One PolicyRule; groups and resources are space-separated (`""` is the core group)."""
    out: Rule = {"apiGroups": ["" if g == "core" else g for g in groups.split()],
                 "resources": resources.split(), "verbs": list(verbs)}
    if names:
        out["resourceNames"] = names
    return out


def cluster_role(name: str, rules: list[Rule], *, aggregate: str | None = None, labels: dict[str, str] | None = None,
                 bootstrap: bool = True) -> Obj:
    md: dict[str, Any] = {"name": name}
    if bootstrap:
        md.update(labels={**_BOOT, **(labels or {})}, annotations=dict(_AUTO))
    elif labels:
        md["labels"] = dict(labels)
    obj: Obj = {"apiVersion": API, "kind": "ClusterRole", "metadata": md, "rules": rules}
    if aggregate:
        obj["aggregationRule"] = {"clusterRoleSelectors": [
            {"matchLabels": {f"rbac.authorization.k8s.io/aggregate-to-{aggregate}": "true"}}]}
    return obj


def subject(kind: str, name: str, namespace: str | None = None) -> dict[str, str]:
    """A binding subject (User/Group carry the RBAC apiGroup; ServiceAccounts a namespace)."""
    if kind == "ServiceAccount":
        return {"kind": kind, "name": name, "namespace": namespace or "kube-system"}
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}


def binding(name: str, role: str, subjects: list[dict[str, str]], *, namespace: str | None = None,
            role_kind: str = "ClusterRole", bootstrap: bool = True, labels: dict[str, str] | None = None) -> Obj:
    md: dict[str, Any] = {"name": name}
    if namespace:
        md["namespace"] = namespace
    if bootstrap:
        md.update(labels={**_BOOT, **(labels or {})}, annotations=dict(_AUTO))
    elif labels:
        md["labels"] = dict(labels)
    return {"apiVersion": API, "kind": "RoleBinding" if namespace else "ClusterRoleBinding", "metadata": md,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
            "subjects": subjects}


_VIEW = [
    rule("core", "configmaps endpoints persistentvolumeclaims persistentvolumeclaims/status pods "
         "replicationcontrollers replicationcontrollers/scale serviceaccounts services services/status", _READ),
    rule("core", "bindings events limitranges namespaces/status pods/log pods/status replicationcontrollers/status "
         "resourcequotas resourcequotas/status", _READ),
    rule("core", "namespaces", _READ),
    rule("discovery.k8s.io", "endpointslices", _READ),
    rule("apps", "controllerrevisions daemonsets daemonsets/status deployments deployments/scale deployments/status "
         "replicasets replicasets/scale replicasets/status statefulsets statefulsets/scale statefulsets/status",
         _READ),
    rule("autoscaling", "horizontalpodautoscalers horizontalpodautoscalers/status", _READ),
    rule("batch", "cronjobs cronjobs/status jobs jobs/status", _READ),
    rule("policy", "poddisruptionbudgets poddisruptionbudgets/status", _READ),
    rule("networking.k8s.io", "ingresses ingresses/status networkpolicies", _READ),
]
_EDIT = [
    rule("core", "pods/attach pods/exec pods/portforward pods/proxy secrets services/proxy", _READ),
    rule("core", "serviceaccounts", ["impersonate"]),
    rule("core", "pods pods/attach pods/exec pods/portforward pods/proxy", _WRITE),
    rule("core", "pods/eviction", ["create"]),
    rule("core", "configmaps events persistentvolumeclaims replicationcontrollers replicationcontrollers/scale "
         "secrets serviceaccounts services services/proxy", _WRITE),
    rule("core", "serviceaccounts/token", ["create"]),
    rule("apps", "daemonsets deployments deployments/rollback deployments/scale replicasets replicasets/scale "
         "statefulsets statefulsets/scale", _WRITE),
    rule("autoscaling", "horizontalpodautoscalers", _WRITE),
    rule("batch", "cronjobs jobs", _WRITE),
    rule("networking.k8s.io", "ingresses networkpolicies", _WRITE),
    rule("policy", "poddisruptionbudgets", _WRITE),
    *_VIEW,
]
_ADMIN = [
    rule("authorization.k8s.io", "localsubjectaccessreviews", ["create"]),
    rule("rbac.authorization.k8s.io", "rolebindings roles", [*_WRITE[:3], "get", "list", *_WRITE[3:], "watch"]),
    *_EDIT,
]
_CONTROLLERS: dict[str, list[Rule]] = {
    "deployment-controller": [rule("apps", "deployments", ["get", "list", "update", "watch"]),
                              rule("apps", "deployments/status", ["update"]),
                              rule("apps", "replicasets", ["create", "delete", "get", "list", "patch", "update",
                                                           "watch"]),
                              rule("core", "pods", ["get", "list", "update", "watch"]),
                              rule("core events.k8s.io", "events", ["create", "patch", "update"])],
    "replicaset-controller": [rule("apps extensions", "replicasets", ["get", "list", "update", "watch"]),
                              rule("apps extensions", "replicasets/status", ["update"]),
                              rule("core", "pods", ["create", "delete", "list", "patch", "watch"]),
                              rule("core events.k8s.io", "events", ["create", "patch", "update"])],
    "daemon-set-controller": [rule("apps extensions", "daemonsets", ["get", "list", "watch"]),
                              rule("apps extensions", "daemonsets/status", ["update"]),
                              rule("core", "pods", ["create", "delete", "list", "patch", "watch"]),
                              rule("core", "pods/binding", ["create"]),
                              rule("apps", "controllerrevisions", ["create", "delete", "get", "list", "patch",
                                                                   "update", "watch"]),
                              rule("core events.k8s.io", "events", ["create", "patch", "update"])],
    "statefulset-controller": [rule("core", "pods", ["create", "delete", "get", "list", "patch", "update",
                                                     "watch"]),
                               rule("apps", "statefulsets", ["get", "list", "watch"]),
                               rule("apps", "statefulsets/status", ["update"]),
                               rule("apps", "controllerrevisions", ["create", "delete", "get", "list", "patch",
                                                                    "update", "watch"]),
                               rule("core", "persistentvolumeclaims", ["create", "get"]),
                               rule("core events.k8s.io", "events", ["create", "patch", "update"])],
    "job-controller": [rule("batch", "jobs", ["get", "list", "patch", "update", "watch"]),
                       rule("batch", "jobs/status", ["update"]),
                       rule("batch", "jobs/finalizers", ["patch", "update"]),
                       rule("core", "pods", ["create", "delete", "list", "patch", "watch"]),
                       rule("core events.k8s.io", "events", ["create", "patch", "update"])],
    "endpointslice-controller": [rule("core", "nodes pods services", ["get", "list", "watch"]),
                                 rule("core", "services/finalizers", ["update"]),
                                 rule("discovery.k8s.io", "endpointslices", ["create", "delete", "get", "list",
                                                                             "update"]),
                                 rule("core events.k8s.io", "events", ["create", "patch", "update"])],
    "node-controller": [rule("core", "nodes", ["delete", "get", "list", "patch", "update"]),
                        rule("core", "nodes/status", ["patch", "update"]),
                        rule("core", "pods/status", ["patch", "update"]),
                        rule("core", "pods", ["delete", "list"]),
                        rule("core events.k8s.io", "events", ["create", "patch", "update"])],
    "horizontal-pod-autoscaler": [rule("autoscaling", "horizontalpodautoscalers", ["get", "list", "watch"]),
                                  rule("autoscaling", "horizontalpodautoscalers/status", ["update"]),
                                  rule("*", "*/scale", ["get", "update"]),
                                  rule("core", "pods", ["list"]),
                                  rule("metrics.k8s.io", "pods", ["list"]),
                                  rule("core events.k8s.io", "events", ["create", "patch", "update"])],
}


def cluster_roles() -> list[Obj]:
    """Bootstrap and kubeadm ClusterRoles (fresh dicts every call)."""
    view_labels = {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}
    edit_labels = {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}
    roles = [
        cluster_role("cluster-admin", [rule("*", "*", ["*"]), {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
        cluster_role("admin", _ADMIN, aggregate="admin"),
        cluster_role("edit", _EDIT, aggregate="edit", labels=edit_labels),
        cluster_role("view", _VIEW, aggregate="view", labels=view_labels),
        cluster_role("system:basic-user", [rule("authorization.k8s.io",
                                                "selfsubjectaccessreviews selfsubjectrulesreviews", ["create"]),
                                           rule("authentication.k8s.io", "selfsubjectreviews", ["create"])]),
        cluster_role("system:discovery", [{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz",
                                                               "/livez", "/openapi", "/openapi/*", "/readyz",
                                                               "/version", "/version/"], "verbs": ["get"]}]),
        cluster_role("system:public-info-viewer", [{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version",
                                                                        "/version/"], "verbs": ["get"]}]),
        cluster_role("system:monitoring", [{"nonResourceURLs": ["/healthz", "/healthz/*", "/livez", "/livez/*",
                                                                "/metrics", "/metrics/slis", "/readyz", "/readyz/*"],
                                            "verbs": ["get"]}]),
        cluster_role("system:node", [rule("authentication.k8s.io", "tokenreviews", ["create"]),
                                     rule("core", "services", _READ), rule("core", "nodes", ["create", *_READ]),
                                     rule("core", "nodes/status", ["patch", "update"]),
                                     rule("core", "pods", _READ), rule("core", "pods/status", ["patch", "update"]),
                                     rule("coordination.k8s.io", "leases", ["create", "delete", "get", "patch",
                                                                            "update"])]),
        cluster_role("system:node-proxier", [rule("core", "endpoints services", ["list", "watch"]),
                                             rule("core", "nodes", _READ),
                                             rule("core events.k8s.io", "events", ["create", "patch", "update"]),
                                             rule("discovery.k8s.io", "endpointslices", ["list", "watch"])]),
        cluster_role("system:kube-scheduler", [rule("core events.k8s.io", "events", ["create", "patch", "update"]),
                                               rule("coordination.k8s.io", "leases", ["create"]),
                                               rule("coordination.k8s.io", "leases", ["get", "update"],
                                                    ["kube-scheduler"]),
                                               rule("core", "nodes", _READ),
                                               rule("core", "pods", ["delete", "get", "list", "watch"]),
                                               rule("core", "bindings pods/binding", ["create"]),
                                               rule("core", "pods/status", ["patch", "update"])]),
        cluster_role("system:kube-controller-manager", [
            rule("core events.k8s.io", "events", ["create", "patch", "update"]),
            rule("coordination.k8s.io", "leases", ["create"]),
            rule("coordination.k8s.io", "leases", ["get", "update"], ["kube-controller-manager"]),
            rule("core", "secrets serviceaccounts", ["create"]),
            rule("core", "secrets", ["delete"]),
            rule("*", "*", ["list", "watch"]),
            rule("core", "serviceaccounts/token", ["create"])]),
        cluster_role("system:kube-dns", [rule("core", "endpoints services", ["list", "watch"])]),
        cluster_role("system:coredns", [rule("core", "endpoints services pods namespaces", ["list", "watch"]),
                                        rule("core", "nodes", ["get"]),
                                        rule("discovery.k8s.io", "endpointslices", ["list", "watch"])],
                     bootstrap=False),
        cluster_role("kubeadm:get-nodes", [rule("core", "nodes", ["get"])], bootstrap=False),
    ]
    roles += [cluster_role(f"system:controller:{name}", rules) for name, rules in _CONTROLLERS.items()]
    return roles


def cluster_role_bindings() -> list[Obj]:
    """The bindings that grant the roles above to the groups, users and service accounts that use them."""
    auth = subject("Group", "system:authenticated")
    out = [
        binding("cluster-admin", "cluster-admin", [subject("Group", "system:masters")]),
        binding("kubeadm:cluster-admins", "cluster-admin", [subject("Group", "kubeadm:cluster-admins")],
                bootstrap=False),
        binding("system:basic-user", "system:basic-user", [auth]),
        binding("system:discovery", "system:discovery", [auth]),
        binding("system:public-info-viewer", "system:public-info-viewer",
                [auth, subject("Group", "system:unauthenticated")]),
        binding("system:monitoring", "system:monitoring", [subject("Group", "system:monitoring")]),
        binding("system:node-proxier", "system:node-proxier", [subject("User", "system:kube-proxy")]),
        binding("kubeadm:node-proxier", "system:node-proxier", [subject("ServiceAccount", "kube-proxy")],
                bootstrap=False),
        binding("system:kube-scheduler", "system:kube-scheduler", [subject("User", "system:kube-scheduler")]),
        binding("system:kube-controller-manager", "system:kube-controller-manager",
                [subject("User", "system:kube-controller-manager")]),
        binding("system:kube-dns", "system:kube-dns", [subject("ServiceAccount", "kube-dns")]),
        binding("system:coredns", "system:coredns", [subject("ServiceAccount", "coredns")], bootstrap=False),
        binding("kubeadm:get-nodes", "kubeadm:get-nodes",
                [subject("Group", "system:bootstrappers:kubeadm:default-node-token")], bootstrap=False),
    ]
    out += [binding(f"system:controller:{name}", f"system:controller:{name}", [subject("ServiceAccount", name)])
            for name in _CONTROLLERS]
    return out


def namespaced_rbac() -> list[Obj]:
    """kube-system's and kube-public's bootstrap Roles and RoleBindings."""
    def role(name: str, ns: str, rules: list[Rule], bootstrap: bool = True) -> Obj:
        obj = cluster_role(name, rules, bootstrap=bootstrap)
        obj["kind"], obj["metadata"]["namespace"] = "Role", ns
        return obj

    return [
        role("extension-apiserver-authentication-reader", "kube-system",
             [rule("core", "configmaps", _READ, ["extension-apiserver-authentication"])]),
        role("system::leader-locking-kube-controller-manager", "kube-system",
             [rule("core", "configmaps", ["watch"]),
              rule("core", "configmaps", ["get", "update"], ["kube-controller-manager"])]),
        role("system::leader-locking-kube-scheduler", "kube-system",
             [rule("core", "configmaps", ["watch"]),
              rule("core", "configmaps", ["get", "update"], ["kube-scheduler"])]),
        role("system:controller:bootstrap-signer", "kube-system", [rule("core", "secrets", _READ)]),
        role("system:controller:token-cleaner", "kube-system",
             [rule("core", "secrets", ["delete", *_READ]),
              rule("core events.k8s.io", "events", ["create", "patch", "update"])]),
        role("kube-proxy", "kube-system", [rule("core", "configmaps", ["get"], ["kube-proxy"])], bootstrap=False),
        role("kubeadm:kubelet-config", "kube-system", [rule("core", "configmaps", ["get"], ["kubelet-config"])],
             bootstrap=False),
        role("kubeadm:nodes-kubeadm-config", "kube-system", [rule("core", "configmaps", ["get"], ["kubeadm-config"])],
             bootstrap=False),
        role("system:controller:bootstrap-signer", "kube-public",
             [rule("core", "configmaps", _READ), rule("core", "configmaps", ["update"], ["cluster-info"]),
              rule("core events.k8s.io", "events", ["create", "patch", "update"])]),
        binding("system::extension-apiserver-authentication-reader", "extension-apiserver-authentication-reader",
                [subject("User", "system:kube-controller-manager"), subject("User", "system:kube-scheduler")],
                namespace="kube-system", role_kind="Role"),
        binding("system::leader-locking-kube-controller-manager", "system::leader-locking-kube-controller-manager",
                [subject("User", "system:kube-controller-manager"),
                 subject("ServiceAccount", "kube-controller-manager")], namespace="kube-system", role_kind="Role"),
        binding("system::leader-locking-kube-scheduler", "system::leader-locking-kube-scheduler",
                [subject("User", "system:kube-scheduler"), subject("ServiceAccount", "kube-scheduler")],
                namespace="kube-system", role_kind="Role"),
        binding("system:controller:bootstrap-signer", "system:controller:bootstrap-signer",
                [subject("ServiceAccount", "bootstrap-signer")], namespace="kube-system", role_kind="Role"),
        binding("system:controller:token-cleaner", "system:controller:token-cleaner",
                [subject("ServiceAccount", "token-cleaner")], namespace="kube-system", role_kind="Role"),
        binding("kube-proxy", "kube-proxy", [subject("Group", "system:bootstrappers:kubeadm:default-node-token")],
                namespace="kube-system", role_kind="Role", bootstrap=False),
        binding("kubeadm:kubelet-config", "kubeadm:kubelet-config",
                [subject("Group", "system:nodes"),
                 subject("Group", "system:bootstrappers:kubeadm:default-node-token")],
                namespace="kube-system", role_kind="Role", bootstrap=False),
        binding("kubeadm:nodes-kubeadm-config", "kubeadm:nodes-kubeadm-config",
                [subject("Group", "system:bootstrappers:kubeadm:default-node-token"),
                 subject("Group", "system:nodes")], namespace="kube-system", role_kind="Role", bootstrap=False),
        binding("system:controller:bootstrap-signer", "system:controller:bootstrap-signer",
                [subject("ServiceAccount", "bootstrap-signer", "kube-system")], namespace="kube-public",
                role_kind="Role"),
    ]


def controller_service_accounts() -> list[Obj]:
    """kube-controller-manager runs each controller as its own kube-system ServiceAccount."""
    names = [*_CONTROLLERS, "bootstrap-signer", "token-cleaner"]
    return [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": n, "namespace": "kube-system"}}
            for n in sorted(names)]
