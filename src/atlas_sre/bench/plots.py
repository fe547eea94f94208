"""PNG plots of a benchmark summary (matplotlib, Agg backend: no display, no fonts downloaded).

Each function takes `summary.json`'s dict and returns PNG bytes, so the HTML report can embed
them (base64) and stay one self-contained file, and `docs/results.md` can link the same images.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen before pyplot loads

from atlas_sre.bench.tables import ordered_phases  # noqa: E402 - after the backend, with the other imports

COLOURS = {"student": "#7f7f7f", "atlas": "#1f77b4", "atlas+capsules": "#2ca02c", "capsules": "#ff7f0e"}


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def learning_curve(summary: dict[str, Any]) -> bytes:
    """Accuracy and tokens per incident by iteration, one line per mode, stderr bars."""
    fig, (acc_ax, tok_ax) = plt.subplots(1, 2, figsize=(10, 3.6))
    for mode, its in summary["by_iteration"].items():
        xs = [int(i) + 1 for i in its]
        colour = COLOURS.get(mode)
        acc_ax.errorbar(xs, [100 * s["accuracy"]["mean"] for s in its.values()],
                        yerr=[100 * s["accuracy"]["stderr"] for s in its.values()],
                        marker="o", capsize=3, label=mode, color=colour)
        tok_ax.errorbar(xs, [s["tokens"]["mean"] for s in its.values()],
                        yerr=[s["tokens"]["stderr"] for s in its.values()],
                        marker="o", capsize=3, label=mode, color=colour)
    acc_ax.set(title="Root-cause accuracy", xlabel="iteration", ylabel="% of incidents", ylim=(0, 105))
    tok_ax.set(title="Tokens per incident", xlabel="iteration", ylabel="tokens")
    tok_ax.set_ylim(bottom=0)
    iterations = sorted({int(i) + 1 for its in summary["by_iteration"].values() for i in its})
    for ax in (acc_ax, tok_ax):
        ax.grid(alpha=0.3)
        ax.set_xticks(iterations)
        ax.set_xlim(min(iterations, default=1) - 0.5, max(iterations, default=1) + 0.5)
    acc_ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def per_fault_accuracy(summary: dict[str, Any]) -> bytes:
    """Heat map: accuracy per fault (rows) and mode (columns), each cell annotated."""
    table = summary["by_fault"]
    modes = list(table)
    faults = sorted({f for v in table.values() for f in v})
    grid = [[100 * table[m].get(f, {}).get("accuracy", {}).get("mean", float("nan")) for m in modes] for f in faults]
    fig, ax = plt.subplots(figsize=(3.5 + 1.1 * len(modes), 0.26 * len(faults) + 1.2))
    ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=100, aspect="auto")
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if value == value:  # not NaN: this mode ran this fault
                ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(modes)), modes, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(faults)), faults, fontsize=7)
    ax.set_title("Accuracy per fault (%)", fontsize=10)
    return _png(fig)


def tokens_per_phase(summary: dict[str, Any]) -> bytes:
    """Stacked bars: mean tokens per incident in each role.phase, per mode."""
    modes = list(summary["modes"])
    phases = ordered_phases({p for s in summary["modes"].values() for p in s["tokens_per_phase"]})
    fig, ax = plt.subplots(figsize=(7, 3.6))
    bottoms = [0.0] * len(modes)
    for phase in phases:
        vals = [summary["modes"][m]["tokens_per_phase"].get(phase, {}).get("mean", 0.0) for m in modes]
        ax.bar(modes, vals, bottom=bottoms, label=phase)
        bottoms = [b + v for b, v in zip(bottoms, vals, strict=True)]
    ax.set(ylabel="tokens per incident", title="Tokens per role and phase")
    ax.grid(axis="y", alpha=0.3)
    if phases:  # an outside agent's run records no tokens: no bars, nothing to label
        ax.legend(fontsize=8)
    return _png(fig)


def ttr_per_mode(summary: dict[str, Any]) -> bytes:
    """Bars per mode: modeled time to a correct diagnosis (escalation included) beside time to submit."""
    modes = list(summary["modes"])
    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.38
    xs = range(len(modes))
    for offset, name, label, alpha in ((-width / 2, "ttr_correct_s", "time to correct", 1.0),
                                       (width / 2, "ttr_s", "time to submit", 0.45)):
        stats = [summary["modes"][m].get(name) or {"mean": 0.0, "stderr": 0.0} for m in modes]
        ax.bar([x + offset for x in xs], [s["mean"] / 60 for s in stats], width,
               yerr=[s["stderr"] / 60 for s in stats], capsize=3, label=label, alpha=alpha,
               color=[COLOURS.get(m, "#333333") for m in modes])
    escalation = summary["config"].get("escalation_s", 2700.0)
    ax.set_xticks(list(xs), modes, fontsize=8)
    ax.set(ylabel="minutes per incident",
           title=f"Modeled time to resolution (wrong or empty answer: +{escalation / 60:g} min escalation)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)


PLOTS = {
    "learning_curve": ("Learning curve", learning_curve),
    "per_fault_accuracy": ("Accuracy per fault", per_fault_accuracy),
    "tokens_per_phase": ("Tokens per phase", tokens_per_phase),
    "ttr_per_mode": ("Time to a correct diagnosis and to submit, per mode", ttr_per_mode),
}
