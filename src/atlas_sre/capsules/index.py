"""In-memory BM25F inverted indexes: a pure-Python one and, when numpy is installed, a numpy one.

Why precompute: once the corpus is fixed, each (term, document) BM25 weight is fixed, so it is
computed at build time and a query only *adds* the weights of its terms' posting lists. Scores of
returned hits are exact BM25F scores in both backends (ties: lower document id first).

BM25F-lite: a term's pseudo-frequency in a document is Σ_field w_field · tf_field, the document
length Σ_field w_field · len_field, then BM25 saturation with k1, b and the non-negative Lucene idf
log(1 + (N − df + 0.5)/(df + 0.5)).

Backends (`build(..., backend=...)`): "numpy" adds posting slices into a dense score vector
(~1 ms at 100k capsules); "python" walks posting lists rarest-first with MaxScore pruning (once
the k-th best partial score beats what all remaining terms could add, those terms only update
surviving candidates). "auto" picks numpy when importable. Both hold postings in compact arrays
(12–16 bytes per posting, ~40 MB at 100k capsules).
"""

from __future__ import annotations

import heapq
import math
from abc import ABC, abstractmethod
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


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

    def idf(self, term: str) -> float:
        n, d = len(self.tfs), self.df[term]
        return math.log(1.0 + (n - d + 0.5) / (d + 0.5))


def numpy_available() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


class BM25Index(ABC):
    """Immutable index over documents given as {field: [terms]}; document ids are 0..N-1."""

    backend: str = ""
    n_docs: int = 0

    @staticmethod
    def build(
        documents: Iterable[Mapping[str, Sequence[str]]],
        field_weights: Mapping[str, float],
        k1: float = 1.2,
        b: float = 0.75,
        backend: str = "auto",
    ) -> BM25Index:
        corpus = Corpus.from_documents(documents, field_weights)
        if backend == "auto":
            backend = "numpy" if numpy_available() else "python"
        if backend == "numpy":
            from atlas_sre.capsules.index_numpy import NumpyBM25Index

            return NumpyBM25Index(corpus, k1, b)
        if backend == "python":
            return PythonBM25Index(corpus, k1, b)
        raise ValueError(f"unknown index backend {backend!r}; valid: auto, numpy, python")

    @abstractmethod
    def __contains__(self, term: str) -> bool: ...

    @abstractmethod
    def weight(self, term: str, doc_id: int) -> float:
        """The term's contribution to `doc_id`'s score (0 if absent): explanations use it."""

    @abstractmethod
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


def _rank(hits: Iterable[tuple[int, float]], top_k: int) -> list[tuple[int, float]]:
    return heapq.nsmallest(top_k, hits, key=lambda h: (-h[1], h[0]))


_TOPK_BOUND = 64  # per-term sorted top weights kept for cheap lower bounds of the k-th score


class PythonBM25Index(BM25Index):
    """Dependency-free backend: term-at-a-time with MaxScore pruning (module docstring)."""

    backend = "python"

    def __init__(self, corpus: Corpus, k1: float, b: float) -> None:
        self.n_docs = len(corpus.tfs)
        avgdl = corpus.avgdl or 1.0
        idf = {t: corpus.idf(t) for t in corpus.df}
        self._docs: dict[str, array] = {t: array("i") for t in corpus.df}
        self._weights: dict[str, array] = {t: array("d") for t in corpus.df}
        for doc_id, (tf, length) in enumerate(zip(corpus.tfs, corpus.lengths, strict=True)):
            norm = k1 * (1.0 - b + b * length / avgdl)
            for t, f in tf.items():
                self._docs[t].append(doc_id)
                self._weights[t].append(idf[t] * f * (k1 + 1.0) / (f + norm))
        self._top = {t: heapq.nlargest(_TOPK_BOUND, w) for t, w in self._weights.items()}

    def __contains__(self, term: str) -> bool:
        return term in self._docs

    def weight(self, term: str, doc_id: int) -> float:
        docs = self._docs.get(term)
        if docs is None:
            return 0.0
        j = bisect_left(docs, doc_id)
        return self._weights[term][j] if j < len(docs) and docs[j] == doc_id else 0.0

    def search(
        self,
        terms: Iterable[str],
        top_k: int,
        min_score: float = 0.0,
        allowed: bytearray | None = None,
        min_terms: int = 1,
    ) -> list[tuple[int, float]]:
        plist = [t for t in dict.fromkeys(terms) if t in self._docs]
        if len(plist) < max(1, min_terms) or top_k <= 0:
            return []
        if min_terms > 1:
            # Fast exact path: rank without the constraint, over-fetch, count matches of the few hits.
            # Exact when k qualify (nothing outside can outrank them) or when nothing was left out.
            depth = top_k * 4
            hits = self._search(plist, depth, min_score, allowed, 1)
            ok = [h for h in hits if sum(self.weight(t, h[0]) > 0 for t in plist) >= min_terms]
            if len(ok) >= top_k or len(hits) < depth:
                return ok[:top_k]
        return self._search(plist, top_k, min_score, allowed, min_terms)

    def _search(
        self, plist: list[str], top_k: int, min_score: float, allowed: bytearray | None, min_terms: int
    ) -> list[tuple[int, float]]:
        plist = list(plist)
        plist.sort(key=lambda t: self._top[t][0], reverse=True)
        suffix = [0.0] * (len(plist) + 1)  # suffix[i] = best possible gain from terms i..end
        for i in range(len(plist) - 1, -1, -1):
            suffix[i] = suffix[i + 1] + self._top[plist[i]][0]
        counting = min_terms > 1
        acc: dict[int, float] = {}
        cnt: dict[int, int] = {}  # distinct query terms seen per doc (only when counting)
        theta = min_score  # a doc must reach this to matter; raised as results accumulate
        i = 0
        # Phase 1 (OR mode): any posting may open a new candidate.
        while i < len(plist) and suffix[i] >= theta:
            docs, weights = self._docs[plist[i]], self._weights[plist[i]]
            if not acc:
                acc = dict(zip(docs, weights, strict=True))
                cnt = dict.fromkeys(docs, 1) if counting else cnt
            else:
                get = acc.get
                for d, w in zip(docs, weights, strict=True):
                    acc[d] = get(d, 0.0) + w
                if counting:
                    cget = cnt.get
                    for d in docs:
                        cnt[d] = cget(d, 0) + 1
            theta = max(theta, self._kth(acc, top_k, allowed, cnt if counting else None, min_terms))
            if allowed is None and not counting:  # k docs each hold a seen term's k-th best weight
                theta = max(theta, *(self._top[t][top_k - 1] for t in plist[: i + 1]
                                     if len(self._top[t]) >= top_k), 0.0)
            i += 1

        def alive(d: int, i: int) -> bool:
            return acc[d] + suffix[i] >= theta and (not counting or cnt[d] + len(plist) - i >= min_terms)

        # Phase 2: remaining terms can only lift candidates that could still reach theta.
        cands = [d for d in acc if alive(d, i) and (allowed is None or allowed[d])]
        while i < len(plist) and cands:
            docs, weights, n = self._docs[plist[i]], self._weights[plist[i]], len(self._docs[plist[i]])
            found: list[tuple[int, float]] = []
            if len(cands) * 16 < n:
                for d in cands:
                    j = bisect_left(docs, d)
                    if j < n and docs[j] == d:
                        found.append((d, weights[j]))
            else:
                cset = set(cands)
                found = [(d, w) for d, w in zip(docs, weights, strict=True) if d in cset]
            for d, w in found:
                acc[d] += w
                if counting:
                    cnt[d] += 1
            i += 1
            cands = [d for d in cands if alive(d, i)]
        return _rank(((d, acc[d]) for d in cands
                      if acc[d] >= min_score and (not counting or cnt[d] >= min_terms)), top_k)

    @staticmethod
    def _kth(acc: dict[int, float], k: int, allowed: Any, cnt: dict[int, int] | None, m: int) -> float:
        """k-th best partial score among docs sure to qualify: a lower bound on the final k-th score.

        Skipped (0) when `acc` is large: the bound is an optimisation, not needed for correctness.
        """
        if len(acc) < k or len(acc) > 50_000:
            return 0.0
        if allowed is None and cnt is None:
            values: Iterable[float] = acc.values()
        else:
            values = [s for d, s in acc.items()
                      if (allowed is None or allowed[d]) and (cnt is None or cnt[d] >= m)]
        best = heapq.nlargest(k, values)
        return best[-1] if len(best) == k else 0.0
