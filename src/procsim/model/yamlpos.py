"""Read YAML into plain Python data while remembering where every value sits.

PyYAML's composer gives nodes with marks; we build the data ourselves from
those nodes so that each path (tuple of keys and indexes) maps to the 1-based
(line, column) of its value, and each mapping key to the position of the key.
A block mapping or list is placed at its key (``triage:``), not at its first
item on the next line, so that "missing field" and similar messages point at
the entry they are about. Duplicate keys, which PyYAML silently overwrites, are
reported; keys brought in by a merge key (``<<: *defaults``) may be overridden.

A model is plain YAML: explicit tags other than the core ones (``!!str``, ``!!int``, …) are
refused where they stand, before anything is constructed, and so are documents nested more
than :data:`MAX_DEPTH` levels deep or expanding (through aliases and merge keys) to more
than :data:`MAX_VALUES` values.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from procsim.errors import Issue, dotted, quote

__all__ = ["MAX_DEPTH", "MAX_VALUES", "Positions", "read_yaml"]

Path = tuple[Any, ...]

_CORE = "tag:yaml.org,2002:"
_MERGE_TAG = _CORE + "merge"
#: Values built from one file, aliases and merge keys expanded: far more than any model holds.
MAX_VALUES = 200_000
#: Levels of nesting (mappings and lists in one another): a model needs fewer than ten.
MAX_DEPTH = 100
# Explicit tags a model may carry, by the kind of node they stand on: the core schema's.
# Anything else (``!!python/object/...``, ``!!binary``, ``!!set``, local ``!foo`` tags) is
# refused rather than ignored or constructed.
_ALLOWED_TAGS: dict[type[yaml.Event], set[str]] = {
    yaml.ScalarEvent: {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp")},
    yaml.SequenceStartEvent: {_CORE + "seq"},
    yaml.MappingStartEvent: {_CORE + "map"},
}


class _Refused(yaml.MarkedYAMLError):
    """Well-formed YAML that procsim refuses: an unsupported tag, deep nesting, expansion."""


class _Unreadable(yaml.MarkedYAMLError):
    """Well-formed YAML whose values cannot be built (a date 2024-13-45, a merge of a text)."""


def _shown_tag(tag: str) -> str:
    """A resolved tag as the user wrote it: ``!!binary`` rather than ``tag:yaml.org,2002:…``."""
    if tag.startswith(_CORE):
        return "!!" + tag[len(_CORE):]
    return tag if tag.startswith("!") else f"!<{tag}>"


class _Checks:
    """Refuse unknown tags and deep nesting while composing (a mix-in of the loaders below)."""

    depth = 0
    aliases = 0  # how many aliases (*name) the text uses

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event: Any = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and not isinstance(event, yaml.AliasEvent) \
                and tag not in _ALLOWED_TAGS.get(type(event), set()):
            problem = (f"unsupported YAML tag {_shown_tag(tag)!r}; procsim models are plain "
                       "YAML (mappings, lists, texts and numbers)")
            raise _Refused(problem=problem, problem_mark=event.start_mark)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Refused(problem=_too_deep(), problem_mark=event.start_mark)
            node: yaml.Node | None = super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self.depth -= 1
        assert node is not None
        return node


class _Loader(_Checks, yaml.SafeLoader):
    """PyYAML's safe loader, all in Python: slow on large files, with the clearest messages."""


try:  # libyaml's parser reads a file some 50 times faster; the composing stays ours
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _FastLoader: type[yaml.SafeLoader] | None = None
else:
    class _LibyamlLoader(_Checks, Composer, CParser, SafeConstructor, Resolver):
        """libyaml's parser under PyYAML's composer, constructor and resolver."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    _FastLoader = _LibyamlLoader  # type: ignore[assignment]


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep; a model needs only a few levels"


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
        When the text is not well-formed YAML (with the parser's line and column), or holds
        what procsim refuses (an unsupported tag, deep nesting, too many values).
    """
    if _FastLoader is not None:
        try:
            return _read(_FastLoader, text, file, retry=True)
        except _Malformed:
            pass  # PyYAML's own parser words the mistake better (and the tests pin its words)
    return _read(_Loader, text, file, retry=False)


class _Malformed(Exception):
    """libyaml found the text malformed: read it again with PyYAML for the message."""


def _read(loader_class: Any, text: str, file: str | None, *, retry: bool
          ) -> tuple[Any, Positions, list[Issue]]:
    from procsim.errors import ModelError

    positions = Positions()
    issues: list[Issue] = []
    loader: Any = None
    try:
        # The reader checks the characters as soon as the loader is made: keep it in the try.
        loader = loader_class(text)
        root = loader.get_single_node()
        builder = _Builder(loader, positions, issues, file)
        data = builder.build(root, ()) if root is not None else None
    except _Refused as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise ModelError([Issue("", str(exc.problem), file, line, col)], file) from None
    except yaml.YAMLError as exc:
        if retry and not isinstance(exc, _Unreadable):  # the parser's words, not ours
            raise _Malformed from None
        raise ModelError([_yaml_issue(exc, text, file)], file) from None
    except RecursionError:  # pragma: no cover - MAX_DEPTH stops nesting long before
        raise ModelError([Issue("", f"invalid YAML: {_too_deep()}", file)], file) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, positions, issues


def _yaml_issue(exc: yaml.YAMLError, text: str, file: str | None) -> Issue:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        return Issue("", f"invalid YAML: {_yaml_message(exc)}", file, line, col)
    if isinstance(exc, yaml.reader.ReaderError):  # a control character, e.g. NUL; a position
        line, col = _line_col(text, exc.position)
        message = f"invalid YAML: unacceptable character #x{exc.character:04x}: {exc.reason}"
        return Issue("", message, file, line, col)
    # Its problem only: str(exc) would quote the offending line of a file that may not be a
    # model at all.
    problem = getattr(exc, "problem", None) or type(exc).__name__  # pragma: no cover
    return Issue("", f"invalid YAML: {problem}", file)  # pragma: no cover


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
        self.flattened: set[int] = set()
        self.built = 0

    def count(self, n: int, node: yaml.Node) -> None:
        """Count ``n`` more values (or merged keys) built, and stop at :data:`MAX_VALUES`."""
        self.built += n
        if self.built > MAX_VALUES:
            # Aliases of aliases can expand exponentially ("billion laughs"), and merge keys
            # can repeat a large mapping many times.
            problem = f"expected at most {MAX_VALUES:,} values in a model, got more"
            if getattr(self.loader, "aliases", 0):
                problem += "; aliases (*name) and merge keys (<<) expand to too much data"
            raise _Refused(problem=problem, problem_mark=node.start_mark)

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count(1, node)
        if len(path) > MAX_DEPTH:  # aliases can nest deeper than the text itself
            raise _Refused(problem=_too_deep(), problem_mark=node.start_mark)
        self.positions.values.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError, KeyError, AttributeError, TypeError) as exc:
            # Plain scalars that match a YAML type but not its range: an integer of thousands
            # of digits (Python refuses to convert it), a date such as 2024-13-45; and
            # explicitly tagged ones that are not of their tag (!!bool maybe, !!int ten).
            text = str(node.value)
            plain = not getattr(node, "style", None)  # None, or '' from libyaml
            implicit = (self.loader.resolve(yaml.ScalarNode, text, (True, False)) if plain
                        else _CORE + "str")
            if "digits" in str(exc):
                message = f"expected a number of a reasonable size, got one of {len(text)} digits"
            elif node.tag != implicit:
                message = (f"cannot read {quote(text)} as {_shown_tag(str(node.tag))}; "
                           "leave out the tag")
            else:
                message = f"cannot read {quote(text)}: {exc}; quote it to make it a text"
            raise _Unreadable(problem=message, problem_mark=node.start_mark) from None

    def _record_explicit(self, node: yaml.Node, depth: int = 0) -> None:
        """Note the keys each mapping writes itself, before flattening merges them away."""
        if not isinstance(node, yaml.MappingNode) or id(node) in self.explicit:
            return
        if depth > MAX_DEPTH:
            raise _Refused(problem=_too_deep(), problem_mark=node.start_mark)
        self.explicit[id(node)] = {id(k) for k, _ in node.value if k.tag != _MERGE_TAG}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources = (value_node.value if isinstance(value_node, yaml.SequenceNode)
                           else [value_node])
                for source in sources:
                    self._record_explicit(source, depth + 1)

    def _flatten(self, node: yaml.MappingNode, depth: int = 0) -> None:
        """Resolve the merge keys (``<<``) of ``node`` in place, as PyYAML does, counting the
        merged keys against :data:`MAX_VALUES` (PyYAML's own has no bound on the work)."""
        if id(node) in self.flattened:
            return
        if depth > MAX_DEPTH:
            raise _Refused(problem=_too_deep(), problem_mark=node.start_mark)
        self.flattened.add(id(node))
        merge: list[tuple[yaml.Node, yaml.Node]] = []
        seen: set[int] = set()  # merged key texts, by identity, as PyYAML compares them
        own: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                if key_node.tag == _CORE + "value":
                    key_node.tag = _CORE + "str"
                own.append((key_node, value_node))
                continue
            if isinstance(value_node, yaml.MappingNode):
                sources = [value_node]
            elif isinstance(value_node, yaml.SequenceNode) and all(
                    isinstance(s, yaml.MappingNode) for s in value_node.value):
                sources = list(value_node.value)
            else:
                problem = ("expected a mapping or list of mappings for merging, but found "
                           f"{value_node.id}")
                raise _Unreadable(problem=problem, problem_mark=value_node.start_mark)
            for source in sources:
                self._flatten(source, depth + 1)
                self.count(len(source.value), source)
                for pair in source.value:
                    if id(pair[0].value) not in seen:
                        seen.add(id(pair[0].value))
                        merge.append(pair)
        node.value = merge + own

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        if id(node) not in self.explicit:
            self._record_explicit(node)
        self._flatten(node)  # resolve YAML merge keys (<<)
        explicit = self.explicit[id(node)]
        result: dict[Any, Any] = {}
        written: set[Any] = set()  # keys written in this mapping itself
        for key_node, value_node in node.value:
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) \
                else self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                line, col = _mark(key_node)
                self.issues.append(Issue(dotted(path), "expected a name as key, got "
                                         f"{_shown_key(key)}", self.file, line, col))
                continue
            key = str(key) if not isinstance(key, str) else key
            child = (*path, key)
            if key in result:
                if id(key_node) in explicit and key in written:
                    line, col = _mark(key_node)
                    first = self.positions.keys[child][0]
                    message = f"duplicate key {quote(key)} (first on line {first})"
                    self.issues.append(Issue(dotted(child), message, self.file, line, col))
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


def _shown_key(key: Any) -> str:
    if isinstance(key, dict):
        return "a mapping"
    if isinstance(key, list):
        return "a list"
    return "nothing" if key is None else quote(key)


#: Kept for the modules that imported it from here; :func:`procsim.errors.dotted` is the one.
_dotted = dotted
