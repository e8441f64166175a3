"""Strict YAML parsing that remembers where every value came from.

`parse_yaml(text, filename)` returns the plain data (dicts, lists, scalars) and a `LineIndex`
mapping each path such as ``("rules", 2, "require", "at_least")`` to its 1-based line, so a
validation error can name the line. Duplicate mapping keys are errors (PyYAML keeps the last
one silently).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from scheduler.core.problems import Message

Path = tuple[str | int, ...]


class YamlSourceError(ValueError):
    """Malformed YAML, with the line it was found on (``str``: ``FILE:LINE: what``)."""

    def __init__(self, filename: str, line: int, message: Message) -> None:
        super().__init__(f"{filename}:{line}: {message}")
        self.filename, self.line, self.message = filename, line, message


@dataclass
class LineIndex:
    """Lines of the values in one YAML document, by path."""

    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def parse_yaml(text: str, filename: str) -> tuple[Any, LineIndex]:
    """Parse one YAML document into plain data and its line index."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(error, "problem", None) or str(error)
        raise YamlSourceError(filename, line, Message("malformed_yaml", reason=problem)) from None
    index = LineIndex()
    if node is None:
        return None, index
    constructor = yaml.SafeLoader("")
    return _build(node, (), index, constructor, filename), index


def _build(
    node: yaml.Node, path: Path, index: LineIndex, constructor: yaml.SafeLoader, filename: str
) -> Any:
    index.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if key in result:
                line = key_node.start_mark.line + 1
                twice = Message("duplicate_key", value=key, shown=repr(key))
                raise YamlSourceError(filename, line, twice)
            child = (*path, key)
            index.lines[child] = key_node.start_mark.line + 1
            result[key] = _build(value_node, child, index, constructor, filename)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, position), index, constructor, filename)
            for position, item in enumerate(node.value)
        ]
    return constructor.construct_object(node, deep=True)


def item_key_at(text: str, line: int, sequence: str, key: str) -> str | None:
    """Best effort: the ``key`` of the item of the top-level list ``sequence`` holding ``line``.

    Names the rule of a YAML error that stops parsing. A duplicate key leaves the text
    composable, so it is read whole; for malformed YAML the longest head of the text that ends
    before ``line`` and composes is read (at most 50 lines back), and ``line`` belongs to the
    list's last item only when the list runs to the cut and ``line`` is indented inside the
    item. None when unsure.
    """
    lines = text.splitlines(keepends=True)
    for cut in (len(lines), *range(line - 1, max(line - 51, 0), -1)):
        try:
            root = yaml.compose("".join(lines[:cut]), Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            continue
        items = _sequence_at(root, sequence)
        if items is None:
            return None
        last_line = items.end_mark.line + (1 if items.end_mark.column else 0)
        if last_line < min(line, cut):
            return None
        return _key_of_item_at(items, line, lines, key)
    return None


def _sequence_at(root: yaml.Node | None, name: str) -> yaml.SequenceNode | None:
    if not isinstance(root, yaml.MappingNode):
        return None
    for key_node, value_node in root.value:
        if key_node.value == name and isinstance(value_node, yaml.SequenceNode):
            return value_node
    return None


def _key_of_item_at(items: yaml.SequenceNode, line: int, lines: list[str], key: str) -> str | None:
    started = [item for item in items.value if item.start_mark.line + 1 <= line]
    if not started or not isinstance(started[-1], yaml.MappingNode):
        return None
    item = started[-1]
    if item.start_mark.line + 1 < line:
        text = lines[line - 1] if line <= len(lines) else ""
        if len(text) - len(text.lstrip(" ")) < item.start_mark.column:
            return None
    for key_node, value_node in item.value:
        if key_node.value == key and isinstance(value_node, yaml.ScalarNode):
            return str(value_node.value)
    return None
