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

Path = tuple[str | int, ...]


class YamlSourceError(ValueError):
    """Malformed YAML, with the line it was found on."""

    def __init__(self, filename: str, line: int, message: str) -> None:
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
        raise YamlSourceError(filename, line, f"malformed YAML: {problem}") from None
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
                raise YamlSourceError(filename, line, f"duplicate key {key!r}")
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
