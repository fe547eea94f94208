"""Timestamps written in log templates are served on the served timeline (`kubelet/logtime.py`)."""

from __future__ import annotations

from atlas_sre.sim.clock import SimClock, parse_time
from atlas_sre.sim.images import ImageBehaviour, Listen, LogTemplates
from atlas_sre.sim.kubelet.logtime import served_text
from conftest import derive_state, make_spec, namespace

CLOCK = SimClock(parse_time("2026-11-26T08:00:00Z"), parse_time("2026-11-26T09:20:00Z"),
                 parse_time("2026-11-26T10:00:00Z"), parse_time("2026-01-01T12:00:00Z"))
AT = parse_time("2026-11-26T09:30:05.250Z")  # served: 2026-01-01T11:30:05.250Z


def test_leading_stamp_becomes_the_lines_own_time_in_its_own_format() -> None:
    assert served_text("2026-11-26T09:20:01Z ERROR x", CLOCK, AT) == "2026-01-01T11:30:05Z ERROR x"
    assert served_text("[2026-11-26 09:20:01,123] WARN y", CLOCK, AT) == "[2026-01-01 11:30:05,250] WARN y"
    assert served_text("2026/11/26 09:00:00 go log", CLOCK, AT) == "2026/01/01 11:30:05 go log"
    assert served_text('{"ts":"2026-11-26T09:00:00Z","msg":"x"}', CLOCK, AT) == \
        '{"ts":"2026-01-01T11:30:05Z","msg":"x"}'
    assert served_text('level=info time="2026-11-26T09:20:01.5Z" msg=hi', CLOCK, AT) == \
        'level=info time="2026-01-01T11:30:05.2Z" msg=hi'


def test_other_stamps_are_shifted_and_time_placeholder_is_the_line_time() -> None:
    # 12:00+01:00 is 11:00Z in scenario time, 13:00Z served, written back in its own offset
    assert served_text("INFO cert expires 2026-11-26T12:00:00+01:00", CLOCK, AT) == \
        "INFO cert expires 2026-01-01T14:00:00+01:00"
    assert served_text("{time} INFO started", CLOCK, AT) == "2026-01-01T11:30:05.250Z INFO started"
    assert served_text("INFO last ok at 2026-11-26T09:00:00Z, now {time}", CLOCK, AT) == \
        "INFO last ok at 2026-01-01T11:00:00Z, now 2026-01-01T11:30:05.250Z"
    assert served_text("no stamps here", CLOCK, AT) == "no stamps here"


def test_kubelet_writes_startup_lines_on_the_served_timeline() -> None:
    image = "example.io/app:1.0"
    registry = {image: ImageBehaviour(listen=[Listen(port=8080)], logs=LogTemplates(
        startup=["2026-11-26T09:10:00Z INFO booting", "{time} INFO listening"]))}
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "web", "image": image}]}}}}
    state = derive_state(make_spec([namespace("shop"), dep], registry))
    [(key, lines)] = [(k, v) for k, v in state.logs.items() if k.pod.startswith("web-")]
    for line in lines:
        served = state.clock.at(line.ts)
        assert line.text.split()[0].startswith(served.strftime("%Y-%m-%dT%H:%M:%S"))
