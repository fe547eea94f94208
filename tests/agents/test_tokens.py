"""The reference agents' deterministic tokenizer."""

from __future__ import annotations

import pytest

from atlas_sre.agents.tokens import clip_tokens, count_tokens


@pytest.mark.parametrize("text, n", [
    ("", 0),
    ("kubectl get pods -A", 5),
    ("503", 1),
    ("shop/Deployment/checkout", 5),
    ("Score: 2/5.", 6),
    ("  spaced   out  ", 2),
])
def test_count_tokens(text: str, n: int) -> None:
    assert count_tokens(text) == n


def test_clip_never_exceeds_the_limit_and_keeps_short_text() -> None:
    text = "Run the mesh analyzer (istioctl analyze) and read every Error line. " * 20
    for limit in (1, 7, 50, 200):
        clipped = clip_tokens(text, limit)
        assert count_tokens(clipped) <= limit
        assert text.startswith(clipped)
    assert clip_tokens("short text", 50) == "short text"
    assert clip_tokens("anything", 0) == ""


def test_clip_does_not_leave_half_a_word() -> None:
    clipped = clip_tokens("check shop/Deployment/checkout now", 3)
    assert clipped == "check"
