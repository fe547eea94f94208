"""Read-only rules for one `kubectl` argv (after `kubectl`), independent of any cluster.

Why this shape: kubectl's flags can sit anywhere, short flags combine (`-Aw` is `-A -w`), and a
value-taking flag swallows the next word — so finding the verb and the resource types needs the
same flag grammar kubectl uses. We parse with an explicit list of value-taking flags and fail
closed where the grammar is ambiguous: before the verb only -n/--namespace and --request-timeout
(plus harmless booleans) are accepted, because kubectl's command lookup treats any unknown flag
there as taking a value, which could otherwise turn `kubectl --x get delete ...` into a delete.
Identity/connection overrides, file readers/writers, watches and verbosity are refused outright:
the layer, not the agent, chooses cluster, user and context.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

READ_VERBS = (
    "get", "describe", "logs", "top", "events", "api-resources", "api-versions", "explain",
    "version", "cluster-info", "auth",
)
_ALLOWED_VERBS = ", ".join(v if v != "auth" else "auth can-i" for v in READ_VERBS)
_VERB_REASONS = {
    **dict.fromkeys(
        ("apply", "create", "delete", "edit", "patch", "replace", "scale", "label", "annotate",
         "taint", "cordon", "uncordon", "drain", "set", "expose", "autoscale", "certificate"),
        "changes cluster state",
    ),
    **dict.fromkeys(
        ("exec", "attach", "cp", "port-forward", "proxy", "debug", "run"),
        "runs processes in, copies files from or opens connections to the cluster",
    ),
    "rollout": "can restart or undo rollouts (inspect them with `get rs -l app=X` / `describe deploy X`)",
    "wait": "blocks on a watch until a condition holds",
    "config": "reads or changes the kubeconfig (credentials); the layer owns it",
    **dict.fromkeys(("plugin", "kustomize", "alpha", "diff", "convert", "completion", "options", "help"),
                    "is not an investigation command"),
}
# Flags whose value is the next word when written without `=`. Only real value flags belong here:
# listing a boolean would hide the word after it from the secret and verb checks.
_VALUE_LONG = frozenset({
    "namespace", "request-timeout", "kubeconfig", "context", "cluster", "user", "username", "password",
    "token", "server", "as", "as-group", "as-uid", "cache-dir", "certificate-authority",
    "client-certificate", "client-key", "tls-server-name", "profile", "profile-output", "log-dir",
    "log-file", "log-file-max-size", "log-flush-frequency", "log-backtrace-at", "stderrthreshold", "v",
    "vmodule", "kuberc", "output", "selector", "field-selector", "sort-by", "label-columns", "template",
    "chunk-size", "subresource", "raw", "filename", "kustomize", "container", "since", "since-time",
    "tail", "limit-bytes", "max-log-requests", "pod-running-timeout", "for", "types", "api-group",
    "categories", "verbs", "api-version", "output-directory",
})
_VALUE_SHORT = frozenset("nolLcskfv")
DENIED_LONG_FLAGS = {
    **dict.fromkeys(
        ("kubeconfig", "server", "token", "as", "as-group", "as-uid", "context", "cluster", "user", "username",
         "password", "insecure-skip-tls-verify", "certificate-authority", "client-key", "client-certificate",
         "tls-server-name", "kuberc", "cache-dir", "insecure-skip-tls-verify-backend"),
        "it overrides the cluster, credentials or identity; the layer chooses kubeconfig, context and user",
    ),
    **dict.fromkeys(("watch", "watch-only", "output-watch-events"),
                    "watches never end; run the command again later instead"),
    "follow": "following logs never ends; use --tail=N or --since=DURATION",
    **dict.fromkeys(("filename", "kustomize"), "it reads local files or URLs"),
    **dict.fromkeys(("log-file", "log-dir", "profile", "profile-output", "output-directory"),
                    "it writes local files"),
    **dict.fromkeys(("v", "vmodule"), "verbose client logging can print credentials and request bodies"),
}
_DENIED_SHORT = {
    "s": DENIED_LONG_FLAGS["server"],
    "f": "it reads local files (-f FILE) or follows logs forever (logs -f); use --tail=N or --since=DURATION",
    "k": DENIED_LONG_FLAGS["kustomize"],
    "w": DENIED_LONG_FLAGS["watch"],
    "v": DENIED_LONG_FLAGS["v"],
}
_PRE_VERB_OK = frozenset({
    "namespace", "n", "request-timeout", "match-server-version", "warnings-as-errors", "disable-compression",
    "help", "h",
})
_SECRET_TYPES = frozenset({"secret", "secrets"})
_SAFE_SECRET_OUTPUTS = frozenset({"", "wide", "name"})
_RAW_PATH = re.compile(r"^/[A-Za-z0-9._~/-]*$")
_RAW_PREFIXES = ("/api", "/apis", "/healthz", "/livez", "/readyz", "/version", "/metrics", "/openapi")
_RAW_BAD_SEGMENTS = frozenset({"secrets", "proxy", "exec", "attach", "portforward", "eviction", "token", "."})


# `-w=false`, `--watch=false`, `--follow=false`: a boolean switched off is just the default.
_OFF_BOOLEAN = re.compile(r"^(?:-(w)|--(watch|watch-only|output-watch-events|follow))=(?:false|False|FALSE|f|F|0)$")
MAX_RAW_WATCH_SECONDS = 60


class PolicyViolation(Exception):
    """Raised inside the policy; converted to a typed Refusal before anything reaches an agent."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class KubectlCommand:
    """An allowed kubectl invocation: the agent's args plus what the runner needs for injection."""

    args: tuple[str, ...]
    verb: str
    namespace_given: bool = False
    all_namespaces: bool = False
    request_timeout_given: bool = False


def _parse(args: list[str]) -> tuple[list[tuple[int, str]], list[tuple[str, str | None, int]]]:
    """Split args into (index, positional) and (flag name, value, index of the flag) like pflag does."""
    positionals: list[tuple[int, str]] = []
    flags: list[tuple[str, str | None, int]] = []
    i = 0
    while i < len(args):
        arg, at = args[i], i
        if arg == "--":
            raise PolicyViolation("`--` is not allowed: it passes a command to exec/run-style verbs")
        off = _OFF_BOOLEAN.match(arg)
        if off:
            flags.append((off.group(1) or off.group(2), "false", at))
            i += 1
            continue
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if not name:
                raise PolicyViolation(f"malformed flag {arg!r}")
            _deny(name, arg)
            if name in _VALUE_LONG and not eq:
                i += 1
                value = args[i] if i < len(args) else ""
            flags.append((name, value if (eq or name in _VALUE_LONG) else None, at))
        elif arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                ch = arg[j]
                _deny(ch, arg)
                if ch in _VALUE_SHORT:
                    rest = arg[j + 1 :]
                    if rest:
                        flags.append((ch, rest[1:] if rest.startswith("=") else rest, at))
                    else:
                        i += 1
                        flags.append((ch, args[i] if i < len(args) else "", at))
                    break
                if ch == "=":  # `-A=true`: the rest is the boolean's value
                    break
                flags.append((ch, None, at))
                j += 1
        else:
            positionals.append((i, arg))
        i += 1
    return positionals, flags


def _deny(name: str, arg: str) -> None:
    reason = (_DENIED_SHORT if len(name) == 1 else DENIED_LONG_FLAGS).get(name)
    if reason:
        raise PolicyViolation(f"`{arg}` is not allowed: {reason}")


def check_kubectl_args(args: list[str]) -> KubectlCommand:
    """Validate the words after `kubectl`; raise PolicyViolation with an agent-readable reason."""
    indexed, flags = _parse(args)
    if not indexed:
        raise PolicyViolation(f"missing kubectl verb; allowed: {_ALLOWED_VERBS}")
    verb_index, verb = indexed[0]
    positionals = [word for _, word in indexed]
    if verb not in READ_VERBS:
        why = _VERB_REASONS.get(verb, "is not a read-only kubectl verb (kubectl plugins are not allowed)")
        raise PolicyViolation(f"`kubectl {verb}` {why}; allowed verbs: {_ALLOWED_VERBS}")
    for name, _, at in flags:
        if at < verb_index and name not in _PRE_VERB_OK:
            raise PolicyViolation(
                f"`{args[at]}` before the verb: only -n/--namespace and --request-timeout may precede it; "
                "put other flags after the verb"
            )

    def every(*names: str) -> list[str]:
        return _every(flags, *names)

    if verb == "auth" and (len(args) <= verb_index + 1 or args[verb_index + 1] != "can-i"):
        raise PolicyViolation("only `kubectl auth can-i ...` is allowed among the auth subcommands")
    if verb == "cluster-info" and len(positionals) > 1:
        raise PolicyViolation("`kubectl cluster-info dump` is not allowed: it bulk-copies logs and can write "
                              "files; use targeted get/describe/logs")
    outputs = [value.split("=", 1)[0].strip().lower() for value in every("o", "output")]
    for output in outputs:
        if output.endswith("-file") or output == "templatefile":
            raise PolicyViolation(f"`-o {output}` reads a local template file; pass the template inline")
    if verb != "explain" and any(n in ("recursive", "R") for n, _, _ in flags):
        raise PolicyViolation(f"`--recursive` is only allowed with `kubectl explain`; with {verb} it reads "
                              "local directories (-f DIR)")
    for raw in every("raw"):
        _check_raw(verb, raw, timeouts=every("request-timeout"))
        if len(positionals) > 1:
            raise PolicyViolation("`get --raw PATH` takes no resource arguments")
    if verb == "get" and _names_secrets(positionals[1:]) and (
        any(output not in _SAFE_SECRET_OUTPUTS for output in outputs) or every("template")
    ):
        raise PolicyViolation(
            "reading Secret contents is not allowed (`get secret` with -o yaml/json/jsonpath/template/"
            "custom-columns); `kubectl get secrets`, `-o name` and `kubectl describe secret NAME` show "
            "which keys exist and their sizes"
        )
    all_ns = any(n in ("A", "all-namespaces") and v in (None, "true") for n, v, _ in flags)
    return KubectlCommand(
        args=tuple(args),
        verb=verb,
        namespace_given=any(n in ("n", "namespace") for n, _, _ in flags),
        all_namespaces=all_ns,
        request_timeout_given=bool(every("request-timeout")),
    )


def _every(flags: list[tuple[str, str | None, int]], *names: str) -> list[str]:
    """All values given for a flag: pflag lets the last repeat win, so every one must pass the checks."""
    return [value or "" for name, value, _ in flags if name in names]


def _names_secrets(words: list[str]) -> bool:
    """Does `kubectl get WORDS` address Secrets (secrets, secret/x, all,secrets, secrets.v1., Secret.v1)?"""
    if not words:
        return False
    types = [] if "/" in words[0] else words[0].split(",")
    types += [piece.split("/", 1)[0] for w in words if "/" in w for piece in w.split(",")]
    return any(t.split(".", 1)[0].strip().lower() in _SECRET_TYPES for t in types)


def _check_raw(verb: str, raw: str, timeouts: list[str] | None = None) -> None:
    """`get --raw PATH` is a plain GET: allow API read paths, never secrets, proxies or streams."""
    if verb != "get":
        raise PolicyViolation("--raw is only allowed with `kubectl get --raw /api/...`")
    path, _, query = raw.partition("?")
    if not _RAW_PATH.match(path) or "//" in path:
        raise PolicyViolation(f"--raw {raw!r}: only absolute API paths (/api/..., /apis/..., /healthz, "
                              "/readyz, /livez, /version, /metrics, /openapi) without encoding are allowed")
    if not any(path == p or path.startswith(p + "/") for p in _RAW_PREFIXES):
        raise PolicyViolation(f"--raw {path!r} is not an API read path")
    segments = {s.lower() for s in path.split("/")}
    if segments & (_RAW_BAD_SEGMENTS | {".."}):
        raise PolicyViolation(f"--raw {path!r} addresses secrets, a proxy, exec/attach or an odd segment")
    params = urllib.parse.parse_qsl(query, keep_blank_values=True)
    keys = {k.lower() for k, _ in params}
    if "follow" in keys:
        raise PolicyViolation("--raw with follow streams never ends; use `kubectl logs --tail=N`")
    parts = [s for s in path.split("/") if s]
    watch_path = "watch" in parts[:4] and parts[:1] in (["api"], ["apis"])
    watch_query = any(k.lower() == "watch" and v.lower() not in ("false", "0") for k, v in params)
    if watch_path or watch_query:
        _check_raw_watch(params, timeouts or [])


def _seconds(value: str) -> float:
    """kubectl's --request-timeout value in seconds (`5`, `5s`, `1m`); 0 (no limit) or junk: 0."""
    m = re.fullmatch(r"(\d{1,6})(ms|s|m|h)?", value.strip())
    if not m:
        return 0.0
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def _check_raw_watch(params: list[tuple[str, str]], timeouts: list[str]) -> None:
    """A raw watch streams until the server ends it: allowed only with a bounded timeout."""
    seconds = [v for k, v in params if k == "timeoutSeconds"]
    if seconds and all(v.isdigit() and 0 < int(v) <= MAX_RAW_WATCH_SECONDS for v in seconds):
        return
    if timeouts and not seconds and all(0 < _seconds(t) <= MAX_RAW_WATCH_SECONDS for t in timeouts):
        return
    raise PolicyViolation(
        f"--raw watch paths stream until a timeout: add ?timeoutSeconds=N (1..{MAX_RAW_WATCH_SECONDS}) to the "
        "path or --request-timeout=Ns; or use `kubectl get` / `kubectl get events` for a snapshot"
    )
