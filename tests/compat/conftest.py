"""Fixtures for the client-compatibility suite (see README.md): scenarios served once per session."""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compat_serving import FEATURE_PROPERTY, Clusters  # noqa: E402


@pytest.fixture(scope="session")
def clusters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clusters]:
    with ExitStack() as stack:
        yield Clusters(stack, tmp_path_factory)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List failed corpus entries by the feature they wait for, so the lead sees what is pending."""
    by_feature: dict[str, list[str]] = defaultdict(list)
    for report in terminalreporter.stats.get("failed", []):
        props = dict(getattr(report, "user_properties", []))
        if FEATURE_PROPERTY in props:
            test = report.nodeid.split("::")[-1]
            by_feature[props[FEATURE_PROPERTY]].append(test[test.index("[") + 1:-1] if "[" in test else test)
    if by_feature:
        terminalreporter.section("compat: failing checks by the feature they wait for")
        for feature, names in sorted(by_feature.items()):
            terminalreporter.write_line(f"{feature} ({len(names)}): {', '.join(names)}")
