"""Data behind `atlas-sre capsules show|prune|stats`: plain dicts and configs, no printing.

Kept apart from `cli.py` so other tools (reports, the benchmark) can reuse them and so the CLI
module holds only argument handling and output formatting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from atlas_sre.capsules.model import Capsule, CapsuleStatus
from atlas_sre.capsules.pruning import PruningConfig
from atlas_sre.capsules.store import CapsuleStore


class CliError(Exception):
    """A user error: printed as one line by the CLI, exit status 1."""


def one_line(exc: ValidationError) -> str:
    """The first validation error as `field: message (+N more)`."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "value"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


def details(c: Capsule) -> dict[str, Any]:
    """Everything about a capsule, plus the derived posterior numbers and mean deltas."""
    post, base = c.posterior, c.baseline_posterior
    return {**c.model_dump(mode="json"),
            "posterior": {"alpha": post.alpha, "beta": post.beta, "mean": round(post.mean, 6),
                          "sd": round(post.variance ** 0.5, 6), "lower_bound": round(post.lower_bound(), 6)},
            "baseline_posterior": {"alpha": base.alpha, "beta": base.beta, "mean": round(base.mean, 6)},
            "tokens_delta_mean": c.tokens_delta_mean, "time_delta_mean": c.time_delta_mean}


def load_pruning_config(path: str | None) -> PruningConfig:
    """Defaults, or a YAML/JSON file with the fields of `PruningConfig` (optionally under `pruning:`)."""
    if path is None:
        return PruningConfig()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise CliError(f"{path} is not valid YAML/JSON: {str(exc).splitlines()[0]}") from None
    if isinstance(data, dict) and isinstance(data.get("pruning"), dict):
        data = data["pruning"]
    if not isinstance(data, dict):
        raise CliError(f"{path}: expected a mapping of pruning settings, got {type(data).__name__}")
    try:
        return PruningConfig.model_validate(data)
    except ValidationError as exc:
        raise CliError(f"{path}: {one_line(exc)}") from None


def store_stats(s: CapsuleStore, top: int = 5) -> dict[str, Any]:
    """Counts by status, pooled and mean success, token saving, the most used capsules."""
    capsules = s.list()
    live = [c for c in capsules if c.status in (CapsuleStatus.ACTIVE, CapsuleStatus.PROVISIONAL)]
    succ, fail = sum(c.successes for c in capsules), sum(c.failures for c in capsules)
    tokens_n = sum(c.tokens_delta_n for c in capsules)
    ranked = sorted(capsules, key=lambda c: (-c.uses, -c.success_rate, c.id))[:top]
    return {
        "store": str(s.path), "capsules": len(capsules),
        "by_status": {st.value: sum(c.status is st for c in capsules) for st in CapsuleStatus},
        "uses": sum(c.uses for c in capsules), "successes": succ, "failures": fail,
        "pooled_success": round(succ / (succ + fail), 6) if succ + fail else None,
        "mean_success_rate": round(sum(c.success_rate for c in live) / len(live), 6) if live else None,
        "tokens_delta_mean": (round(sum(c.tokens_delta_sum for c in capsules) / tokens_n, 3)
                              if tokens_n else None),
        "incidents_seen": s.counters().get("incidents_seen", 0),
        "top": [{"id": c.id, "skill": c.skill, "uses": c.uses, "success_rate": round(c.success_rate, 6),
                 "status": c.status.value} for c in ranked],
    }
