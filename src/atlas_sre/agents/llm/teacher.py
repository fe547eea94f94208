"""A teacher backed by any `ChatModel`: probe in ≤ `probe_token_limit`, correct in ≤ `correction_token_limit`.

The limits are passed as `max_tokens`, so the backend itself enforces them and its usage report is
the proof (a server counts with the model's real tokenizer). The probe's score is parsed robustly
(`parse_probe_score`); the correction prompt depends on the strategy the score selects and asks
for guidance without the answer; only the `<teaching>` part reaches the student. Both prompts
carry the same lettered expert checks, each a phrase and its exact command (`teacher_checks.md`):
the probe counts the ones the plan covers, the correction copies the commands the plan misses.
Applied Skill Capsules appear as one-line digests (skill, track record): their steps are already in the plan.
`prompts` replaces packaged templates by name (`teacher_prompts.py`): how `atlas-sre train prompts`
evaluates the texts it evolves, and how `--teacher-prompts DIR` uses them afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from string import Template

from atlas_sre.agents.llm.student import usage_of
from atlas_sre.agents.llm.teacher_prompts import checked_prompts
from atlas_sre.agents.parsing import parse_probe_score, teaching_text
from atlas_sre.agents.prompting import capsule_digest_block, render
from atlas_sre.agents.types import CapsuleBrief, Correction, Incident, ProbeResult, strategy_for
from atlas_sre.models.base import ChatModel, Message

_CORRECT_PROMPT = {"Light": "teacher_correct_light", "Medium": "teacher_correct_medium",
                   "Heavy": "teacher_correct_heavy"}


def expert_checks(incident: Incident, prompts: Mapping[str, str] | None = None) -> str:
    """The lettered checks both teacher prompts share: words a student understands next to the exact command.

    Small models rate a plan they cannot judge 5/5 and write prose ("check the mesh"); a fixed list
    lets the probe count what the plan covers (`Score: N/5`, which `parse_probe_score` reads) and
    the correction copy exact read-only commands, with the incident's namespace filled in.
    """
    return render_teacher(prompts, "teacher_checks", namespace=incident.namespace or "NAMESPACE").strip()


def render_teacher(prompts: Mapping[str, str] | None, name: str, **values: object) -> str:
    """Template `name` filled like `prompting.render`: the override in `prompts` if there is one."""
    if not prompts or name not in prompts:
        return render(name, **values)
    return Template(prompts[name]).substitute({k: str(v) for k, v in values.items()}).strip() + "\n"


class LLMTeacher:
    """The ATLAS teacher through a chat model."""

    def __init__(self, model: ChatModel, *, probe_token_limit: int = 50, correction_token_limit: int = 200,
                 prompts: Mapping[str, str] | None = None) -> None:
        self.model = model
        self.prompts = checked_prompts(prompts or {})
        self.name = model.name
        self.probe_token_limit = probe_token_limit
        self.correction_token_limit = correction_token_limit

    def _messages(self, user: str) -> list[Message]:
        return [{"role": "system", "content": render_teacher(self.prompts, "teacher_system")},
                {"role": "user", "content": user}]

    def probe(self, incident: Incident, plan: str, capsules: Sequence[CapsuleBrief] = ()) -> ProbeResult:
        """Capability score 1–5 (default 3 when unreadable) and the strategy it selects."""
        prompt = render_teacher(self.prompts, "teacher_probe", incident=incident.text(),
                                plan=plan.strip() or "(no plan)", capsule_block=capsule_digest_block(capsules),
                                checks=expert_checks(incident, self.prompts))
        completion = self.model.complete(self._messages(prompt), max_tokens=self.probe_token_limit)
        score = parse_probe_score(completion.text)
        return ProbeResult(score, completion.text.strip(), strategy_for(score), usage_of(completion))

    def correct(self, incident: Incident, plan: str, probe: ProbeResult,
                capsules: Sequence[CapsuleBrief] = ()) -> Correction:
        """Guidance sized by the probe's strategy (Light / Medium / Heavy)."""
        prompt = render_teacher(self.prompts, _CORRECT_PROMPT[probe.strategy], incident=incident.text(),
                                plan=plan.strip() or "(no plan)", capsule_block=capsule_digest_block(capsules),
                                score=probe.score, checks=expert_checks(incident, self.prompts))
        completion = self.model.complete(self._messages(prompt), max_tokens=self.correction_token_limit)
        return Correction(teaching_text(completion.text), probe.strategy, usage_of(completion))
