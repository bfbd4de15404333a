"""Read YAML into plain Python data while remembering where every value sits.

PyYAML's composer gives nodes with marks; we build the data ourselves from
those nodes so that each path (tuple of keys and indexes) maps to the 1-based
(line, column) of its value, and each mapping key to the position of the key.
Duplicate keys, which PyYAML silently overwrites, are reported.
"""

from __future__ import annotations

from typing import Any

import yaml

from procsim.errors import Issue

__all__ = ["Positions", "read_yaml"]

Path = tuple[Any, ...]


class Positions:
    """Positions of values and of mapping keys, by path."""

    def __init__(self) -> None:
        self.values: dict[Path, tuple[int, int]] = {}
        self.keys: dict[Path, tuple[int, int]] = {}

    def of(self, path: Path, *, key: bool = False) -> tuple[int, int] | None:
        """Position of ``path`` (its key when ``key``), else of its nearest known ancestor."""
        if key and tuple(path) in self.keys:
            return self.keys[tuple(path)]
        for end in range(len(path), -1, -1):
            pos = self.values.get(tuple(path[:end]))
            if pos is not None:
                return pos
        return None


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def read_yaml(text: str, file: str | None = None) -> tuple[Any, Positions, list[Issue]]:
    """Parse ``text``; return the data, the positions and any issues (duplicate keys).

    Raises
    ------
    procsim.errors.ModelError
        When the text is not well-formed YAML (with the parser's line and column).
    """
    from procsim.errors import ModelError

    loader = yaml.SafeLoader(text)
    positions = Positions()
    issues: list[Issue] = []
    try:
        root = loader.get_single_node()
        data = _build(loader, root, (), positions, issues, file) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        problem = exc.problem or "malformed YAML"
        context = f" {exc.context}" if exc.context else ""
        raise ModelError(
            [Issue("", f"invalid YAML: {problem}{context}", file, line, col)], file
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        raise ModelError([Issue("", f"invalid YAML: {exc}", file)], file) from None
    finally:
        loader.dispose()
    return data, positions, issues


def _build(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: Path,
    positions: Positions,
    issues: list[Issue],
    file: str | None,
) -> Any:
    positions.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolve YAML merge keys (<<)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                line, col = _mark(key_node)
                issues.append(Issue(_dotted(path), f"expected a name as key, got {key!r}",
                                    file, line, col))
                continue
            key = str(key) if not isinstance(key, str) else key
            child = (*path, key)
            if key in result:
                line, col = _mark(key_node)
                first = positions.keys[child][0]
                message = f"duplicate key '{key}' (first on line {first})"
                issues.append(Issue(_dotted(child), message, file, line, col))
                continue
            positions.keys[child] = _mark(key_node)
            result[key] = _build(loader, value_node, child, positions, issues, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(loader, item, (*path, i), positions, issues, file)
            for i, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
