"""Request routing, independent of the socket: (method, path, query, Accept) → Response.

Paths follow the apiserver's layout (`/api/v1/...`, `/apis/{group}/{version}/...`, optionally
under `/namespaces/{ns}`); content negotiation honours `as=Table`, which kubectl needs because it
no longer prints columns on its own. Lists page with `limit`/`continue` (`paging.py`) and watch
as a static cluster does (`watch.py`). Anything that would change the cluster is refused with 403,
and so is what a read-only role lacks (`rbac.py`: proxy subresources, `/metrics`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atlas_sre.kube.selectors import SelectorError, compile_selectors
from atlas_sre.sim import resources
from atlas_sre.sim.api import status as st
from atlas_sre.sim.api.auth import REVIEWS, WHOAMI, review, whoami
from atlas_sre.sim.api.fields import field_labels
from atlas_sre.sim.api.logs import render_log
from atlas_sre.sim.api.openapi import OpenAPI
from atlas_sre.sim.api.paging import PageError, paginate
from atlas_sre.sim.api.rbac import READABLE_SUBRESOURCES, path_allowed
from atlas_sre.sim.api.store import Store, View
from atlas_sre.sim.api.tables import render, respond, table_now
from atlas_sre.sim.api.watch import WatchError, WatchOptions, is_watch, plan, table_events
from atlas_sre.sim.resources import ResourceType

VERSION_INFO = {
    "major": "1", "minor": "32", "gitVersion": "v1.32.4", "gitCommit": "59526cd4867447956156ae3a602fcbac10a2c335",
    "gitTreeState": "clean", "buildDate": "2025-04-22T16:00:00Z", "goVersion": "go1.23.8", "compiler": "gc",
    "platform": "linux/amd64",
}
WRITE_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
# The apiserver's RequestInfo verb for each HTTP method (proxy requests are authorised per method).
METHOD_VERBS = {"GET": "get", "HEAD": "get", **WRITE_VERBS}
# GET on these pod subresources opens a stream (exec over websockets): authorised as a write.
STREAMING_SUBRESOURCES = {"exec", "attach", "portforward"}
PROXIED = {"pods", "services", "nodes"}  # `.../{plural}/{name}/proxy[/path]`
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
        if method == "POST" and _is_self_review(segments):
            if segments[-1] == WHOAMI:
                return st.Response(201, st.dumps(whoami(self.store.now.strftime("%Y-%m-%dT%H:%M:%SZ"))))
            return st.Response(201, st.dumps(review(segments[-1], body)))
        proxied = _proxy_target(segments)
        if proxied is not None:  # a read-only role has no proxy rule: RBAC refuses before any routing
            verb = METHOD_VERBS.get(method, method.lower())
            return st.forbidden_rbac(verb, proxied.rt, proxied.namespace, proxied.name, "proxy")
        if method in WRITE_VERBS:
            return self._forbidden(WRITE_VERBS[method], segments)
        if method not in ("GET", "HEAD"):
            return st.status(405, "MethodNotAllowed", f"the server does not allow this method ({method})")
        if segments[:1] not in (["api"], ["apis"]) and not path_allowed("get", "/" + "/".join(segments)):
            return st.forbidden_rbac("get", None, None, None, path="/" + "/".join(segments))  # `/metrics`, `/`
        key = tuple(segments)
        if key in self._static:
            return st.ok(self._static[key])
        if segments[0] in ("healthz", "readyz", "livez"):
            return st.Response(200, b"ok", st.TEXT)
        if segments[0] == "openapi":
            doc = self.openapi.get(segments, accept)
            return st.ok(*doc) if doc is not None else st.no_route()
        legacy_watch = _legacy_watch(segments)
        if legacy_watch is not None:
            segments, query = legacy_watch, {**query, "watch": "true"}
        discovery = self._discovery(segments)
        if discovery is not None:
            return discovery
        target = parse_target(segments)
        if target is None:
            return st.no_route()
        if target.subresource in STREAMING_SUBRESOURCES:
            return st.forbidden("create", target.rt, target.namespace, target.name, target.subresource)
        if legacy_watch is not None and target.name is not None and target.subresource is None:
            # `/watch/.../pods/x` is a watch of the list, narrowed to one name
            query = {**query, "fieldSelector": ",".join(
                f for f in (query.get("fieldSelector"), f"metadata.name={target.name}") if f)}
            target = Target(target.rt, target.version, target.namespace)
        watching = is_watch(query) and target.name is None and target.subresource is None
        verb = "watch" if watching else "list" if target.name is None else "get"
        if target.subresource is None and verb not in target.rt.verbs:
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
        response = self._read_answer(target, query, accept)
        if target.rt.deprecated_in and response.status < 400:  # the apiserver's deprecation warning
            response.headers["Warning"] = (f'299 - "{target.rt.group_version(target.version)} {target.rt.kind} '
                                           f'is deprecated in v{target.rt.deprecated_in}+"')
        return response

    def _read_answer(self, target: Target, query: dict[str, str], accept: str) -> st.Response:
        view = self.store.view(target.rt, target.version)
        fmt, table_version = negotiate(accept)
        if target.name is None:
            try:
                keep = compile_selectors(query.get("labelSelector"), query.get("fieldSelector"),
                                         field_labels(target.rt))
            except SelectorError as exc:
                return st.bad_request(str(exc))
            picked = [i for i in view.indexes(target.namespace) if keep(view.served[i])]
            if is_watch(query):
                return self._watch(target, view, picked, query, fmt, table_version)
            try:
                page = paginate(picked, view.keys, query, self.store.resource_version, target.namespace,
                                filtered=bool(query.get("labelSelector") or query.get("fieldSelector")))
            except PageError as exc:
                return st.expired(str(exc)) if exc.code == 410 else st.bad_request(str(exc))
            if fmt == "table":
                return self._table(target, view, page.indexes, query, table_version, page.meta)
            return st.ok(self.store.list_json(view, page.indexes, page.meta))
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

    def _watch(self, target: Target, view: View, picked: list[int], query: dict[str, str], fmt: str,
               table_version: str) -> st.Response:
        """A watch stream over the selected objects: full objects, or one-row Tables for `kubectl get -w`."""
        try:
            options = WatchOptions.parse(query)
        except WatchError as exc:
            return st.status(exc.code, exc.reason, str(exc))
        objects: list[dict[str, Any] | bytes]
        if fmt == "table":
            include = _include_object(query)
            if include is None:
                return _bad_include(query)
            table = render(target.rt, [view.originals[i] for i in picked], self.store.now, include_object=include,
                           table_version=table_version, embed=[view.served[i] for i in picked])
            objects = list(table_events(table))
        else:
            objects = [st.dumps(view.served[i]) for i in picked]
        stream = plan(options, target.rt, target.version, self.store.resource_version, objects)
        return st.Response(200, b"", st.JSON, stream=stream)

    def _table(self, target: Target, view: View, picked: list[int], query: dict[str, str],
               table_version: str, page: dict[str, Any] | None = None) -> st.Response:
        """A Table of the objects; a list carries the list's resourceVersion (and chunk), one object its own."""
        include = _include_object(query)
        if include is None:
            return _bad_include(query)
        now = table_now(self.store.now, self.store.live)
        table = render(target.rt, [view.originals[i] for i in picked], now, include_object=include,
                       table_version=table_version,
                       resource_version=self.store.resource_version if target.name is None else "",
                       embed=[view.served[i] for i in picked])
        if page:
            table.setdefault("metadata", {}).update(page)
        return respond(table, f"application/json;as=Table;v={table_version};g=meta.k8s.io", self.store.live)


def _include_object(query: dict[str, str]) -> str | None:
    include = query.get("includeObject") or "Metadata"
    return include if include in ("None", "Metadata", "Object") else None


def _bad_include(query: dict[str, str]) -> st.Response:
    return st.bad_request(f"includeObject: Unsupported value: {query.get('includeObject')!r}: supported values: "
                          '"Metadata", "None", "Object"')


def _is_self_review(segments: list[str]) -> bool:
    """`POST` of a SelfSubject{Access,Rules}Review or a SelfSubjectReview: a question, not a write."""
    if len(segments) != 4 or segments[0] != "apis":
        return False
    if segments[1:3] == ["authorization.k8s.io", "v1"]:
        return segments[3] in REVIEWS
    return segments[1:3] == ["authentication.k8s.io", "v1"] and segments[3] == WHOAMI


def _proxy_target(segments: list[str]) -> Target | None:
    """`/api/v1/[namespaces/{ns}/]{pods|services|nodes}/{name}/proxy[/...]`, whatever follows `proxy`."""
    if segments[:2] != ["api", "v1"]:
        return None
    rest, namespace = segments[2:], None
    if len(rest) >= 2 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if len(rest) < 3 or rest[0] not in PROXIED or rest[2] != "proxy":
        return None
    rt = resources.lookup("", "v1", rest[0])
    if rt is None or rt.namespaced != (namespace is not None):
        return None
    return Target(rt, "v1", namespace, rest[1], "proxy")


def _legacy_watch(segments: list[str]) -> list[str] | None:
    """The path without `watch/` for the deprecated `/api/v1/watch/...` and `/apis/{g}/{v}/watch/...` forms."""
    if segments[:3] == ["api", "v1", "watch"]:
        return segments[:2] + segments[3:]
    if segments[:1] == ["apis"] and segments[3:4] == ["watch"]:
        return segments[:3] + segments[4:]
    return None


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
