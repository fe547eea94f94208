"""Text analysis for capsule retrieval: one function used for both documents and queries.

Choices and why:
- lower-case, split on non-alphanumerics: ``istio-proxy`` → ``istio``, ``proxy``;
- digits are kept, so HTTP codes (``503``, ``403``) are tokens; two-letter Envoy response flags
  (``UH``, ``NC``, ``NR``, ``UF``…) are tokens too: only one-letter tokens are dropped;
- CamelCase is split *and* kept whole: ``CrashLoopBackOff`` → ``crashloopbackoff``, ``crash``,
  ``loop``, ``back``, ``off`` so both the Kubernetes reason and a paraphrase ("crash loop") match;
  ``OOMKilled`` → ``oomkilled``, ``oom``, ``kill``;
- a light suffix stemmer (plural, -ing, -ed, -ies) so "errors"/"error", "failing"/"failed" meet;
  it is deliberately conservative (``dns``, ``status``, ``ingress`` are left alone);
- English stop words and investigation filler ("check", "verify") are dropped: every procedure says
  them, so they carry no signal and only cost posting-list time. Negations and "such" are *kept*:
  "no healthy upstream", "no such host", "not found" are error strings, not prose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z0-9]+")
_WORD_OR_SEP = re.compile(r"[A-Za-z0-9]+|\x00")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "been", "being", "but", "by", "can", "could", "did",
    "do", "does", "for", "from", "had", "has", "have", "how", "if", "in", "into", "is", "it", "its",
    "of", "on", "or", "our", "so", "than", "that", "the", "their", "then", "there", "these",
    "they", "this", "those", "to", "was", "we", "were", "what", "when", "where", "which", "while",
    "who", "will", "with", "would", "you", "your", "i", "me", "my", "yes", "also",
    "all", "any", "some", "via", "per", "after", "before", "over", "under", "out", "up", "down",
    "same", "other", "only", "very", "just", "get", "got", "see", "seen", "check", "verify",
    "inspect", "look", "confirm", "validate", "review", "ensure", "examine", "investigate",
})

_DOUBLE = re.compile(r"([b-df-hj-kmnp-rtv-z])\1$")  # doubled consonant except l/s/z ("runn" -> "run")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Conservative suffix stripping; cached because the vocabulary is small and repeats a lot."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ied") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ing") and len(word) > 5:
        base = word[:-3]
        return base[:-1] if _DOUBLE.search(base) else base
    if word.endswith("ed") and len(word) > 4 and not word.endswith("eed"):
        base = word[:-2]
        return base[:-1] if _DOUBLE.search(base) else base
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


_CACHE: dict[str, tuple[str, ...]] = {}
_CACHE_LIMIT = 200_000  # distinct raw words; cleared when full (vocabularies are small in practice)


def _analyse(raw: str) -> tuple[str, ...]:
    """Terms of one raw word: itself (lower-cased) plus CamelCase parts, filtered and stemmed."""
    words = [raw.lower()]
    if not raw.islower() and not raw.isupper() and not raw.isdigit():
        parts = _CAMEL.findall(raw)
        if len(parts) > 1:
            words += [p.lower() for p in parts]
    return tuple(stem(w) for w in words if len(w) > 1 and w not in STOPWORDS)


def _terms_of(raw: str) -> tuple[str, ...]:
    terms = _CACHE.get(raw)
    if terms is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        terms = _CACHE[raw] = _analyse(raw)
    return terms


def tokenize(text: str) -> list[str]:
    """Terms of `text` in order (with repeats, for term frequency).

    Each distinct raw word is analysed once and cached: capsule text reuses a small vocabulary,
    so indexing 100k capsules costs a dict lookup per word, not a regex + stemmer run.
    """
    out: list[str] = []
    for raw in _WORD.findall(text):
        out.extend(_CACHE.get(raw) or _terms_of(raw))
    return out


def tokenize_fields(fields: Mapping[str, str]) -> dict[str, list[str]]:
    """`tokenize` of several fields in one regex pass (indexing speed: the per-call overhead of
    five small `findall`s costs more than the matching itself)."""
    names = list(fields)
    out: dict[str, list[str]] = {name: [] for name in names}
    if not names:
        return out
    joined = "\x00".join(text.replace("\x00", " ") for text in fields.values())
    i, current = 0, out[names[0]]
    for raw in _WORD_OR_SEP.findall(joined):
        if raw == "\x00":
            i += 1
            current = out[names[i]]
        else:
            current.extend(_CACHE.get(raw) or _terms_of(raw))
    return out


def surface_forms(text: str) -> dict[str, str]:
    """Term → first word of `text` that produced it, so explanations show the user's words."""
    forms: dict[str, str] = {}
    for raw in _WORD.findall(text):
        for term in _terms_of(raw):
            forms.setdefault(term, raw)
    return forms
