"""`atlas-sre export teacher`: a real tiny bench (2 built-in scenarios, student + atlas, reference agents,
real simulator + kubectl) exported in both formats; the prompt is the LLM teacher's own; errors are one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from atlas_sre.agents.llm.teacher import LLMTeacher
from atlas_sre.agents.parsing import parse_probe_score, teaching_text
from atlas_sre.agents.types import CapsuleBrief, Incident
from atlas_sre.bench.config import BenchConfig
from atlas_sre.bench.export import export_teacher, incident_namespace, teacher_completion, teacher_prompt
from atlas_sre.bench.metrics import baseline_for, compare
from atlas_sre.bench.runner import run_bench
from atlas_sre.cli.export import export_teacher_cli
from atlas_sre.models.scripted import ScriptedModel
from atlas_sre.scenarios.catalog import load

SCENARIOS = ["mesh-subset-missing", "image-not-found"]
needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl missing")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    cfg = BenchConfig(scenarios=SCENARIOS, modes="student,atlas", iterations=1, repeats=1, workers=2)
    return run_bench(cfg, tmp_path_factory.mktemp("export-run"), progress=False)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def truth_strings(scenario: str) -> set[str]:
    """What only the grader knows: root-cause entities (and aliases), as `ns/Kind/name` and `Kind/name`."""
    gt = load(scenario).spec.groundTruth
    entities = {rc.entity for rc in gt.rootCauses} | {e for group in gt.aliases for e in group}
    short = {e.split("/", 1)[1] for e in entities if e.count("/") == 2}
    return entities | short | {rc.condition for rc in gt.rootCauses}


@pytest.mark.kubectl
@needs_kubectl
@pytest.mark.parametrize("fmt", ["trl", "atlas"])
def test_every_taught_episode_is_one_line_with_its_reward(run: Any, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"teacher.{fmt}.jsonl"
    assert export_teacher(run.out, out, fmt=fmt) == (2, 0)
    taught = {r.key: r for r in run.records if r.mode == "atlas"}
    lookup = baseline_for(run.records)
    got = lines(out)
    meta = [d["metadata"] if fmt == "trl" else d["session_metadata"] for d in got]
    assert sorted(m["key"] for m in meta) == sorted(taught)
    for d, m in zip(got, meta, strict=True):
        record = taught[m["key"]]
        reward = d["reward"] if fmt == "trl" else d["session_reward"]["score"]
        assert reward == compare(record, lookup(record))["reward"]
        assert m["guided_correct"] == record.correct and m["scenario"] == record.scenario
        assert m["teacher_tokens"]["probe"]["completion"] == record.tokens["teacher.probe"].completion
    summary = json.loads((run.out / "summary.json").read_text())
    rewards = [d["reward"] if fmt == "trl" else d["session_reward"]["score"] for d in got]
    assert sum(rewards) / len(rewards) == pytest.approx(summary["modes"]["atlas"]["reward"]["mean"], abs=1e-6)


@pytest.mark.kubectl
@needs_kubectl
def test_trl_prompt_holds_incident_and_plan_but_no_ground_truth(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "teacher.jsonl"
    export_teacher(run.out, out, fmt="trl")
    for d in lines(out):
        assert [m["role"] for m in d["prompt"]] == ["system", "user"]
        assert [m["role"] for m in d["completion"]] == ["assistant"]
        trace = json.loads((run.out / d["metadata"]["trace"]).read_text())["records"][0]
        user = d["prompt"][1]["content"]
        assert trace["plan"].strip() and trace["plan"].strip() in user and trace["incident"] in user
        text = "".join(m["content"] for m in d["prompt"])
        for secret in truth_strings(d["metadata"]["scenario"]):
            assert secret in trace["incident"] or secret not in text, secret
        for fault in d["metadata"]["faults"]:
            assert fault not in text
        completion = d["completion"][0]["content"]
        assert parse_probe_score(completion) == d["metadata"]["capability_score"] == trace["score"]
        assert teaching_text(completion) == trace["guidance"].strip()


@pytest.mark.kubectl
@needs_kubectl
def test_atlas_line_is_a_session_trace(run: Any, tmp_path: Path) -> None:
    trl, atlas = tmp_path / "t.jsonl", tmp_path / "a.jsonl"
    export_teacher(run.out, trl, fmt="trl")
    export_teacher(run.out, atlas, fmt="atlas")
    for t, a in zip(lines(trl), lines(atlas), strict=True):
        assert set(a) == {"task", "final_answer", "plan", "steps", "session_metadata", "session_reward",
                          "trajectory_events", "student_learning", "teacher_learning", "learning_history",
                          "adaptive_summary"}
        assert t["prompt"][1]["content"].startswith("Incident:\n" + a["task"])
        step = a["steps"][0]
        assert step["output"] == t["completion"][0]["content"] and step["trace"] == t["prompt"][1]["content"]
        assert step["metadata"]["prompt_messages"] == t["prompt"]
        assert a["plan"]["steps"] and all(s["description"] for s in a["plan"]["steps"])
        seen = json.dumps([a["task"], a["final_answer"], a["plan"], step["trace"]])
        assert a["final_answer"] == "" and "baseline_correct" not in seen
        for secret in truth_strings(a["session_metadata"]["scenario"]):
            assert secret in a["task"] or secret not in seen, secret


def test_exported_prompt_is_what_the_llm_teacher_sends() -> None:
    """Against the real `LLMTeacher` (a scripted model records its call): alerts folded into one
    line (`[7 alerts]`) outvote two others, and applied capsules are digested the same way."""
    alerts = [{"alertname": "KubePodNotReady", "namespace": "shop", "pod": f"web-{i}"} for i in range(7)]
    alerts += [{"alertname": "HighErrorRate", "namespace": "edge", "service": s} for s in ("a", "b")]
    incident = Incident.of("Checkout returns HTTP 503", [alerts[-1], alerts[-2], *alerts[:7]])
    capsule = CapsuleBrief(id="cap-1", skill="mesh_debug", trigger="503", procedure=("analyze",), success_rate=0.9,
                           uses=4, learnt_from=2)
    model = ScriptedModel(["Score: 2/5 - missing: A",
                           "<thinking>weak</thinking><teaching>Run `analyze -A`.</teaching>"])
    teacher = LLMTeacher(model)
    plan = "1. kubectl get pods -A\n2. Read the logs."
    probe = teacher.probe(incident, plan, [capsule])
    correction = teacher.correct(incident, plan, probe, [capsule])
    record = {"incident": incident.text(), "plan": plan, "probe": probe.response, "score": probe.score,
              "strategy": probe.strategy, "guidance": correction.text, "capsules": [capsule.to_dict()]}
    assert incident_namespace(incident.text()) == incident.namespace == "shop"
    assert teacher_prompt(record) == model.calls[0].messages
    completion = teacher_completion(record)
    assert parse_probe_score(completion) == probe.score and teaching_text(completion) == "Run `analyze -A`."


@pytest.mark.kubectl
@needs_kubectl
def test_cli_writes_and_reports(run: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "deep" / "x.jsonl"
    assert export_teacher_cli(str(run.out), str(out), fmt="atlas", modes="atlas", phase="eval") == 0
    assert capsys.readouterr().out.strip() == f"wrote 2 atlas lines to {out}"
    assert len(lines(out)) == 2


@pytest.mark.kubectl
@needs_kubectl
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"fmt": "csv"}, "unknown format 'csv': valid formats are trl, atlas"),
    ({"phase": "train"}, "no taught episodes in mode(s) atlas, atlas+capsules, phase train"),
    ({"modes": "student"}, "mode(s) student are not taught"),
    ({"modes": "nope"}, "unknown mode(s) nope"),
    ({"phase": "test"}, "unknown phase 'test'"),
])
def test_cli_errors_are_one_line(run: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 kwargs: dict[str, str], message: str) -> None:
    assert export_teacher_cli(str(run.out), str(tmp_path / "x.jsonl"), **kwargs) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "x.jsonl").exists()


@pytest.mark.parametrize("make", [lambda p: p / "missing", lambda p: p])
def test_not_a_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any) -> None:
    assert export_teacher_cli(str(make(tmp_path)), str(tmp_path / "x.jsonl")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not a" in err and err.count("\n") == 1

