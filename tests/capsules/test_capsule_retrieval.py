"""Retrieval: the right capsule first for paraphrased incidents, explanations, caching, backends."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest
from capsule_corpus import CAPSULES, INCIDENTS

from atlas_sre.capsules import (
    BM25Index,
    Capsule,
    CapsuleRetriever,
    CapsuleStatus,
    CapsuleStore,
    IncidentQuery,
    RetrievalConfig,
    tokenize,
)
from atlas_sre.capsules.index import numpy_available

BACKENDS = ["python", pytest.param("numpy", marks=pytest.mark.skipif(
    not numpy_available(), reason="numpy not installed"))]


@pytest.fixture
def store(tmp_path):
    with CapsuleStore(tmp_path / "c.sqlite") as s:
        s.upsert_many(CAPSULES)
        yield s


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("incident", "skill"), INCIDENTS, ids=[s for _, s in INCIDENTS])
def test_right_capsule_ranks_first(store, backend, incident, skill):
    hits = CapsuleRetriever(store, RetrievalConfig(backend=backend)).retrieve(incident, top_k=3)
    assert hits, "nothing retrieved"
    assert hits[0].capsule.skill == skill, [(h.capsule.skill, h.score, h.why) for h in hits]
    assert all(a.score >= b.score for a, b in pairwise(hits))


def test_covers_required_incident_classes():
    assert len({s for _, s in INCIDENTS}) >= 8


def test_explanation_names_matching_words_per_field(store):
    hit = CapsuleRetriever(store).retrieve(
        "checkout returns 503 for 40% of requests; the istio-proxy log shows response flag NC")[0]
    assert "NC" in hit.matched["evidence"] and "503" in hit.matched["trigger"]
    assert "NC" in hit.why and "evidence" in hit.why
    assert sum(hit.term_scores.values()) == pytest.approx(hit.score, abs=1e-3)
    assert list(hit.term_scores.values()) == sorted(hit.term_scores.values(), reverse=True)


def test_threshold_and_top_k(store):
    r = CapsuleRetriever(store)
    assert r.retrieve("the coffee machine on the third floor is broken") == []
    assert r.retrieve("503", min_score=1000.0) == []
    assert len(r.retrieve("pods 503 memory dns image", top_k=2)) == 2
    # One shared word ("keeps" with the crash-loop trigger) is not enough in a multi-word incident ...
    assert r.retrieve("kafka consumer lag keeps growing") == []
    assert r.retrieve("kafka consumer lag keeps growing", min_score=0.0) == []
    # ... but a one-word query still retrieves (minimum-should-match is capped at the query's terms).
    assert {h.capsule.skill for h in r.retrieve("OOMKilled")} == {"oom_killed"}
    assert "mesh_subset_routing" in {h.capsule.skill for h in r.retrieve("503")}


def test_incident_query_uses_alert_text_not_identifiers():
    q = IncidentQuery(summary="Checkout fails", alerts=[{"alertname": "HighRequestErrorRate",
                      "namespace": "shop", "labels": {"service": "frontend"},
                      "annotations": {"description": "error rate above 5%"}}], symptoms=["503 NC"])
    text = q.text()
    assert "HighRequestErrorRate" in text and "error rate above 5%" in text and "503 NC" in text
    assert "shop" not in text and "frontend" not in text


def test_cache_follows_store_changes(store):
    r = CapsuleRetriever(store)
    assert r.retrieve("kafka consumer lag keeps growing") == []
    index = r._index
    lag = store.add(Capsule(skill="consumer_lag", trigger="Kafka consumer lag keeps growing",
                            procedure=["read consumer group offsets"]))
    assert r.retrieve("kafka consumer lag keeps growing")[0].capsule.id == lag.id  # rebuilt
    index = r._index
    store.record_use(lag.id, success=True)  # statistics never invalidate the index ...
    hit = r.retrieve("kafka consumer lag keeps growing")[0]
    assert r._index is index and hit.capsule.uses == 1  # ... and hits carry fresh statistics
    store.set_status(lag.id, CapsuleStatus.DEPRECATED)  # status: mask refresh, no rebuild
    assert r.retrieve("kafka consumer lag keeps growing") == [] and r._index is index
    store.set_status(lag.id, CapsuleStatus.PROVISIONAL)
    assert r.retrieve("kafka consumer lag keeps growing")[0].capsule.id == lag.id
    store.delete(lag.id)
    assert r.retrieve("kafka consumer lag keeps growing") == [] and r._index is not index


def test_reranker_seam_reorders(store):
    class Reverse:
        def rerank(self, query, hits):
            return list(reversed(hits))

    plain = CapsuleRetriever(store).retrieve("503 errors", top_k=2)
    reranked = CapsuleRetriever(store, RetrievalConfig(rerank_depth=2), reranker=Reverse()).retrieve(
        "503 errors", top_k=2)
    assert [h.capsule.id for h in reranked] == [h.capsule.id for h in reversed(plain)]


def test_empty_store_retrieves_nothing(tmp_path):
    with CapsuleStore(tmp_path / "e.sqlite") as s:
        assert CapsuleRetriever(s).retrieve("503") == []


def test_tokenizer_keeps_codes_flags_and_splits_camel_case():
    terms = tokenize("HTTP 503 UH NC CrashLoopBackOff OOMKilled istio-proxy a the")
    assert {"503", "uh", "nc", "crashloopbackoff", "crash", "loop", "oomkill", "oom", "istio", "proxy"} <= set(terms)
    assert "a" not in terms and "the" not in terms
    assert tokenize("errors failing pods denied") == tokenize("error failed pod deny") or \
        set(tokenize("errors pods")) == set(tokenize("error pod"))


def _random_docs(n: int, seed: int) -> list[dict[str, list[str]]]:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(300)]
    weights = [1.0 / (i + 1) for i in range(300)]  # Zipf-like: a few terms in most documents
    return [{"trigger": rng.choices(vocab, weights, k=rng.randint(1, 8)),
             "procedure": rng.choices(vocab, weights, k=rng.randint(0, 20))} for _ in range(n)]


@pytest.mark.skipif(not numpy_available(), reason="numpy not installed")
def test_backends_agree_exactly():
    docs = _random_docs(3000, seed=3)
    fw = {"trigger": 3.0, "procedure": 1.0}
    py, np_ = (BM25Index.build(docs, fw, backend=b) for b in ("python", "numpy"))
    rng = random.Random(5)
    for trial in range(150):
        query = [f"w{int(rng.paretovariate(0.8)) % 300}" for _ in range(rng.randint(1, 12))]
        mask = bytearray(rng.random() < 0.8 for _ in docs) if trial % 2 else None
        k, m = rng.choice([1, 5, 20]), rng.choice([1, 1, 2, 3])
        a, b = py.search(query, k, 0.1, mask, m), np_.search(query, k, 0.1, mask, m)
        assert [d for d, _ in a] == [d for d, _ in b]
        assert [s for _, s in a] == pytest.approx([s for _, s in b], rel=1e-9)


def test_python_backend_is_exact_against_brute_force():
    docs = _random_docs(800, seed=9)
    fw = {"trigger": 3.0, "procedure": 1.0}
    index = BM25Index.build(docs, fw, backend="python")
    rng = random.Random(1)
    for trial in range(150):
        query = list({f"w{int(rng.paretovariate(0.8)) % 300}" for _ in range(rng.randint(1, 10))})
        m = 1 + trial % 3
        mask = bytearray(rng.random() < 0.7 for _ in docs) if trial % 2 else None
        matches = [[index.weight(t, d) for t in query if index.weight(t, d) > 0] for d in range(len(docs))]
        brute = sorted(((d, sum(ws)) for d, ws in enumerate(matches)
                        if len(ws) >= m and (mask is None or mask[d])), key=lambda h: (-h[1], h[0]))
        expected = [h for h in brute if h[1] >= 0.1][:5]
        got = index.search(query, 5, 0.1, mask, m)
        assert [d for d, _ in got] == [d for d, _ in expected]
        assert [s for _, s in got] == pytest.approx([s for _, s in expected])
