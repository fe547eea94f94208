"""The words that tell a root cause from a symptom or a red herring in a free-text answer.

Why a table of phrases and not a model: the benchmark must grade an outside agent the same way
every time, and a reader must be able to predict the verdict. `extract.py` splits an answer into
clauses and gives every object mentioned in a clause one role from these cues (docs/outside-agents.md):

- `negated`: the clause dismisses what it names ("is not the cause", "looks fine", "ruled out");
- `cause` / `effect` by direction: before "because"/"due to"/"caused by" is the effect, after it
  the cause; "leads to"/"which is why" turn it round;
- `cause` without direction: "root cause", "culprit", "misconfigured", or a fault word
  ("missing", "does not exist", "OOMKilled", "too low", ...);
- `neutral`: none of these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Role = str
"""`cause`, `neutral`, `effect` or `negated`."""

_NOISE = re.compile(r"no healthy upstream|not ready|not running", re.I)
"""Phrases of symptoms that contain a dismissal word but dismiss nothing."""

_NEGATION = re.compile(
    r"\bnot\s+(?:the|a|an)\s+(?:root\s+)?(?:cause|culprit|problem|issue|factor)|"
    r"\bnot\s+(?:related|responsible|involved|at fault|to blame|the source|misconfigured|broken)|"
    r"\b(?:is|are|was|were|looks?|seems?|appears?)\s+(?:fine|healthy|correct|ok|okay|normal|unaffected|"
    r"innocent|irrelevant|consistent|valid)\b|"
    r"\b(?:unrelated|red herring|ruled out|rule out|irrelevant|benign|coincidental|harmless|"
    r"nothing wrong|no (?:issues?|problems?)|can be ignored|(?:correctly|properly) configured|"
    r"configured (?:correctly|properly)|works? (?:as expected|fine|correctly)|working (?:as expected|fine|correctly)|"
    r"is a symptom|are symptoms|only a symptom|merely a symptom|just a symptom)\b", re.I)

_FORWARD = re.compile(r"\b(?:because(?: of)?|due to|caused by|stems? from|stemming from|(?:a |the )?result of|"
                      r"triggered by|driven by|originat\w+ (?:from|in))\b", re.I)
"""Effect before the marker, cause after it."""

_BACKWARD = re.compile(r"(?:\b(?:causes|causing|caused|leads? to|leading to|results? in|resulting in|"
                       r"which is why|that is why|so that|which makes|making|breaks|breaking|prevents?))\b", re.I)
"""Cause before the marker, effect after it."""

_STRONG = re.compile(
    r"\b(?:root[- ]?cause|culprit|the cause|(?:likely|probable|main|real) cause|cause (?:is|was)|"
    r"the (?:real |actual )?(?:problem|issue|fault) is|responsible|to blame|misconfigur\w*|mis-configur\w*|"
    r"solution|fix|fixing|fixed by|patch|remediat\w*|should (?:be|have|include|define)|must (?:be|have)|"
    r"needs? to|restore|re-?create|roll(?:ing)? back|revert|increase|raise the|add the missing)\b", re.I)
"""Blaming and remediation words: the object they are said of is the cause."""

_FAULT = re.compile(
    r"\b(?:missing|lacks?|lacking|(?:does|do|did)\s*n[o']t\s+(?:exist|define|match|have|include|contain|allow)|"
    r"not (?:defined|found|exist\w*|set)|ha(?:s|ve) no|no such|nonexistent|non-existent|wrong|incorrect|invalid|"
    r"typo|too (?:low|small|short|high|large|tight|big)|exceeds?|exceeding|oomkilled|out of memory|mismatch\w*|"
    r"no endpoints|deleted|removed|points? to|pointing to|refers? to a|references? a|strict|blocks?|blocking|"
    r"denies|denying|only allows|selects? no|matches no|undefined|absent|unset|empty|bad|broken|faulty|"
    r"insufficient|undersized|maxed|never (?:references?|defines?|declares?|mounts?|sets?|includes?))\b", re.I)
"""Fault words: each blames the object it is said of (named just before it, or just after)."""

_HEADING_EFFECT = re.compile(r"\b(?:symptoms?|impact|affected|observed|observations?)\b", re.I)

_CLAUSE = re.compile(r"(?<=[.!?])\s+|\n|;|(?=\b(?:but|however|whereas|although|though|while|instead|"
                     r"rather than)\b)", re.I)
_CONCESSIVE = re.compile(r"^\s*(?:although|though|while|whereas|even though)\b", re.I)
_LINE_START = re.compile(r"\s*(?:$|[-*•#>|]|\d+[.:)]\s|[a-z_]+:|[A-Z][A-Za-z_]*(?: [A-Za-z_]+){0,2}:)")
_PROSE_LINE = 40
"""A line at least this long, ending in no `:`, that the next line continues, is wrapped prose."""


def _wrapped(text: str, newline: int) -> bool:
    """Whether the line break at `newline` only wraps a sentence (then it is no clause boundary)."""
    start = text.rfind("\n", 0, newline) + 1
    line = text[start:newline].strip()
    nxt = text[newline + 1:text.find("\n", newline + 1) if "\n" in text[newline + 1:] else len(text)]
    return (len(line) >= _PROSE_LINE and line[-1] not in ":.!?" and not line.startswith("#")
            and not _LINE_START.match(nxt))


def clauses(text: str) -> list[tuple[int, int]]:
    """`(start, end)` spans of the clauses of `text`: sentences, lines (not wrapped prose), cut again
    at contrast words.

    A concessive clause ("Although X looks fine, Y is missing") ends at its first comma, so the
    dismissal stays with X.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _CLAUSE.finditer(text):
        if m.group() == "\n" and _wrapped(text, m.start()):
            continue
        if m.start() > start:
            spans.append((start, m.start()))
        start = max(m.end(), start)
    if start < len(text):
        spans.append((start, len(text)))
    out: list[tuple[int, int]] = []
    for a, b in spans:
        piece = text[a:b]
        comma = piece.find(",")
        if _CONCESSIVE.match(piece) and comma > 0:
            out += [(a, a + comma), (a + comma + 1, b)]
        else:
            out.append((a, b))
    return [(a, b) for a, b in out if text[a:b].strip()]


@dataclass(frozen=True)
class Cue:
    """What a clause says about the objects in it: `kind`, where its marker starts, its fault words."""

    kind: str
    marker: int = 0
    faults: tuple[int, ...] = ()


def clause_cue(text: str) -> Cue:
    """The clause's cue (offsets are the clause's own).

    `negated`, `forward`, `backward`, `strong` (a blaming word: what precedes it and the first
    object after it are blamed), `cause` (fault words: each blames the object named last before
    it, or the first one after), `effect` (a symptom heading) or `neutral`.
    """
    clean = _NOISE.sub(lambda m: " " * len(m.group()), text.replace("\n", " "))
    if _NEGATION.search(clean):
        return Cue("negated")
    for kind, pattern in (("forward", _FORWARD), ("backward", _BACKWARD)):
        m = pattern.search(clean)
        if m:
            return Cue(kind, m.start())
    strong = _STRONG.search(clean)
    if strong:
        return Cue("strong", strong.start())
    faults = tuple(m.start() for m in _FAULT.finditer(clean))
    if faults:
        return Cue("cause", faults=faults)
    return Cue("effect") if _HEADING_EFFECT.search(clean) else Cue("neutral")


def roles(cue: Cue, offsets: list[int]) -> list[Role]:
    """The role of each mention (at `offsets`, sorted, within the clause) under the clause's `cue`."""
    if cue.kind in ("forward", "backward"):
        first, second = ("effect", "cause") if cue.kind == "forward" else ("cause", "effect")
        return [first if o < cue.marker else second for o in offsets]
    if cue.kind == "strong":
        after = [o for o in offsets if o >= cue.marker]
        return ["cause" if o < cue.marker or o == after[0] else "neutral" for o in offsets]
    if cue.kind == "cause":
        blamed = set()
        for f in cue.faults:
            before = [o for o in offsets if o < f]
            blamed.add(before[-1] if before else next((o for o in offsets if o >= f), -1))
        return ["cause" if o in blamed else "neutral" for o in offsets]
    return [cue.kind] * len(offsets)


_NOT_BEFORE = re.compile(r"(?:\bnot|n't|\bnor|\bexcept|\brather than|\binstead of|\bother than|\bunlike)"
                         r"\s+(?:the\s+|a\s+|an\s+|in\s+the\s+)?$", re.I)


def negated_before(text: str, start: int) -> bool:
    """`not the X`, `rather than X`: a mention the few words before it dismiss."""
    return bool(_NOT_BEFORE.search(text[max(0, start - 24):start]))
