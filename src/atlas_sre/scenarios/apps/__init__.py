"""Built-in applications: plain manifests + hidden image behaviour + traffic, stored as data.

An application is a YAML file beside this module holding the `spec` parts a scenario would
otherwise carry (`manifests`, `registry`, `traffic`). A scenario that says `spec.app: bookinfo`
starts from these parts; keeping them as data (not code) means an application can be read,
diffed and extended like any scenario, and the engine never learns which app it is running.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from atlas_sre.sim.images import ImageBehaviour

APPS_DIR = Path(__file__).parent


class UnknownApp(ValueError):
    """An app name with no data file; the message lists what exists."""


class App(BaseModel):
    """One built-in application: what a scenario's `spec` would hold, plus a short description."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    namespace: str
    domain: str = "service-mesh"
    traffic: dict[str, Any] = Field(default_factory=dict)
    registry: dict[str, ImageBehaviour] = Field(default_factory=dict)
    manifests: list[dict[str, Any]] = Field(default_factory=list)


def app_names() -> list[str]:
    """Names of the built-in applications, sorted."""
    return sorted(p.stem for p in APPS_DIR.glob("*.yaml"))


@cache
def _load(name: str) -> App:
    path = APPS_DIR / f"{name}.yaml"
    if not path.is_file():
        raise UnknownApp(f"unknown app {name!r} (built-in apps: {', '.join(app_names())})")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return App.model_validate(data)


def load_app(name: str) -> App:
    """A fresh copy of a built-in app: callers mutate manifests freely (faults, scaling)."""
    return copy.deepcopy(_load(name))
