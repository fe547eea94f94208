"""Retrieval: the right capsule first for paraphrased incidents, explanations, caching, exact BM25F."""

from __future__ import annotations

import math
import random
from collections import Counter
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


@pytest.fixture
def store(tmp_path):
    with CapsuleStore(tmp_path / "c.sqlite") as s:
        s.upsert_many(CAPSULES)
        yield s


@pytest.mark.parametrize(("incident", "skill"), INCIDENTS, ids=[s for _, s in INCIDENTS])
def test_right_capsule_ranks_first(store, incident, skill):
    hits = CapsuleRetriever(store, RetrievalConfig()).retrieve(incident, top_k=3)
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


def _reference_weights(docs: list[dict[str, list[str]]], fw: dict[str, float], k1: float = 1.2,
                       b: float = 0.75) -> list[dict[str, float]]:
    """BM25F written out term by term in plain Python: what the index's arrays must reproduce."""
    tfs, lengths = [], []
    for doc in docs:
        tf: Counter[str] = Counter()
        for name, terms in doc.items():
            for t in terms:
                tf[t] += fw[name]
        tfs.append(tf)
        lengths.append(sum(fw[name] * len(terms) for name, terms in doc.items()))
    df = Counter(t for tf in tfs for t in tf)
    avgdl, n = sum(lengths) / len(lengths), len(docs)
    idf = {t: math.log(1.0 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
    return [{t: idf[t] * f * (k1 + 1.0) / (f + k1 * (1.0 - b + b * length / avgdl)) for t, f in tf.items()}
            for tf, length in zip(tfs, lengths, strict=True)]


def _postings(weights: list[dict[str, float]]) -> dict[str, list[tuple[int, float]]]:
    postings: dict[str, list[tuple[int, float]]] = {}
    for d, w in enumerate(weights):
        for t, x in w.items():
            postings.setdefault(t, []).append((d, x))
    return postings


def _brute_force(postings: dict[str, list[tuple[int, float]]], query: list[str], k: int, min_score: float,
                 mask: bytearray | None, m: int) -> list[tuple[int, float]]:
    """Score documents the obvious way: sum the weights of the distinct query terms, then sort all."""
    score: dict[int, float] = {}
    matched: Counter[int] = Counter()
    for t in dict.fromkeys(query):
        for d, x in postings.get(t, []):
            score[d] = score.get(d, 0.0) + x
            matched[d] += 1
    ranked = sorted(((d, s) for d, s in score.items() if matched[d] >= m and (mask is None or mask[d])),
                    key=lambda h: (-h[1], h[0]))
    return [h for h in ranked if h[1] >= min_score][:k]


def test_index_agrees_with_brute_force_on_a_large_corpus():
    """Was "the python and numpy backends agree"; one index is left, so it answers to brute force."""
    docs = _random_docs(3000, seed=3)
    fw = {"trigger": 3.0, "procedure": 1.0}
    index, postings = BM25Index.build(docs, fw), _postings(_reference_weights(docs, fw))
    rng = random.Random(5)
    for trial in range(150):
        query = [f"w{int(rng.paretovariate(0.8)) % 300}" for _ in range(rng.randint(1, 12))]
        mask = bytearray(rng.random() < 0.8 for _ in docs) if trial % 2 else None
        k, m = rng.choice([1, 5, 20]), rng.choice([1, 1, 2, 3])
        got, expected = index.search(query, k, 0.1, mask, m), _brute_force(postings, query, k, 0.1, mask, m)
        assert [d for d, _ in got] == [d for d, _ in expected]
        assert [s for _, s in got] == pytest.approx([s for _, s in expected], rel=1e-9)


def test_index_is_exact_against_brute_force():
    docs = _random_docs(800, seed=9)
    fw = {"trigger": 3.0, "procedure": 1.0}
    index, weights = BM25Index.build(docs, fw), _reference_weights(docs, fw)
    postings = _postings(weights)
    rng = random.Random(1)
    for trial in range(150):
        query = list({f"w{int(rng.paretovariate(0.8)) % 300}" for _ in range(rng.randint(1, 10))})
        m = 1 + trial % 3
        mask = bytearray(rng.random() < 0.7 for _ in docs) if trial % 2 else None
        expected = _brute_force(postings, query, 5, 0.1, mask, m)
        got = index.search(query, 5, 0.1, mask, m)
        assert [d for d, _ in got] == [d for d, _ in expected]
        assert [s for _, s in got] == pytest.approx([s for _, s in expected])
        for d, _ in got:  # explanations read single weights back
            assert [index.weight(t, d) for t in query] == pytest.approx([weights[d].get(t, 0.0) for t in query])
