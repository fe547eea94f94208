"""The caps a scenario file must fit, in one place (docs/scenario-format.md, "Limits", cites them).

Why caps at all: `atlas-sre scenarios validate` promises that whatever it accepts, `sim serve`
derives and serves without crashing or hanging. A scenario is data from anyone, so every size the
simulator's work grows with (pods, nodes, time span, YAML expansion) is bounded here, with room to
spare over the largest real use (the 10,000-pod benchmark, a built-in app, a day of history).
"""

from __future__ import annotations

MAX_FILE_BYTES = 4 * 1024 * 1024  # the whole YAML file
MAX_YAML_DEPTH = 64  # nested mappings/sequences (a Kubernetes object nests ~15 deep)
MAX_YAML_ALIASES = 1_000  # `*alias` uses
MAX_YAML_NODES = 200_000  # scalars + collections after aliases are expanded (billion laughs)
MAX_INT = 2**63 - 1  # any integer anywhere (Kubernetes numbers are int64 at most)

MAX_PODS = 20_000  # pods a scenario's workloads ask for in all (replicas, parallelism, DaemonSets x nodes)
MAX_REPLICAS = MAX_PODS  # one workload's replicas / HPA maxReplicas / Job parallelism or completions
MAX_NODES = 5_000  # declared Nodes (the largest cluster Kubernetes supports)
MAX_MANIFESTS = 50_000  # objects in spec.manifests

YEAR_RANGE = (1970, 2200)  # every scenario time (clock, history, episodes)
MAX_SPAN_DAYS = 400  # from clock.start to clock.observeAt

MAX_NAME = 253  # metadata.name (DNS subdomain); label values and DNS-label names: 63
MAX_TEXT = 65_536  # one string in the hidden registry (a log template, a path)
MAX_LIST = 1_000  # entries in one registry list (listen, calls, routes, log lines, ...)
MAX_REGEX = 1_000  # characters in a regex the simulator evaluates (requires.matches, Istio regex)
MAX_FORMAT_WIDTH = 1_000  # width/precision in a log template's `{field:>N}`

MAX_MEMORY_MI = 16 * 1024 * 1024  # 16 TiB, in MiB
MAX_CPU_MILLI = 1_000_000  # 1,000 cores
MAX_SECONDS = 30 * 24 * 3600  # one duration in the registry (startup, exit after)
MAX_LATENCY_MS = 3_600_000  # one hour
MAX_RPS = 1_000_000.0  # one traffic entry point
