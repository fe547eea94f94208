"""The complete example in docs/scenario-format.md must stay loadable."""

from __future__ import annotations

import re
from pathlib import Path

from atlas_sre.scenarios.loader import load_text

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenario-format.md"


def test_complete_example_in_docs_loads() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
    full = [b for b in blocks if b.startswith("apiVersion: atlas-sre/v1")]
    assert len(full) == 1
    s = load_text(full[0], file="docs/scenario-format.md")
    assert s.metadata.name == "crashloop-example"
    assert s.spec.groundTruth.rootCauses[0].entity == "shop/Deployment/checkout"
