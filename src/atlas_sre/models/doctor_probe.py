"""The doctor's probe: load one GGUF with llama-cpp-python, answer one SRE question, print JSON lines.

Why a separate script: a llama.cpp built for the wrong CPU dies with SIGSEGV or SIGILL inside C
code, which no Python `try` can catch. `models/doctor.py` therefore runs this file in a child
process (`python doctor_probe.py --model PATH ...`) and reads what it printed. Before each step it
prints `{"stage": ...}` and flushes, so when the child dies by a signal the parent still knows which
step killed it. Its last line is the result: `{"ok": true, ...timings}` or
`{"ok": false, "error": "import"|"load"|"decode", "detail": ...}`.

It imports only the standard library (and llama_cpp, inside `main`), so it runs as a plain script
under any interpreter and starts fast. The speeds come from llama.cpp's own perf counters, reset
just before the completion, so the load is not counted in prompt evaluation.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from typing import Any

# A chat whose prompt is well over 20 tokens once the chat template frames it: a one-token prompt
# runs even on a miscompiled llama.cpp, a multi-token batch is what crashes it.
MESSAGES = [
    {"role": "system", "content": "You are a site-reliability engineer. Answer briefly and concretely."},
    {
        "role": "user",
        "content": (
            "Pod checkout-7d9f in namespace shop is in CrashLoopBackOff and its previous logs end with "
            "'panic: DATABASE_URL is not set'. What is the most likely root cause, and which read-only "
            "kubectl command confirms it?"
        ),
    },
]


def emit(record: dict[str, Any]) -> None:
    """One JSON line on stdout, flushed at once: the parent must see it even if we crash right after."""
    print(json.dumps(record), flush=True)


def _system_info(llama_cpp: Any) -> str:
    info = getattr(llama_cpp, "llama_print_system_info", None)
    if info is None:
        return ""
    raw = info()
    return (raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)).strip()


def _perf(llama_cpp: Any, llm: Any) -> dict[str, float]:
    """llama.cpp's perf counters for the context ({} when this llama-cpp-python does not expose them)."""
    try:
        data = llama_cpp.llama_perf_context(llm._ctx.ctx)
    except (AttributeError, TypeError):
        return {}
    return {
        "t_p_eval_ms": float(data.t_p_eval_ms),
        "t_eval_ms": float(data.t_eval_ms),
        "n_p_eval": float(data.n_p_eval),
        "n_eval": float(data.n_eval),
    }


def _reset_perf(llama_cpp: Any, llm: Any) -> None:
    with contextlib.suppress(AttributeError, TypeError):
        llama_cpp.llama_perf_context_reset(llm._ctx.ctx)


def _rate(tokens: float, ms: float) -> float:
    return round(tokens / (ms / 1000), 2) if tokens > 0 and ms > 0 else 0.0


def main(argv: list[str] | None = None) -> int:
    """Run the probe; 0 on success, 2 when a step failed in Python (a crash never returns)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--n-ctx", type=int, default=2048)
    args = parser.parse_args(argv)

    emit({"stage": "import"})
    try:
        import llama_cpp
    except ImportError as exc:
        emit({"ok": False, "error": "import", "detail": str(exc), "python": sys.executable})
        return 2
    about = {"llama_cpp_version": getattr(llama_cpp, "__version__", "?"), "system_info": _system_info(llama_cpp)}
    emit({"stage": "load", **about})
    started = time.perf_counter()
    try:
        llm = llama_cpp.Llama(
            model_path=args.model, n_ctx=args.n_ctx, n_threads=args.threads, seed=0, verbose=False
        )
    except (ValueError, RuntimeError, OSError) as exc:
        emit({"ok": False, "error": "load", "detail": str(exc), **about})
        return 2
    load_s = time.perf_counter() - started

    emit({"stage": "decode"})
    _reset_perf(llama_cpp, llm)
    started = time.perf_counter()
    try:
        out = llm.create_chat_completion(messages=MESSAGES, max_tokens=args.max_tokens, temperature=0.0, seed=0)
    except (ValueError, RuntimeError) as exc:
        emit({"ok": False, "error": "decode", "detail": str(exc), **about})
        return 2
    wall_s = time.perf_counter() - started
    perf = _perf(llama_cpp, llm)
    usage = out.get("usage") or {}
    prompt_tokens = int(usage.get("prompt_tokens", 0))
    completion_tokens = int(usage.get("completion_tokens", 0))
    if perf:
        prompt_tps = _rate(perf["n_p_eval"], perf["t_p_eval_ms"])
        generation_tps = _rate(perf["n_eval"], perf["t_eval_ms"])
        source = "llama.cpp perf counters"
    else:  # whole-request wall time: a lower bound on both rates
        prompt_tps = 0.0
        generation_tps = _rate(completion_tokens, wall_s * 1000)
        source = "wall time"
    emit({
        "ok": True,
        **about,
        "threads": args.threads,
        "load_s": round(load_s, 3),
        "wall_s": round(wall_s, 3),
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "prompt_tps": prompt_tps,
        "generation_tps": generation_tps,
        "timing_source": source,
        "reply": (out["choices"][0]["message"].get("content") or "")[:200],
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
