"""Bounded YAML: one scenario document parsed with its size, depth and alias expansion capped.

PyYAML's composer recurses once per nesting level (a RecursionError on deep input) and aliases let
a few hundred bytes stand for billions of nodes. So the event stream (PyYAML's parser is a state
machine, not recursive) is scanned first and refused early, with the line of the offending node;
only then is the document composed. Construction also refuses duplicate keys (the last one would
silently win) and values PyYAML cannot build (a 5,000-digit integer, `2026-13-45` as a date).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError

from atlas_sre.scenarios.limits import MAX_FILE_BYTES, MAX_YAML_ALIASES, MAX_YAML_DEPTH, MAX_YAML_NODES


class YamlLimitError(ValueError):
    """Input refused by a cap or a rule of this module; `line` is 1-based (None when unknown)."""

    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        super().__init__(message)


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and reports construction errors with a mark."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            shown = str(getattr(node, "value", ""))[:40]
            raise ConstructorError(None, None, f"cannot read value {shown!r}: {str(exc)[:80]}",
                                   node.start_mark) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = key_node.value
                if key in seen:
                    raise ConstructorError(None, None, f"duplicate key {key[:60]!r} (also line {seen[key]})",
                                           key_node.start_mark)
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def _scan(text: str) -> None:
    """Refuse deep nesting and alias bombs from the event stream, before anything recursive runs."""
    loader = _Loader(text)
    sizes: dict[str, int] = {}  # anchor -> nodes it expands to
    stack: list[list[Any]] = []  # open collections: [nodes so far, anchor]
    aliases = total = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            line = event.start_mark.line + 1
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= MAX_YAML_DEPTH:
                    raise YamlLimitError(line, f"nesting deeper than {MAX_YAML_DEPTH} levels")
                stack.append([1, event.anchor])
                size = 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                done, anchor = stack.pop()
                if anchor:
                    sizes[anchor] = done
                if stack:
                    stack[-1][0] += done
                continue
            elif isinstance(event, yaml.ScalarEvent):
                size = 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                if any(event.anchor == anchor for _, anchor in stack):
                    raise YamlLimitError(line, f"alias *{event.anchor} refers to a node that contains it")
                aliases += 1
                if aliases > MAX_YAML_ALIASES:
                    raise YamlLimitError(line, f"more than {MAX_YAML_ALIASES} aliases")
                size = sizes.get(event.anchor or "", 1)
            else:
                continue
            total += size
            if total > MAX_YAML_NODES:
                raise YamlLimitError(line, f"expands to more than {MAX_YAML_NODES} nodes (aliases included)")
            if stack and not isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                stack[-1][0] += size
    finally:
        loader.dispose()


def compose_and_load(text: str) -> tuple[yaml.Node | None, Any]:
    """The composed node (for line numbers) and the data of one YAML document.

    Raises `YamlLimitError` for a cap and `yaml.YAMLError` (with `problem_mark`) for bad YAML.
    """
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise YamlLimitError(None, f"file larger than {MAX_FILE_BYTES} bytes")
    _scan(text)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, data
