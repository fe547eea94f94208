"""`train prompts` end to end: GEPA over real guided episodes (reference student, real simulator, real grader).

The teacher is a test double whose guidance depends on the prompt it is given: it sends the student
to the mesh analyzer only when its prompts carry `RULE`, and the reference student, sent there,
finds mesh root causes it misses alone. The reflection model proposes `RULE` appended to whatever
template it is shown. So a real score difference exists only through the prompt text, and the test
checks that GEPA finds it on the training half and that the held-out figure moves (or does not, when
the reflection proposes nothing useful).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from atlas_sre.agents.llm.teacher_prompts import load_teacher_prompts, packaged_prompts
from atlas_sre.cli.train_prompts import train_prompts_cli
from atlas_sre.models.scripted import ScriptedModel
from atlas_sre.training.prompts_run import PromptSettings, evolve_teacher_prompts

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
from openai_fake import FakeOpenAIServer, Reply, chat_body, closed_port  # noqa: E402

pytest.importorskip("gepa")

RULE = "Always name the mesh analyzer check first."
# The packaged teacher fails these (its double says "looks good"); the analyzer decides each of them.
MESH = ["mesh-subset-missing", "mesh-strict-mtls-plaintext-worker", "mesh-sidecar-blocks-caller-alert",
        "service-no-endpoints"]


def teacher_answer(messages: list[dict]) -> str:
    text = "\n".join(m["content"] for m in messages)
    if "Reply with exactly one line" in text:
        return "Score: 2/5 - missing: A"
    if RULE in text:
        return "<teaching>Run the mesh analyzer: `analyze -A`.</teaching>"
    return "<teaching>Everything looks good. Proceed with your approach.</teaching>"


def reflect_with(addition: str):
    def answer(messages: list[dict]) -> str:
        current = re.search(r"```\n(.*?)\n```", messages[-1]["content"], re.S)
        assert current is not None, "the reflection prompt shows the current template"
        return f"```\n{current.group(1)}\n{addition}\n```"
    return answer


def test_gepa_finds_the_better_prompt_and_the_heldout_figure_moves(tmp_path: Path) -> None:
    teacher, reflector = ScriptedModel(teacher_answer), ScriptedModel(reflect_with(RULE + " It costs $5."))
    settings = PromptSettings(teacher="openai:double", out=str(tmp_path / "out"), scenarios=MESH, split="2:2",
                              budget=6, minibatch=2)
    result = evolve_teacher_prompts(settings, teacher_model=teacher, reflection_model=reflector)

    assert (result.before, result.after) == (0.0, 1.0)
    assert len(result.improved_templates) == 1
    evolved = load_teacher_prompts(result.out)  # written under the packaged names, and loadable back
    assert set(evolved) == set(packaged_prompts())
    name = result.improved_templates[0]
    assert RULE in evolved[name] and "$$5" in evolved[name]  # a stray dollar is escaped, not a placeholder
    assert all(evolved[n] == text for n, text in packaged_prompts().items() if n != name)
    record = json.loads((result.out / "prompts.json").read_text())
    assert record["heldout_accuracy"] == {"before": 0.0, "after": 1.0}
    assert [r["correct"] for r in record["heldout"]["after"]] == [True, True]
    assert sorted(result.train + result.heldout) == sorted(MESH)

    # Ground truth reaches the reflection model (GEPA's feedback), never the teacher.
    assert any("The true root cause" in c.last_user for c in reflector.calls)
    assert not any("true root cause" in m["content"].lower() for c in teacher.calls for m in c.messages)


def test_no_useful_proposal_keeps_the_packaged_prompts_and_says_so(tmp_path: Path) -> None:
    reflector = ScriptedModel(reflect_with("Be brief."))
    settings = PromptSettings(teacher="openai:double", out=str(tmp_path / "out"), scenarios=MESH[:2], split="1:1",
                              budget=3, minibatch=1)
    result = evolve_teacher_prompts(settings, teacher_model=ScriptedModel(teacher_answer),
                                    reflection_model=reflector)
    assert reflector.calls, "GEPA reflected once"
    assert (result.before, result.after, result.improved_templates) == (0.0, 0.0, [])
    assert load_teacher_prompts(result.out) == packaged_prompts()


@pytest.mark.parametrize(("options", "message"), [
    ({"teacher": "reference:teacher"}, "--teacher must be a model"),
    ({"teacher": "nope:x"}, "unknown model spec"),
    ({"components": ["teacher_probe", "student_plan"]}, "unknown --components student_plan"),
    ({"split": "lots"}, "--split must be"),
    ({"budget": 0}, "--budget"),
])
def test_bad_options_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], options: dict,
                                         message: str) -> None:
    code = train_prompts_cli(**{"teacher": "openai:m@http://127.0.0.1:9/v1", "out": str(tmp_path), **options})
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1


def test_unreachable_server_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = f"openai:m@http://127.0.0.1:{closed_port()}/v1?max_retries=0&timeout_s=5"
    code = train_prompts_cli(teacher=spec, out=str(tmp_path), scenarios=MESH[:2], split="1:1", budget=2)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err[-1].startswith("error: ") and "127.0.0.1" in err[-1]


class AnsweringQueue:
    """Stands in for the fake server's reply queue: each reply is computed from the request just received."""

    def __init__(self, server: FakeOpenAIServer) -> None:
        self.server = server

    def __bool__(self) -> bool:
        return True

    def popleft(self) -> Reply:
        messages = self.server.chats()[-1].body["messages"]
        reflecting = "Write an improved version of the template" in messages[-1]["content"]
        text = reflect_with(RULE)(messages) if reflecting else teacher_answer(messages)
        return Reply(200, chat_body(text, model="served"))


@pytest.mark.slow  # ~20 s: kept out of the default run, which the first test already covers in-process
def test_cli_over_http_teacher_and_reflection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same evolution with the teacher and the reflection model behind a real OpenAI-compatible HTTP server."""
    with FakeOpenAIServer(models=["served"]) as server:
        server.chat_replies = AnsweringQueue(server)  # type: ignore[assignment]
        out = tmp_path / "prompts"
        code = train_prompts_cli(teacher=f"openai:served@{server.base_url}", out=str(out), scenarios=MESH[:2],
                                 split="1:1", budget=4, seed=0)
        printed = capsys.readouterr()
        assert code == 0, printed.err
        assert "before 0.000, after 1.000" in printed.out
        assert any("Write an improved version" in s.body["messages"][-1]["content"] for s in server.chats())
    assert any(RULE in text for text in load_teacher_prompts(out).values())


def test_investigate_uses_written_prompts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`investigate --teacher-prompts DIR` sends the folder's templates to a served teacher."""
    from atlas_sre.agents.llm.teacher_prompts import write_teacher_prompts
    from atlas_sre.cli.investigate import investigate_cli

    write_teacher_prompts(tmp_path, {"teacher_system": f"You coach SREs. {RULE}"})
    with FakeOpenAIServer(models=["served"]) as server:
        server.chat_replies = AnsweringQueue(server)  # type: ignore[assignment]
        code = investigate_cli("", scenario=MESH[0], teacher=f"openai:served@{server.base_url}", as_json=True,
                               no_capsules=True, teacher_prompts=str(tmp_path))
        systems = {s.body["messages"][0]["content"] for s in server.chats()}
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and systems == {f"You coach SREs. {RULE}\n"}
    assert result["grades"]["guided"]["correct"] and not result["grades"]["baseline"]["correct"]


def test_missing_gepa_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gepa", None)  # `import gepa` now raises ImportError
    code = train_prompts_cli(teacher="openai:m@http://127.0.0.1:9/v1", out=str(tmp_path))
    err = capsys.readouterr().err
    assert code == 2 and err == "error: the gepa package is missing: pip install 'atlas-sre[train]'\n"


def test_a_folder_with_other_settings_is_refused(tmp_path: Path) -> None:
    from atlas_sre.training.prompts_run import check_resume

    check_resume(tmp_path, PromptSettings(teacher="openai:a", out=str(tmp_path), budget=10))
    check_resume(tmp_path, PromptSettings(teacher="openai:a", out=str(tmp_path), budget=50))  # more budget: go on
    with pytest.raises(ValueError, match=r"other settings \(split, teacher\)"):
        check_resume(tmp_path, PromptSettings(teacher="openai:b", out=str(tmp_path), split="0.3"))


def test_an_unusable_rewrite_scores_zero_without_running(tmp_path: Path) -> None:
    from atlas_sre.bench.plan import resolve_scenarios
    from atlas_sre.training.prompts_gepa import TeacherPromptAdapter

    def never(prompts: object, scenario: object) -> None:
        raise AssertionError("an unusable candidate reached the teacher")

    batch = resolve_scenarios(MESH[:1], tmp_path)
    result = TeacherPromptAdapter(never).evaluate(batch, {"teacher_probe": "  "}, capture_traces=True)
    assert result.scores == [0.0] and "teacher_probe is empty" in result.trajectories[0].verdict
    # seen with a 1.5B reflection model: the template's values for one example incident, as JSON
    filled = '{\n  "incident": "Every checkout fails with a 502",\n  "plan": "1. List the pods"\n}'
    result = TeacherPromptAdapter(never).evaluate(batch, {"teacher_probe": filled}, capture_traces=True)
    assert result.scores == [0.0] and "teacher_probe no longer contains $incident" in result.trajectories[0].verdict
    kept = "Rate this plan: $plan\nfor: $incident"  # the inputs kept, the rest rewritten: evaluated
    with pytest.raises(AssertionError, match="reached the teacher"):
        TeacherPromptAdapter(never).evaluate(batch, {"teacher_probe": kept}, capture_traces=True)


def test_a_rewrite_quoting_ground_truth_is_never_run(tmp_path: Path) -> None:
    """A reflection model that copies its feedback (the true root cause) into a template gets score 0, unrun."""
    from atlas_sre.agents.factory import make_student
    from atlas_sre.bench.plan import resolve_scenarios
    from atlas_sre.training.prompts_eval import episode_evaluator
    from atlas_sre.training.prompts_gepa import TeacherPromptAdapter

    real = episode_evaluator(ScriptedModel(teacher_answer), make_student("reference:student"))
    calls: list[str] = []

    def counted(prompts, scenario):  # noqa: ANN001, ANN202
        calls.append(scenario.name)
        return real(prompts, scenario)

    adapter = TeacherPromptAdapter(counted)
    batch = resolve_scenarios(MESH[:1], tmp_path)
    first = adapter.evaluate(batch, packaged_prompts(), capture_traces=True)
    feedback = first.trajectories[0].verdict
    assert "The true root cause: shop/DestinationRule/reviews" in feedback
    leaked = {**packaged_prompts(), "teacher_system": "Hint: look at shop/DestinationRule/reviews first."}
    second = adapter.evaluate(batch, leaked, capture_traces=True)
    assert calls == [MESH[0]] and second.scores == [0.0]
    assert "quotes the ground truth" in second.trajectories[0].verdict
    assert adapter.get_adapter_state()["secrets"]  # checkpointed with GEPA's state
