"""Rendering findings the way istioctl does (text) or as JSON.

Text: one `Level [CODE] (Kind ns/name) message` line per finding; an empty report says
`✔ No validation issues found when analyzing namespace: shop.`; a report with errors ends with
istioctl's `Error: Analyzers found issues when analyzing namespace: shop.` line. The exit status
follows istioctl too: 79 when any Error-level finding is present, else 0.
"""

from __future__ import annotations

import json

from atlas_sre.analyzers.base import Finding, Level

FOUND_ISSUES_EXIT_CODE = 79
DOCS = (
    "See https://istio.io/latest/docs/reference/config/analysis (IST codes) and docs/analyzers.md "
    "(ATL codes) for more information about causes and resolutions."
)


def target(namespace: str | None) -> str:
    """istioctl's wording for what was analyzed."""
    return f"namespace: {namespace}" if namespace else "all namespaces"


def exit_code(findings: list[Finding]) -> int:
    """79 when any finding is an Error (istioctl's failure threshold), else 0."""
    return FOUND_ISSUES_EXIT_CODE if any(f.level is Level.ERROR for f in findings) else 0


def render_text(
    findings: list[Finding], namespace: str | None = None, errors: list[str] | None = None
) -> str:
    """The istioctl-style report, ending with a newline."""
    lines = [f.line for f in findings]
    if not findings:
        lines.append(f"\u2714 No validation issues found when analyzing {target(namespace)}.")
    elif exit_code(findings):
        lines += [f"Error: Analyzers found issues when analyzing {target(namespace)}.", DOCS]
    for err in errors or []:
        lines.append(f"Warning: analysis is partial: {err}")
    return "\n".join(lines) + "\n"


def render_json(
    findings: list[Finding], namespace: str | None = None, errors: list[str] | None = None
) -> str:
    """`{"namespace", "findings": [...], "errors": [...]}`, keys sorted, two-space indent."""
    doc = {"namespace": namespace, "findings": [f.to_dict() for f in findings], "errors": list(errors or [])}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
