"""Match an incident to Skill Capsules: lexical BM25F first, a seam for dense re-ranking later.

The incident text (summary + alerts + symptoms seen so far) is matched against each capsule's
trigger, skill, evidence signature, root-cause pattern and procedure, with field weights (a hit in
the trigger says more than a hit in a procedure step). Each hit carries *why*: the query words that
matched, per field, and each term's share of the score.

The index is built once and cached against the store's `content_version` counter (bumped by SQL
triggers on any text change, by any process), so a query costs one tiny SELECT to validate the
cache plus the index walk. Status changes only refresh a status mask; `record_use` changes nothing.

Dense embeddings: implement `Reranker` (e.g. cosine over stored vectors, or a cross-encoder) and pass
it in; BM25 then supplies `rerank_depth` candidates and the reranker orders them (hybrid retrieval).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import BaseModel, Field, computed_field

from atlas_sre.capsules.index import BM25Index
from atlas_sre.capsules.model import RETRIEVABLE, Capsule, CapsuleStatus
from atlas_sre.capsules.store import CapsuleStore
from atlas_sre.capsules.tokenize import surface_forms, tokenize, tokenize_fields

log = logging.getLogger(__name__)

_ALERT_TEXT_KEYS = ("alertname", "summary", "description", "message", "reason")


class RetrievalConfig(BaseModel):
    """BM25F parameters and result filtering (k1/b are the usual Robertson/Lucene defaults)."""

    k1: float = Field(default=1.2, gt=0)
    b: float = Field(default=0.75, ge=0, le=1)
    field_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "trigger": 3.0, "skill": 2.0, "evidence": 2.0, "root_cause": 1.5, "procedure": 1.0,
            "commands": 0.0,  # templates repeat kubectl/namespace boilerplate: off by default
        }
    )
    top_k: int = Field(default=5, ge=1)
    # Raw BM25F score (sum over matched terms of idf × saturated field-weighted tf). It grows with
    # log(store size); 0.5 drops single generic-word matches in stores of a few dozen capsules up.
    min_score: float = Field(default=0.5, ge=0, description="raw BM25F score a hit must reach")
    # "Minimum should match": distinct query terms a capsule must contain (capped at the number of
    # distinct query terms, so a one-word query still works). Stops one shared word ("keeps") from
    # retrieving a capsule, which an absolute score threshold cannot do in small stores.
    min_matched_terms: int = Field(default=2, ge=1)
    statuses: frozenset[CapsuleStatus] = RETRIEVABLE
    rerank_depth: int = Field(default=20, ge=1, description="BM25 candidates handed to a Reranker")


class IncidentQuery(BaseModel):
    """What the agent knows so far. Only alert *text* is used: namespaces/service names are
    incident-specific and would make capsules match by coincidence."""

    summary: str = ""
    alerts: list[dict[str, Any]] = Field(default_factory=list)
    symptoms: list[str] = Field(default_factory=list)

    def text(self) -> str:
        parts = [self.summary]
        for alert in self.alerts:
            labels = {**alert.get("labels", {}), **alert.get("annotations", {}), **alert}
            parts += [str(labels[k]) for k in _ALERT_TEXT_KEYS if isinstance(labels.get(k), str)]
        parts += self.symptoms
        return "\n".join(p for p in parts if p)


class RetrievalHit(BaseModel):
    """One capsule for this incident, its score and why it was chosen."""

    capsule: Capsule
    score: float
    matched: dict[str, list[str]] = Field(description="field → query words found in it")
    term_scores: dict[str, float] = Field(description="query word → its share of the score")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def why(self) -> str:
        """One line for logs and prompts: 'trigger: 503, mesh; evidence: UH'."""
        return "; ".join(f"{f}: {', '.join(ws)}" for f, ws in self.matched.items()) or "no term matched"


class Reranker(Protocol):
    """Seam for dense/hybrid retrieval: reorder (and rescore) BM25's candidates."""

    def rerank(self, query: str, hits: list[RetrievalHit]) -> list[RetrievalHit]: ...


def capsule_fields(skill: str, trigger: str, body: Mapping[str, Any]) -> dict[str, str]:
    """The text of each searchable field (shared by indexing and explanations)."""
    rc = body.get("root_cause") or {}
    return {
        "trigger": trigger,
        "skill": skill,
        "evidence": "\n".join(e["pattern"] if isinstance(e, dict) else e for e in body.get("evidence", [])),
        "root_cause": f"{rc.get('kind', '')} {rc.get('category', '')}",
        "procedure": "\n".join(body.get("procedure", [])),
        "commands": "\n".join(body.get("commands", [])),
    }


def _fields_of(c: Capsule) -> dict[str, str]:
    body = {"procedure": c.procedure, "commands": c.commands, "evidence": [e.pattern for e in c.evidence],
            "root_cause": c.root_cause.model_dump() if c.root_cause else None}
    return capsule_fields(c.skill, c.trigger, body)


class CapsuleRetriever:
    """Top-k capsules for an incident, from a live store (thread-safe; one per process is plenty)."""

    def __init__(
        self, store: CapsuleStore, config: RetrievalConfig | None = None, reranker: Reranker | None = None
    ) -> None:
        self.store = store
        self.config = config or RetrievalConfig()
        self.reranker = reranker
        self._lock = threading.Lock()
        self._index: BM25Index | None = None
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._allowed = bytearray()
        self._all_allowed = True
        self._content_version = -1
        self._status_version = -1

    def refresh(self, force: bool = False) -> bool:
        """Rebuild the index if the store's text changed (or the status mask if only statuses did).

        Returns True when the index was rebuilt. Called by `retrieve`; call it yourself to pay the
        build cost up front (e.g. at agent start).
        """
        counters = self.store.counters()
        with self._lock:
            if force or counters["content_version"] != self._content_version:
                self._rebuild()
                return True
            if counters["status_version"] != self._status_version:
                version, statuses = self.store.statuses()
                self._set_mask(statuses)
                self._status_version = version
        return False

    def _rebuild(self) -> None:
        counters, rows = self.store.index_snapshot()
        weights = {f: w for f, w in self.config.field_weights.items() if w > 0}
        docs = []
        for r in rows:
            fields = capsule_fields(r["skill"], r["trigger_text"], json.loads(r["body"]))
            docs.append(tokenize_fields({f: fields[f] for f in weights}))
        self._index = BM25Index.build(docs, weights, k1=self.config.k1, b=self.config.b)
        self._ids = [r["id"] for r in rows]
        self._pos = {cid: i for i, cid in enumerate(self._ids)}
        self._set_mask({r["id"]: r["status"] for r in rows})
        self._content_version = counters["content_version"]
        self._status_version = counters["status_version"]
        log.debug("capsule index rebuilt: %d capsules, content_version=%d", len(rows), self._content_version)

    def _set_mask(self, statuses: Mapping[str, str]) -> None:
        allowed = {s.value for s in self.config.statuses}
        mask = bytearray(len(self._ids))
        for cid, status in statuses.items():
            i = self._pos.get(cid)
            if i is not None and status in allowed:
                mask[i] = 1
        self._allowed = mask
        self._all_allowed = all(mask)

    def retrieve(
        self, incident: str | IncidentQuery, *, top_k: int | None = None, min_score: float | None = None
    ) -> list[RetrievalHit]:
        """Best capsules first; empty when nothing reaches `min_score`."""
        text = incident.text() if isinstance(incident, IncidentQuery) else incident
        top_k = top_k or self.config.top_k
        min_score = self.config.min_score if min_score is None else min_score
        self.refresh()
        with self._lock:
            index, ids = self._index, self._ids
            mask = None if self._all_allowed else self._allowed
        if index is None:
            return []
        terms = tokenize(text)
        depth = max(top_k, self.config.rerank_depth) if self.reranker else top_k
        min_terms = min(self.config.min_matched_terms, len(set(terms)))
        ranked = index.search(terms, depth, min_score=min_score, allowed=mask, min_terms=min_terms)
        capsules = self.store.get_many([ids[d] for d, _ in ranked])
        forms = surface_forms(text)
        hits = []
        for doc, score in ranked:
            capsule = capsules.get(ids[doc])
            if capsule is None or capsule.status not in self.config.statuses:
                continue  # deleted or demoted by another process since the last refresh
            hits.append(self._explain(capsule, score, forms, lambda t, d=doc: index.weight(t, d)))
        if self.reranker:
            hits = self.reranker.rerank(text, hits)
        return hits[:top_k]

    def _explain(self, capsule: Capsule, score: float, forms: dict[str, str], weight: Any) -> RetrievalHit:
        matched: dict[str, list[str]] = {}
        for name, field_text in _fields_of(capsule).items():
            if self.config.field_weights.get(name, 0) <= 0:
                continue
            present = set(tokenize(field_text))
            words = list(dict.fromkeys(w for t, w in forms.items() if t in present))
            if words:
                matched[name] = words
        shares: dict[str, float] = {}
        for term, word in forms.items():  # "OOMKilled" -> oomkill + oom + kill: one word, summed
            w = weight(term)
            if w > 0:
                shares[word] = shares.get(word, 0.0) + w
        term_scores = {w: round(v, 4) for w, v in sorted(shares.items(), key=lambda x: -x[1])}
        return RetrievalHit(capsule=capsule, score=round(score, 4), matched=matched, term_scores=term_scores)
