"""`bench --teacher-prompts DIR`: evolved teacher templates (`atlas-sre train prompts`) in a benchmark.

The teacher is served over real HTTP (an OpenAI-compatible test server) and answers differently when
its system prompt carries a rule, so the bench's numbers move only if the folder's templates reach it.
The prompts are part of the run's identity: the same folder resumes, other prompts are refused."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from atlas_sre.agents.llm.teacher_prompts import write_teacher_prompts
from atlas_sre.cli.bench import bench_cli

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
from openai_fake import FakeOpenAIServer, Reply, chat_body  # noqa: E402

RULE = "Always name the mesh analyzer check first."
SCENARIO = "mesh-subset-missing"  # the reference student misses it alone; the analyzer decides it


class Teacher:
    """The fake server's reply queue, computed from each request: probe → a low score; correction → the
    analyzer only when the system prompt carries RULE."""

    def __init__(self, server: FakeOpenAIServer) -> None:
        self.server = server
        self.systems: list[str] = []

    def __bool__(self) -> bool:
        return True

    def popleft(self) -> Reply:
        messages = self.server.chats()[-1].body["messages"]
        self.systems.append(messages[0]["content"])
        text = "\n".join(m["content"] for m in messages)
        if "Reply with exactly one line" in text:
            answer = "Score: 2/5 - missing: A"
        elif RULE in text:
            answer = "<teaching>Run the mesh analyzer: `analyze -A`.</teaching>"
        else:
            answer = "<teaching>Everything looks good. Proceed with your approach.</teaching>"
        return Reply(200, chat_body(answer, model="served"))


def run(out: Path, prompts: Path | None, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, Teacher]:
    with FakeOpenAIServer(models=["served"]) as server:
        teacher = Teacher(server)
        server.chat_replies = teacher  # type: ignore[assignment]
        code = bench_cli([SCENARIO], "atlas", workers=1, teacher=f"openai:served@{server.base_url}", out=str(out),
                         teacher_prompts=str(prompts) if prompts else None)
    return code, capsys.readouterr().err, teacher


def correct(out: Path) -> bool:
    return bool(json.loads((out / "results.jsonl").read_text(encoding="utf-8").splitlines()[0])["grade"]["correct"])


def test_the_folder_templates_reach_the_served_teacher_and_decide_the_run(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "evolved"
    write_teacher_prompts(folder, {"teacher_system": f"You coach SREs. {RULE}"})
    code, err, teacher = run(tmp_path / "packaged", None, capsys)
    assert code == 0, err
    assert not correct(tmp_path / "packaged") and not any(RULE in s for s in teacher.systems)
    code, err, teacher = run(tmp_path / "evolved-run", folder, capsys)
    assert code == 0, err
    assert set(teacher.systems) == {f"You coach SREs. {RULE}\n"} and correct(tmp_path / "evolved-run")
    saved = json.loads((tmp_path / "evolved-run" / "config.json").read_text(encoding="utf-8"))
    assert saved["teacher_prompts"] == {"teacher_system": f"You coach SREs. {RULE}\n"}
    other = tmp_path / "other"
    write_teacher_prompts(other, {"teacher_system": "You coach SREs."})
    code, err, _ = run(tmp_path / "evolved-run", other, capsys)
    assert code == 2 and "different configuration (" in err and "teacher_prompts" in err  # (a new port: teacher too)


def test_teacher_prompt_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_cli([SCENARIO], "atlas", out=str(tmp_path / "a"), teacher_prompts=str(tmp_path / "nope")) == 2
    assert capsys.readouterr().err == f"error: --teacher-prompts {tmp_path / 'nope'}: no such folder\n"
    write_teacher_prompts(tmp_path / "p", {"teacher_system": "You coach SREs."})
    assert bench_cli([SCENARIO], "atlas", out=str(tmp_path / "b"), teacher_prompts=str(tmp_path / "p")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "reference:teacher" in err
    assert not (tmp_path / "b").exists()
