"""In-process tools an agent may call by name (`analyze ...`, `atlas-sre analyze ...`).

Why tools are passed in, not registered: whoever builds a `CommandRunner` (an environment, the
CLI) hands it the tools it wants (`CommandRunner(config, tools={"analyze": analyze_tool})`), so
the command layer never imports analyzers (rooms stay one-way), no import order or global state
decides what an agent can run, and tests swap tools by passing others.
A tool is `callable(argv, ctx) -> (exit_code, text)`; `argv[0]` is the tool name. `ctx.kubectl`
runs a *policy-checked* kubectl with the same kubeconfig/context injection as agent commands,
so a tool sees exactly the cluster the agent sees and can only read it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from atlas_sre.commands.config import CommandConfig


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


def check_tools(tools: Mapping[str, Tool] | None) -> dict[str, Tool]:
    """The tools as a dict, each name checked: a tool is callable as `NAME ...` and `atlas-sre NAME ...`."""
    for name in tools or {}:
        if not _NAME.match(name) or name in _RESERVED:
            raise ValueError(f"invalid tool name {name!r} (lowercase, digits, '-'; not {sorted(_RESERVED)})")
    return dict(tools or {})
