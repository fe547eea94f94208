"""The agent account's RBAC rules, as data: what the server enforces and what the reviews report.

The account is a read-only user: get/list/watch on every served resource and on the subresources a
viewer reads (`log`, `status`, `scale`), the self-reviews every authenticated user may create, and
the discovery and health URLs of `system:discovery` / `system:public-info-viewer`. Like a real
read-only role it has no rule for `pods/proxy`, `services/proxy`, `nodes/proxy`, `pods/exec` or the
non-resource `/metrics`: those answer 403 from RBAC, and `kubectl auth can-i` says "no" to them.
One table drives both, so the server and `auth can-i --list` never disagree.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from atlas_sre.sim.resources import GROUP_ORDER, RESOURCES

READ_VERBS = ("get", "list", "watch")
READABLE_SUBRESOURCES = ("log", "scale", "status")
SELF_REVIEWS = {"authentication.k8s.io": ("selfsubjectreviews",),
                "authorization.k8s.io": ("selfsubjectaccessreviews", "selfsubjectrulesreviews")}
# system:discovery and system:public-info-viewer, as every authenticated user is bound to them.
NON_RESOURCE_URLS = ("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
                     "/readyz", "/version", "/version/")


@cache
def resource_rules() -> tuple[dict[str, Any], ...]:
    """`SelfSubjectRulesReview.status.resourceRules`: one read rule per API group, then the self-reviews."""
    rules: list[dict[str, Any]] = []
    for group in ("", *GROUP_ORDER):
        names: set[str] = set()
        for rt in RESOURCES:
            if rt.group != group or not set(READ_VERBS) & set(rt.verbs):
                continue
            names.add(rt.plural)
            names.update(f"{rt.plural}/{s.name}" for s in rt.subresources if s.name in READABLE_SUBRESOURCES)
        if names:
            rules.append({"verbs": list(READ_VERBS), "apiGroups": [group], "resources": sorted(names)})
    for group, plurals in SELF_REVIEWS.items():
        rules.append({"verbs": ["create"], "apiGroups": [group], "resources": list(plurals)})
    return tuple(rules)


def non_resource_rules() -> list[dict[str, Any]]:
    return [{"verbs": ["get"], "nonResourceURLs": list(NON_RESOURCE_URLS)}]


def allowed(verb: str, group: str, resource: str, subresource: str = "") -> bool:
    """RBAC's `RuleAllows` over `resource_rules()` (exact names, no wildcards in this account's rules)."""
    wanted = f"{resource}/{subresource}" if subresource else resource
    return any(verb in r["verbs"] and group in r["apiGroups"] and wanted in r["resources"]
               for r in resource_rules())


def path_allowed(verb: str, path: str) -> bool:
    """RBAC's `NonResourceURLMatches`: an exact URL, or a prefix for a rule ending in `*`."""
    if verb != "get":
        return False
    return any(path == url or (url.endswith("*") and path.startswith(url[:-1])) for url in NON_RESOURCE_URLS)
