"""The run viewer's pages as server-rendered HTML: summary, episode list, compare, capsule.

Why plain strings and no template engine or JavaScript: the pages are a handful of tables and
preformatted command output, and a viewer that needs no build step installs with the package.
Everything that came from a run (command output above all) goes through `esc` — a trace is
whatever a cluster printed, `<script>` included. The episode page lives in `viewer_episode.py`.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

from atlas_sre.bench.config import EpisodeResult
from atlas_sre.bench.html import CSS
from atlas_sre.bench.tables import Section, pm, sections
from atlas_sre.bench.viewer_data import FILTERS, RunView, config_line
from atlas_sre.capsules.model import Capsule

esc = html.escape
VIEW_CSS = CSS + """
nav{font-size:.9rem;margin-bottom:1rem}nav a{margin-right:1rem}
pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:.5rem;overflow-x:auto;font-size:.8rem;white-space:pre-wrap}
.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}
td.l,th.l{text-align:left}form.filters label{margin-right:.8rem;font-size:.9rem}
.step{border-left:3px solid #ddd;padding-left:.6rem;margin:.6rem 0}
.cols{display:flex;gap:1rem}.cols>div{flex:1;min-width:0}
"""


def page(title: str, body: str, status: str = "") -> str:
    """A whole HTML document with the viewer's navigation."""
    nav = '<nav><a href="/">summary</a><a href="/episodes">episodes</a><a href="/compare">compare</a></nav>'
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{VIEW_CSS}</style></head><body>{nav}<h1>{esc(title)}</h1>{status}{body}</body></html>\n")


def not_found(what: str) -> str:
    return page("Not found", f'<p id="not-found">{esc(what)}</p>')


def table(header: list[str], rows: list[list[str]], raw: bool = False, attrs: str = "") -> str:
    """A table; cells are escaped unless `raw` (cells built here from escaped parts, such as links)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def section_html(sec: Section) -> str:
    text = f"<p>{esc(sec.text)}</p>" if sec.text else ""
    return f"<h2>{esc(sec.title)}</h2>{text}" + (table(sec.header, sec.rows) if sec.rows else "")


def episode_link(key: str, text: str | None = None) -> str:
    return f'<a href="/episode/{quote(key, safe="/")}">{esc(text or key)}</a>'


def capsule_link(capsule_id: str, text: str | None = None) -> str:
    return f'<a class="capsule" href="/capsule/{quote(capsule_id, safe="")}">{esc(text or capsule_id)}</a>'


def verdict(correct: bool) -> str:
    return '<span class="ok">correct</span>' if correct else '<span class="bad">wrong</span>'


def summary_page(run: RunView) -> str:
    summary = run.summary
    parts = [f'<p class="meta">{esc(config_line(run.config, summary))} · folder <code>{esc(str(run.root))}</code></p>']
    secs = sections(summary) if summary.get("modes") else []
    if secs:
        parts.append(section_html(secs[0]))
    for name in run.plots():
        parts.append(f'<figure><img alt="{esc(name)}" src="/plots/{quote(name)}"><figcaption>{esc(name)}'
                     "</figcaption></figure>")
    parts += [section_html(s) for s in secs[1:]]
    return page(f"Run {run.name}", "".join(parts))


def filter_form(run: RunView, query: dict[str, str]) -> str:
    fields = []
    for name, values in run.choices().items():
        opts = "".join(f'<option value="{esc(v)}"{" selected" if query.get(name) == v else ""}>{esc(v)}</option>'
                       for v in values)
        fields.append(f'<label>{name} <select name="{name}" onchange="this.form.submit()">'
                      f'<option value="">any</option>{opts}</select></label>')
    return f'<form class="filters" method="get" action="/episodes">{"".join(fields)}<button>filter</button></form>'


def episode_row(r: EpisodeResult) -> list[str]:
    return [episode_link(r.key), esc(r.mode), esc(r.scenario), esc(", ".join(r.faults)), esc(r.complexity),
            str(r.iteration), esc(r.outcome), verdict(r.correct), f"{r.total_tokens:,}", str(r.commands),
            " ".join(capsule_link(c) for c in r.capsules_used)]


def episodes_page(run: RunView, query: dict[str, str]) -> str:
    query = {k: v for k, v in query.items() if k in FILTERS and v}
    rows = run.filtered(query)
    shown = ", ".join(f"{k}={v}" for k, v in query.items()) or "none"
    body = (filter_form(run, query) + f'<p class="meta" id="count">{len(rows)} of {len(run.records)} episodes '
            f"(filters: {esc(shown)})</p>" +
            table(["episode", "mode", "scenario", "faults", "complexity", "iteration", "outcome", "verdict", "tokens",
                   "commands", "capsules applied"], [episode_row(r) for r in rows], raw=True, attrs=' id="episodes"'))
    return page(f"Episodes of {run.name}", body)


def capsule_page(capsule: Capsule, where: list[str], used_by: list[str]) -> str:
    rc = capsule.root_cause
    facts = [["id", capsule.id], ["skill", capsule.skill], ["status", capsule.status.value],
             ["version", str(capsule.version)], ["source", str(capsule.source)],
             ["root cause", f"{rc.kind} ({rc.category})" if rc else "—"],
             ["record", f"{capsule.uses} uses · {capsule.successes} successes · {capsule.failures} failures · "
                        f"success rate {capsule.success_rate:.2f}"],
             ["baseline record", f"{capsule.baseline_successes} successes · {capsule.baseline_failures} failures"],
             ["stores", ", ".join(where)]]
    steps = "".join(f"<li>{esc(s)}</li>" for s in capsule.procedure)
    cmds = "".join(f"<li><code>{esc(c)}</code></li>" for c in capsule.commands) or "<li>—</li>"
    ev = "".join(f"<li><code>{esc(e.pattern)}</code>{' (regex)' if e.regex else ''}</li>" for e in capsule.evidence)
    users = ", ".join(episode_link(k) for k in used_by) or "none in this run"
    body = (table(["field", "value"], facts, attrs=' id="capsule"') + f"<h2>Trigger</h2><p>{esc(capsule.trigger)}</p>"
            f"<h2>Procedure</h2><ol>{steps}</ol><h2>Commands</h2><ul>{cmds}</ul>"
            f"<h2>Evidence</h2><ul>{ev or '<li>—</li>'}</ul><h2>Applied in</h2><p>{users}</p>")
    return page(f"Capsule {capsule.skill}", body)


def _mode_cell(summary: dict[str, Any], mode: str, name: str, pct: bool = False) -> str:
    stats = (summary.get("modes") or {}).get(mode)
    return pm(stats and stats.get(name), 0, pct=pct)


def compare_page(run: RunView, other: RunView | None, asked: str = "") -> str:
    form = (f'<form method="get" action="/compare"><label>other run folder <input name="other" size="60" '
            f'value="{esc(asked)}"></label> <button>compare</button></form>')
    if other is None:
        return page("Compare runs", form)
    a, b = run.summary, other.summary
    modes = list(dict.fromkeys([*(a.get("modes") or {}), *(b.get("modes") or {})]))
    rows = [[m, _mode_cell(a, m, "accuracy", True), _mode_cell(b, m, "accuracy", True), _mode_cell(a, m, "tokens"),
             _mode_cell(b, m, "tokens"), _mode_cell(a, m, "teacher_tokens"), _mode_cell(b, m, "teacher_tokens")]
            for m in modes]
    diff = run.differing(other)
    drows = [[episode_link(x.key), esc(x.mode), verdict(x.correct), verdict(y.correct)] for x, y in diff]
    body = (form + f'<p class="meta">A = <code>{esc(str(run.root))}</code> · B = <code>{esc(str(other.root))}</code>'
            "</p>" + table(["mode", "accuracy A", "accuracy B", "tokens A", "tokens B", "teacher tokens A",
                            "teacher tokens B"], rows, attrs=' id="modes"') +
            f"<h2>Episodes whose correctness differs ({len(diff)})</h2>" +
            table(["episode", "mode", "A", "B"], drows, raw=True, attrs=' id="differing"'))
    return page(f"Compare {run.name} with {other.name}", body)
