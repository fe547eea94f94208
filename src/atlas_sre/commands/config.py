"""`CommandConfig`: where and how the command layer reaches a cluster.

Why one config object: the same layer drives the simulated API server and a real cluster; the
only difference is this config (a kubeconfig path and a context), so nothing downstream can tell
them apart. Budgets live here too, because they shape what the agent sees.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class CommandConfig(BaseModel):
    """Configuration of the read-only command layer (one per cluster/session)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kubeconfig: Path | None = Field(None, description="exported as KUBECONFIG; None keeps the caller's env")
    context: str | None = Field(None, description="added as --context; agents may not pass their own")
    namespace: str | None = Field(None, description="added as -n unless the command has -n/-A")
    timeout_s: float = Field(30.0, gt=0, le=3600, description="wall-clock limit per command")
    max_output_bytes: int = Field(16_384, ge=256, description="observation byte budget (head + tail)")
    max_output_lines: int = Field(400, ge=4, description="observation line budget (head + tail)")
    kubectl_binary: str = Field("kubectl", min_length=1, description="name on PATH or a path (operator-set)")
    filter_timeout_s: float = Field(
        10.0, gt=0, le=600, description="wall-clock limit for all filters of one line (grep/jq/...) together"
    )
    max_filter_output_bytes: int = Field(8_000_000, ge=1024, description="what one filter may produce")
    learn_secret_values: bool = Field(
        True, description="read Secrets and workloads as JSON first, to mask credential values anywhere"
    )
    learn_ttl_s: float = Field(60.0, ge=0, description="how long learned values are reused before a re-read")
    cache_dir: Path | None = Field(
        None, description="--cache-dir for discovery; None gives each runner a private, temporary one"
    )
