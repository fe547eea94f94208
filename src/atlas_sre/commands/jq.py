"""A small, dependency-free `jq` for `kubectl ... -o json | jq '...'` pipelines.

Why: agents reach for jq constantly, the real binary may be absent, and an in-process evaluator
can never read files or the environment. The subset (SUPPORTED below) covers what investigations
use; anything else is refused before the pipeline runs, with that list, never half-evaluated.
Runtime semantics live in `jq_eval`.
"""

from __future__ import annotations

import getopt
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from atlas_sre.commands.jq_eval import (
    COMPARE,
    MAX_OUTPUT_BYTES,
    NULLARY,
    UNARY,
    JqError,
    Node,
    alternative,
    attempt,
    check_size,
    index,
    iterate,
    logic,
    string_node,
    truthy,
)
from atlas_sre.commands.text import FilterOutput, FilterUsageError

SUPPORTED = (
    '.  .a.b  .a[]  .a[0]  .[]  .["k"]  .a?  |  ,  //  ( )  [array]  {k: .x}  "\\(interpolation)"  '
    "== != < <= > >=  and or  select(f) map(f) has(k) test(re) contains(x) startswith(s) "
    "endswith(s) join(s) length keys not type tostring to_entries sort unique first last empty "
    "ascii_downcase; options -r -c -S"
)
_TOKEN = re.compile(
    r"\s*(?:(?P<field>\.[A-Za-z_][A-Za-z0-9_]*)|(?P<num>-?\d+(?:\.\d+)?)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>==|!=|<=|>=|//|\.\.|[.\[\](){}|,:?<>])|(?P<str>\"))"
)
_WS = re.compile(r"\s*")
Token = tuple[str, Any]


def _tokenize(src: str) -> list[Token]:
    tokens: list[Token] = []
    pos = _WS.match(src, 0).end()  # type: ignore[union-attr]
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m:
            raise FilterUsageError(f"jq: unsupported syntax at {src[pos:pos + 20]!r} (supported: {SUPPORTED})")
        kind = m.lastgroup or ""
        text = m.group(kind)
        pos = m.end()
        if kind == "str":
            value, pos = _lex_string(src, pos)
            tokens.append(("str", value))
        elif kind == "field":
            tokens.append(("field", text[1:]))
        elif kind == "num":
            tokens.append(("num", float(text) if "." in text else int(text)))
        else:
            tokens.append((kind, text))
        pos = _WS.match(src, pos).end()  # type: ignore[union-attr]
    tokens.append(("eof", None))
    return tokens


def _lex_string(src: str, pos: int) -> tuple[list[str | Node], int]:
    """Lex a JSON string body; `\\(expr)` interpolations are compiled recursively."""
    parts: list[str | Node] = []
    buf = ""
    while pos < len(src):
        c = src[pos]
        if c == '"':
            return [*parts, buf], pos + 1
        if src.startswith("\\(", pos):
            depth, end = 1, pos + 2
            while end < len(src) and depth:
                depth += {"(": 1, ")": -1}.get(src[end], 0)
                end += 1
            parts += [buf, compile_jq(src[pos + 2 : end - 1])]
            buf, pos = "", end
        elif c == "\\":
            width = 6 if src.startswith("\\u", pos) else 2
            buf += json.loads(f'"{src[pos:pos + width]}"')
            pos += width
        else:
            buf, pos = buf + c, pos + 1
    raise FilterUsageError("jq: unterminated string")


class _Parser:
    """Recursive descent: pipe < comma < // < or < and < comparison < postfix < primary."""

    def __init__(self, tokens: list[Token]) -> None:
        self.toks, self.i = tokens, 0

    def peek(self, value: str, offset: int = 0) -> bool:
        kind, text = self.toks[min(self.i + offset, len(self.toks) - 1)]
        return kind in ("op", "ident") and text == value

    def take(self, value: str) -> None:
        if not self.peek(value):
            raise FilterUsageError(f"jq: expected {value!r} near {self.toks[self.i][1]!r}")
        self.i += 1

    def binary(self, sub: Callable[[], Node], ops: tuple[str, ...], make: Callable[..., Node]) -> Node:
        left = sub()
        while any(self.peek(op) for op in ops):
            op = self.toks[self.i][1]
            self.i += 1
            left = make(op, left, sub())
        return left

    def pipe(self) -> Node:
        return self.binary(self.comma, ("|",), lambda _, a, b: lambda x: (z for y in a(x) for z in b(y)))

    def comma(self) -> Node:
        return self.binary(self.alt, (",",), lambda _, a, b: lambda x: itertools.chain(a(x), b(x)))

    def alt(self) -> Node:
        return self.binary(self.or_, ("//",), lambda _, a, b: lambda x: alternative(a, b, x))

    def or_(self) -> Node:
        return self.binary(self.and_, ("or",), lambda _, a, b: lambda x: logic(a, b, x, True))

    def and_(self) -> Node:
        return self.binary(self.compare, ("and",), lambda _, a, b: lambda x: logic(a, b, x, False))

    def compare(self) -> Node:
        def make(op: str, a: Node, b: Node) -> Node:
            return lambda x: (COMPARE[op](lv, rv) for rv in b(x) for lv in a(x))

        return self.binary(self.postfix, tuple(COMPARE), make)

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            kind, text = self.toks[self.i]
            if kind == "field" or (self.peek(".") and self.toks[self.i + 1][0] == "str"):
                key = text if kind == "field" else _const_str(self.toks[self.i + 1][1])
                self.i += 1 if kind == "field" else 2
                node = _chain(node, lambda y, k=key: iter((index(y, k),)))
            elif self.peek("[") and self.peek("]", 1):
                self.i += 2
                node = _chain(node, iterate)
            elif self.peek("["):
                self.i += 1
                sub = self.pipe()
                self.take("]")
                node = (lambda n, f: lambda x: (index(y, k) for y in n(x) for k in f(x)))(node, sub)
            elif self.peek("?"):
                self.i += 1
                node = (lambda n: lambda x: attempt(n, x))(node)
            else:
                return node

    def primary(self) -> Node:
        kind, text = self.toks[self.i]
        self.i += 1
        if kind == "field" or (text == "." and kind == "op" and self.toks[self.i][0] == "str"):
            key = text if kind == "field" else _const_str(self.toks[self.i][1])
            self.i += kind != "field"
            return lambda x: iter((index(x, key),))
        if kind == "str":
            return string_node(text)
        if kind == "num" or (kind == "ident" and text in ("true", "false", "null")):
            value = {"true": True, "false": False, "null": None}.get(text, text) if kind == "ident" else text
            return lambda x: iter((value,))
        if kind == "op" and text == ".":
            return lambda x: iter((x,))
        if kind == "op" and text in ("(", "["):
            if text == "[" and self.peek("]"):
                self.i += 1
                return lambda x: iter(([],))
            inner = self.pipe()
            self.take(")" if text == "(" else "]")
            return inner if text == "(" else lambda x: iter((list(inner(x)),))
        if kind == "op" and text == "{":
            return self.object()
        if kind == "ident":
            return self.function(text)
        raise FilterUsageError(f"jq: unsupported syntax near {text!r} (supported: {SUPPORTED})")

    def object(self) -> Node:
        entries: list[tuple[str, Node]] = []
        while not self.peek("}"):
            kind, text = self.toks[self.i]
            if kind not in ("ident", "str"):
                raise FilterUsageError("jq: object keys must be names or constant strings")
            self.i += 1
            key = text if kind == "ident" else _const_str(text)
            if self.peek(":"):
                self.i += 1
                entries.append((key, self.alt()))
            else:
                entries.append((key, lambda x, k=key: iter((index(x, k),))))
            if not self.peek("}"):
                self.take(",")
        self.i += 1

        def build(x: Any) -> Any:
            pools = [[(k, v) for v in node(x)] for k, node in entries]
            return (dict(combo) for combo in itertools.product(*pools))

        return build

    def function(self, name: str) -> Node:
        if name in NULLARY:
            fn = NULLARY[name]
            return lambda x: iter((fn(x),))
        if name == "empty":
            return lambda x: iter(())
        if name not in (*UNARY, "select", "map"):
            raise FilterUsageError(f"jq: unsupported function {name!r} (supported: {SUPPORTED})")
        self.take("(")
        arg = self.pipe()
        self.take(")")
        if name == "select":
            return lambda x: (x for v in arg(x) if truthy(v))
        if name == "map":
            return lambda x: iter(([z for y in iterate(x) for z in arg(y)],))
        fn2 = UNARY[name]
        return lambda x: (fn2(x, a) for a in arg(x))


def _chain(node: Node, step: Callable[[Any], Any]) -> Node:
    return lambda x: (z for y in node(x) for z in step(y))


def _const_str(parts: list[str | Node]) -> str:
    if any(not isinstance(p, str) for p in parts):
        raise FilterUsageError("jq: interpolated strings cannot be used as keys")
    return "".join(p for p in parts if isinstance(p, str))


def compile_jq(program: str) -> Node:
    """Compile a jq program of the supported subset; raise FilterUsageError for anything else."""
    try:
        parser = _Parser(_tokenize(program))
        node = parser.pipe()
    except FilterUsageError:
        raise
    except (ValueError, IndexError, RecursionError) as exc:
        raise FilterUsageError(f"jq: cannot compile program: {exc}") from exc
    if parser.toks[parser.i][0] != "eof":
        raise FilterUsageError(f"jq: unexpected {parser.toks[parser.i][1]!r} (supported: {SUPPORTED})")
    return node


@dataclass(frozen=True)
class JqFilter:
    """A compiled `jq [-r] [-c] [-S] PROGRAM` stage over a stream of JSON documents."""

    argv: tuple[str, ...]
    program: Node
    raw: bool = False
    compact: bool = False
    sort_keys: bool = False
    linear: ClassVar[bool] = False  # a jq program can grow its output exponentially: always bounded in a child

    def apply(self, text: str) -> FilterOutput:
        out: list[str] = []
        decoder = json.JSONDecoder()
        pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
        try:
            while pos < len(text):
                doc, pos = decoder.raw_decode(text, pos)
                out.extend(self._format(v) for v in self.program(doc))
                pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        except json.JSONDecodeError as exc:
            return FilterOutput(2, _lines(out), f"jq: parse error: {exc.msg} at line {exc.lineno}, column "
                                f"{exc.colno} (is the input JSON? add -o json to the kubectl command)\n")
        except (JqError, TypeError, ValueError, re.error, RecursionError) as exc:
            return FilterOutput(5, _lines(out), f"jq: error (at <stdin>:0): {exc}\n")
        return FilterOutput(0, _lines(out))

    def _format(self, value: Any) -> str:
        check_size(value, MAX_OUTPUT_BYTES)
        if self.raw and isinstance(value, str):
            return value
        if self.compact:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=self.sort_keys)
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=self.sort_keys)


def _lines(items: list[str]) -> str:
    return "".join(item + "\n" for item in items)


def parse_jq(argv: list[str]) -> JqFilter:
    """Validate `jq` options (-r -c -S and long forms) and compile its program (default `.`)."""
    try:
        opts, operands = getopt.gnu_getopt(argv[1:], "rcS", ["raw-output", "compact-output", "sort-keys"])
    except getopt.GetoptError as exc:
        raise FilterUsageError(f"jq: {exc.msg} (supported options: -r -c -S)") from exc
    if len(operands) > 1:
        raise FilterUsageError("jq: file operands are not allowed; jq reads the previous command's output")
    flags = {o for o, _ in opts}
    return JqFilter(
        argv=tuple(argv),
        program=compile_jq(operands[0] if operands else "."),
        raw=bool(flags & {"-r", "--raw-output"}),
        compact=bool(flags & {"-c", "--compact-output"}),
        sort_keys=bool(flags & {"-S", "--sort-keys"}),
    )
