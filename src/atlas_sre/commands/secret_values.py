"""Redaction by value: learn the cluster's credential values from structure, mask them anywhere.

Why: shape rules (`redact`) need a key next to the value, but `-o jsonpath='{..env[*].value}'`,
custom-columns and go-template print values without their keys, logs echo a Secret's value in
free text, and base64 hides a value from every pattern. So the layer first reads the objects the
way a program would (JSON, with the layer's own credentials, never shown to the agent), learns
every value that must never be shown, and masks those values wherever they appear:
- every value of every Secret (decoded, as served in base64, and each long line of a multi-line value);
- every env var, arg, annotation or ConfigMap value whose key or flag names a credential
  (`redact.credential_key`: DB_PASS, JWT_SIGNING_KEY, `--password VALUE`, `-pPASS` for mysql,
  INI `aws_secret_access_key = ...`, nested JSON `"pass"`), also inside JSON-in-a-string;
- credential-looking words next to credential words in ConfigMap text.
A value is masked in its plain, JSON-escaped and base64 forms. Short values (< 6 characters) and
values equal to an object name, namespace, label value or image are never masked by value (they
are evidence, and masking them would blank pod names); shape rules still mask them next to a key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from atlas_sre.commands.redact import REDACTED, credential_key, find_credentials, is_placeholder

MIN_VALUE_CHARS = 6
# The layer's own structured reads (`--show-managed-fields=false` also marks them in traces of a fake kubectl).
LEARN_QUERIES: tuple[tuple[str, ...], ...] = (
    ("get", "secrets", "-A", "-o", "json", "--show-managed-fields=false"),
    ("get", "pods,deployments,statefulsets,daemonsets,replicasets,jobs,cronjobs,configmaps,serviceaccounts",
     "-A", "-o", "json", "--show-managed-fields=false"),
)
_MYSQL = ("mysql", "mariadb")


@dataclass
class SecretValues:
    """The values learned so far and the words that must stay visible."""

    values: set[str] = field(default_factory=set)
    evidence: set[str] = field(default_factory=set)

    def learn(self, document: Any) -> None:
        """Learn from one decoded JSON document (a List, an object, or anything nested)."""
        self.evidence.update(_evidence(document))
        for value in _walk(document):
            value = value.strip().strip("\"'")
            if len(value) >= MIN_VALUE_CHARS and not is_placeholder(value):
                self.values.add(value)

    def forms(self) -> list[str]:
        """Every written form of every learned value, longest first (so a value inside another goes last)."""
        out: set[str] = set()
        for value in self.values - self.evidence:
            out.add(value)
            out.add(json.dumps(value, ensure_ascii=False)[1:-1])
            encoded = base64.b64encode(value.encode()).decode()
            out.update((encoded, encoded.rstrip("=")))
        return sorted((f for f in out if len(f) >= MIN_VALUE_CHARS and f not in self.evidence), key=len,
                      reverse=True)

    def mask(self, text: str) -> tuple[str, int]:
        """Replace every form of every learned value in `text`; return (text, count)."""
        count = 0
        if not self.values or not text:
            return text, 0
        for form in self.forms():
            if form in text:
                count += text.count(form)
                text = text.replace(form, REDACTED)
        return text, count


def _evidence(document: Any) -> Iterator[str]:
    """Names, namespaces, label values and images: words an agent needs, never masked by value."""
    for obj in _objects(document):
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        for key in ("name", "namespace", "generateName", "uid"):
            if isinstance(meta.get(key), str):
                yield meta[key]
        for labels in (meta.get("labels"), ):
            if isinstance(labels, dict):
                yield from (v for v in labels.values() if isinstance(v, str))
        yield from _images(obj)


def _objects(document: Any) -> Iterator[dict[str, Any]]:
    if isinstance(document, dict):
        if isinstance(document.get("items"), list):
            for item in document["items"]:
                yield from _objects(item)
        else:
            yield document


def _images(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("image", "name") and isinstance(value, str):
                yield value
            else:
                yield from _images(value)
    elif isinstance(node, list):
        for value in node:
            yield from _images(value)


def _walk(node: Any, depth: int = 0) -> Iterator[str]:
    """Every credential value inside `node` (Secrets wholesale, everything else by key, flag or shape)."""
    if depth > 64:
        return
    if isinstance(node, dict):
        if node.get("kind") == "Secret":
            yield from _secret_values(node)
        name = node.get("name")
        if isinstance(name, str) and isinstance(node.get("value"), str) and credential_key(name):
            yield node["value"]  # an env var: {"name": "DB_PASS", "value": "..."}
        for key, value in node.items():
            if isinstance(value, str):
                if credential_key(str(key)):
                    yield value
                yield from _from_text(value, depth)
            else:
                yield from _walk(value, depth + 1)
    elif isinstance(node, list):
        if node and all(isinstance(v, str) for v in node):
            yield from _from_argv(node)
        for value in node:
            if isinstance(value, str):
                yield from _from_text(value, depth)
            else:
                yield from _walk(value, depth + 1)


def _from_text(text: str, depth: int) -> Iterable[str]:
    """Values inside free text (ConfigMap files, annotations, shell scripts), and JSON inside a string."""
    if len(text) < MIN_VALUE_CHARS:
        return ()
    found: set[str] = set(find_credentials(text))
    stripped = text.strip()
    if stripped[:1] in "{[" and depth < 32:
        with contextlib.suppress(ValueError, RecursionError):
            found.update(_walk(json.loads(stripped), depth + 1))
    return found


def _from_argv(argv: list[str]) -> Iterator[str]:
    """`--password VALUE`, `--password=VALUE`, and mysql's `-pVALUE` in a command/args list."""
    mysql = any(any(m in a.lower() for m in _MYSQL) for a in argv)
    for i, arg in enumerate(argv):
        if arg.startswith("-"):
            name, eq, value = arg.lstrip("-").partition("=")
            if credential_key(name):
                if eq:
                    yield value
                elif i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                    yield argv[i + 1]
            elif mysql and arg.startswith("-p") and not arg.startswith("--") and len(arg) > 2:
                yield arg[2:]


def _secret_values(secret: dict[str, Any]) -> Iterator[str]:
    for key in ("data", "stringData"):
        data = secret.get(key)
        if not isinstance(data, dict):
            continue
        for raw in data.values():
            if not isinstance(raw, str):
                continue
            decoded = raw
            if key == "data":
                yield raw
                try:
                    decoded = base64.b64decode(raw, validate=True).decode("utf-8")
                except (binascii.Error, ValueError):
                    continue
            yield decoded
            lines = [line.strip() for line in decoded.splitlines()]
            if len(lines) > 1:
                yield from (line for line in lines if len(line) >= 8 and not line.startswith("-----"))
                yield from find_credentials(decoded)


_KEYLESS_OUTPUTS = ("jsonpath", "custom-columns", "go-template", "template")
_OUTPUT_FLAGS = frozenset({"-o", "--output", "--template", "-L", "--label-columns", "--sort-by"})
_DROPPED_BOOLEANS = frozenset({"--show-labels", "--no-headers", "--show-kind", "--allow-missing-template-keys"})


def json_variant(args: Sequence[str]) -> tuple[str, ...] | None:
    """For `get ... -o jsonpath=...` (and custom-columns, go-template, --template), the same `get` as
    `-o json`, so the values it prints without keys can be learned first; else None."""
    outputs: list[str] = []
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            if kept and kept[-1] == "__output__":
                kept.pop()
                outputs.append(arg)
            continue
        name, eq, value = arg.partition("=")
        if arg.startswith("-o") and not arg.startswith("--") and len(arg) > 2:
            outputs.append(arg[2:].lstrip("="))
        elif name in _OUTPUT_FLAGS:
            if name in ("-o", "--output"):
                if eq:
                    outputs.append(value)
                else:
                    kept.append("__output__")
                    skip = True
            elif name == "--template":
                outputs.append("template")
                skip = not eq
            else:
                skip = not eq
        elif name in _DROPPED_BOOLEANS or arg == "--raw" or name == "--raw":
            if name == "--raw":
                return None
        else:
            kept.append(arg)
    if not any(o.split("=", 1)[0].strip().lower().startswith(_KEYLESS_OUTPUTS) for o in outputs):
        return None
    return (*kept, "-o", "json", "--show-managed-fields=false")
