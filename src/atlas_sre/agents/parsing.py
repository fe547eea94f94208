"""Reading model output: the one command or the final diagnosis of a reply, and the probe's score.

Small models get the format almost right, so the parsers are forgiving where the intent is
unambiguous (a lone `kubectl ...` line without a fence, a score written "3 out of 5") and strict
where guessing would change what runs (two commands in one reply). Every rejection is a
`FormatError` whose message tells the model exactly what to fix; the loop bounds how often.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from atlas_sre.agents.exceptions import FormatError, Submitted
from atlas_sre.grading.diagnosis import DiagnosisError, parse_diagnosis

# A block opens with a whole run of 3+ backticks and closes at the start of the next run of as many:
# runs are only tried from their start, so a long one is never backtracked through. A model copying
# our longer observation fences writes ````bash ... ````, and the body may then hold ``` itself.
_FENCE = re.compile(r"(?<!`)(`{3,})(?!`)[ \t]*([A-Za-z0-9_+-]*)[^\n`]*\n(.*?)(?<!`)\1", re.DOTALL)
_SHELL_TAGS = frozenset({"bash", "sh", "shell", "console", "zsh", ""})
_BARE_COMMAND = re.compile(r"^\s*(?:\$\s*)?((?:kubectl|analyze|atlas-sre)\b[^\n]*)$", re.MULTILINE)
_DIAGNOSIS_HINT = re.compile(r'"(?:entities|propagations)"\s*:')
MAX_COMMAND_CHARS = 4096
FORMAT_HELP = (
    "Reply with exactly one read-only command in a ```bash``` block, or submit the final diagnosis "
    "as JSON in a ```json``` block."
)


def _blocks(text: str) -> list[tuple[str, str]]:
    return [(m.group(2).lower(), m.group(3).strip()) for m in _FENCE.finditer(text)]


def _command_lines(body: str) -> list[str]:
    lines = []
    for raw in body.splitlines():
        line = raw.strip()
        if line.startswith("$ "):
            line = line[2:].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def _bounded(command: str) -> str:
    """The command, unless it is longer than any real one: it would run, and be printed and traced, whole."""
    if len(command) > MAX_COMMAND_CHARS:
        raise FormatError(f"Your command is {len(command)} characters long; keep one command under "
                          f"{MAX_COMMAND_CHARS} characters.")
    return command


def parse_action(text: str, default_namespace: str | None = None) -> str:
    """The command line of a reply; raises `Submitted(diagnosis)` or `FormatError`.

    Accepted: one ```bash``` (sh/shell/unlabelled) block holding one command line, or a ```json```
    block (or bare JSON object) holding the diagnosis, or, without any fence, a single line starting
    with `kubectl`/`analyze`. Anything else is a format error naming the problem.
    """
    blocks = _blocks(text)
    json_blocks = [b for tag, b in blocks if tag == "json" or (tag == "" and b.lstrip().startswith("{"))]
    shell_blocks = [b for tag, b in blocks if tag in _SHELL_TAGS and b not in json_blocks]
    if json_blocks and shell_blocks:
        raise FormatError("Your reply has both a command and a diagnosis. " + FORMAT_HELP)
    if json_blocks or (not shell_blocks and _DIAGNOSIS_HINT.search(text)):
        source = json_blocks[-1] if json_blocks else text
        try:
            diagnosis = parse_diagnosis(source, default_namespace)
        except DiagnosisError as exc:
            raise FormatError(f"Your diagnosis could not be read: {exc}. Fix the JSON and submit it again in a "
                              "```json``` block with the fields entities, propagations, category, summary.") from None
        raise Submitted(diagnosis)
    if len(shell_blocks) > 1:
        raise FormatError(f"Your reply has {len(shell_blocks)} command blocks; run one command per reply. "
                          + FORMAT_HELP)
    if shell_blocks:
        lines = _command_lines(shell_blocks[0])
        if len(lines) != 1:
            what = "no command" if not lines else f"{len(lines)} lines"
            raise FormatError(f"Your ```bash``` block has {what}; put exactly one command line in it "
                              "(use `|` filters on the same line instead of several commands).")
        return _bounded(lines[0])
    bare = [m.group(1).strip() for m in _BARE_COMMAND.finditer(text)]
    if len(bare) == 1:
        return _bounded(bare[0])
    raise FormatError(("Your reply has several command lines and no ```bash``` block. " if bare else
                       "Your reply has no command and no diagnosis. ") + FORMAT_HELP)


# --- the final turn's schema ---------------------------------------------------------------------------

ENTITY_KINDS = (
    "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Job", "CronJob", "Service", "Endpoints",
    "ConfigMap", "Secret", "ServiceAccount", "PersistentVolumeClaim", "ResourceQuota", "LimitRange",
    "HorizontalPodAutoscaler", "NetworkPolicy", "Ingress", "Node", "Namespace", "DestinationRule",
    "VirtualService", "Gateway", "ServiceEntry", "Sidecar", "PeerAuthentication", "AuthorizationPolicy",
    "EnvoyFilter",
)
ENTITY_NAME_PATTERN = (r"^([a-z0-9][-a-z0-9]{0,40}/)?(" + "|".join(ENTITY_KINDS)
                       + r")/[a-z0-9][-a-z0-9.]{0,62}$")
CATEGORIES = ("Misconfiguration", "Resource Saturation", "Resource Unavailable", "Network", "Change")


def final_diagnosis_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The diagnosis schema tightened for a constrained last reply: the forms the grader reads.

    Measured on qwen2.5-coder-1.5b: with the plain schema its final answer quoted the right panic but
    named `shop/checkout` (no Kind, so no entity matches) and copied the whole category list from
    the prompt; a free `Kind` pattern made it invent `CheckoutGlglgl…`. Here entity names must be
    `namespace/Kind/name` with a known Kind, at least one entity is required
    with its evidence, and the category is one of the five.
    """
    out = copy.deepcopy(schema)
    props = out.setdefault("properties", {})
    entity = props.get("entities", {}).get("items", {})
    entity.setdefault("properties", {}).setdefault("name", {})["pattern"] = ENTITY_NAME_PATTERN
    entity["required"] = ["name", "contributing_factor", "evidence"]
    props.setdefault("entities", {})["minItems"] = 1
    props["propagations"] = {**props.get("propagations", {"type": "array"}), "maxItems": 3}
    props["category"] = {"type": "string", "enum": list(CATEGORIES)}
    out["required"] = ["entities", "category", "summary"]
    return out


# --- probe score --------------------------------------------------------------------------------------

# 0 is read as 1: a small model counting checks writes "Score: 0/5", which means the lowest score,
# not (through the lone-digit fallback) the 5 of its denominator.
_SCORE_PATTERNS = (
    re.compile(r"\b([0-5])\s*(?:out\s+of|/)\s*5\b", re.IGNORECASE),
    re.compile(r"\b(?:score|level|capability|rating|rated|grade)\b[^0-9\n]{0,12}?\b([0-5])\b", re.IGNORECASE),
)
# Most specific phrases first: "not good" must win over "good", "very poor" over "poor".
_KEYWORDS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1, ("will fail", "fail completely", "completely wrong", "struggle significantly", "very poor", "hopeless",
         "no idea", "clueless")),
    (5, ("excellent", "easily", "no issues", "perfect", "expert", "flawless")),
    (2, ("not good", "poor", "weak", "major errors", "significant errors", "major gaps", "superficial",
         "surface-level", "surface level", "misses", "naive")),
    (4, ("likely succeed", "minor errors", "minor gaps", "strong", "solid", "good", "mostly correct")),
    (3, ("moderate", "mixed", "partial", "average", "fair", "some gaps", "adequate")),
)
_LONE_DIGIT = re.compile(r"(?<![\d.])\b([1-5])\b(?!\.\d|\d|%)")
DEFAULT_SCORE = 3


def parse_probe_score(text: str) -> int:
    """A 1–5 capability score from the probe's free text; 3 when nothing can be read.

    Order: explicit forms ("N/5", "N out of 5", "score: N", "Score N", "level N"; "Score: 0/5"
    is 1), then keyword
    buckets, then the first lone digit 1–5 (not part of 503, 2.5 or 40%), then the default.
    """
    for pattern in _SCORE_PATTERNS:
        m = pattern.search(text)
        if m:
            return max(1, int(m.group(1)))
    lowered = text.lower()
    for score, words in _KEYWORDS:
        if any(w in lowered for w in words):
            return score
    m = _LONE_DIGIT.search(text)
    return int(m.group(1)) if m else DEFAULT_SCORE


_TEACHING = re.compile(r"<teaching>(.*?)(?:</teaching>|$)", re.DOTALL | re.IGNORECASE)
_THINKING = re.compile(r"<think(?:ing)?>.*?(?:</think(?:ing)?>|$)", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"</?teaching>", re.IGNORECASE)  # stray tags a small model repeats or leaves open


def teaching_text(text: str) -> str:
    """The student-facing part of a correction: inside `<teaching>` if present, never `<thinking>`.

    A `<teaching>` tag with nothing after it (a small model writes its guidance, then opens the tag
    at the end) does not empty the guidance: the text around it is used, without the tags.
    """
    m = _TEACHING.search(text)
    if m and m.group(1).strip():
        return _TAG.sub("", m.group(1)).strip()
    return _TAG.sub("", _THINKING.sub("", text)).strip()
