"""`report.html`: one self-contained file (inline CSS, PNG plots as data: URIs, no scripts).

Self-contained on purpose: a benchmark report is mailed, attached to an issue or opened from a
CI artefact, where relative image paths and CDNs break. The same PNGs are also written to
`plots/` for Markdown documents that link them.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from atlas_sre.bench.plots import PLOTS
from atlas_sre.bench.tables import sections

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#222;
padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f4f4f4}tr:nth-child(even) td{background:#fafafa}
figure{margin:1rem 0}figcaption{font-size:.85rem;color:#555}img{max-width:100%}
.meta{color:#555;font-size:.9rem}
"""


def plot_images(summary: dict[str, Any], plots_dir: Path | None) -> list[tuple[str, bytes]]:
    """(caption, PNG bytes) per plot; also written to `plots_dir`. Empty for a run with no modes."""
    if not summary["modes"]:
        return []
    out = []
    for name, (caption, draw) in PLOTS.items():
        png = draw(summary)
        if plots_dir is not None:
            plots_dir.mkdir(parents=True, exist_ok=True)
            (plots_dir / f"{name}.png").write_bytes(png)
        out.append((caption, png))
    return out


def render_html(summary: dict[str, Any], plots_dir: Path | None = None) -> str:
    esc = html.escape
    cfg = summary["config"]
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>atlas-sre benchmark</title>", f"<style>{CSS}</style></head><body>",
             "<h1>atlas-sre benchmark</h1>",
             f'<p class="meta">scenarios <code>{esc(", ".join(cfg["scenarios"]))}</code> · modes '
             f'<code>{esc(", ".join(cfg["modes"]))}</code> · {cfg["iterations"]} iteration(s) × '
             f'{cfg["repeats"]} repeat(s) · split <code>{esc(str(cfg["split"] or "none"))}</code> · student '
             f'<code>{esc(cfg["student"])}</code> · teacher <code>{esc(cfg["teacher"])}</code> · seed '
             f'{cfg["seed"]} · {summary["episodes"]["eval"]} episodes</p>']
    for caption, png in plot_images(summary, plots_dir):
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<figure><img alt="{esc(caption)}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{esc(caption)}</figcaption></figure>")
    for sec in sections(summary):
        parts.append(f"<h2>{esc(sec.title)}</h2>")
        if sec.text:
            parts.append(f"<p>{esc(sec.text)}</p>")
        if sec.rows:
            head = "".join(f"<th>{esc(h)}</th>" for h in sec.header)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>")
            parts += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in sec.rows]
            parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
