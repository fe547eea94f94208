"""The one in-memory BM25F inverted index of the capsule store (numpy arrays).

Why precompute: once the corpus is fixed, each (term, document) BM25 weight is fixed, so it is
computed at build time and a query only *adds* the weights of its terms' posting lists. Scores of
returned hits are exact BM25F scores (ties: lower document id first).

BM25F-lite: a term's pseudo-frequency in a document is Σ_field w_field · tf_field, the document
length Σ_field w_field · len_field, then BM25 saturation with k1, b and the non-negative Lucene idf
log(1 + (N − df + 0.5)/(df + 0.5)).

Layout: postings are one CSR array set: `offsets[t]:offsets[t+1]` slices `docs`/`weights` for term
id t, docs ascending (12 bytes per posting, ~40 MB at 100k capsules). A query adds each of its
terms' weight slices into a dense score vector (a posting list holds each document once, so
fancy-index `+=` is exact), masks ineligible documents and takes the top-k with a partition. Work is
O(postings of the query terms + N) in C: ~1 ms at 100k capsules.

Why numpy only: numpy is a core dependency (matplotlib, itself a core dependency, requires it), so
the pure-Python MaxScore index that used to sit beside this one never ran unless asked for by name,
and it missed the 100k-capsule latency target (docs/capsules.md, "Measured figures").
"""

from __future__ import annotations

import heapq
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np


@dataclass
class Corpus:
    """Per-document term frequencies and lengths (field-weighted), before any weighting."""

    tfs: list[dict[str, float]]
    lengths: list[float]
    df: Counter[str]

    @classmethod
    def from_documents(
        cls, documents: Iterable[Mapping[str, Sequence[str]]], field_weights: Mapping[str, float]
    ) -> Corpus:
        tfs, lengths, df = [], [], Counter()
        for doc in documents:
            tf: dict[str, float] = {}
            length = 0.0
            for name, terms in doc.items():
                w = field_weights.get(name, 0.0)
                if w <= 0 or not terms:
                    continue
                length += w * len(terms)
                for t, n in Counter(terms).items():
                    tf[t] = tf.get(t, 0.0) + w * n
            tfs.append(tf)
            lengths.append(length)
            df.update(tf.keys())
        return cls(tfs, lengths, df)

    @property
    def avgdl(self) -> float:
        return (sum(self.lengths) / len(self.lengths)) if self.lengths else 1.0


def _rank(hits: Iterable[tuple[int, float]], top_k: int) -> list[tuple[int, float]]:
    return heapq.nsmallest(top_k, hits, key=lambda h: (-h[1], h[0]))


class BM25Index:
    """Immutable index over documents given as {field: [terms]}; document ids are 0..N-1."""

    def __init__(self, corpus: Corpus, k1: float = 1.2, b: float = 0.75) -> None:
        self.n_docs = n = len(corpus.tfs)
        self._vocab = {t: i for i, t in enumerate(corpus.df)}
        term_ids, doc_ids, freqs = array("i"), array("i"), []
        vocab_get = self._vocab.__getitem__
        for doc_id, tf in enumerate(corpus.tfs):
            term_ids.extend(map(vocab_get, tf.keys()))
            doc_ids.extend(repeat(doc_id, len(tf)))
            freqs.extend(tf.values())
        tids = np.frombuffer(term_ids, dtype=np.int32) if term_ids else np.zeros(0, np.int32)
        dids = np.frombuffer(doc_ids, dtype=np.int32) if doc_ids else np.zeros(0, np.int32)
        tf_arr = np.asarray(freqs, dtype=np.float64)
        lengths = np.asarray(corpus.lengths, dtype=np.float64)
        df = np.bincount(tids, minlength=len(self._vocab)).astype(np.float64)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        avgdl = corpus.avgdl or 1.0
        norm = k1 * (1.0 - b + b * lengths / avgdl)
        weights = idf[tids] * tf_arr * (k1 + 1.0) / (tf_arr + norm[dids])
        order = np.argsort(tids, kind="stable")  # stable: docs stay ascending within a term
        self._docs = dids[order]
        self._weights = weights[order]
        self._offsets = np.concatenate(([0], np.cumsum(df.astype(np.int64))))
        # (mask object it was built from, bool array); swapped as one tuple so threads never mix them.
        self._mask_cache: tuple[bytearray | None, np.ndarray] = (None, np.ones(n, dtype=bool))

    @classmethod
    def build(
        cls,
        documents: Iterable[Mapping[str, Sequence[str]]],
        field_weights: Mapping[str, float],
        k1: float = 1.2,
        b: float = 0.75,
    ) -> BM25Index:
        """Index `documents` ({field: [terms]}); fields with weight ≤ 0 are left out."""
        return cls(Corpus.from_documents(documents, field_weights), k1, b)

    def __contains__(self, term: str) -> bool:
        return term in self._vocab

    def _slice(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        i = self._vocab[term]
        lo, hi = self._offsets[i], self._offsets[i + 1]
        return self._docs[lo:hi], self._weights[lo:hi]

    def weight(self, term: str, doc_id: int) -> float:
        """The term's contribution to `doc_id`'s score (0 if absent): explanations use it."""
        if term not in self._vocab:
            return 0.0
        docs, weights = self._slice(term)
        j = int(np.searchsorted(docs, doc_id))
        return float(weights[j]) if j < len(docs) and docs[j] == doc_id else 0.0

    def search(
        self,
        terms: Iterable[str],
        top_k: int,
        min_score: float = 0.0,
        allowed: bytearray | None = None,
        min_terms: int = 1,
    ) -> list[tuple[int, float]]:
        """Exact top-k (doc_id, score), best first; scores ≥ `min_score`; `allowed[doc]` 1 = eligible.

        `min_terms`: a document must contain at least this many distinct query terms ("minimum
        should match"): one coincidental word shared with a trigger is not a reason to retrieve it.
        Each distinct query term counts once: a long incident text repeating "503" should not
        outweigh a precise capsule.
        """
        present = [t for t in dict.fromkeys(terms) if t in self._vocab]
        if len(present) < max(1, min_terms) or top_k <= 0:
            return []
        scores = np.zeros(self.n_docs, dtype=np.float64)
        counts = np.zeros(self.n_docs, dtype=np.int32) if min_terms > 1 else None
        for term in present:
            docs, weights = self._slice(term)
            scores[docs] += weights
            if counts is not None:
                counts[docs] += 1
        if allowed is not None:
            cached = self._mask_cache
            if cached[0] is not allowed:  # the retriever swaps the mask object on change
                cached = (allowed, np.frombuffer(bytes(allowed), dtype=np.uint8).astype(bool))
                self._mask_cache = cached
            scores[~cached[1]] = 0.0
        floor = max(min_score, 1e-12)  # a document with no matching term never counts
        cand = np.flatnonzero(scores >= floor)
        if counts is not None:
            cand = cand[counts[cand] >= min_terms]
        if len(cand) > top_k:
            kth = np.partition(scores[cand], len(cand) - top_k)[len(cand) - top_k]
            cand = cand[scores[cand] >= kth]  # keep every tie at the boundary: ranking breaks them
        return _rank(zip(cand.tolist(), scores[cand].tolist(), strict=True), top_k)
