"""The tools an agent's environment offers by default: the built-in analyzers as `analyze`.

Environments sit above the analyzers room, so this is where the two meet; whoever builds an
environment passes these (or others) in: `open_scenario(name, tools=default_tools())`.
`default_tools(analyzer=False)` is the analyzer-free environment (`--no-analyzer`): kubectl only,
so what an agent knows beyond the analyzer's findings can be measured.
"""

from __future__ import annotations

from atlas_sre.analyzers.tool import TOOL_NAME, analyze_tool
from atlas_sre.commands import Tool


def default_tools(*, analyzer: bool = True) -> dict[str, Tool]:
    """`{"analyze": analyze_tool}` (or `{}` without the analyzer): a fresh dict, so a caller may add or drop tools."""
    return {TOOL_NAME: analyze_tool} if analyzer else {}
