"""Capsules in the user's own loop: `investigate --learn` grows the store, a similar incident applies it,
a real cluster's run waits for `capsules feedback RUN --correct|--wrong`, and the default store is per user."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from atlas_sre.bench.plan import scenario_meta
from atlas_sre.capsules import CapsuleStore
from atlas_sre.cli import capsules as ccli
from atlas_sre.cli.investigate import investigate_cli
from atlas_sre.scenarios.catalog import builtin_paths

FAULT = "crashing-kubernetes-workload-init-container"


def call(**kwargs: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = investigate_cli(**{"incident": "", **kwargs}, out=out, err=err)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def two_of_a_fault(fault: str) -> tuple[str, str]:
    """Two library incidents of the same fault type on different applications (chosen here, in the
    test: the product has no idea which scenarios are alike)."""
    metas = [m for m in map(scenario_meta, builtin_paths()) if m.faults == [fault]]
    first = metas[0]
    other = next(m for m in metas[1:] if m.name.split("-")[0] != first.name.split("-")[0])
    return first.name, other.name


@pytest.fixture(scope="module")
def learnt(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, str, str]:
    store = tmp_path_factory.mktemp("learn") / "team.sqlite"
    first, second = two_of_a_fault(FAULT)
    code, out, err = call(scenario=first, capsules=str(store), learn=True, as_json=True)
    assert code == 0, err
    return store, json.loads(out), first, second


def test_learn_on_a_scenario_grows_the_store_and_a_similar_incident_applies_it(
        learnt: tuple[Path, dict, str, str]) -> None:
    store, result, _, second = learnt
    learn = result["learn"]
    assert learn["graded"] and learn["correct"] and result["capsule_store"] == str(store)
    assert [c["action"] for c in learn["learnt"]] == ["learnt"]
    capsule_id = learn["learnt"][0]["id"]
    with CapsuleStore(store) as s:
        assert [c.id for c in s.list()] == [capsule_id] and s.counters()["incidents_seen"] == 1

    code, out, err = call(scenario=second, capsules=str(store))  # Markdown this time
    assert code == 0, err
    assert "## Skill Capsules" in out and f"`{capsule_id}`" in out
    row = next(line for line in out.splitlines() if f"`{capsule_id}`" in line)
    assert "trigger:" in row  # why it matched: the incident's own words found in the trigger
    assert "**Grade:** correct" in out


def test_learning_the_similar_incident_reinforces_instead_of_duplicating(
        learnt: tuple[Path, dict, str, str], tmp_path: Path) -> None:
    store, _, first, second = learnt
    copy = tmp_path / "copy.sqlite"
    with CapsuleStore(store) as s:  # a copy: the module fixture's store stays as the first run left it
        data = s.export_json()
    with CapsuleStore(copy) as c:
        c.import_json(data)
    code, out, err = call(scenario=second, capsules=str(copy), learn=True, as_json=True)
    assert code == 0, err
    result = json.loads(out)
    assert [c["id"] for c in result["capsules"]][:1] == [json.loads(data)[0]["id"]]
    assert result["learn"]["uses_recorded"] == [result["capsules"][0]["id"]]
    assert {c["action"] for c in result["learn"]["learnt"]} <= {"learnt", "merged"}


def test_real_cluster_run_is_saved_and_settled_by_feedback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from atlas_sre.scenarios.serving import build_state
    from atlas_sre.sim.api.serve import SimServer

    store = tmp_path / "cluster.sqlite"
    state, namespace = build_state("crashloop-missing-env")
    with SimServer(state, namespace=namespace) as sim:
        code, out, err = call(incident="Checkout pods keep restarting", kubeconfig=str(sim.kubeconfig_path),
                              namespace=namespace, capsules=str(store), learn=True)
    assert code == 0, err
    assert "## Learning" in out and "No ground truth on this cluster" in out
    assert "capsules feedback" in err
    runs = list((tmp_path / "runs").glob("*.json"))
    assert len(runs) == 1
    run_id = runs[0].stem
    assert f"atlas-sre capsules feedback {run_id} --correct|--wrong --store {store}" in out
    with CapsuleStore(store) as s:
        assert s.count() == 0  # nothing learnt before the verdict

    capsys.readouterr()
    assert ccli.feedback_cli(run_id[:12], True, str(store), as_json=True) == 0
    settled = json.loads(capsys.readouterr().out)
    assert settled["correct"] and settled["capsules"] == 1 and settled["learnt"][0]["action"] == "learnt"
    assert json.loads(runs[0].read_text())["feedback"]["correct"] is True
    assert ccli.feedback_cli(str(runs[0]), False, str(store)) == 1  # a run is settled once
    assert "already marked correct" in capsys.readouterr().err


def test_default_store_is_per_user_and_no_capsules_disables_it(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home.sqlite"
    monkeypatch.setenv("ATLAS_SRE_CAPSULES", str(home))
    code, out, err = call(scenario="crashloop-missing-env", no_teach=True, max_steps=5, as_json=True)
    assert code == 0, err
    assert "capsule_store" not in json.loads(out) and not home.exists()  # no store yet: none applied
    code, out, err = call(scenario="crashloop-missing-env", no_teach=True, max_steps=5, as_json=True, learn=True)
    assert code == 0, err
    assert json.loads(out)["capsule_store"] == str(home) and home.exists()
    with CapsuleStore(home) as s:
        learnt = s.count()
    assert learnt == 1
    code, out, err = call(scenario="crashloop-missing-env", no_teach=True, max_steps=5, as_json=True)
    assert [c["id"] for c in json.loads(out)["capsules"]]  # the default store's capsule is applied
    code, out, err = call(scenario="crashloop-missing-env", no_teach=True, max_steps=5, as_json=True,
                          no_capsules=True)
    assert code == 0 and json.loads(out)["capsules"] == [] and "capsule_store" not in json.loads(out)
    code, out, err = call(scenario="crashloop-missing-env", no_capsules=True, learn=True)
    assert code == 2 and "cannot be combined" in err


def test_the_suite_never_uses_the_real_home_store() -> None:
    import os

    assert "capsule-home" in os.environ["ATLAS_SRE_CAPSULES"]


def test_feedback_flags_through_typer(tmp_path: Path) -> None:
    """`--correct/--wrong` and the older `--success/--failure` both reach `feedback_cli`; neither is an error."""
    from typer.testing import CliRunner

    from atlas_sre.capsules import Capsule
    from atlas_sre.cli import app

    store = tmp_path / "s.sqlite"
    with CapsuleStore(store) as s:
        cid = s.upsert(Capsule(skill="x_debug", trigger="x", procedure=["look"])).id
    runner = CliRunner()
    for flag in ("--correct", "--failure", "--wrong"):
        got = runner.invoke(app, ["capsules", "feedback", cid, flag, "--store", str(store), "--json"])
        assert got.exit_code == 0, got.output
    with CapsuleStore(store) as s:
        c = s.get(cid)
    assert c is not None and (c.uses, c.successes, c.failures) == (3, 1, 2)
    missing = runner.invoke(app, ["capsules", "feedback", cid, "--store", str(store)])
    assert missing.exit_code == 1 and "--correct or --wrong" in missing.output
    unknown = runner.invoke(app, ["capsules", "feedback", "20990101T000000Z-abcdef", "--correct",
                                  "--store", str(store)])
    assert unknown.exit_code == 1 and "no saved run '20990101T000000Z-abcdef'" in unknown.output
