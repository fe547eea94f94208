"""Deterministic grading of a Diagnosis against ground truth: no judge, same answer every time.

Each metric is a plain function so a benchmark, a test or a capsule update can call exactly the
one it needs; `grade` bundles them into one `Grade`. Conventions (all documented where they are
decided):

- entities match through `topology.entity_key` (canonical kind, case-folded) and alias groups;
  a component named twice counts once on either side;
- predictions in infrastructure namespaces are dropped unless the truth's root causes live there;
- a no-fault control (no true root cause) is answered correctly only by an empty answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel

from atlas_sre.grading.diagnosis import Diagnosis
from atlas_sre.grading.topology import Components, Topology, namespace_of
from atlas_sre.grading.truth import GroundTruth
from atlas_sre.kube.namespaces import INFRA_NAMESPACES

DEFAULT_INFRA_NAMESPACES: frozenset[str] = INFRA_NAMESPACES
"""Namespaces whose objects are platform plumbing, not the application under test.

Agents that over-investigate name istiod or Prometheus scrape errors; ITBench's evaluator drops
such predictions rather than scoring them, and so do we unless the truth puts a root cause there.
"""

_NO_FAULT_CATEGORIES = frozenset({"", "none", "nofault", "noissue", "noproblem", "healthy", "noop"})


class RootCauseScore(BaseModel):
    """Root-cause localisation scores and the entities behind them (names as each side wrote them)."""

    precision: float
    recall: float
    f1: float
    strict: float
    matched: list[str]
    missed: list[str]
    extra: list[str]


class Grade(BaseModel):
    """Everything `grade` measures for one diagnosis.

    `correct` is true when every true root cause is found (alias-aware, recall == 1); extra
    entities do not make an answer incorrect (they lower `precision` and `strict`). On a no-fault
    control `correct` is true only for an answer with no contributing entity. `category_match`
    and `propagation_f1` are None when the truth does not state a category or chain to compare with.
    """

    precision: float
    recall: float
    f1: float
    strict: float
    category_match: bool | None
    propagation_f1: float | None
    proximity: float
    correct: bool
    no_fault: bool
    matched: list[str]
    missed: list[str]
    extra: list[str]


def f1_score(precision: float, recall: float) -> float:
    """Harmonic mean; 0 when both are 0 (nothing to average)."""
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def exempt_namespaces(truth_roots: Iterable[str], components: Components) -> set[str]:
    """Namespaces the infra filter must keep: those of true root causes and their aliases.

    Only root causes count, not propagation hops: mesh incidents nearly always pass through the
    ingress gateway in `istio-system`, and exempting it there would switch the filter off exactly
    where over-investigation is most common.
    """
    spaces: set[str] = set()
    for root in truth_roots:
        for key in components.members(root):
            ns = namespace_of(key)
            if ns is not None:
                spaces.add(ns)
    return spaces


def filter_infra(names: Iterable[str], infra: Iterable[str], exempt: Iterable[str] = ()) -> list[str]:
    """`names` without those in an infra namespace (unless exempt); order kept."""
    dropped = {ns.casefold() for ns in infra} - {ns.casefold() for ns in exempt}
    return [n for n in names if namespace_of(n) not in dropped]


def score_root_causes(
    predicted: Iterable[str],
    truth: Iterable[str],
    aliases: Iterable[Iterable[str]] = (),
    infra_namespaces: Iterable[str] = DEFAULT_INFRA_NAMESPACES,
) -> RootCauseScore:
    """Precision, recall, F1 and the ITBench-AA strict score over alias-group components.

    P = true components found / distinct predicted components, R = found / distinct true
    components. Counting components, not strings, means naming a Deployment and its aliased
    Service is one guess, and two aliased truth entries are one cause. Strict (ITBench-AA) is 0 if
    any true cause is missed, else precision: finding everything by listing everything earns little.
    With no true cause (no-fault control) an empty answer scores 1 everywhere, any answer 0.
    With true causes but an empty answer, precision is 0 (nothing correct was said).
    """
    components = Components(aliases)
    truth_names = list(truth)
    kept = filter_infra(predicted, infra_namespaces, exempt_namespaces(truth_names, components))
    truth_by_key: dict[str, str] = {}
    for name in truth_names:
        truth_by_key.setdefault(components.of(name), name)
    pred_by_key: dict[str, str] = {}
    for name in kept:
        pred_by_key.setdefault(components.of(name), name)
    found = [k for k in pred_by_key if k in truth_by_key]
    missed = [name for k, name in truth_by_key.items() if k not in pred_by_key]
    extra = [name for k, name in pred_by_key.items() if k not in truth_by_key]
    if not truth_by_key:
        perfect = float(not pred_by_key)
        return RootCauseScore(precision=perfect, recall=perfect, f1=perfect, strict=perfect,
                              matched=[], missed=[], extra=extra)
    precision = len(found) / len(pred_by_key) if pred_by_key else 0.0
    recall = len(found) / len(truth_by_key)
    return RootCauseScore(
        precision=precision, recall=recall, f1=f1_score(precision, recall),
        strict=0.0 if missed else precision,
        matched=[pred_by_key[k] for k in found], missed=missed, extra=extra,
    )


def _category_key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch not in " _-")


def category_matches(predicted: str, truth: str | Iterable[str]) -> bool:
    """Case-, space-, underscore- and hyphen-insensitive match against any true category.

    With no true category (a no-fault control) the right category is "none": an empty string or
    a no-fault word (`none`, `no fault`, `healthy`, ...) matches.
    """
    wanted = {_category_key(truth)} if isinstance(truth, str) else {_category_key(t) for t in truth}
    got = _category_key(predicted)
    if not wanted:
        return got in _NO_FAULT_CATEGORIES
    return got in wanted


def contract_path(edges: Iterable[tuple[str, str]], components: Components | None = None) -> list[str]:
    """The chain as a component path: hop endpoints in order, aliases mapped, repeats collapsed.

    `a->b, b->c` becomes `[a, b, c]`; a Service and its aliased Deployment in a row become one
    step, so the path measures which components the fault crossed, not how they were spelled.
    """
    components = components or Components()
    path: list[str] = []
    for source, target in edges:
        for name in (source, target):
            key = components.of(name)
            if not path or path[-1] != key:
                path.append(key)
    return path


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (order kept, gaps allowed)."""
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def propagation_f1(
    predicted: Iterable[tuple[str, str]],
    truth: Iterable[tuple[str, str]],
    aliases: Iterable[Iterable[str]] = (),
) -> float:
    """F1 of LCS over contracted component paths: P = LCS/len(pred), R = LCS/len(truth).

    LCS rewards getting the components in the right order while tolerating skipped or extra
    hops. Two empty chains agree (1.0); exactly one empty chain scores 0.
    """
    components = Components(aliases)
    pred_path, true_path = contract_path(predicted, components), contract_path(truth, components)
    if not pred_path or not true_path:
        return float(not pred_path and not true_path)
    common = lcs_length(pred_path, true_path)
    return f1_score(common / len(pred_path), common / len(true_path))


def proximity(
    predicted: Iterable[str],
    truth: Iterable[str],
    edges: Iterable[tuple[str, str]],
    aliases: Iterable[Iterable[str]] = (),
) -> float:
    """Mean over predicted root causes of 1/(1+h), h = hops to the nearest true root cause.

    Partial credit for a near miss (the caller of the broken service is 1 hop away: 0.5),
    averaged over predictions like precision, so a far-off extra guess pulls the score down.
    Unreachable or unknown entities score 0. No true cause: 1.0 for no prediction, else 0.
    """
    components = Components(aliases)
    graph = Topology(edges, components)
    roots, guesses = list(truth), list(dict.fromkeys(components.of(p) for p in predicted))
    if not roots:
        return float(not guesses)
    if not guesses:
        return 0.0
    scores = []
    for guess in guesses:
        hops = graph.hops_to_nearest(guess, roots)
        scores.append(0.0 if hops is None else 1.0 / (1 + hops))
    return sum(scores) / len(scores)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Codex paper): 1 - C(n-c, k)/C(n, k) from n samples of which c are correct.

    Computed as 1 - prod_{i=n-c+1..n} (1 - k/i), which never forms the huge binomials.
    """
    if not (0 <= c <= n and 1 <= k <= n):
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    remaining = 1.0
    for i in range(n - c + 1, n + 1):
        remaining *= 1.0 - k / i
    return 1.0 - remaining


def grade(
    diagnosis: Diagnosis,
    truth: GroundTruth | BaseModel | dict[str, Any],
    topology: Iterable[tuple[str, str]] | None = None,
    *,
    infra_namespaces: Iterable[str] = DEFAULT_INFRA_NAMESPACES,
) -> Grade:
    """Grade one diagnosis on every deterministic metric.

    `topology` is the undirected edge list for proximity; without one the truth's own propagation
    hops are the graph (what the truth knows of how components connect), so an entity off the
    true chain scores 0 proximity. Predictions are infra-filtered the same way for every metric.
    """
    truth = GroundTruth.coerce(truth)
    infra = frozenset(ns.casefold() for ns in infra_namespaces)
    true_roots = [rc.entity for rc in truth.rootCauses]
    roots = score_root_causes(diagnosis.root_causes, true_roots, truth.aliases, infra)
    exempt = exempt_namespaces(true_roots, Components(truth.aliases))
    guesses = filter_infra(diagnosis.root_causes, infra, exempt)
    true_hops = [(h.source, h.target) for h in truth.propagation]
    pred_hops = [(h.source, h.target) for h in diagnosis.propagations]
    categories = [rc.category for rc in truth.rootCauses if rc.category]
    edges = list(topology) if topology is not None else true_hops
    return Grade(
        precision=roots.precision, recall=roots.recall, f1=roots.f1, strict=roots.strict,
        category_match=(None if categories == [] and not truth.is_no_fault
                        else category_matches(diagnosis.category, categories)),
        propagation_f1=(None if not true_hops and not truth.is_no_fault
                        else propagation_f1(pred_hops, true_hops, truth.aliases)),
        proximity=proximity(guesses, true_roots, edges, truth.aliases),
        correct=not roots.extra if truth.is_no_fault else not roots.missed,
        no_fault=truth.is_no_fault,
        matched=roots.matched, missed=roots.missed, extra=roots.extra,
    )
