"""Make the test helpers importable by name (`analyzer_objects`), as tests/sim does with `kube`."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
