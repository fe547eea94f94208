"""eval room: the Diagnosis schema, ground truth, and deterministic grading (DESIGN.md §4, §6)."""

from atlas_sre.eval.diagnosis import (
    Diagnosis,
    DiagnosisError,
    Entity,
    Propagation,
    parse_diagnosis,
    render_markdown,
)
from atlas_sre.eval.grading import (
    DEFAULT_INFRA_NAMESPACES,
    Grade,
    RootCauseScore,
    category_matches,
    contract_path,
    f1_score,
    filter_infra,
    grade,
    lcs_length,
    pass_at_k,
    propagation_f1,
    proximity,
    score_root_causes,
)
from atlas_sre.eval.metrics import aggregate, comparisons_for, efficiency, mean_stderr, stderr, teaching_reward
from atlas_sre.eval.runner import BenchRun, run_bench
from atlas_sre.eval.runner_exec import EpisodeRunner
from atlas_sre.eval.runner_model import MODES, BenchConfig, EpisodeResult, EpisodeTask
from atlas_sre.eval.topology import (
    CLUSTER_SCOPED_KINDS,
    Components,
    Topology,
    canonical_kind,
    entity_key,
    namespace_of,
    normalize_entity,
)
from atlas_sre.eval.truth import GroundTruth, TruthPropagation, TruthRootCause
from atlas_sre.eval.ttr import TTRModel, size_of

__all__ = [
    "MODES",
    "BenchConfig",
    "BenchRun",
    "EpisodeResult",
    "EpisodeRunner",
    "EpisodeTask",
    "TTRModel",
    "aggregate",
    "comparisons_for",
    "efficiency",
    "mean_stderr",
    "run_bench",
    "size_of",
    "stderr",
    "teaching_reward",
    "CLUSTER_SCOPED_KINDS",
    "DEFAULT_INFRA_NAMESPACES",
    "Components",
    "Diagnosis",
    "DiagnosisError",
    "Entity",
    "Grade",
    "GroundTruth",
    "Propagation",
    "RootCauseScore",
    "Topology",
    "TruthPropagation",
    "TruthRootCause",
    "canonical_kind",
    "category_matches",
    "contract_path",
    "entity_key",
    "f1_score",
    "filter_infra",
    "grade",
    "lcs_length",
    "namespace_of",
    "normalize_entity",
    "parse_diagnosis",
    "pass_at_k",
    "propagation_f1",
    "proximity",
    "render_markdown",
    "score_root_causes",
]
