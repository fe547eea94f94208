"""In-process tools an agent may call by name (`analyze ...`, `atlas-sre analyze ...`).

Why a registry: the analyzers room registers its entry point here at import time, so the
command layer never imports analyzers (rooms stay one-way) and tests can swap tools freely.
A tool is `callable(argv, ctx) -> (exit_code, text)`; `argv[0]` is the tool name. `ctx.kubectl`
runs a *policy-checked* kubectl with the same kubeconfig/context injection as agent commands,
so a tool sees exactly the cluster the agent sees and can only read it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from atlas_sre.cluster.config import CommandConfig


@dataclass(frozen=True)
class ToolContext:
    """What a tool gets besides its argv: the layer's config and a read-only kubectl.

    `kubectl(args)` takes the words after `kubectl` (e.g. `["get", "vs", "-A", "-o", "json"]`)
    and returns `(exit_code, stdout, stderr)`; it raises PermissionError if the policy refuses.
    """

    config: CommandConfig
    kubectl: Callable[[Sequence[str]], tuple[int, str, str]]


Tool = Callable[[Sequence[str], ToolContext], tuple[int, str]]

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_RESERVED = frozenset({"kubectl", "atlas-sre", "grep", "head", "tail", "wc", "sort", "uniq", "jq"})
_REGISTRY: dict[str, Tool] = {}


def register_tool(name: str, tool: Tool, *, replace: bool = False) -> None:
    """Make `tool` callable as `NAME ...` and `atlas-sre NAME ...` from agent command lines."""
    if not _NAME.match(name) or name in _RESERVED:
        raise ValueError(f"invalid tool name {name!r} (lowercase, digits, '-'; not {sorted(_RESERVED)})")
    if name in _REGISTRY and not replace and _REGISTRY[name] is not tool:
        raise ValueError(f"tool {name!r} is already registered (pass replace=True to override)")
    _REGISTRY[name] = tool


def unregister_tool(name: str) -> None:
    """Remove a tool (no error if absent)."""
    _REGISTRY.pop(name, None)


def registered_tools() -> dict[str, Tool]:
    """A snapshot of the global registry."""
    return dict(_REGISTRY)
