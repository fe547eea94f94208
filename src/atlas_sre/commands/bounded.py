"""Every filter chain ends within a time and size budget (`CommandConfig.filter_timeout_s`, default 10 s).

Why: a filter runs on text the cluster chose, with a program the agent wrote. Linear filters
(head/tail/wc/sort/uniq, grep on RE2) run in-process: their cost is bounded by their input. A chain
with a stage that is not (jq, whose output can grow exponentially; grep on a pattern only the
backtracking engine takes) runs in a forked child with a hard deadline and a memory cap: the child
is killed at the limit and the agent reads one line saying what stopped and what to do instead.
Each stage's output is capped at `max_bytes` (cut marked in stderr), so no stage can feed the next
an unbounded text either.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import select
import signal
import time
import warnings
from collections.abc import Sequence

from atlas_sre.commands.regex import FALLBACK_NOTE
from atlas_sre.commands.text import Filter, FilterOutput

TIMEOUT_EXIT_CODE = 124
_CHILD_MEMORY_BYTES = 1 << 30  # extra address space a filter child may take over its parent's


def run_filters(filters: Sequence[Filter], text: str, timeout_s: float, max_bytes: int) -> FilterOutput:
    """Apply `filters` in order to `text`: exit status of the last stage, its stdout, every stage's stderr."""
    if all(getattr(f, "linear", False) for f in filters) or not hasattr(os, "fork"):
        return _apply_all(filters, text, max_bytes)
    return _in_child(filters, text, timeout_s, max_bytes)


def _apply_all(filters: Sequence[Filter], text: str, max_bytes: int) -> FilterOutput:
    code, errors = 0, []
    for stage in filters:
        try:
            out = stage.apply(text)
        except MemoryError:
            out = FilterOutput(2, "", f"{stage.argv[0]}: stopped: the filter needed more memory than allowed; "
                                      "narrow the program or its input\n")
        except Exception as exc:
            out = FilterOutput(2, "", f"{stage.argv[0]}: internal error: {type(exc).__name__}: {exc}\n")
        text, code = out.stdout, out.exit_code
        errors.append(out.stderr)
        if len(text) > max_bytes:
            text = text[:max_bytes]
            errors.append(f"{stage.argv[0]}: output cut at {max_bytes} bytes (the filter output limit)\n")
    return FilterOutput(code, text, "".join(errors))


def _in_child(filters: Sequence[Filter], text: str, timeout_s: float, max_bytes: int) -> FilterOutput:
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():  # Python 3.12+ warns about fork with threads; the child only computes
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            os.close(read_end)
            _limit_memory()
            out = _apply_all(filters, text, max_bytes)
            data = json.dumps([out.exit_code, out.stdout, out.stderr]).encode()
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view):]
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    chunks, deadline, limit = [], time.monotonic() + timeout_s, 4 * max_bytes + 65536
    received, timed_out = 0, False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or received > limit:
                timed_out = True
                break
            ready, _, _ = select.select([read_end], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_end, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
    finally:
        os.close(read_end)
        if timed_out:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    names = " | ".join(f.argv[0] for f in filters)
    if timed_out:
        slow = [f for f in filters if not getattr(f, "linear", False)]
        note = f" ({FALLBACK_NOTE})" if any(f.argv[0] == "grep" for f in slow) else ""
        return FilterOutput(TIMEOUT_EXIT_CODE, "", f"{names}: stopped after {timeout_s:g}s, the filter time limit"
                            f"{note}; use a simpler pattern or program, or narrow the input first\n")
    try:
        code, stdout, stderr = json.loads(b"".join(chunks))
    except ValueError:
        return FilterOutput(2, "", f"{names}: stopped: the filter ran out of memory or failed; narrow the "
                                   "program or its input\n")
    return FilterOutput(int(code), str(stdout), str(stderr))


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    """Cap the child's address space at its parent's size plus 1 GiB (a runaway jq fails fast)."""
    try:
        with open("/proc/self/statm") as fh:
            size = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (size + _CHILD_MEMORY_BYTES, size + _CHILD_MEMORY_BYTES))
    except (OSError, ValueError):
        pass
