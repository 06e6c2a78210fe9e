"""Safe YAML reading that remembers where every value came from.

Admin scripts are small, hand-written YAML. This reader refuses what an admin never needs and
an attacker would use (anchors and aliases, which make "billion laughs" bombs; tags; huge or
deeply nested documents) and returns plain dicts and lists whose line numbers are kept, so
every error can say ``file:line``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

MAX_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_VALUES = 20_000  # the default script has about 600; more would take seconds to read
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class LDict(dict[Any, Any]):
    """A mapping from YAML that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LList(list[Any]):
    """A sequence from YAML that knows its own line and each item's line."""

    line: int = 0
    item_lines: list[int]


@dataclass(frozen=True, slots=True)
class YamlProblem(Exception):
    """Unreadable YAML: where and why."""

    line: int
    message: str


def read_yaml(text: str) -> Any:
    """Parse one YAML document into LDict/LList/scalars, or raise YamlProblem."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise YamlProblem(1, f"the script is larger than {MAX_BYTES // 1024} KB")
    if "\x00" in text:
        raise YamlProblem(1, "the script contains a NUL character")
    try:
        # Checked on the events, before anything is built: the parser stops at the first
        # problem, so 10,000 "[" are refused after 33 and never reach the recursive composer.
        open_collections = values = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1 if event.start_mark is not None else 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise YamlProblem(line, "anchors and aliases (& and *) are not allowed")
            tag = getattr(event, "tag", None)  # None unless written explicitly
            if tag and tag != "!":
                raise YamlProblem(line, f"YAML tags such as {tag} are not allowed")
            if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                values += 1
                if values > MAX_VALUES:
                    raise YamlProblem(line, f"the script has more than {MAX_VALUES} values")
            if isinstance(event, yaml.CollectionStartEvent):
                open_collections += 1
                if open_collections > MAX_DEPTH + 1:  # the same limit as _convert's
                    raise YamlProblem(line, f"nesting deeper than {MAX_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                open_collections -= 1
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlProblem(line, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, f"invalid YAML: {exc}") from None
    if node is None:
        return None
    return _convert(node, 0, yaml.constructor.SafeConstructor())


def _convert(node: yaml.Node, depth: int, constructor: yaml.constructor.SafeConstructor) -> Any:
    if depth > MAX_DEPTH:
        raise YamlProblem(node.start_mark.line + 1, f"nesting deeper than {MAX_DEPTH} levels")
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result = LDict()
        result.line = line
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, constructor)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise YamlProblem(key_node.start_mark.line + 1, "keys must be plain words")
            key = str(key)
            if key in result:
                raise YamlProblem(key_node.start_mark.line + 1, f"duplicate key '{key}'")
            result[key] = _convert(value_node, depth + 1, constructor)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        items = LList()
        items.line = line
        items.item_lines = []
        for item in node.value:
            items.append(_convert(item, depth + 1, constructor))
            items.item_lines.append(item.start_mark.line + 1)
        return items
    return _scalar(node, constructor)


def _scalar(node: yaml.Node, constructor: yaml.constructor.SafeConstructor) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise YamlProblem(node.start_mark.line + 1, "expected a plain value here")
    if _UNSTORABLE.search(node.value):  # written as an escape: "\0", "\ud800"; no database stores it
        raise YamlProblem(node.start_mark.line + 1, "text may not contain NUL (\\0) or a lone surrogate (\\ud800)")
    if node.tag == "tag:yaml.org,2002:bool" and node.value.lower() not in ("true", "false"):
        return node.value  # YAML 1.1 would read yes/no/on/off as booleans; admins mean words
    try:
        value = constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError):
        # an impossible date (2024-13-45), an integer of over 4300 digits, YAML 1.1's "=" and "<<"
        return node.value
    if not isinstance(value, (str, int, float, bool)) and value is not None:
        # dates, timestamps and binary are not part of the script format
        return node.value
    return value
