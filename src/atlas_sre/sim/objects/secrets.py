"""Secrets as the apiserver stores them: `stringData` folded into base64 `data` on write.

Why: `stringData` is a write-only convenience field. A real apiserver merges it into `data`
(base64, `stringData` winning on a shared key) and never stores or serves it, so `kubectl get
secret` counts DATA from `data`, `describe secret` lists byte counts from it, and clients read
`.data.<key>`. Serving the manifest as written would show an empty secret.
"""

from __future__ import annotations

import base64
from typing import Any

Obj = dict[str, Any]


def _b64(value: Any) -> str:
    """A stringData value as `data` holds it (Go's StdEncoding of the UTF-8 bytes)."""
    return base64.b64encode(str(value).encode("utf-8")).decode("ascii")


def store_secret(obj: Obj) -> Obj:
    """Default `type` to Opaque and fold `stringData` into `data` (keys sorted as Go maps marshal)."""
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None)
    if string_data:
        data = dict(obj.get("data") or {})
        data.update({str(k): _b64(v) for k, v in string_data.items()})
        obj["data"] = {k: data[k] for k in sorted(data)}
    return obj
