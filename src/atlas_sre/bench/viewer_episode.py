"""The viewer's episode page: incident → plan → probe → correction → commands → diagnosis vs truth.

Why in protocol order: that is how the episode happened, and how a reader finds where teaching
helped or hurt — the probe's score next to the plan it judged, the guided run's commands under the
baseline's. The truth shown is what the grader reported in the trace (root causes matched and
missed, entities named in excess), never the scenario file.
"""

from __future__ import annotations

import json
from typing import Any

from atlas_sre.bench.config import EpisodeResult
from atlas_sre.bench.viewer_data import Trace
from atlas_sre.bench.viewer_pages import capsule_link, esc, page, table, verdict


def _pre(text: Any, cls: str = "") -> str:
    shown = text if isinstance(text, str) else json.dumps(text, indent=1, default=str)
    attr = f' class="{cls}"' if cls else ""
    return f"<pre{attr}>{esc(shown)}</pre>"


def _tokens(r: EpisodeResult, phase: str) -> str:
    t = r.tokens.get(phase)
    return "—" if t is None else f"{t.total:,} ({t.prompt:,} read, {t.completion:,} written)"


def _facts(r: EpisodeResult) -> str:
    rows = [["scenario", r.scenario], ["mode", r.mode], ["phase", r.phase], ["iteration · repeat",
            f"{r.iteration} · {r.repeat}"], ["faults", ", ".join(r.faults) or "—"], ["category", r.category],
            ["complexity", r.complexity], ["domain", r.domain], ["outcome", r.outcome + (f" ({r.message})"
            if r.message else "")], ["tokens", f"{r.total_tokens:,}"], ["commands", str(r.commands)],
            ["wall · modeled time to submit", f"{r.wall_s:.2f} s · {r.ttr_s:.1f} s"]]
    return table(["field", "value"], rows, attrs=' id="facts"')


def _teaching(r: EpisodeResult, tr: Trace) -> str:
    teach, res = tr.teaching, tr.result
    incident = teach.get("incident") or next((run.get("incident") for run in tr.runs.values()), "") or \
        res.get("problem", "")
    parts = ['<h2 id="incident">Incident</h2>', _pre(incident or "(not in the trace)")]
    plan = res.get("baseline_response") or ""
    parts += ['<h2 id="plan">Plan (the student\'s own)</h2>', _pre(plan or "(no plan recorded)"),
              f'<p class="meta">student planning tokens: {_tokens(r, "student.plan")}</p>']
    probe = teach.get("probe") or (res.get("diagnostic") or {}).get("probe_response") or ""
    if probe or teach.get("score") is not None:
        score = teach.get("score", (res.get("diagnostic") or {}).get("capability_score"))
        parts += ['<h2 id="probe">Probe</h2>', _pre(probe),
                  f'<p class="meta">score <b>{esc(str(score))}</b> · strategy {esc(str(teach.get("strategy")))} · '
                  f'certified {esc(str(teach.get("certified")))} · '
                  f'teacher probe tokens {_tokens(r, "teacher.probe")}</p>']
        guidance = teach.get("guidance") or (res.get("learning") or {}).get("learning_guidance") or ""
        parts += ['<h2 id="guidance">Correction / guidance</h2>', _pre(guidance or "(none)"),
                  f'<p class="meta">teacher correction tokens: {_tokens(r, "teacher.correct")}</p>']
        if res.get("guided_response"):
            parts += ["<h3>Guided plan</h3>", _pre(res["guided_response"])]
    else:
        parts.append('<p class="meta">Not taught in this mode: no probe, no correction.</p>')
    return "".join(parts)


def _capsules(r: EpisodeResult, tr: Trace) -> str:
    briefs = {c.get("id"): c for c in (tr.teaching.get("capsules") or tr.result.get("capsules") or [])
              if isinstance(c, dict) and c.get("id")}
    ids = list(dict.fromkeys([*r.capsules_used, *r.capsules_retrieved, *briefs]))
    if not ids:
        return ""
    rows = [[capsule_link(i), esc(str(briefs.get(i, {}).get("skill", ""))), "yes" if i in r.capsules_used else "no",
             esc(str(briefs.get(i, {}).get("score", ""))), esc(str(briefs.get(i, {}).get("why", "")))] for i in ids]
    return '<h2 id="capsules">Capsules</h2>' + table(["capsule", "skill", "applied", "score", "why retrieved"], rows,
                                                    raw=True, attrs=' id="capsule-list"')


def _observation(step: dict[str, Any]) -> str:
    users = [m.get("content", "") for m in step.get("messages") or [] if m.get("role") in ("user", "tool")]
    return "\n".join(str(u) for u in users)


def _run(label: str, tr: Trace) -> str:
    parts = [f'<div class="run" id="run-{esc(label)}"><h3>{esc(label)} run</h3>']
    for step in tr.steps.get(label, []):
        head = f'#{step.get("n")} {esc(str(step.get("kind")))}'
        if step.get("command"):
            head += (f' <code class="command">{esc(str(step["command"]))}</code> '
                     f'→ exit {esc(str(step.get("exit_code")))}')
        body = _pre(_observation(step), "output") if step.get("kind") == "command" else \
            _pre(next((m.get("content", "") for m in step.get("messages") or [] if m.get("role") == "assistant"), ""))
        parts.append(f'<div class="step"><div>{head}</div>{body}</div>')
    out = tr.outcomes.get(label)
    if out:
        parts.append(f'<p class="meta">outcome {esc(str(out.get("outcome")))} {esc(str(out.get("detail") or ""))}</p>')
    return "".join(parts) + "</div>"


def _grade(r: EpisodeResult, tr: Trace) -> str:
    parts = ['<h2 id="diagnosis">Diagnosis vs ground truth</h2>', f"<p>verdict: {verdict(r.correct)}</p>"]
    parts.append(_pre(r.diagnosis if r.diagnosis is not None else "(no diagnosis)", "diagnosis"))
    if r.grade is not None:
        parts.append(table(["field", "value"], [[k, str(v)] for k, v in r.grade.model_dump().items()],
                           attrs=' id="grade"'))
    rows = []
    for label, g in (tr.result.get("grades") or {}).items():
        if isinstance(g, dict):
            truth = [*(g.get("matched") or []), *(g.get("missed") or [])]
            rows.append([label, ", ".join(truth) or "no fault", ", ".join(g.get("matched") or []) or "—",
                         ", ".join(g.get("missed") or []) or "—", ", ".join(g.get("extra") or []) or "—",
                         "correct" if g.get("correct") else "wrong"])
    if rows:
        parts += ["<h3>Graded root causes (from the grader)</h3>",
                  table(["run", "true root causes", "matched", "missed", "extra (named, not true)", "verdict"], rows,
                        attrs=' id="truth"')]
    if r.baseline is not None:
        b = r.baseline
        parts.append(f'<p class="meta">own baseline in this episode: {"correct" if b.correct else "wrong"}, strict '
                     f"{b.strict:.2f}, {b.student_tokens:,} student tokens, {b.commands} commands</p>")
    return "".join(parts)


def episode_page(r: EpisodeResult, tr: Trace) -> str:
    runs = "".join(_run(label, tr) for label in tr.labels)
    shown = f'<div class="cols">{runs}</div>' if runs else '<p class="meta">No trace was written for this episode.</p>'
    body = (_facts(r) + _teaching(r, tr) + _capsules(r, tr) + '<h2 id="commands">Commands and outputs</h2>' +
            shown + _grade(r, tr))
    return page(f"Episode {r.key}", body)
