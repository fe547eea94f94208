"""`atlas-sre models doctor`: every way a local model can fail to run is one line and a non-zero exit.

The crash paths use real child processes that really die by a signal (injected through the
documented `probe` parameter, the command that stands in for `doctor_probe.py`), so the CLI is shown
to survive a SIGSEGV without a miscompiled llama.cpp. The missing-llama-cpp and bad-file paths run
the real probe. The slow test runs the real doctor on the installed 0.5B model.
"""

from __future__ import annotations

import importlib.util
import json
import signal
import sys
from pathlib import Path

import pytest

from atlas_sre.cli.models import models_doctor_cli
from atlas_sre.models import model_path, verify_installed
from atlas_sre.models.doctor import PROBE_SCRIPT, REBUILD, cpu_features, diagnose

MODEL = "qwen2.5-coder-0.5b"


def dying_probe(sig: signal.Signals, stage: str = "decode") -> list[str]:
    """A child that announces a stage, as the real probe does, then kills itself with `sig`."""
    code = (
        "import json, os, signal, sys\n"
        f"print(json.dumps({{'stage': 'load', 'llama_cpp_version': '9.9.9'}}), flush=True)\n"
        f"print(json.dumps({{'stage': {stage!r}}}), flush=True)\n"
        f"os.kill(os.getpid(), signal.{sig.name})\n"
    )
    return [sys.executable, "-c", code]


@pytest.fixture()
def fake_gguf(tmp_path: Path) -> Path:
    path = tmp_path / "fake.gguf"
    path.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    return path


@pytest.fixture()
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "models"
    cache.mkdir()
    monkeypatch.setenv("ATLAS_SRE_MODELS", str(cache))
    return cache


def test_segfault_is_one_line_naming_the_fix(fake_gguf: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = models_doctor_cli([str(fake_gguf)], probe=dying_probe(signal.SIGSEGV))
    out, err = capsys.readouterr()
    assert code == 1
    assert err == (
        f"error: {fake_gguf}: llama.cpp (llama-cpp-python 9.9.9) crashed with SIGSEGV while decoding a "
        "multi-token prompt: rebuild llama-cpp-python portably: make clean install "
        "(see docs/models.md, 'Built portably')\n"
    )
    assert "MODEL" not in out  # no table row for a model that did not run


@pytest.mark.parametrize(
    ("sig", "expected"),
    [
        (signal.SIGILL, f"ran an instruction this CPU lacks (SIGILL) while loading the model: {REBUILD}"),
        (signal.SIGABRT, f"crashed with SIGABRT while loading the model: {REBUILD}"),
        (signal.SIGKILL, "killed (SIGKILL) while loading the model, most likely out of memory"),
    ],
    ids=["SIGILL", "SIGABRT", "SIGKILL"],
)
def test_other_signals(fake_gguf: Path, sig: signal.Signals, expected: str) -> None:
    [report] = diagnose([str(fake_gguf)], probe=dying_probe(sig, stage="load"))
    assert not report.ok and report.returncode == -sig.value
    assert expected in report.error and "\n" not in report.error


def test_timeout_names_the_stage(fake_gguf: Path) -> None:
    hang = [sys.executable, "-c", "import time; print('{\"stage\": \"load\"}', flush=True); time.sleep(60)"]
    [report] = diagnose([str(fake_gguf)], timeout_s=1.5, probe=hang)
    assert report.error == (
        f"{fake_gguf}: no answer within 1.5s (timeout) while loading the model: "
        "raise --timeout, or check the machine's load (uptime) and memory"
    )


def test_nothing_installed_hints_the_install(empty_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert models_doctor_cli([]) == 1
    assert capsys.readouterr().err == (
        "error: no local model is installed: run `atlas-sre models install qwen2.5-coder-0.5b`\n"
    )


def test_named_model_not_installed(empty_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert models_doctor_cli([MODEL]) == 1
    assert capsys.readouterr().err == (
        f"error: {MODEL} is not installed: run `atlas-sre models install {MODEL}`\n"
    )


def test_damaged_catalogue_model_is_found_and_named(empty_cache: Path) -> None:
    (empty_cache / f"{MODEL}.gguf").write_bytes(b"GGUF" + b"\0" * 100)  # wrong size: not the recorded file
    [report] = diagnose(probe=dying_probe(signal.SIGSEGV))  # never reached: the file is refused first
    assert report.error.startswith(f"{empty_cache / MODEL}.gguf does not match {MODEL}'s recorded size")
    assert report.error.endswith(f"run `atlas-sre models install {MODEL} --force`")


def test_unknown_name_and_non_gguf_file(tmp_path: Path) -> None:
    text = tmp_path / "notes.gguf"
    text.write_text("hello")
    unknown, not_gguf = diagnose(["nope", str(text)])
    assert unknown.error.startswith("unknown model 'nope': installable models are qwen2.5-coder-0.5b")
    assert not_gguf.error == f"{text} is not a GGUF file (it does not start with 'GGUF'): re-download it"


def test_missing_llama_cpp_with_the_real_probe(fake_gguf: Path) -> None:
    # -S hides site-packages, so the real probe runs but cannot import llama_cpp.
    [report] = diagnose([str(fake_gguf)], probe=[sys.executable, "-I", "-S", str(PROBE_SCRIPT)])
    assert report.error.startswith(f"{fake_gguf}: llama-cpp-python is not installed for {sys.executable} (")
    assert report.error.endswith("make install, or pip install 'atlas-sre[llm]' (see docs/models.md, 'Built portably')")


def test_unloadable_file_with_real_llama_cpp(fake_gguf: Path) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (make install)")
    [report] = diagnose([str(fake_gguf)], timeout_s=60)
    assert report.error.startswith(f"{fake_gguf}: llama.cpp (llama-cpp-python ")
    assert "could not load the model (Failed to load model from file" in report.error
    assert report.system_info.startswith("CPU :")


def test_cpu_features() -> None:
    info = "CPU : SSE3 = 1 | AVX = 1 | AVX512 = 0 | AMX_INT8 = 0 | LLAMAFILE = 1 | "
    assert cpu_features(info) == "SSE3 AVX LLAMAFILE"


@pytest.mark.slow
def test_real_doctor_on_the_small_model(capsys: pytest.CaptureFixture[str]) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (make install)")
    if not verify_installed(MODEL):
        pytest.skip(f"{MODEL} is not installed: run `atlas-sre models install {MODEL}`")
    assert models_doctor_cli([MODEL], as_json=True, timeout_s=55) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["ok"] and row["path"] == str(model_path(MODEL))
    assert row["prompt_tokens"] >= 20 and row["completion_tokens"] > 1
    assert row["prompt_tps"] > 0 and row["generation_tps"] > 0 and row["load_s"] > 0
    assert row["timing_source"] == "llama.cpp perf counters"
    assert "AVX" in row["system_info"]
