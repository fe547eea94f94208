"""Learning after one investigation (`atlas-sre investigate --learn`): the episode into a capsule store.

The benchmark learns between stages; a user learns after each of their own investigations. What
decides "was the answer right" differs:

- a served scenario has ground truth: the grade decides, and consolidation runs at once (the
  applied capsules' uses are counted with that grade, a correct run teaches a capsule);
- a real cluster has none: the applied capsules' uses are counted as pending, and the run's
  teaching record is saved beside the store (`capsules.runs.save_run`), to be settled later by
  `atlas-sre capsules feedback RUN --correct|--wrong`.

Either way the store's incident counter advances once (pruning's "fired on x of n incidents").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from atlas_sre.capsules import CapsuleStore
from atlas_sre.capsules.consolidate import consolidate_report
from atlas_sre.capsules.episode import EpisodeRecord
from atlas_sre.capsules.outcomes import record_outcome
from atlas_sre.capsules.runs import learnt_dict, save_run
from atlas_sre.protocol.episode import Episode
from atlas_sre.protocol.result import protocol_result, trace_records


@dataclass
class LearnReport:
    """What `--learn` did, for the Markdown report and the `--json` result (`learn`)."""

    store: str
    graded: bool
    correct: bool | None
    uses_recorded: list[str] = field(default_factory=list)
    learnt: list[dict[str, Any]] = field(default_factory=list)
    capsules_in_store: int = 0
    run_id: str | None = None
    run_path: str | None = None
    feedback_command: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def episode_record(episode: Episode) -> dict[str, Any]:
    """The teaching record consolidation reads: the seed-shaped result plus the trace records."""
    return {"result": protocol_result(episode), "records": trace_records(episode)}


def learn_from_episode(store: CapsuleStore, episode: Episode) -> LearnReport:
    """Consolidate a graded episode now, or save an ungraded one for the user's verdict (module doc)."""
    record = episode_record(episode)
    rec = EpisodeRecord.of(record)
    store.record_incident()
    counted = record_outcome(store, rec)
    report = LearnReport(store=str(store.path), graded=rec.correct is not None, correct=rec.correct,
                         uses_recorded=counted)
    if rec.correct is None:
        rid, path = save_run(store.path, record, pending_uses=counted)
        report.run_id, report.run_path = rid, str(path)
        report.feedback_command = f"atlas-sre capsules feedback {rid} --correct|--wrong --store {store.path}"
    else:
        report.learnt = [learnt_dict(x) for x in consolidate_report(store, rec, record_uses=False)]
    report.capsules_in_store = store.count()
    return report
