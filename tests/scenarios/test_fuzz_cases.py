"""Named hostile scenario files, one per class of problem: each is refused by `validate` in one
located line (exit 2 through the CLI), never crashes or hangs `serve`.

The classes (issue 15): YAML bombs and depth, duplicate keys, times out of range, non-finite and
huge numbers, wrong shapes, out-of-range ports/replicas/quantities/base64/regexes, unknown apps
and faults, caps on pods. Each case mutates a real built-in file at one path.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from scenario_fuzzing import validate_then_serve

from atlas_sre.scenarios.catalog import BUILTIN_DIRS

BASE = BUILTIN_DIRS[0] / "crashloop-missing-env.yaml"
IMAGE = "example.io/shop/checkout:1.8.2"


def _dep(d: dict[str, Any], name: str = "checkout") -> dict[str, Any]:
    return next(m for m in d["spec"]["manifests"] if m["kind"] == "Deployment" and m["metadata"]["name"] == name)


def _svc(d: dict[str, Any]) -> dict[str, Any]:
    return next(m for m in d["spec"]["manifests"] if m["kind"] == "Service")


def _container(d: dict[str, Any]) -> dict[str, Any]:
    return _dep(d)["spec"]["template"]["spec"]["containers"][0]


def _image(d: dict[str, Any]) -> dict[str, Any]:
    return d["spec"]["registry"][IMAGE]


def _hpa(lo: int, hi: int) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["spec"]["manifests"].append({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "c", "namespace": "shop"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkout"},
                 "minReplicas": lo, "maxReplicas": hi}})


# (case id, mutation, the path the one-line error must name, a word of its message)
CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("year-9999", lambda d: d["spec"]["clock"].update(observeAt="9999-12-31T23:59:59Z"), "spec.clock.observeAt",
     "9999"),
    ("start-yesterday", lambda d: d["spec"]["clock"].update(start="yesterday"), "spec.clock.start", "RFC 3339"),
    ("observe-before-start", lambda d: d["spec"]["clock"].update(observeAt="2026-01-01T00:00:00Z"), "spec.clock",
     "before start"),
    ("memory-growth-1e308", lambda d: _image(d)["usage"].update(memoryGrowthMiPerMin=1e308),
     f"spec.registry.{IMAGE}.usage.memoryGrowthMiPerMin", "less than"),
    ("latency-nan", lambda d: _image(d).update(latencyMs=float("nan")), f"spec.registry.{IMAGE}.latencyMs", "finite"),
    ("startup-1e18", lambda d: _image(d).update(startupSeconds=1e18), f"spec.registry.{IMAGE}.startupSeconds", "less"),
    ("listen-port-99999", lambda d: _image(d)["listen"][0].update(port=99999), f"spec.registry.{IMAGE}.listen[0].port",
     "65535"),
    ("regex-backtracks", lambda d: _image(d)["requires"][0].update(matches="^(a+)+$"),
     f"spec.registry.{IMAGE}.requires[0].matches", "exponential"),
    ("template-width", lambda d: _image(d)["logs"].update(request="{status:>999999999}"),
     f"spec.registry.{IMAGE}.logs.request", "width"),
    ("replicas-negative", lambda d: _dep(d)["spec"].update(replicas=-3), "spec.manifests[6].spec.replicas", "from 0"),
    ("replicas-million", lambda d: _dep(d)["spec"].update(replicas=1_000_000), "spec.manifests[6].spec.replicas",
     "20000"),
    ("replicas-1e12-float", lambda d: _dep(d)["spec"].update(replicas=1e12), "spec.manifests[6].spec.replicas",
     "integer"),
    ("replicas-string", lambda d: _dep(d)["spec"].update(replicas="three"), "spec.manifests[6].spec.replicas",
     "integer"),
    ("pods-over-cap", lambda d: [_dep(d, n)["spec"].update(replicas=8000) for n in ("checkout", "catalog", "frontend")],
     "spec.manifests", "pods"),
    ("service-selector-list", lambda d: _svc(d)["spec"].update(selector=["app", "frontend"]),
     "spec.manifests[9].spec.selector", "mapping"),
    ("deployment-selector-list", lambda d: _dep(d)["spec"].update(selector=[{"matchLabels": {"app": "x"}}]),
     "spec.manifests[6].spec.selector", "mapping"),
    ("service-port-99999", lambda d: _svc(d)["spec"]["ports"][0].update(port=99999),
     "spec.manifests[9].spec.ports[0].port",
     "65535"),
    ("memory-lots", lambda d: _container(d)["resources"]["limits"].update(memory="lots"),
     "spec.manifests[6].spec.template.spec.containers[0].resources.limits.memory", "quantity"),
    ("cpu-abc", lambda d: _container(d)["resources"]["requests"].update(cpu="abc"),
     "spec.manifests[6].spec.template.spec.containers[0].resources.requests.cpu", "quantity"),
    ("secret-bad-base64", lambda d: d["spec"]["manifests"][3].update(data={"url": "!!not base64**"}),
     "spec.manifests[3].data.url", "base64"),
    ("hpa-min-over-max", _hpa(10, 2), "spec.manifests[13].spec.minReplicas", "greater than maxReplicas"),
    ("negative-rps", lambda d: d["spec"]["traffic"]["entrypoints"][0].update(rps=-5), "spec.traffic.entrypoints[0].rps",
     "greater than"),
    ("name-10000-chars", lambda d: _dep(d)["metadata"].update(name="a" * 10_000), "spec.manifests[6].metadata.name",
     "253"),
    ("unknown-app", lambda d: d["spec"].update(app="no-such-app"), "spec.app", "unknown app"),
    ("unknown-fault",
     lambda d: d["spec"].update(faults=[{"id": "no-such-fault", "target": "shop/Deployment/checkout"}]),
     "spec.faults[0]", "unknown fault"),
    ("episode-at-soon", lambda d: _image(d).update(episodes=[{"at": "soon", "exitCode": 1}]),
     f"spec.registry.{IMAGE}.episodes[0].at", "RFC 3339"),
    ("history-previous-wrong-shape", lambda d: d["spec"].update(history=[{
        "target": "shop/Deployment/checkout", "at": "2026-11-26T09:20:00Z", "previous": {"spec": [1]}}]),
     "spec.history[0].previous", "mapping"),
    ("traffic-string", lambda d: d["spec"].update(traffic={"entrypoints": "all"}), "spec.traffic.entrypoints", "list"),
    ("labels-int", lambda d: _dep(d)["metadata"].update(labels={"app": 5}), "spec.manifests[6].metadata.labels.app",
     "label value"),
    ("containers-mapping", lambda d: _dep(d)["spec"]["template"]["spec"].update(containers={"a": 1}),
     "spec.manifests[6].spec.template.spec.containers", "list"),
]


def _text(mutate: Callable[[dict[str, Any]], None]) -> str:
    data = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    mutate(data)
    return yaml.safe_dump(data, sort_keys=False, width=4096)


@pytest.mark.parametrize(("mutate", "where", "word"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_field_is_refused_in_one_located_line(mutate: Callable[[dict[str, Any]], None], where: str,
                                                     word: str) -> None:
    outcome = validate_then_serve(_text(mutate))
    assert outcome.startswith("rejected: fuzz.yaml:"), outcome
    line = outcome.removeprefix("rejected: ")
    assert line.split(":")[1].isdigit(), line  # file:LINE:
    assert f": {where}: " in line or f": {where} " in line, line
    assert word in line, line


HEADER = "apiVersion: atlas-sre/v1\nkind: Scenario\nmetadata: {name: x}\nspec:\n  incident: {summary: s}\n"
BOMB = "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 10) if p else ', '.join(['x'] * 10)}]\n"
               for p, c in zip(["", *"abcdefgh"], "abcdefghi", strict=True))
RAW: list[tuple[str, str, str]] = [
    ("billion-laughs", BOMB + HEADER, "expands to more than"),
    ("deep-flow-nesting", HEADER + "  traffic: {x: " + "[" * 5000 + "]" * 5000 + "}\n", "nesting deeper than 64"),
    ("deep-block-nesting", HEADER + "  traffic:\n" + "".join("  " * (i + 2) + f"k{i}:\n" for i in range(1500))
     + "  " * 1502 + "v\n", "nesting deeper than 64"),
    ("recursive-alias", HEADER + "  traffic: &t {x: *t}\n", "contains it"),
    ("duplicate-keys", BASE.read_text(encoding="utf-8").replace("  seed: 11\n", "  seed: 11\n  seed: 12\n"),
     "duplicate key 'seed'"),
    ("5000-digit-int", BASE.read_text(encoding="utf-8").replace("  seed: 11\n", "  seed: " + "9" * 5000 + "\n"),
     "cannot read value"),
    ("bad-date", HEADER.replace("{name: x}", "{name: x, labels: {a: 2026-13-45}}"), "cannot read value"),
    ("python-tag", HEADER + "  seed: !!python/object/apply:os.system [id]\n", "invalid YAML"),
]


@pytest.mark.parametrize(("text", "word"), [r[1:] for r in RAW], ids=[r[0] for r in RAW])
def test_hostile_yaml_is_refused_fast_in_one_line(text: str, word: str) -> None:
    started = time.monotonic()
    outcome = validate_then_serve(text, limit_s=10)
    assert time.monotonic() - started < 5
    assert outcome.startswith("rejected: fuzz.yaml"), outcome
    assert word in outcome, outcome


def test_validate_cli_exits_2_with_one_line_per_bad_file(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(BASE.read_text(encoding="utf-8"))
    bad = tmp_path / "bad.yaml"
    bad.write_text(_text(lambda d: _dep(d)["spec"].update(replicas=1e12)))
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB + HEADER)
    run = subprocess.run([sys.executable, "-m", "atlas_sre", "scenarios", "validate", str(good), str(bad), str(bomb)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run
    lines = run.stderr.splitlines()
    assert len(lines) == 2, run.stderr
    assert lines[0].startswith(f"{bad}:") and ": spec.manifests[6].spec.replicas: " in lines[0]
    assert lines[1].startswith(f"{bomb}:") and "expands to more than" in lines[1]
    assert run.stdout.strip() == "1/3 valid"
