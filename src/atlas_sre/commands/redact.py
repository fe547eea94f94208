"""Redaction of secret-looking values in command output, before anything reaches an agent.

Why: the policy already refuses reading Secret objects, but credentials also leak through
ConfigMaps, env vars (`- name: DB_PASSWORD / value: ...`), container args (`--token=...`),
logs (`Authorization: Bearer ...`), connection URLs (`postgres://user:pass@...`) and PEM blocks.
Everything that reaches an LLM ends up in traces and reports, so values are masked at the source
with `[REDACTED]` (keys, names and structure stay visible: they are evidence, the values are not).
The rules are deliberately value-shaped, so `automountServiceAccountToken: false`, `secretName:`,
`secretKeyRef:` and `describe secret`'s `password: 8 bytes` are left alone. Idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Callable

REDACTED = "[REDACTED]"

# A key whose value is a credential: it must *end* in one of these words (DB_PASSWORD, apiKey,
# client-secret, aws_secret_access_key, client-key-data), so secretName/secretKeyRef do not match.
_SENSITIVE = (
    r"[A-Za-z0-9_.-]*?(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key(?:[_-]?id)?"
    r"|private[_-]?key|key[_-]?data|credentials?)"
)
_PLACEHOLDER = re.compile(
    r"""^["']?(?:|true|false|null|none|~|\d+\s*bytes|<[^>]*>.*|\[REDACTED[^\]]*\]|\$\([A-Za-z0-9_]+\))["']?$"""
    r"|^[{\[|>&*]",
    re.IGNORECASE,
)


_BLOCK_RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"(-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----)(?!\[REDACTED).*?(?:-----END \2PRIVATE KEY-----|\Z)", re.S
        ),
        r"\1" + REDACTED + r"-----END \2PRIVATE KEY-----",
    ),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*"), r"\1 " + REDACTED),
    (re.compile(r"(?i)\b(authorization\s*[:=]\s*[\"']?basic)\s+[A-Za-z0-9+/]{8,}=*"), r"\1 " + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), "[REDACTED-JWT]"),
    (re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"), "[REDACTED-AWS-KEY-ID]"),
    (re.compile(r"\b(?:ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{20,}"), "[REDACTED-TOKEN]"),
    (re.compile(r"\b(?:xox[abposr]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35})"),
     "[REDACTED-TOKEN]"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"), "[REDACTED-TOKEN]"),
    # scheme://user:password@host
    (re.compile(r"\b([a-z][a-z0-9+.-]*://[^\s:/@\"']*:)(?!\[REDACTED)[^\s@/\"']+(@)"), r"\1" + REDACTED + r"\2"),
]

# (pattern, index of the value group): the value is replaced unless it is a placeholder.
_VALUE_RULES: list[tuple[re.Pattern[str], int]] = [
    # YAML / describe:   DB_PASSWORD: hunter2     apiKey: "abc"     - token: xyz
    (re.compile(rf"^([ \t]*(?:-[ \t]+)?[\"']?{_SENSITIVE}[\"']?[ \t]*:[ \t]+)(\S.*?)([ \t]*)$", re.M | re.I), 2),
    # YAML env pair:   - name: DB_PASSWORD \n  value: hunter2
    (re.compile(rf"^([ \t]*-?[ \t]*name:[ \t]*[\"']?{_SENSITIVE}[\"']?[ \t]*\n[ \t]*value:[ \t]+)(\S.*?)([ \t]*)$",
                re.M | re.I), 2),
    # JSON:   "password": "hunter2"
    (re.compile(rf"(\"{_SENSITIVE}\"\s*:\s*\")((?:[^\"\\]|\\.)*)(\")", re.I), 2),
    # JSON env pair:   "name": "DB_PASSWORD", "value": "hunter2"
    (re.compile(rf"(\"name\"\s*:\s*\"{_SENSITIVE}\"\s*,\s*\"value\"\s*:\s*\")((?:[^\"\\]|\\.)*)(\")", re.I), 2),
    # key=value in args, URLs and logs:   --db-password=hunter2   ?token=abc&
    (re.compile(rf"((?<![A-Za-z0-9_.-]){_SENSITIVE}=)([\"']?)([^\s\"'&,;]+)", re.I), 3),
]

_DATA_KEY = re.compile(r"^(\s*)(?:data|binaryData):\s*$")
_DATA_ENTRY = re.compile(r"^(\s+)([^:\s][^:]*):\s+([A-Za-z0-9+/]{16,}={0,2})\s*$")


def _replace_value(group: int) -> Callable[[re.Match[str]], str]:
    def sub(m: re.Match[str]) -> str:
        value = m.group(group)
        if _PLACEHOLDER.search(value):
            return m.group(0)
        start, end = m.start(group) - m.start(0), m.end(group) - m.start(0)
        return m.group(0)[:start] + REDACTED + m.group(0)[end:]

    return sub


def _redact_data_blocks(text: str) -> tuple[str, int]:
    """Mask base64 values under any YAML `data:`/`binaryData:` mapping (Secrets, kubeconfigs, CMs)."""
    out: list[str] = []
    count, block_indent = 0, None
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip(" "))
        if block_indent is not None and line.strip() and indent <= block_indent:
            block_indent = None
        m = _DATA_ENTRY.match(line) if block_indent is not None else None
        if m:
            line = f"{m.group(1)}{m.group(2)}: [REDACTED base64, {len(m.group(3))} chars]"
            count += 1
        head = _DATA_KEY.match(line)
        if head:
            block_indent = len(head.group(1))
        out.append(line)
    return "\n".join(out), count


def redact(text: str) -> tuple[str, int]:
    """Return (text with secret-looking values masked, number of values masked)."""
    if not text:
        return text, 0
    text, total = _redact_data_blocks(text)
    for pattern, replacement in _BLOCK_RULES:
        text, n = pattern.subn(replacement, text)
        total += n
    for pattern, group in _VALUE_RULES:
        before = text
        text = pattern.sub(_replace_value(group), text)
        if text != before:
            total += sum(1 for m in pattern.finditer(before) if not _PLACEHOLDER.search(m.group(group)))
    return text, total


def redact_text(text: str) -> str:
    """`redact` without the count."""
    return redact(text)[0]
