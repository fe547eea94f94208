"""Quantities: the exact and the float reading share one suffix table and keep their callers' values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from atlas_sre.kube.quantity import (
    MULTIPLIERS,
    amount,
    format_amount,
    format_bytes,
    parse_quantity,
    parse_quantity_float,
)
from atlas_sre.kube.requests import pod_totals, qos_class


@pytest.mark.parametrize(("text", "value"), [
    ("500m", Decimal("0.5")), ("1.5Gi", Decimal(3 * 2**29)), ("2", Decimal(2)), (3, Decimal(3)),
    ("1e3", Decimal(1000)), ("2k", Decimal(2000)), ("1Ei", Decimal(2**60)), (" 64Mi ", Decimal(64 * 2**20)),
    (None, Decimal(0)), ("lots", Decimal(0)), ("", Decimal(0)), ("5mi", Decimal(0)),
])
def test_parse_quantity_is_exact_and_lenient(text: object, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize(("text", "value"), [
    ("500m", 0.5), ("1.5Gi", 1.5 * 2**30), ("2", 2.0), (3, 3.0), ("1e3", 1000.0), ("2E", 2e18),
    ("100u", 100 * 1e-6), ("-1", -1.0),
    (".5", 0.0), ("1.", 0.0), ("5mi", 0.0), (None, 0.0), ("1 Gi", 0.0),
])
def test_parse_quantity_float_keeps_the_strict_grammar(text: object, value: float) -> None:
    assert parse_quantity_float(text) == value


def test_both_readings_agree_on_canonical_quantities() -> None:
    for suffix in MULTIPLIERS:
        for number in ("1", "250", "1.5"):
            text = number + suffix
            assert parse_quantity_float(text) == pytest.approx(float(parse_quantity(text)), rel=1e-12)


def test_float_multipliers_are_the_literals_the_analyzers_used() -> None:
    # float(number) * multiplier must round exactly as before: the multipliers are the same floats.
    assert parse_quantity_float("3m") == 3 * 1e-3 and parse_quantity_float("7Ki") == 7 * 2.0**10


def test_canonical_printing_round_trips() -> None:
    assert format_amount("cpu", amount("cpu", "0.25")) == "250m"
    assert format_amount("memory", amount("memory", "1Gi")) == "1Gi"
    assert format_amount("pods", amount("pods", "10")) == "10"
    assert format_bytes(10**9) == "1G"


def test_pod_totals_and_qos() -> None:
    spec = {"containers": [{"resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                                          "limits": {"cpu": "100m", "memory": "64Mi"}}}],
            "initContainers": [{"resources": {"requests": {"cpu": "300m"}}}]}
    requests, limits = pod_totals(spec)
    assert requests == {"cpu": 300, "memory": 64 * 2**20} and limits == {"cpu": 100, "memory": 64 * 2**20}
    assert qos_class(spec) == "Burstable" and qos_class({"containers": [{}]}) == "BestEffort"
