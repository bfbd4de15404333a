"""Read YAML into plain Python data while remembering where every value sits.

PyYAML's composer gives nodes with marks; we build the data ourselves from
those nodes so that each path (tuple of keys and indexes) maps to the 1-based
(line, column) of its value, and each mapping key to the position of the key.
A block mapping or list is placed at its key (``triage:``), not at its first
item on the next line, so that "missing field" and similar messages point at
the entry they are about. Duplicate keys, which PyYAML silently overwrites, are
reported; keys brought in by a merge key (``<<: *defaults``) may be overridden.
"""

from __future__ import annotations

from typing import Any

import yaml

from procsim.errors import Issue

__all__ = ["Positions", "read_yaml"]

Path = tuple[Any, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
#: Values built from one file, aliases expanded: far more than any model holds.
MAX_VALUES = 200_000


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

    def forget(self, path: Path) -> None:
        """Drop the positions of ``path`` and everything under it (its value was replaced)."""
        n = len(path)
        for table in (self.values, self.keys):
            for p in [p for p in table if p[:n] == path]:
                del table[p]


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

    positions = Positions()
    issues: list[Issue] = []
    loader: yaml.SafeLoader | None = None
    try:
        # The reader checks the characters as soon as the loader is made: keep it in the try.
        loader = yaml.SafeLoader(text)
        root = loader.get_single_node()
        builder = _Builder(loader, positions, issues, file)
        data = builder.build(root, ()) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        issue = Issue("", f"invalid YAML: {_yaml_message(exc)}", file, line, col)
        raise ModelError([issue], file) from None
    except yaml.reader.ReaderError as exc:  # a control character, e.g. NUL; no mark, a position
        line, col = _line_col(text, exc.position)
        message = f"invalid YAML: unacceptable character #x{exc.character:04x}: {exc.reason}"
        raise ModelError([Issue("", message, file, line, col)], file) from None
    except yaml.YAMLError as exc:  # pragma: no cover - other unmarked errors are rare
        raise ModelError([Issue("", f"invalid YAML: {exc}", file)], file) from None
    except RecursionError:  # absurdly deep nesting
        raise ModelError([Issue("", "invalid YAML: nested too deeply", file)], file) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, positions, issues


def _line_col(text: str, position: int) -> tuple[int, int]:
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's context and problem, in the order a reader expects, with a hint."""
    problem = exc.problem or "malformed YAML"
    context = exc.context or ""
    if problem == "but found another document":
        return ("expected a single document, but found another one; a model file holds one "
                "YAML document (remove the '---')")
    message = problem
    opened = exc.context_mark
    if context in ("while parsing a flow sequence", "while parsing a flow mapping") \
            and opened is not None and problem.startswith("expected ','"):
        bracket = "[" if "sequence" in context else "{"
        return (f"the '{bracket}' at line {opened.line + 1}, column {opened.column + 1} is not "
                f"closed: {problem}")
    if context.startswith("while") and exc.context_mark is not None and (
        exc.problem_mark is None or exc.context_mark.line != exc.problem_mark.line
        or exc.context_mark.column != exc.problem_mark.column
    ):
        m = exc.context_mark
        message += f" ({context} that starts at line {m.line + 1}, column {m.column + 1})"
    elif context and not context.startswith("while scanning for the next token"):
        message += f" ({context})"
    if "'\\t'" in problem:
        message += "; indent with spaces, not tabs"
    elif problem.startswith("mapping values are not allowed"):
        message += ("; a value holding ': ' must be quoted, or the indentation of this line or "
                    "the one above is wrong")
    elif "<block" in problem or "block" in context:
        message += "; check the indentation"
    return message


class _Builder:
    """Builds plain data from composed nodes, recording positions and duplicate keys."""

    def __init__(self, loader: yaml.SafeLoader, positions: Positions, issues: list[Issue],
                 file: str | None) -> None:
        self.loader = loader
        self.positions = positions
        self.issues = issues
        self.file = file
        # id(mapping node) -> ids of the key nodes written in it (not brought in by '<<').
        # Kept across visits: an aliased node is flattened once but may be built many times.
        self.explicit: dict[int, set[int]] = {}
        self.built = 0

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.built += 1
        if self.built > MAX_VALUES:
            # Aliases of aliases can expand exponentially ("billion laughs").
            problem = (f"expected at most {MAX_VALUES:,} values, got more; aliases (*name) "
                       "expand to too much data")
            raise yaml.MarkedYAMLError(problem=problem, problem_mark=node.start_mark)
        self.positions.values.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError) as exc:
            # Plain scalars that match a YAML type but not its range: an integer of thousands
            # of digits (Python refuses to convert it), a date such as 2024-13-45.
            text = str(node.value)
            if "digits" in str(exc):
                message = f"expected a number of a reasonable size, got one of {len(text)} digits"
            else:
                message = f"cannot read {text!r}: {exc}; quote it to make it a text"
            raise yaml.MarkedYAMLError(problem=message, problem_mark=node.start_mark) from None

    def _record_explicit(self, node: yaml.Node) -> None:
        """Note the keys each mapping writes itself, before flattening merges them away."""
        if not isinstance(node, yaml.MappingNode) or id(node) in self.explicit:
            return
        self.explicit[id(node)] = {id(k) for k, _ in node.value if k.tag != _MERGE_TAG}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources = (value_node.value if isinstance(value_node, yaml.SequenceNode)
                           else [value_node])
                for source in sources:
                    self._record_explicit(source)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        if id(node) not in self.explicit:
            self._record_explicit(node)
            self.loader.flatten_mapping(node)  # resolve YAML merge keys (<<)
        explicit = self.explicit[id(node)]
        result: dict[Any, Any] = {}
        written: set[Any] = set()  # keys written in this mapping itself
        for key_node, value_node in node.value:
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) \
                else self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                line, col = _mark(key_node)
                self.issues.append(Issue(_dotted(path), f"expected a name as key, got {key!r}",
                                         self.file, line, col))
                continue
            key = str(key) if not isinstance(key, str) else key
            child = (*path, key)
            if key in result:
                if id(key_node) in explicit and key in written:
                    line, col = _mark(key_node)
                    first = self.positions.keys[child][0]
                    message = f"duplicate key '{key}' (first on line {first})"
                    self.issues.append(Issue(_dotted(child), message, self.file, line, col))
                    continue
                # A merged value, overridden by a later merge or by the mapping's own key.
                self.positions.forget(child)
            if id(key_node) in explicit:
                written.add(key)
            self.positions.keys[child] = _mark(key_node)
            if isinstance(value_node, yaml.CollectionNode) and not value_node.flow_style \
                    and value_node.start_mark.line > key_node.start_mark.line:
                # A block collection starts on the next line: place it at its key.
                self.positions.values[child] = _mark(key_node)
            result[key] = self.build(value_node, child)
        return result


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
