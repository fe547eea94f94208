"""The read-only command policy: one agent-written line -> a runnable Pipeline or a typed Refusal.

Why no shell: an LLM's command line is untrusted text. We never hand it to a shell; instead we
accept the small shell-like language agents actually write (`kubectl ... | grep ... | head`),
split it with `shlex` into argv lists and execute those lists ourselves. Anything whose meaning
would *differ* between a real shell and this layer (redirections, `;`/`&&`/`||`/`&`, `$VAR`,
`$(...)`, backticks, unquoted globs/braces/tildes, comments, backslash escapes, env assignments)
is refused rather than silently taken literally, so the agent is never misled about what ran.
Inside single quotes everything is literal, exactly as in a shell (`grep '$(touch x)'` is a
pattern). Only printable ASCII is accepted: homoglyphs (Cyrillic `е`), fullwidth forms,
zero-width characters, non-ASCII dashes and control characters are refused with their names.
"""

from __future__ import annotations

import re
import shlex
import string
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from atlas_sre.commands.filters import FILTER_NAMES, parse_filter
from atlas_sre.commands.hints import refusal_hint
from atlas_sre.commands.kubectl_policy import (
    DENIED_LONG_FLAGS,
    KubectlCommand,
    PolicyViolation,
    check_kubectl_args,
)
from atlas_sre.commands.text import Filter, FilterUsageError

MAX_LINE_CHARS = 4096
MAX_FILTERS = 8
DEFAULT_TOOL_NAMES: tuple[str, ...] = ("analyze",)
# `istioctl analyze ...` is the analyze tool under istioctl's name: models trained on Istio docs write it,
# and the analyzer speaks istioctl's flags and codes, so refusing it only costs a step (measured on
# qwen2.5-coder-1.5b, which followed "run the mesh analyzer" with `istioctl analyze -A`).
ISTIOCTL_ANALYZE = "analyze"
_DQ_EXPANSION = set(string.ascii_letters + string.digits + "_{(@*#?$!-")
_UNQUOTED = {
    ";": "`;` (command separator) is not allowed: run one command per step",
    "&": "`&&` and `&` (backgrounding) are not allowed: run one command per step",
    "<": "redirection (`<`, here-docs `<<`) is not allowed: commands read nothing but the cluster",
    ">": "redirection (`>`, `>>`, `2>`) is not allowed: output always comes back to you, stderr included "
    "(`2>&1` as its own word on the first command is accepted)",
    "`": "command substitution (backticks) is not allowed",
    "(": "subshells and grouping `( )` are not allowed",
    ")": "subshells and grouping `( )` are not allowed",
    "\\": "backslash escapes outside quotes are not supported; quote the argument instead",
    "*": "unquoted glob characters (* ? [ ]) are not allowed; quote the argument, e.g. "
    "-o jsonpath='{.items[*].metadata.name}'",
    "{": "unquoted braces are not allowed (brace expansion); quote the argument, e.g. -o jsonpath='{...}'",
    "~": "unquoted `~` (tilde expansion) is not allowed",
}
_UNQUOTED.update({"?": _UNQUOTED["*"], "[": _UNQUOTED["*"], "]": _UNQUOTED["*"], "}": _UNQUOTED["{"]})
_ALLOWED_SOURCES = "kubectl (read verbs), analyze (also as `atlas-sre analyze` or `istioctl analyze`)"
# `2>&1` as a word of its own: stderr joins stdout (a no-op without a pipe; into the filters with one).
_MERGE_STDERR = re.compile(r"(?:^|(?<=[ ]))2>&1(?=[ ]|$)")
# An array index inside a word (`.containerStatuses[0].restartCount`): no shell globs it in practice
# (it would need a file named like the expression), so it is taken literally, as every shell does.
_INDEX = re.compile(r"\[\d{1,4}\]")


@dataclass(frozen=True)
class ToolCommand:
    """An in-process tool invocation (e.g. the analyzers): `args[0]` is the tool name."""

    name: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Pipeline:
    """An allowed command line: one source command, then zero or more in-process filters."""

    line: str
    source: KubectlCommand | ToolCommand
    filters: tuple[Filter, ...] = ()
    merge_stderr: bool = False  # `2>&1` on the source: its stderr flows into the filters, as in a shell


@dataclass(frozen=True)
class Refusal:
    """The policy's 'no', with a reason written for the agent that sent the line.

    `hint` says what to run instead (`commands.hints`), so an agent learns what to change and
    does not retry the same idea; empty when no hint row matches.
    """

    line: str
    reason: str
    hint: str = ""

    @property
    def message(self) -> str:
        """What the agent reads: the reason, then the hint on its own line."""
        return self.reason + (f"\nInstead: {self.hint}" if self.hint else "")


def check_command_line(line: str, tool_names: Collection[str] = DEFAULT_TOOL_NAMES) -> Pipeline | Refusal:
    """Decide whether `line` may run; never raises for any input string."""
    try:
        return _check(line, tool_names)
    except PolicyViolation as exc:
        reason = exc.reason
    except FilterUsageError as exc:
        reason = str(exc)
    except Exception as exc:  # fail closed: a policy bug must refuse, never run
        return Refusal(line=line, reason=f"internal policy error ({type(exc).__name__}); command not run")
    try:
        hint = refusal_hint(line) if isinstance(line, str) else ""
    except Exception:  # a hint is advice; a bug in it must never turn a refusal into a crash
        hint = ""
    return Refusal(line=line, reason=reason, hint=hint)


def _check(line: str, tool_names: Collection[str]) -> Pipeline:
    if not isinstance(line, str):
        raise PolicyViolation("the command must be a string")
    if len(line) > MAX_LINE_CHARS:
        raise PolicyViolation(f"command is {len(line)} characters long; the limit is {MAX_LINE_CHARS}")
    stripped = line.strip(" ")
    _check_characters(stripped)
    if not stripped:
        raise PolicyViolation(f"empty command; start with one of: {_ALLOWED_SOURCES}")
    segments = _split_pipeline(stripped)
    merge = [_MERGE_STDERR.search(segment) is not None for segment in segments]
    if any(merge[1:]):
        raise PolicyViolation("`2>&1` is only allowed on the first command (filters write no stderr to merge)")
    stages = [_split(_MERGE_STDERR.sub(" ", segment)) for segment in segments]
    if len(stages) - 1 > MAX_FILTERS:
        raise PolicyViolation(f"at most {MAX_FILTERS} filters may follow the command")
    source = _check_source(stages[0], tool_names)
    filters = []
    for argv in stages[1:]:
        _check_program_name(argv[0])
        filters.append(parse_filter(argv))
    return Pipeline(line=line, source=source, filters=tuple(filters), merge_stderr=merge[0])


def _check_characters(line: str) -> None:
    for pos, ch in enumerate(line):
        if " " <= ch <= "~":
            continue
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            what = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab"}.get(ch, f"control character "
                                                                                        f"U+{ord(ch):04X}")
            raise PolicyViolation(f"{what} at position {pos}: one command per line, printable ASCII only")
        name = unicodedata.name(ch, "unnamed character")
        raise PolicyViolation(
            f"non-ASCII character U+{ord(ch):04X} ({name}) at position {pos}: commands must be plain ASCII; "
            "look-alike letters, fullwidth forms, zero-width characters and typographic dashes are refused"
        )


def _split_pipeline(line: str) -> list[str]:
    """Cut at unquoted `|`, refusing every other unquoted shell operator and all expansions."""
    segments: list[str] = []
    start, quote, i = 0, "", 0
    while i < len(line):
        c, nxt = line[i], line[i + 1 : i + 2]
        if quote == "'":
            quote = "" if c == "'" else quote
        elif quote == '"':
            if c == '"':
                quote = ""
            elif c == "\\":
                i += 1
            elif c == "`" or (c == "$" and nxt in _DQ_EXPANSION):
                what = "backticks" if c == "`" else f"`${nxt}`"
                raise PolicyViolation(
                    f"{what} inside double quotes would be expanded by a shell; variables and command "
                    "substitution are not allowed (use single quotes for literal text)"
                )
        elif c in "'\"":
            quote = c
        elif c == "|":
            if nxt in ("|", "&"):
                raise PolicyViolation(f"`|{nxt}` is not allowed: only plain `|` into a filter")
            segments.append(line[start:i])
            start = i + 1
        elif c == "$":
            raise PolicyViolation(
                "command substitution `$(...)` is not allowed" if nxt == "(" else
                "variable expansion (`$X`, `${X}`, `$'...'`) is not allowed; write the value itself"
            )
        elif c == "#" and (i == 0 or line[i - 1] in " |"):
            raise PolicyViolation("comments (`#`) are not supported; remove them")
        elif c == "[" and i > 0 and line[i - 1] not in " |" and _INDEX.match(line, i):
            i = _INDEX.match(line, i).end() - 1  # type: ignore[union-attr]
        elif c == "2" and _MERGE_STDERR.match(line, i) and (i == 0 or line[i - 1] == " "):
            i += 3
        elif c in _UNQUOTED:
            raise PolicyViolation(_UNQUOTED[c])
        i += 1
    if quote:
        raise PolicyViolation(f"unterminated {quote} quote")
    segments.append(line[start:])
    return segments


def _split(segment: str) -> list[str]:
    try:
        argv = shlex.split(segment, comments=False, posix=True)
    except ValueError as exc:
        raise PolicyViolation(f"cannot parse the command: {exc}") from exc
    if not argv:
        raise PolicyViolation("empty pipeline stage (nothing between `|` characters)")
    return argv


def _check_program_name(name: str) -> None:
    if "/" in name:
        raise PolicyViolation(
            f"`{name}`: programs are named, never given by path; write `kubectl ...` or a filter name"
        )
    if "=" in name:
        raise PolicyViolation(f"`{name}`: environment assignments before a command are not allowed")


def _check_source(argv: list[str], tool_names: Collection[str]) -> KubectlCommand | ToolCommand:
    name = argv[0]
    _check_program_name(name)
    if name == "kubectl":
        return check_kubectl_args(argv[1:])
    if name == "atlas-sre":
        if len(argv) > 1 and argv[1] in tool_names:
            return _tool(argv[1:])
        raise PolicyViolation(f"only `atlas-sre {' | '.join(sorted(tool_names))}` may run from here")
    if name in tool_names:
        return _tool(argv)
    if name == "istioctl" and ISTIOCTL_ANALYZE in tool_names:
        if argv[1:2] == [ISTIOCTL_ANALYZE]:
            return _tool(argv[1:])  # our analyzer takes istioctl's flags (-A, -n NS, -o json) and codes
        raise PolicyViolation(
            f"only `istioctl {ISTIOCTL_ANALYZE}` runs here (as the built-in `{ISTIOCTL_ANALYZE}`); for routing "
            "and proxy config read the objects (`kubectl get virtualservices,destinationrules -n NAMESPACE "
            "-o yaml`) or the sidecar's access log (`kubectl logs POD -c istio-proxy --tail=50`)"
        )
    if name in FILTER_NAMES:
        raise PolicyViolation(
            f"`{name}` can only read the output of a previous command; start with {_ALLOWED_SOURCES}"
        )
    raise PolicyViolation(
        f"`{name}` is not an allowed program; allowed: {_ALLOWED_SOURCES}, then `|` "
        f"{' / '.join(FILTER_NAMES)}"
    )


def _tool(argv: list[str]) -> ToolCommand:
    for arg in argv[1:]:
        name = arg[2:].partition("=")[0] if arg.startswith("--") else ""
        if name in DENIED_LONG_FLAGS or arg in ("-s", "-w", "-f", "-k"):
            raise PolicyViolation(
                f"`{arg}` is not allowed for {argv[0]}: cluster/identity overrides, watches and file flags "
                "are refused; the layer chooses the cluster"
            )
    return ToolCommand(name=argv[0], args=tuple(argv))
