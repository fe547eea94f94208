"""Request routing, independent of the socket: (method, path, query, Accept) → Response.

Paths follow the apiserver's layout (`/api/v1/...`, `/apis/{group}/{version}/...`, optionally
under `/namespaces/{ns}`); content negotiation honours `as=Table`, which kubectl needs because it
no longer prints columns on its own. Anything that would change the cluster is refused with 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atlas_sre.kube.selectors import SelectorError, compile_selectors
from atlas_sre.sim import resources
from atlas_sre.sim.api import status as st
from atlas_sre.sim.api.auth import REVIEWS, review
from atlas_sre.sim.api.logs import render_log
from atlas_sre.sim.api.openapi import OpenAPI
from atlas_sre.sim.api.store import Store, View
from atlas_sre.sim.api.tables import render
from atlas_sre.sim.resources import ResourceType

VERSION_INFO = {
    "major": "1", "minor": "32", "gitVersion": "v1.32.4", "gitCommit": "59526cd4867447956156ae3a602fcbac10a2c335",
    "gitTreeState": "clean", "buildDate": "2025-04-22T16:00:00Z", "goVersion": "go1.23.8", "compiler": "gc",
    "platform": "linux/amd64",
}
WRITE_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
# GET on these pod subresources opens a stream (exec over websockets): authorised as a write.
STREAMING_SUBRESOURCES = {"exec", "attach", "portforward", "proxy"}
READABLE_SUBRESOURCES = {"log", "status", "scale"}
NOT_ALLOWED = "the server does not allow this method on the requested resource"


@dataclass(frozen=True)
class Target:
    """A parsed resource path."""

    rt: ResourceType
    version: str
    namespace: str | None
    name: str | None = None
    subresource: str | None = None


def negotiate(accept: str) -> tuple[str, str]:
    """('table', v1|v1beta1) when the client asks for a server-side Table, else ('json', '')."""
    for part in (accept or "").split(","):
        media, *raw = [p.strip() for p in part.split(";")]
        params = dict(p.split("=", 1) for p in raw if "=" in p)
        if media not in ("application/json", "*/*", "application/*"):
            continue
        if "as" not in params:
            return "json", ""
        if params["as"] == "Table" and params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
            return "table", params["v"]
    return "json", ""


def parse_target(segments: list[str]) -> Target | None:
    """`api/v1/namespaces/shop/pods/web/log` → Target; None when no resource lives there."""
    if segments[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", segments[2:]
    elif len(segments) >= 3 and segments[0] == "apis":
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        candidate = resources.lookup(group, version, rest[2])
        if candidate is not None and candidate.namespaced:
            namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return None
    rt = resources.lookup(group, version, rest[0])
    if rt is None:
        return None
    if namespace is None and rt.namespaced and len(rest) > 1:
        return None  # a namespaced object addressed without its namespace
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if sub is not None and sub not in {s.name for s in rt.subresources}:
        return None
    return Target(rt, version, namespace, name, sub)


class Router:
    """Answers every request from one Store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._static: dict[tuple[str, ...], bytes] = {
            ("version",): st.dumps(VERSION_INFO),
            ("api",): st.dumps(resources.api_versions()),
            ("apis",): st.dumps(resources.api_group_list()),
        }
        self.openapi = OpenAPI()

    def handle(self, method: str, segments: list[str], query: dict[str, str], accept: str,
               body: bytes = b"") -> st.Response:
        """Dispatch one request; never raises for a client error (a Status comes back instead)."""
        if method == "POST" and _is_access_review(segments):
            return st.Response(201, st.dumps(review(segments[-1], body)))
        if method in WRITE_VERBS:
            return self._forbidden(WRITE_VERBS[method], segments)
        if method not in ("GET", "HEAD"):
            return st.status(405, "MethodNotAllowed", f"the server does not allow this method ({method})")
        key = tuple(segments)
        if key in self._static:
            return st.ok(self._static[key])
        if not segments:
            return st.ok({"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"]})
        if segments[0] in ("healthz", "readyz", "livez"):
            return st.Response(200, b"ok", st.TEXT)
        if segments[0] == "openapi":
            doc = self.openapi.get(segments)
            return st.ok(doc) if doc is not None else st.no_route()
        if segments[:3] == ["api", "v1", "watch"] or (segments[0] == "apis" and segments[3:4] == ["watch"]):
            return st.watch_unsupported()
        discovery = self._discovery(segments)
        if discovery is not None:
            return discovery
        target = parse_target(segments)
        if target is None:
            return st.no_route()
        if target.subresource in STREAMING_SUBRESOURCES:
            return st.forbidden("create", target.rt, target.namespace, target.name, target.subresource)
        if query.get("watch", "").lower() in ("true", "1"):
            return st.watch_unsupported()
        if target.subresource is None and ("list" if target.name is None else "get") not in target.rt.verbs:
            return st.status(405, "MethodNotAllowed", NOT_ALLOWED)
        if target.subresource is not None and target.subresource not in READABLE_SUBRESOURCES:
            return st.status(405, "MethodNotAllowed", NOT_ALLOWED)  # eviction, binding, token: create only
        return self._read(target, query, accept)

    def _discovery(self, segments: list[str]) -> st.Response | None:
        doc: dict[str, Any] | None = None
        if segments == ["api", "v1"]:
            doc = resources.api_resource_list("", "v1")
        elif segments[0] == "apis" and len(segments) == 2:
            doc = resources.api_group(segments[1])
        elif segments[0] == "apis" and len(segments) == 3:
            doc = resources.api_resource_list(segments[1], segments[2])
        else:
            return None
        return st.ok(doc) if doc is not None else st.no_route()

    def _forbidden(self, verb: str, segments: list[str]) -> st.Response:
        target = parse_target(segments)
        if target is None:
            return st.forbidden(verb, None, None, None, path="/" + "/".join(segments))
        if verb == "delete" and target.name is None:
            verb = "deletecollection"
        return st.forbidden(verb, target.rt, target.namespace, target.name, target.subresource)

    def _read(self, target: Target, query: dict[str, str], accept: str) -> st.Response:
        view = self.store.view(target.rt, target.version)
        fmt, table_version = negotiate(accept)
        if target.name is None:
            try:
                keep = compile_selectors(query.get("labelSelector"), query.get("fieldSelector"))
            except SelectorError as exc:
                return st.bad_request(str(exc))
            picked = [i for i in view.indexes(target.namespace) if keep(view.served[i])]
            if fmt == "table":
                return self._table(target, view, picked, query, table_version)
            return st.ok(self.store.list_json(view, picked))
        index = view.find(target.namespace, target.name)
        if index is None:
            return st.not_found(target.rt, target.name)
        served = view.served[index]
        if target.subresource == "log":
            return render_log(self.store.clock, self.store.logs, target.namespace or "", served, query)
        if target.subresource == "scale":
            return st.ok(_scale(served))
        if fmt == "table":
            return self._table(target, view, [index], query, table_version)
        return st.ok(served)

    def _table(self, target: Target, view: View, picked: list[int], query: dict[str, str],
               table_version: str) -> st.Response:
        """A Table of the objects; a list carries the list's resourceVersion, one object its own."""
        include = query.get("includeObject") or "Metadata"
        if include not in ("None", "Metadata", "Object"):
            return st.bad_request(f"includeObject: Unsupported value: {include!r}: supported values: "
                                  '"Metadata", "None", "Object"')
        table = render(target.rt, [view.originals[i] for i in picked], self.store.now, include_object=include,
                       table_version=table_version,
                       resource_version=self.store.resource_version if target.name is None else "",
                       embed=[view.served[i] for i in picked])
        return st.ok(table, f"application/json;as=Table;v={table_version};g=meta.k8s.io")


def _is_access_review(segments: list[str]) -> bool:
    """`POST /apis/authorization.k8s.io/v1/selfsubject{access,rules}reviews`: a question, not a write."""
    return segments[:3] == ["apis", "authorization.k8s.io", "v1"] and len(segments) == 4 and segments[3] in REVIEWS


def _scale(obj: dict[str, Any]) -> dict[str, Any]:
    """The autoscaling/v1 Scale view of a workload (GET only; writes are refused earlier)."""
    md = obj.get("metadata") or {}
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    selector = ",".join(f"{k}={v}" for k, v in ((spec.get("selector") or {}).get("matchLabels") or {}).items())
    return {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {k: md[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in md},
        "spec": {"replicas": spec.get("replicas", 1)},
        "status": {"replicas": status.get("replicas", 0), "selector": selector},
    }
