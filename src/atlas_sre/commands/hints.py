"""What to do instead: a hint added to a refusal, so an agent learns what to change, not only what failed.

Why a table: small models loop on the same refused idea (`kubectl logs shop-productpage-<pod-name>`,
`... | xargs kubectl exec ... curl`) because "redirection is not allowed" names the rule it broke,
not the command that would work. Each row pairs a pattern on the agent's line with the read-only
command that gets the same evidence; adding a case is one row. Hints never change what the policy
allows: they are text beside its reason. Placeholder rows also explain a command that *ran* and
failed (`kubectl logs POD_NAME` is allowed and answers NotFound).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

ALLOWED_FILTERS = "grep, head, tail, wc, sort, uniq, jq, awk (print only), cut"


@dataclass(frozen=True)
class Hint:
    """One row: where `pattern` matches the line, `text` says what to run instead.

    `text` is a `str.format` template: `{word}` is the pattern's first group, `{ns}` the line's
    `-n NAMESPACE` (or `-n NAMESPACE` literally when it names none), `{ns_or_all}` the same or `-A`,
    `{pod}` the pod the line addressed (or `NAME`), `{first}` empty when the pod is known, else
    "list the pods with `kubectl get pods -n NS`, then" (a model copies an uppercase `POD` literally:
    measured on qwen2.5-coder-1.5b), `{what}` / `{listing}` what a placeholder stands for and the
    command that lists real names.
    """

    name: str
    pattern: re.Pattern[str]
    text: str
    placeholder: bool = False  # also explains a command that ran and failed


def _row(name: str, pattern: str, text: str, *, placeholder: bool = False, flags: int = 0) -> Hint:
    return Hint(name, re.compile(pattern, flags), text, placeholder)


_PLACEHOLDER_TEXT = "`{match}` is a placeholder, not a name: use {what} from `{listing}`"
_CAPS_WORDS = r"(?:POD|PODNAME|NAMESPACE|NS|SERVICE|SVC|DEPLOYMENT|DEPLOY|CONTAINER|NODE|NAME)(?:_?NAME)?|[A-Z]+_NAME"

HINTS: tuple[Hint, ...] = (
    _row("angle-placeholder", r"<([A-Za-z][\w.-]*)>", _PLACEHOLDER_TEXT, placeholder=True),
    _row("brace-placeholder", r"(?<![%$\w])\{\{?\s*([A-Za-z_][\w-]*)\s*\}\}?", _PLACEHOLDER_TEXT, placeholder=True),
    _row("variable-placeholder", r"\$\{?([A-Za-z_]\w*)\}?", _PLACEHOLDER_TEXT, placeholder=True),
    _row("caps-placeholder", rf"(?<![\w./=-])({_CAPS_WORDS})(?![\w.-])", _PLACEHOLDER_TEXT, placeholder=True),
    _row("word-placeholder", r"(?<![\w.-])((?:your|my|the)-(?:pod|service|namespace)[\w-]*|pod-name|pod_name"
         r"|service-name|namespace-name|container-name)(?![\w.-])", _PLACEHOLDER_TEXT, placeholder=True),
    _row("pipe-program", r"\|\s*(xargs|sh|bash|zsh|sed|tr|tee|python3?|perl|while|for)\b",
         f"after `|` only {ALLOWED_FILTERS} may run; to use a name from this output, run the next "
         "command yourself with that name (e.g. `kubectl logs {pod} {ns} --tail=50`)"),
    _row("exec", r"\bkubectl\b[^|]*?\s(exec|attach|cp|debug|run)(?=\s|$)",
         "`kubectl {word}` is not allowed; read logs instead ({first}`kubectl logs {pod} {ns} --tail=50`; "
         "`-c istio-proxy` for the sidecar's access log, `--previous` for a crashed container)"),
    _row("port-forward", r"\bkubectl\b[^|]*?\s(port-forward|proxy)(?=\s|$)",
         "`kubectl {word}` is not allowed: no connections are opened from here; read the caller's proxy "
         "access log instead ({first}`kubectl logs {pod} {ns} -c istio-proxy --tail=50`) or run `analyze -A`"),
    _row("http-client", r"(?:^|[\s|])(curl|wget|nc|telnet|ping|nslookup|dig|host)(?=\s|$)",
         "`{word}` is not allowed: no requests are sent from here; read the caller's proxy access log "
         "instead ({first}`kubectl logs {pod} {ns} -c istio-proxy --tail=50`) or run `analyze -A`"),
    _row("write-verb", r"\bkubectl\b[^|]*?\s(delete|apply|edit|patch|scale|rollout|create|replace|label|annotate"
         r"|set)(?=\s|$)",
         "this investigation is read-only: find the cause with get/describe/logs/`analyze -A` and put the "
         "fix in your diagnosis instead of running `kubectl {word}`"),
)

# placeholder word (lower case, a substring) -> (what it stands for, listing command template)
_NAMED: tuple[tuple[str, str, str], ...] = (
    ("container", "a real container name", "kubectl describe pod {pod} {ns}"),
    ("namespace", "a real namespace", "kubectl get namespaces"),
    ("ns", "a real namespace", "kubectl get namespaces"),
    ("svc", "a real service name", "kubectl get services {ns_or_all}"),
    ("service", "a real service name", "kubectl get services {ns_or_all}"),
    ("deploy", "a real deployment name", "kubectl get deployments {ns_or_all}"),
    ("node", "a real node name", "kubectl get nodes"),
)
_DEFAULT_NAMED = ("a real pod name", "kubectl get pods {ns_or_all}")
_NS_FLAGS = ("-n", "--namespace")
_POD_VERBS = frozenset({"logs", "exec", "attach", "debug", "port-forward"})
_VALUE_FLAGS = frozenset({"-n", "--namespace", "-c", "--container", "-l", "--selector", "--tail", "-o", "--output",
                          "--since"})


def _is_placeholder(word: str) -> bool:
    return any(h.placeholder and h.pattern.search(word) for h in HINTS)


def line_words(line: str) -> list[str]:
    """The words of the source command (before any `|`), split as a shell would."""
    try:
        return shlex.split(line.split("|", 1)[0])
    except ValueError:
        return line.split("|", 1)[0].split()


def line_namespace(words: list[str]) -> str | None:
    """The namespace a line names with -n/--namespace, unless that is itself a placeholder."""
    for i, w in enumerate(words):
        value = words[i + 1] if w in _NS_FLAGS and i + 1 < len(words) else \
            w.split("=", 1)[1] if w.startswith("--namespace=") else None
        if value and not _is_placeholder(value):
            return value
    return None


def line_pod(words: list[str]) -> str:
    """The pod a `kubectl logs/exec/attach/debug/port-forward` line addressed, when it is a real name."""
    if len(words) < 3 or words[0] != "kubectl" or words[1] not in _POD_VERBS:
        return "POD"
    skip = False
    for w in words[2:]:
        if w == "--":
            break
        if skip or w.startswith("-"):
            skip = not skip and w in _VALUE_FLAGS
            continue
        name = w.split("/", 1)[1] if w.startswith(("pod/", "pods/")) else w
        return "POD" if _is_placeholder(name) or "/" in name or ":" in name else name
    return "POD"


def _fill(hint: Hint, match: re.Match[str], words: list[str]) -> str:
    ns = line_namespace(words)
    pod = line_pod(words)
    values = {"ns": f"-n {ns}" if ns else "-n NAMESPACE", "ns_or_all": f"-n {ns}" if ns else "-A",
              "pod": "NAME" if pod == "POD" else pod, "match": match.group(0), "word": match.group(1)}
    values["first"] = "" if pod != "POD" else \
        f"list the pods with `kubectl get pods {values['ns_or_all']}`, then with a NAME from that list: "
    lowered = match.group(1).lower()
    what, listing = next(((w, c) for key, w, c in _NAMED if key in lowered.replace("_", "-").split("-")
                          or lowered.startswith(key)), _DEFAULT_NAMED)
    values["what"], values["listing"] = what, listing.format(**values)
    return hint.text.format(**values)


def hints_for(line: str, *, placeholders_only: bool = False, limit: int = 2) -> list[str]:
    """Up to `limit` hints for `line`, one per matching row, in table order."""
    words = line_words(line)
    out: list[str] = []
    placeholder_seen = False
    for hint in HINTS:
        if (hint.placeholder and placeholder_seen) or (placeholders_only and not hint.placeholder):
            continue  # one placeholder hint at most: `<pod-name>` also matches the `pod-name` row
        match = hint.pattern.search(line)
        if match:
            out.append(_fill(hint, match, words))
            placeholder_seen = placeholder_seen or hint.placeholder
        if len(out) >= limit:
            break
    return out


def refusal_hint(line: str) -> str:
    """What to run instead of a refused `line` ("" when no row matches)."""
    return "; ".join(hints_for(line))


def failure_hint(line: str) -> str:
    """For a command that ran and failed: the placeholder it probably holds ("" when none)."""
    return "; ".join(hints_for(line, placeholders_only=True, limit=1))
