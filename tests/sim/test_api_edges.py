"""The API server's edges: every error a `Status`, bad parameters 400, and no client can hold it.

Raw sockets and http.client against a served sample cluster, as a careless or hostile client would
talk to it: unknown methods, garbage request lines, huge selectors and bodies, bad Content-Length,
out-of-range numbers, malformed selectors, silent and dripping connections, hundreds of idle
sockets. After each, real kubectl still gets its answers.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubectl_env import KUBECTL, NS, run_kubectl, sample_state

from atlas_sre.sim.api import limits
from atlas_sre.sim.api.serve import SimServer

needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
POD = "web-5d9c7b8f6c-abcde"  # running, with log lines


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(sample_state(), namespace=NS) as server:
        yield server


@pytest.fixture
def kubectl(sim: SimServer, tmp_path: Path) -> Kubectl:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_kubectl(sim.kubeconfig_path, *args, env_home=tmp_path / "home")
    return run


def _prefix(sim: SimServer) -> str:
    return sim.url.split(str(sim.port), 1)[1]


def _exchange(sim: SimServer, data: bytes, wait: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read one response (status, headers, body by Content-Length)."""
    with socket.create_connection(("127.0.0.1", sim.port), timeout=wait) as sock:
        sock.sendall(data)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed without a response: {buf!r}"
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        code = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return code, headers, body


def _status(body: bytes, code: int) -> dict[str, Any]:
    """The body must be a failure Status with this code (never an HTML page)."""
    assert not body.lstrip().startswith(b"<"), body[:200]
    doc = json.loads(body)
    assert doc["kind"] == "Status" and doc["apiVersion"] == "v1" and doc["status"] == "Failure", doc
    assert doc["code"] == code and doc["reason"] and doc["message"], doc
    return dict(doc)


def _get(sim: SimServer, path: str) -> tuple[int, dict[str, Any] | str]:
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    try:
        conn.request("GET", _prefix(sim) + path)
        resp = conn.getresponse()
        raw = resp.read()
        ctype = resp.getheader("Content-Type") or ""
        return resp.status, json.loads(raw) if "json" in ctype else raw.decode()
    finally:
        conn.close()


def _still_serving(sim: SimServer) -> None:
    code, doc = _get(sim, f"/api/v1/namespaces/{NS}/pods")
    assert code == 200 and isinstance(doc, dict)
    assert POD in [p["metadata"]["name"] for p in doc["items"]]


# --- 1. protocol errors are Status objects -------------------------------------------------------

@pytest.mark.parametrize(("line", "code", "reason"), [
    (b"FOO {p}/api/v1/pods HTTP/1.1", 405, "MethodNotAllowed"),
    (b"TRACE {p}/api/v1/pods HTTP/1.1", 405, "MethodNotAllowed"),
    (b"PROPFIND {p}/api HTTP/1.1", 405, "MethodNotAllowed"),
    (b"CONNECT {p}/version HTTP/1.1", 405, "MethodNotAllowed"),
    (b"GARBAGE", 400, "BadRequest"),
    (b"GET", 400, "BadRequest"),
    (b"GET {p}/api", 400, "BadRequest"),  # HTTP/0.9: no status line to answer with
    (b"G(T {p}/api HTTP/1.1", 400, "BadRequest"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, "BadRequest"),  # a TLS hello
    (b"GET {p}/api HTTP/2.0", 505, "HTTPVersionNotSupported"),
    (b"GET {p}/no/such/path HTTP/1.1", 403, "Forbidden"),  # a non-resource path RBAC does not grant
    (b"GET {p}/apis/nosuch.example.com/v1/things HTTP/1.1", 404, "NotFound"),
    (b"GET {p}/api/v1/nosuchresource HTTP/1.1", 404, "NotFound"),
])
def test_every_protocol_error_is_a_status(sim: SimServer, capfd: pytest.CaptureFixture[str], line: bytes,
                                          code: int, reason: str) -> None:
    got, headers, body = _exchange(sim, line.replace(b"{p}", _prefix(sim).encode()) + b"\r\nHost: x\r\n\r\n")
    assert got == code
    assert headers["content-type"] == "application/json"
    assert _status(body, code)["reason"] == reason
    assert "Traceback" not in capfd.readouterr().err
    _still_serving(sim)


def test_a_70kb_selector_is_parsed_and_refused_with_its_reason(sim: SimServer) -> None:
    """Go reads 1 MiB of request head, so 70 KB reaches the selector parser (and its 400)."""
    selector = "app=" + "a" * 70_000
    code, _, body = _exchange(sim, f"GET {_prefix(sim)}/api/v1/pods?labelSelector={selector} HTTP/1.1\r\n\r\n"
                              .encode())
    assert code == 400
    assert _status(body, 400)["message"].startswith("unable to parse requirement: values[0][app]: Invalid value")
    _still_serving(sim)


def test_a_request_head_over_the_limit_is_431(sim: SimServer) -> None:
    line = f"GET {_prefix(sim)}/api/v1/pods?labelSelector={'a' * (limits.MAX_HEAD_BYTES + 10)} HTTP/1.1\r\n\r\n"
    code, headers, body = _exchange(sim, line.encode())
    assert code == 431 and headers["connection"] == "close"
    assert _status(body, 431)["message"] == f"request line longer than {limits.MAX_HEAD_BYTES} bytes"
    _still_serving(sim)


def test_too_many_or_too_long_headers_are_431(sim: SimServer) -> None:
    many = "".join(f"X-H{i}: v\r\n" for i in range(150))
    code, _, body = _exchange(sim, f"GET {_prefix(sim)}/version HTTP/1.1\r\n{many}\r\n".encode())
    assert code == 431 and "Too many headers" in _status(body, 431)["message"]
    code, _, body = _exchange(sim, f"GET {_prefix(sim)}/version HTTP/1.1\r\nX-Big: {'b' * 70_000}\r\n\r\n".encode())
    assert code == 431
    _status(body, 431)
    _still_serving(sim)


@pytest.mark.parametrize("value", ["abc", "-1", "1e3", "12 34", "99999999999999999999999"])
def test_a_bad_content_length_is_400_without_a_traceback(sim: SimServer, capfd: pytest.CaptureFixture[str],
                                                         value: str) -> None:
    code, headers, body = _exchange(
        sim, f"POST {_prefix(sim)}/api/v1/namespaces/{NS}/pods HTTP/1.1\r\nContent-Length: {value}\r\n\r\n".encode())
    assert code == 400 and headers["connection"] == "close"
    assert _status(body, 400)["message"] == f"bad Content-Length {value!r}"
    assert "Traceback" not in capfd.readouterr().err
    _still_serving(sim)


def test_a_200mb_body_is_refused_before_it_is_read(sim: SimServer) -> None:
    """413 from the declared length alone: the server answers while the client has sent none of it."""
    started = time.monotonic()
    code, headers, body = _exchange(
        sim, f"POST {_prefix(sim)}/api/v1/namespaces/{NS}/pods HTTP/1.1\r\nContent-Length: {200 << 20}\r\n\r\n"
        .encode())
    assert code == 413 and headers["connection"] == "close"
    assert _status(body, 413) | {} == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f"Request entity too large: limit is {limits.MAX_BODY_BYTES}", "reason": "RequestEntityTooLarge",
        "code": 413}
    assert time.monotonic() - started < 2


def test_a_chunked_body_is_capped_while_it_is_read(sim: SimServer) -> None:
    with socket.create_connection(("127.0.0.1", sim.port), timeout=10) as sock:
        sock.sendall(f"POST {_prefix(sim)}/api/v1/namespaces/{NS}/pods HTTP/1.1\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b"%x\r\n%s\r\n" % (1 << 20, b"x" * (1 << 20))
        reply = b""
        try:
            for _ in range(8):  # 8 MiB offered; the server stops reading after 3
                sock.sendall(chunk)
        except OSError:
            pass  # the server closed while we were still writing: what it should do
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except OSError:
            pass
    assert b" 413 " in reply.split(b"\r\n", 1)[0], reply[:200]
    _status(reply.partition(b"\r\n\r\n")[2], 413)
    _still_serving(sim)


def test_a_small_body_still_reaches_the_reviews(sim: SimServer) -> None:
    """`kubectl auth can-i` posts a review body: within the limit it is read and answered."""
    body = json.dumps({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                       "spec": {"resourceAttributes": {"verb": "list", "resource": "pods", "namespace": NS}}})
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    conn.request("POST", _prefix(sim) + "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body,
                 {"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 201 and json.loads(resp.read())["status"]["allowed"] is True
    conn.close()


# --- 2. numeric parameters -----------------------------------------------------------------------

@pytest.mark.parametrize(("path", "param"), [
    (f"/api/v1/namespaces/{NS}/pods/{POD}/log?sinceSeconds=99999999999999999999", "sinceSeconds"),
    (f"/api/v1/namespaces/{NS}/pods/{POD}/log?tailLines=-99999999999999999999", "tailLines"),
    (f"/api/v1/namespaces/{NS}/pods/{POD}/log?limitBytes=1" + "0" * 5000, "limitBytes"),
    (f"/api/v1/namespaces/{NS}/pods?limit=99999999999999999999", "limit"),
    (f"/api/v1/namespaces/{NS}/pods?watch=1&timeoutSeconds=99999999999999999999", "timeoutSeconds"),
])
def test_out_of_range_numbers_are_400_as_strconv_words_it(sim: SimServer, path: str, param: str) -> None:
    code, doc = _get(sim, path)
    assert code == 400 and isinstance(doc, dict)
    raw = path.rsplit(f"{param}=", 1)[1]
    assert doc["reason"] == "BadRequest"
    assert doc["message"] == f'{param}: Invalid value: "{raw}": strconv.ParseInt: parsing "{raw}": value out of range'


@pytest.mark.parametrize("path", [
    f"/api/v1/namespaces/{NS}/pods/{POD}/log?sinceSeconds=1.5",
    f"/api/v1/namespaces/{NS}/pods/{POD}/log?tailLines=%EF%BC%91",  # a full-width digit
    f"/api/v1/namespaces/{NS}/pods?limit=1_000",
    f"/api/v1/namespaces/{NS}/pods?watch=1&resourceVersion=%C2%B2",
])
def test_non_numbers_are_400_invalid_syntax(sim: SimServer, path: str) -> None:
    code, doc = _get(sim, path)
    assert code == 400 and isinstance(doc, dict) and "invalid syntax" in doc["message"], doc


def test_the_largest_int64_since_is_every_line(sim: SimServer) -> None:
    code, everything = _get(sim, f"/api/v1/namespaces/{NS}/pods/{POD}/log")
    code2, since = _get(sim, f"/api/v1/namespaces/{NS}/pods/{POD}/log?sinceSeconds=9223372036854775807")
    assert code == code2 == 200 and everything and since == everything


# --- 3. selectors ------------------------------------------------------------------------------

@needs_kubectl
@pytest.mark.parametrize(("args", "message"), [
    (["get", "pods", "--field-selector", "spec.foo=bar"], "field label not supported: spec.foo"),
    (["get", "pods", "--field-selector", "status.hostIP=10.0.0.1"], "field label not supported: status.hostIP"),
    (["get", "services", "--field-selector", "spec.type=ClusterIP"], "field label not supported: spec.type"),
    (["get", "nodes", "--field-selector", "metadata.namespace=x"], "field label not supported: metadata.namespace"),
    (["get", "pods", "--field-selector", "status.phase===Running"],
     "invalid field selector: unescaped character in value: ="),
    (["get", "pods", "--field-selector", r"metadata.name=a\x"], r"invalid field selector: invalid escape sequence: \x"),
    (["get", "pods", "-l", "app notin ()"],
     "unable to parse requirement: values: Invalid value: []string{}: for 'in', 'notin' operators, "
     "values set can't be empty"),
    (["get", "pods", "-l", "a=b=c"], "unable to parse requirement"),
])
def test_malformed_selectors_are_400_not_an_empty_list(kubectl: Kubectl, args: list[str], message: str) -> None:
    result = kubectl(*args)
    assert result.returncode == 1, result.stdout
    assert "Error from server (BadRequest)" in result.stderr and message in result.stderr, result.stderr
    assert "No resources found" not in result.stdout + result.stderr


@needs_kubectl
@pytest.mark.parametrize(("args", "expected"), [
    (["get", "pods", "--field-selector", "status.phase=Running", "-o", "name"], f"pod/{POD}"),
    (["get", "pods", "--field-selector", "spec.nodeName=worker-1,status.podIP!=192.0.2.1", "-o", "name"],
     f"pod/{POD}"),
    (["get", "pods", "--field-selector", "spec.hostNetwork=false,status.phase=Running", "-o", "name"], f"pod/{POD}"),
    (["get", "pods", "--field-selector", "status.phase=Running,", "-o", "name"], f"pod/{POD}"),
    (["get", "events", "--field-selector", "involvedObject.name=web-5d9c7b8f6c-crash,type=Warning", "-o", "name"],
     "event/"),
    (["get", "nodes", "--field-selector", "spec.unschedulable=false", "-o", "name"], "node/"),
    (["get", "pods", "-l", "app in (web),app notin (db)", "-o", "name"], f"pod/{POD}"),
])
def test_supported_selectors_keep_working(kubectl: Kubectl, args: list[str], expected: str) -> None:
    result = kubectl(*args)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout, result.stdout


# --- 4. time and connection limits ----------------------------------------------------------------

def _closed_within(sock: socket.socket, seconds: float, drip: float | None = None) -> float:
    """Seconds until the server closes `sock` (sending a byte every `drip` s meanwhile); fails past `seconds`."""
    started = time.monotonic()
    sock.setblocking(False)
    while (elapsed := time.monotonic() - started) < seconds:
        try:
            if sock.recv(4096) == b"":
                return elapsed
        except BlockingIOError:
            pass
        except OSError:
            return elapsed
        if drip is not None:
            try:
                sock.send(b"X")
            except OSError:
                return elapsed
            time.sleep(drip)
        else:
            time.sleep(0.05)
    raise AssertionError(f"still open after {seconds} s")


def test_a_silent_connection_is_dropped_at_the_idle_timeout(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "IDLE_TIMEOUT", 1.0)
    with socket.create_connection(("127.0.0.1", sim.port)) as sock:
        assert 0.8 <= _closed_within(sock, 4.0) < 4.0
    _still_serving(sim)


def test_a_dripping_client_is_dropped_at_the_head_timeout(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A byte every 0.2 s never trips a per-read timeout; the whole-request deadline still ends it."""
    monkeypatch.setattr(limits, "HEAD_TIMEOUT", 1.5)
    with socket.create_connection(("127.0.0.1", sim.port)) as sock:
        sock.sendall(b"GET /version HTTP/1.1\r\nX-Slow: ")
        assert _closed_within(sock, 5.0, drip=0.2) < 5.0
    _still_serving(sim)


def test_a_keep_alive_connection_serves_many_requests(sim: SimServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    for _ in range(20):
        conn.request("GET", _prefix(sim) + "/api/v1")
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read())["kind"] == "APIResourceList"
    conn.close()


def test_300_idle_connections_hold_at_most_the_cap(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the cap the longest-idle connection is closed for the newcomer: threads stay bounded."""
    conns = sim._server.connections  # type: ignore[union-attr]
    monkeypatch.setattr(conns, "max_connections", 40)
    before = threading.active_count()
    socks = [socket.create_connection(("127.0.0.1", sim.port)) for _ in range(300)]
    try:
        time.sleep(1.0)
        assert conns.count() <= 40
        assert threading.active_count() - before <= 45
        _still_serving(sim)  # a new connection still gets in
    finally:
        for sock in socks:
            sock.close()


def test_watches_over_their_cap_are_429(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim._server.connections, "max_watches", 2)  # type: ignore[union-attr]
    path = f"{_prefix(sim)}/api/v1/namespaces/{NS}/pods?watch=1&resourceVersion=999999&timeoutSeconds=30"
    open_watches = []
    try:
        for _ in range(2):
            conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
            conn.request("GET", path)
            assert conn.getresponse().status == 200
            open_watches.append(conn)
        code, _, body = _exchange(sim, f"GET {path} HTTP/1.1\r\n\r\n".encode())
        assert code == 429
        assert _status(body, 429)["message"] == "Too many requests, please try again later."
    finally:
        for conn in open_watches:
            conn.close()
    time.sleep(1.0)  # the handlers see the close within their 0.5 s poll
    code, _, _ = _exchange(sim, f"GET {path.replace('timeoutSeconds=30', 'timeoutSeconds=1')} HTTP/1.1\r\n\r\n"
                           .encode())
    assert code == 200


def test_a_watch_longer_than_the_cap_is_cut_to_it() -> None:
    from atlas_sre.sim.api.watch import WatchOptions
    assert WatchOptions.parse({"timeoutSeconds": str(10**12)}).timeout == limits.MAX_WATCH_SECONDS


@needs_kubectl
def test_kubectl_is_unaffected_after_the_abuse(sim: SimServer, kubectl: Kubectl) -> None:
    for junk in (b"FOO / HTTP/1.1\r\n\r\n", b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n"):
        _exchange(sim, junk)
    pods = kubectl("get", "pods")
    assert pods.returncode == 0 and re.search(rf"^{POD}\s+2/2\s+Running", pods.stdout, re.M), pods.stdout
    watch = run_kubectl(sim.kubeconfig_path, "get", "pods", "-w", "--request-timeout=2s",
                        env_home=sim.kubeconfig_path.parent / "home-w")
    assert watch.returncode == 0 and POD in watch.stdout, watch.stderr
    discovery = kubectl("api-resources", "-o", "name")
    assert discovery.returncode == 0 and "deployments.apps" in discovery.stdout.split()
