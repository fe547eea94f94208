"""Start a real `llama_cpp.server` on the installed 0.5B GGUF for the slow suites, or skip saying why.

Shared by the plain chat suite and the tool-call suite (one way to start and stop a server, so a
server that dies or never becomes ready fails with the tail of its log in both).
The server runs under the interpreter named by ATLAS_SRE_LLAMA_PYTHON, else this one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from openai_fake import closed_port

from atlas_sre.models import model_path, verify_installed

MODEL = "qwen2.5-coder-0.5b"
READY_S = 180


def server_python() -> str:
    python = os.environ.get("ATLAS_SRE_LLAMA_PYTHON") or sys.executable
    probe = subprocess.run([python, "-c", "import llama_cpp.server.app"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(
            f"llama_cpp.server is not importable by {python}: install llama-cpp-python[server] "
            "or set ATLAS_SRE_LLAMA_PYTHON to an interpreter that has it"
        )
    return python


def installed_model() -> Path:
    if not verify_installed(MODEL):
        pytest.skip(f"{MODEL} is not installed: run `atlas-sre models install {MODEL}`")
    return model_path(MODEL)


@contextmanager
def llama_server(log: Path, extra_args: Sequence[str] = ()) -> Iterator[str]:
    """Serve the model on a free 127.0.0.1 port until the block ends; yields the server's root URL."""
    python, path, port = server_python(), installed_model(), closed_port()
    cmd = [python, "-m", "llama_cpp.server", "--model", str(path), "--host", "127.0.0.1", "--port", str(port),
           "--n_ctx", "2048", "--model_alias", MODEL, *extra_args]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {log.read_text()[-800:]}")
            try:
                with urllib.request.urlopen(f"{root}/v1/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server not ready after {READY_S}s: {log.read_text()[-800:]}")
            time.sleep(0.5)
        yield root
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
