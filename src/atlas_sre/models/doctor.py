"""`atlas-sre models doctor`: does each installed model actually run here, and how fast?

Why it exists: llama-cpp-python compiled with native CPU flags loads a model fine and then dies with
SIGSEGV on the first multi-token prompt on some CPUs (AMX Xeons, see docs/models.md). A crash
inside C code cannot be caught in-process, so each model is tried in a child process running
`doctor_probe.py`, and every way it can fail (a signal, a timeout, llama-cpp-python missing, a
missing or damaged model file) becomes one line that names the fix. The caller never crashes.

`probe` replaces the command that runs the probe (the argv before `--model PATH ...`): tests pass a
child that kills itself with SIGSEGV to check the crash path without a broken build.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_sre.models.base import ModelError
from atlas_sre.models.catalog import CATALOG, catalog_entry
from atlas_sre.models.install import model_path, verify_installed
from atlas_sre.models.llamacpp_backend import default_threads

PROBE_SCRIPT = Path(__file__).with_name("doctor_probe.py")
FIRST_MODEL = "qwen2.5-coder-0.5b"
REBUILD = "rebuild llama-cpp-python portably: make clean install (see docs/models.md, 'Built portably')"
INSTALL_LLM = "make install, or pip install 'atlas-sre[llm]' (see docs/models.md, 'Built portably')"
STAGES = {
    "import": "importing llama_cpp",
    "load": "loading the model",
    "decode": "decoding a multi-token prompt",
}


@dataclass
class DoctorReport:
    """One model's result: timings when `ok`, else `error`, one line that names the fix."""

    model: str
    path: str
    ok: bool = False
    error: str = ""
    llama_cpp_version: str = ""
    system_info: str = ""
    threads: int = 0
    load_s: float = 0.0
    wall_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_tps: float = 0.0
    generation_tps: float = 0.0
    timing_source: str = ""
    reply: str = ""
    returncode: int | None = None


def no_model_hint() -> str:
    """What to say when nothing is installed."""
    return f"no local model is installed: run `atlas-sre models install {FIRST_MODEL}`"


def default_targets() -> list[str]:
    """Catalogue models with a file in the cache, verified or not (a damaged one is worth reporting)."""
    return [name for name in sorted(CATALOG) if model_path(name).exists()]


def resolve_target(target: str) -> tuple[str, Path]:
    """A catalogue name or a .gguf path → (label, file); a missing, damaged or non-GGUF file raises."""
    if target in CATALOG:
        path = model_path(target)
        if not path.is_file():
            raise ModelError(f"{target} is not installed: run `atlas-sre models install {target}`")
        if not verify_installed(target):
            raise ModelError(
                f"{path} does not match {target}'s recorded size and SHA-256 (damaged or replaced): "
                f"run `atlas-sre models install {target} --force`"
            )
        return target, path
    if not (target.endswith(".gguf") or "/" in target):
        catalog_entry(target)  # raises the one-line "unknown model ..., installable models are ..."
    path = Path(target).expanduser()
    if not path.is_file():
        raise ModelError(f"GGUF model file not found: {path}")
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise ModelError(f"{path} is not a GGUF file (it does not start with 'GGUF'): re-download it")
    return str(path), path


def diagnose(
    targets: Sequence[str] | None = None,
    *,
    timeout_s: float = 120.0,
    threads: int | None = None,
    max_tokens: int = 32,
    probe: Sequence[str] | None = None,
) -> list[DoctorReport]:
    """Probe each target (default: every installed catalogue model) in its own child process.

    An empty list means nothing is installed and nothing was asked for. `probe` is the command that
    runs the probe, default `[sys.executable, doctor_probe.py]`.
    """
    names = list(targets) if targets else default_targets()
    command = list(probe) if probe else [sys.executable, str(PROBE_SCRIPT)]
    n_threads = threads or default_threads()
    reports = []
    for target in names:
        try:
            label, path = resolve_target(target)
        except ModelError as exc:
            reports.append(DoctorReport(model=target, path="", error=str(exc)))
            continue
        argv = [*command, "--model", str(path), "--threads", str(n_threads), "--max-tokens", str(max_tokens)]
        reports.append(run_probe(label, path, argv, timeout_s))
    return reports


def run_probe(label: str, path: Path, argv: list[str], timeout_s: float) -> DoctorReport:
    """Run one probe child and turn whatever happened into a report."""
    report = DoctorReport(model=label, path=str(path))
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        records = _records(_text(exc.stdout))
        stage = _stage(records)
        report.error = (
            f"{label}: no answer within {timeout_s:g}s (timeout) while {STAGES.get(stage, 'starting')}: "
            "raise --timeout, or check the machine's load (uptime) and memory"
        )
        return report
    except OSError as exc:
        report.error = f"{label}: cannot start the probe {argv[0]}: {exc}"
        return report
    report.returncode = proc.returncode
    records = _records(proc.stdout)
    last = records[-1] if records else {}
    for record in records:  # version and CPU features arrive before the step that may crash
        report.llama_cpp_version = record.get("llama_cpp_version", report.llama_cpp_version)
        report.system_info = record.get("system_info", report.system_info)
    if proc.returncode == 0 and last.get("ok"):
        _fill(report, last)
        return report
    report.error = f"{label}: " + explain(
        label, proc.returncode, last, _stage(records), proc.stderr, report.llama_cpp_version
    )
    return report


def explain(label: str, returncode: int, last: dict[str, Any], stage: str, stderr: str, version: str) -> str:
    """One line: what went wrong and what to do about it."""
    where = STAGES.get(stage, "starting")
    build = f"llama.cpp (llama-cpp-python {version})" if version else "llama.cpp"
    if returncode < 0:
        number = -returncode
        if number == signal.SIGKILL:
            return (
                f"the probe was killed (SIGKILL) while {where}, most likely out of memory: "
                "free memory or try a smaller model"
            )
        if number == signal.SIGILL:
            return f"{build} ran an instruction this CPU lacks (SIGILL) while {where}: {REBUILD}"
        return f"{build} crashed with {_signal_name(number)} while {where}: {REBUILD}"
    error, detail = last.get("error"), _one_line(str(last.get("detail", "")))
    if error == "import":
        return f"llama-cpp-python is not installed for {last.get('python') or 'this Python'} ({detail}): {INSTALL_LLM}"
    if error == "load":
        fix = (
            f"reinstall it with `atlas-sre models install {label} --force`"
            if label in CATALOG
            else "re-download the file, or upgrade llama-cpp-python if the model is newer than it"
        )
        return f"{build} could not load the model ({detail}): {fix}"
    if error == "decode":
        return f"{build} failed while decoding a multi-token prompt ({detail}): {REBUILD}"
    tail = _one_line(stderr.strip().splitlines()[-1]) if stderr.strip() else "no output"
    return f"the probe exited with status {returncode} while {where}: {tail}"


def _fill(report: DoctorReport, result: dict[str, Any]) -> None:
    report.ok = True
    for key in ("threads", "load_s", "wall_s", "prompt_tokens", "completion_tokens", "prompt_tps",
                "generation_tps", "timing_source", "reply"):
        if key in result:
            setattr(report, key, result[key])


def _records(stdout: str) -> list[dict[str, Any]]:
    """The probe's JSON lines; anything else it printed (llama.cpp chatter) is skipped."""
    out = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                out.append(record)
    return out


def _stage(records: list[dict[str, Any]]) -> str:
    stages = [r["stage"] for r in records if "stage" in r]
    return str(stages[-1]) if stages else ""


def _text(data: str | bytes | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cpu_features(system_info: str) -> str:
    """`CPU : AVX = 1 | AVX2 = 1 | AMX_INT8 = 0 | ...` → `AVX AVX2` (the features the build uses)."""
    on = []
    for part in system_info.split("|"):
        name, _, value = part.rpartition("=")
        name = name.split(":")[-1].strip()
        if name and value.strip() == "1":
            on.append(name)
    return " ".join(on)
