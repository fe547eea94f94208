"""Redaction of secret-looking values in command output, before anything reaches an agent.

Why: the policy already refuses reading Secret objects, but credentials also leak through
ConfigMaps, env vars (`- name: DB_PASS / value: ...`), container args (`--password VALUE`),
logs (`Authorization: Token ...`, `mysql -pPASS`), connection URLs and PEM blocks. Everything
that reaches an LLM ends up in traces and reports, so values are masked at the source with
`[REDACTED]` (keys, names and structure stay visible: they are evidence, the values are not).

Two layers work together (policy: commands/README.md, "Redaction"):
- here, *by shape*: a key or flag whose words name a credential (`credential_key`), auth
  headers, known token formats, and high-entropy words on a line that names a credential;
- in `secret_values`, *by value*: values learned from a structured read of the cluster (every
  Secret's data, every credential-named env/arg/config value) are masked wherever they appear,
  also when an output format drops the key names (jsonpath, custom-columns, go-template).
Evidence is left alone: `secretName:`, `secretKeyRef:`, `key: password`, `describe secret`'s
`password: 8 bytes`, pod names, hashes, digests and UIDs. Every rule is linear-time. Idempotent.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable

REDACTED = "[REDACTED]"

# Substrings that make any key a credential key (DBPASSWORD, clientSecret, authToken, apikey).
_STRONG = ("password", "passwd", "passphrase", "secret", "token", "apikey", "credential", "privatekey",
           "accesskey", "secretkey", "connectionstring", "connstr", "sessionkey", "masterkey")
# Whole words that make a key a credential key (DB_PASS, X-Api-Key, auth, SENTRY_DSN, JWT_SIGNING_KEY).
_WORDS = frozenset({"pass", "pwd", "pw", "auth", "authorization", "salt", "dsn", "private", "signing", "creds",
                    "cred", "cookie", "hmac", "pin", "otp", "sas", "psk"})
# A last word that names something other than the credential itself (secretName, tokenExpirationSeconds).
_NOT_LAST = frozenset({
    "name", "names", "ref", "refs", "path", "paths", "file", "files", "dir", "seconds", "secs", "ttl",
    "expiration", "expiry", "expires", "enabled", "enable", "disabled", "required", "length", "size", "type",
    "types", "mode", "count", "header", "url", "uri", "host", "hosts", "port", "user", "username", "id",
    "policy", "policies", "method", "methods", "provider", "mount", "version", "audience", "issuer",
    "format", "source", "timeout", "interval", "endpoint", "server", "service", "namespace", "kind",
    "class", "ip", "address", "addr", "secrets", "tokens", "keys", "passwords", "store", "volume", "field",
    "selector", "label", "annotation", "template", "algorithm", "algo", "scheme", "rotation", "strategy",
    "kubeconfig", "config", "conf", "modes", "reviews", "review", "requests", "request", "plugin",
    "plugins", "webhook", "webhooks", "bindings", "binding", "roles", "role", "cert", "ca", "bundle",
})
# Words before `key` that make it a lookup key, not a credential (topologyKey, sortKey, hostKey).
_NOT_KEY = frozenset({"topology", "sort", "partition", "routing", "label", "host", "lookup", "cache", "primary",
                      "foreign", "hash", "config", "map", "group", "node", "public", "match", "field", "object",
                      "index", "shard", "dedup", "idempotency", "cluster", "zone", "metric", "sticky", "affinity",
                      "consistent", "request", "header", "query", "cookie", "ring", "bucket", "entry", "annotation"})
_WORD_SPLIT = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_KEY_CHARS = r"[A-Za-z_][A-Za-z0-9_.-]*"
_VOCAB = r"(?i:pass|pwd|secret|token|key|auth|credential|salt|dsn|private|signing|creds)"


@functools.lru_cache(maxsize=8192)
def credential_key(key: str) -> bool:
    """Does a key, env var name or flag name hold a credential (DB_PASS yes, secretName no)?"""
    words = [w.lower() for w in _WORD_SPLIT.findall(key.rsplit("/", 1)[-1])]
    if not words or words[-1] in _NOT_LAST:
        return False
    compact = "".join(words)
    if any(s in compact for s in _STRONG) or any(w in _WORDS for w in words):
        return True
    if "key" in words[1:] and not set(words[:words.index("key", 1)]) & _NOT_KEY:
        return True  # STRIPE_KEY, apiKey, client-key-data; never a bare `key` or a topologyKey
    if words[-1].endswith("key") and len(words[-1]) > 3 and words[-1][:-3] not in _NOT_KEY:
        return True
    return compact.endswith(("pass", "pwd"))


_PLACEHOLDER = re.compile(
    r"""^["']?(?:|true|false|null|none|nil|~|\d{1,5}|\d+\s*bytes|<[^>]*>.*|\[REDACTED[^\]]*\]"""
    r"""|\$\(?[A-Za-z0-9_]+\)?|\$\{[A-Za-z0-9_]+\}|\{\{.*\}\}|\*+|x+|changeme|redacted|masked)["']?,?$"""
    r"|^[{\[|>&]",
    re.IGNORECASE,
)
_AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "digest", "apikey", "api-key", "negotiate", "hmac",
                           "aws4-hmac-sha256", "sso-key", "key", "ntlm", "splunk", "gitlab", "otp"})


def is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.search(value)) or value.strip("\"'").lower() in _AUTH_SCHEMES


# Each block rule runs only when its trigger (lower-cased) occurs in the text: most output has none.
_BLOCK_RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"(-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----)(?!\[REDACTED).*?"
                   r"(?:-----END \2PRIVATE KEY\3-----|\Z)", re.S),
        r"\1" + REDACTED + r"-----END \2PRIVATE KEY\3-----",
    ),
    # Authorization / Proxy-Authorization headers with any scheme (Bearer, Basic, Token, Digest ...)
    (re.compile(r"(?i)\b((?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?)(?!\[REDACTED)"
                r"(?![A-Za-z0-9-]+[ \t]+\[REDACTED)((?:[A-Za-z0-9-]+[ \t]+)?)[^\s\"',;]{4,}[^\n\"']*"),
     r"\1\2" + REDACTED),
    (re.compile(r"(?i)\b(bearer)\s+(?!\[REDACTED)[A-Za-z0-9\-._~+/]{8,}=*"), r"\1 " + REDACTED),
    (re.compile(r"(?i)\b(basic)\s+(?!\[REDACTED)[A-Za-z0-9+/]{12,}=*"), r"\1 " + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), "[REDACTED-JWT]"),
    (re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"), "[REDACTED-AWS-KEY-ID]"),
    (re.compile(r"\b(?:ghp|gho|ghs|ghu|ghr|github_pat)_[A-Za-z0-9_]{20,}"), "[REDACTED-TOKEN]"),
    (re.compile(r"\b(?:xox[abposre]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35}"
                r"|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"
                r"|npm_[A-Za-z0-9]{30,}|hf_[A-Za-z0-9]{30,}|ya29\.[A-Za-z0-9_-]{20,}|AGE-SECRET-KEY-1[0-9A-Z]{20,}"
                r"|dop_v1_[a-f0-9]{40,}|shp(?:at|ss|ca|pa)_[a-fA-F0-9]{20,})"), "[REDACTED-TOKEN]"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"), "[REDACTED-TOKEN]"),
    # scheme://user:password@host
    (re.compile(r"\b([a-z][a-z0-9+.-]*://[^\s:/@\"']*:)(?!\[REDACTED)[^\s@/\"']+(@)"), r"\1" + REDACTED + r"\2"),
    # mysql / mariadb clients: -pPASSWORD glued to the flag (a list item or on a line naming the client)
    (re.compile(r"(?i)(\b(?:mysql|mysqldump|mysqladmin|mariadb)\b[^\n]*?[\s\"',\[]-p)(?!\[REDACTED)([^\s\"',\]]+)"),
     r"\1" + REDACTED),
]

_BLOCK_TRIGGERS: list[tuple[str, ...]] = [
    ("private key",), ("authorization",), ("bearer",), ("basic",), ("eyj",), ("akia", "asia", "abia", "acca"),
    ("ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"),
    ("xox", "glpat-", "aiza", "_live_", "_test_", "sg.", "npm_", "hf_", "ya29.", "age-secret-key-", "dop_v1_", "shp"),
    ("sk-",), ("://",), ("mysql", "mariadb"),
]
_VALUE = r"(?![<\[{])[^\s\"'\\,;&}]+"
# (pattern, key group, value group): the value is replaced when the key is a credential key and
# the value is not a placeholder.
_VALUE_RULES: list[tuple[re.Pattern[str], int, int]] = [
    # YAML / describe / INI at line start:   DB_PASS: hunter2     apiKey: "abc"     - token: xyz
    (re.compile(rf"^([ \t]*(?:-[ \t]+)?[\"']?({_KEY_CHARS})[\"']?[ \t]*[:=][ \t]*)(\S.*?)([ \t]*)$", re.M), 2, 3),
    # YAML env pair:   - name: DB_PASSWORD \n  value: hunter2
    (re.compile(rf"^([ \t]*-?[ \t]*name:[ \t]*[\"']?({_KEY_CHARS})[\"']?[ \t]*\n[ \t]*value:[ \t]+)(\S.*?)([ \t]*)$",
                re.M), 2, 3),
    # JSON:   "password": "hunter2"   and JSON inside a JSON string:  \"pass\": \"x\"
    (re.compile(rf"(\"({_KEY_CHARS})\"\s*:\s*\")((?:[^\"\\]|\\.)*)(\")"), 2, 3),
    (re.compile(rf"(\\\"({_KEY_CHARS})\\\"\s*:\s*\\\")((?:[^\"\\]|\\[^\"])*)(\\\")"), 2, 3),
    # JSON env pair:   "name": "DB_PASSWORD", "value": "hunter2"
    (re.compile(rf"(\"name\"\s*:\s*\"({_KEY_CHARS})\"\s*,\s*\"value\"\s*:\s*\")((?:[^\"\\]|\\.)*)(\")"), 2, 3),
    # key=value / key: value anywhere in a line:   --db-password=x  ?token=abc&  X-Api-Key: k  DB_PASS=x
    (re.compile(rf"((?<![A-Za-z0-9_.-])-{{0,2}}({_KEY_CHARS})[\"']?[ \t]*(?:=|:(?!//))[ \t]*[\"']?)({_VALUE})"),
     2, 3),
    # flag and value as separate words:  --password VALUE   "--token", "VALUE"   - --password\n - VALUE
    (re.compile(rf"((?<![\w-])[\"']?--?({_KEY_CHARS})[\"']?(?:[ \t]*,[ \t]*|[ \t]+|[ \t]*,?[ \t]*\n[ \t]*"
                rf"(?:-[ \t]+)?)[\"']?)((?![-<\\[{{])[^\s\"',\]]+)"), 2, 3),
]
# `api_key VALUE` / `using token VALUE` in prose: only values that look like credentials.
_PROSE = re.compile(rf"((?<![\w-])(?=[A-Za-z0-9_.-]*?{_VOCAB})({_KEY_CHARS})[ \t]+(?:is[ \t]+|of[ \t]+|=[ \t]+)?[\"']?)"
                    rf"((?!\[REDACTED)[A-Za-z0-9+/=_.~!@#%^*-]{{6,}})")
_CRED_WORD = re.compile(r"(?i)pass|pwd|secret|token|api[_-]?key|auth|credential|private|signing|salt|dsn|key")
_LONG_WORD = re.compile(r"(?<![A-Za-z0-9+/=_.-])[A-Za-z0-9+/=_.-]{16,}(?![A-Za-z0-9+/=_.-])")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_K8S_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")

_DATA_KEY = re.compile(r"^(\s*)(?:data|binaryData):\s*$")
_DATA_ENTRY = re.compile(r"^(\s+)([^:\s][^:]*):\s+([A-Za-z0-9+/]{16,}={0,2})\s*$")


def _entropy(word: str) -> float:
    counts: dict[str, int] = {}
    for c in word:
        counts[c] = counts.get(c, 0) + 1
    return -sum(n / len(word) * math.log2(n / len(word)) for n in counts.values())


def looks_like_credential(word: str, min_chars: int = 6) -> bool:
    """A random-looking word: never a UUID, a k8s name, a path, a domain or a flag.

    Short words (prose after `api_key`, `password`) need a digit and a letter and no `/` or `.`;
    long ones (16+, the entropy rule) need upper case, lower case and digits and high entropy,
    which base64/hex-mixed credentials have and names, hashes, digests and UIDs do not.
    """
    word = word.strip("\"'")
    if len(word) < min_chars or _UUID.match(word) or word.startswith("-"):
        return False
    lower, upper = any(c.islower() for c in word), any(c.isupper() for c in word)
    digit = any(c.isdigit() for c in word)
    if upper and lower and digit and len(word) >= 16 and _entropy(word) >= 3.3:
        return True
    if _K8S_NAME.match(word) and "-" in word or "/" in word or "." in word:
        return False
    return digit and (lower or upper) and _entropy(word) >= 2.5 and len(word) < 16


def _replace_value(key_group: int, group: int,
                   accept: Callable[[str], bool] | None = None) -> Callable[[re.Match[str]], str]:
    def sub(m: re.Match[str]) -> str:
        value = m.group(group)
        if not credential_key(m.group(key_group)) or is_placeholder(value) or (accept and not accept(value)):
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


def _redact_entropy(text: str) -> tuple[str, int]:
    """On a line that names a credential, mask random-looking words of 16+ characters.

    Candidates are found in one pass over the whole text; only mixed-case words with digits are
    looked at further, so ordinary output (names, hashes, UIDs) costs one regex scan.
    """
    pieces, last, count = [], 0, 0
    for m in _LONG_WORD.finditer(text):
        word = m.group(0)
        if word.islower() or word.isupper() or not any(c.isdigit() for c in word) or "REDACTED" in word:
            continue
        if not looks_like_credential(word, 16):
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.end())
        if not _CRED_WORD.search(text, line_start, len(text) if line_end < 0 else line_end):
            continue
        pieces += [text[last:m.start()], REDACTED]
        last, count = m.end(), count + 1
    return "".join(pieces) + text[last:], count


def redact(text: str) -> tuple[str, int]:
    """Return (text with secret-looking values masked, number of values masked)."""
    if not text:
        return text, 0
    text, total = _redact_data_blocks(text)
    lowered = text.lower()
    for (pattern, replacement), triggers in zip(_BLOCK_RULES, _BLOCK_TRIGGERS, strict=True):
        if any(t in lowered for t in triggers):
            text, n = pattern.subn(replacement, text)
            total += n
    rules = [*_VALUE_RULES, (_PROSE, 2, 3)]
    for pattern, key_group, group in rules:
        accept = looks_like_credential if pattern is _PROSE else None
        before = text
        text = pattern.sub(_replace_value(key_group, group, accept), text)
        if text != before:
            total += max(1, text.count(REDACTED) - before.count(REDACTED))
    text, n = _redact_entropy(text)
    return text, total + n


def redact_text(text: str) -> str:
    """`redact` without the count."""
    return redact(text)[0]


def find_credentials(text: str) -> set[str]:
    """The values `redact` would mask by key, flag or prose shape (used to learn values by structure)."""
    found: set[str] = set()
    for pattern, key_group, group in [*_VALUE_RULES, (_PROSE, 2, 3)]:
        for m in pattern.finditer(text):
            value = m.group(group).strip()
            if credential_key(m.group(key_group)) and not is_placeholder(value) and (
                    pattern is not _PROSE or looks_like_credential(value)):
                found.add(value)
    for line in text.split("\n"):
        if _CRED_WORD.search(line):
            found.update(w for w in _LONG_WORD.findall(line) if looks_like_credential(w, 16))
    for m in re.finditer(r"(?i)\b(?:mysql|mysqldump|mysqladmin|mariadb)\b[^\n]*?[\s\"',\[]-p([^\s\"',\]]+)", text):
        found.add(m.group(1))
    return found
