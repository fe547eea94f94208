"""Skill Capsules: investigation procedures that worked, kept with evidence of how well they work.

A capsule says "when an incident looks like *trigger*, run *procedure* (concretely: *commands*);
the cause is proved when output shows *evidence*". The room owns:

- `model`: `Capsule` (seed-compatible JSON, Beta success rate with a documented prior);
- `store`: `CapsuleStore`, one SQLite file (WAL) that many processes may write at once;
- `retrieval`: `CapsuleRetriever`, BM25F over trigger/skill/evidence/procedure with a cached
  inverted index and a per-hit explanation; `Reranker` is the seam for embeddings;
- `pruning`: rules that deprecate or prune capsules that are harmful, neutral or too specific;
- `exchange`: JSON import/export (the seed's single object is a valid import).

Consolidation (trajectory → capsule) plugs in through `CapsuleStore.upsert` (ids are derived from
skill + procedure, so relearning the same lesson updates one row) and `CapsuleStore.record_use`.
"""

from atlas_sre.capsules.exchange import dump_capsules, load_capsules
from atlas_sre.capsules.index import BM25Index
from atlas_sre.capsules.model import (
    IMPORT_PRIOR_STRENGTH,
    RETRIEVABLE,
    Capsule,
    CapsuleSource,
    CapsuleStatus,
    EvidencePattern,
    RootCausePattern,
    capsule_id,
)
from atlas_sre.capsules.pruning import PruningConfig, PruningDecision, plan_pruning, prune, review_capsule
from atlas_sre.capsules.retrieval import (
    CapsuleRetriever,
    IncidentQuery,
    Reranker,
    RetrievalConfig,
    RetrievalHit,
)
from atlas_sre.capsules.stats import BetaPosterior
from atlas_sre.capsules.store import (
    ENV_VAR,
    CapsuleExistsError,
    CapsuleStore,
    SchemaTooNewError,
    default_store_path,
)
from atlas_sre.capsules.tokenize import tokenize

__all__ = [
    "ENV_VAR",
    "IMPORT_PRIOR_STRENGTH",
    "RETRIEVABLE",
    "BM25Index",
    "BetaPosterior",
    "Capsule",
    "CapsuleExistsError",
    "CapsuleRetriever",
    "CapsuleSource",
    "CapsuleStatus",
    "CapsuleStore",
    "EvidencePattern",
    "IncidentQuery",
    "PruningConfig",
    "PruningDecision",
    "Reranker",
    "RetrievalConfig",
    "RetrievalHit",
    "RootCausePattern",
    "SchemaTooNewError",
    "capsule_id",
    "default_store_path",
    "dump_capsules",
    "load_capsules",
    "plan_pruning",
    "prune",
    "review_capsule",
    "tokenize",
]
