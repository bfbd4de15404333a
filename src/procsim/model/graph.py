"""The process model as a ``networkx.DiGraph``.

Nodes are ``"start"``, ``"end"``, activity and gateway names. Each node has a
``kind`` attribute (``"start"``, ``"end"``, ``"activity"``, ``"gateway"``) and a
``spec`` attribute holding the typed :class:`Activity` or :class:`Gateway`.
Each edge has ``flow`` (``"next"``, ``"choice"``, ``"conditions"``, ``"parallel"``),
``probability`` (for choices; 1 otherwise) and ``when`` (for conditional branches),
plus ``order``, the position of the branch in the file.

networkx takes about 0.1 s to import, more than loading and checking a model does, so it is
imported only inside :func:`build_graph`; the checks run on every load walk the same edges
through :func:`flow_edges` with plain dictionaries.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from procsim.errors import UsageError, quote
from procsim.model.schema import Model

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["Predicate", "build_graph", "find_back_edges", "flow_edges", "flow_kind", "node_kind",
           "parse_condition"]


def node_kind(model: Model, name: str) -> str | None:
    """``"start"``, ``"end"``, ``"activity"``, ``"gateway"`` or ``None`` for an unknown name."""
    if name in ("start", "end"):
        return name
    if name in model.activities:
        return "activity"
    if name in model.gateways:
        return "gateway"
    return None


def flow_kind(targets: Any) -> str:
    """The form of a flow entry: ``"next"``, ``"choice"``, ``"conditions"`` or ``"parallel"``."""
    if isinstance(targets, str):
        return "next"
    if isinstance(targets, dict):
        return "choice"
    if targets and not isinstance(targets[0], str):
        return "conditions"
    return "parallel"


def flow_edges(model: Model) -> list[tuple[str, str, dict[str, Any]]]:
    """The edges of the model's graph as ``(source, target, attributes)``, in file order.

    The edges :func:`build_graph` adds, without networkx: a second conditional branch to
    the same node is dropped (the first keeps its position).

    Examples
    --------
    >>> from procsim.model import parse_model
    >>> m = parse_model('''
    ... procsim: 1
    ... name: Two steps
    ... arrivals: {interarrival: {dist: exponential, mean: 5}}
    ... activities:
    ...   a: {duration: {dist: fixed, value: 1}}
    ...   b: {duration: {dist: fixed, value: 1}}
    ... flow: {start: a, a: {b: 0.5, end: 0.5}, b: end}
    ... ''')
    >>> [(u, v, attrs["probability"]) for u, v, attrs in flow_edges(m)][1:3]
    [('a', 'b', 0.5), ('a', 'end', 0.5)]
    """
    out: list[tuple[str, str, dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    targets: Any
    for source, targets in model.flow.items():
        kind = flow_kind(targets)
        edges: list[tuple[str, dict[str, Any]]]
        if kind == "next":
            edges = [(targets, {"probability": 1.0, "when": None})]
        elif kind == "choice":
            edges = [(t, {"probability": float(p), "when": None}) for t, p in targets.items()]
        elif kind == "conditions":
            edges = [(b.to, {"probability": None, "when": b.when}) for b in targets]
        else:
            edges = [(t, {"probability": 1.0, "when": None}) for t in targets]
        for order, (target, attrs) in enumerate(edges):
            if (source, target) in seen:
                # Two conditional branches to the same node: keep the first position.
                continue
            seen.add((source, target))
            out.append((source, target, {"flow": kind, "order": order, **attrs}))
    return out


def build_graph(model: Model) -> nx.DiGraph:
    """Build the directed graph of a model (unknown names become nodes of kind ``None``).

    Examples
    --------
    >>> from procsim.model import parse_model
    >>> m = parse_model('''
    ... procsim: 1
    ... name: Two steps
    ... arrivals: {interarrival: {dist: exponential, mean: 5}}
    ... activities:
    ...   a: {duration: {dist: fixed, value: 1}}
    ...   b: {duration: {dist: fixed, value: 1}}
    ... flow: {start: a, a: {b: 0.5, end: 0.5}, b: end}
    ... ''')
    >>> g = build_graph(m)
    >>> sorted(g.successors("a")), g.edges["a", "b"]["probability"]
    (['b', 'end'], 0.5)
    """
    import networkx as nx  # only here: see the module docstring

    g = nx.DiGraph(name=model.name)
    for name in ("start", *model.activities, *model.gateways, "end"):
        spec = model.activities.get(name) or model.gateways.get(name)
        g.add_node(name, kind=node_kind(model, name), spec=spec)
    by_source: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for source, target, attrs in flow_edges(model):
        by_source.setdefault(source, []).append((target, attrs))
    for source in model.flow:  # nodes in the order they first appear, as in the file
        if source not in g:
            g.add_node(source, kind=None, spec=None)
        for target, attrs in by_source.get(source, []):
            if target not in g:
                g.add_node(target, kind=node_kind(model, target), spec=None)
            g.add_edge(source, target, **attrs)
    return g


# --- conditions on case attributes --------------------------------------------------------------

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_COMPARISON_RE = re.compile(r"^\s*(==|!=|<=|>=|<|>)\s*(.+?)\s*$")


@dataclass(frozen=True)
class Predicate:
    """A test of one case attribute: ``op(value_of_case, operand)``; ``"in"`` for a list."""

    attribute: str
    op: str
    operand: Any

    def __call__(self, value: Any) -> bool:
        if self.op == "in":
            return bool(value in self.operand)
        return _OPS[self.op](value, self.operand)

    def holds(self, values: Any) -> Any:
        """The test applied to every value of a numpy array (a boolean array).

        Equal, value for value, to calling the predicate on each; texts (an object array)
        are tested once per distinct value.

        >>> import numpy as np
        >>> parse_condition("amount", "> 10", numeric=True).holds(np.array([5.0, 50.0]))
        array([False,  True])
        """
        import numpy as np

        if values.dtype == object:
            distinct, inverse = np.unique(values, return_inverse=True)
            table = np.fromiter((self(v) for v in distinct), bool, len(distinct))
            return table[inverse.reshape(-1)]
        if self.op == "in":
            return np.isin(values, list(self.operand))
        return np.asarray(_OPS[self.op](values, self.operand), dtype=bool)


def parse_condition(attribute: str, raw: Any, numeric: bool) -> Predicate:
    """Turn a ``when`` entry into a :class:`Predicate`.

    Raises :class:`~procsim.errors.UsageError` (a ``ValueError``) with a user-facing message
    when the entry is malformed.

    Examples
    --------
    >>> parse_condition("amount", "> 10000", numeric=True)(25000.0)
    True
    >>> parse_condition("tier", ["gold", "silver"], numeric=False)("bronze")
    False
    """
    if isinstance(raw, list):
        return Predicate(attribute, "in", tuple(str(v) if not numeric else v for v in raw))
    if isinstance(raw, str):
        m = _COMPARISON_RE.match(raw)
        if m:
            op, operand = m.groups()
            if numeric:
                try:
                    return Predicate(attribute, op, float(operand))
                except ValueError:
                    raise UsageError(
                        f"expected a number after '{op}' for numeric attribute {quote(attribute)}, "
                        f"got {operand!r}"
                    ) from None
            if op in ("==", "!="):
                return Predicate(attribute, op, operand)
            raise UsageError(
                f"expected '==', '!=' or a value for categorical attribute {quote(attribute)}, "
                f"got {raw!r}"
            )
        if numeric:
            raise UsageError(
                f"expected a comparison such as '> 10000' or a number for numeric attribute "
                f"{quote(attribute)}, got {raw!r}"
            )
        return Predicate(attribute, "==", raw)
    if numeric:
        return Predicate(attribute, "==", float(raw))
    return Predicate(attribute, "==", str(raw))


def find_back_edges(g: nx.DiGraph, source: Any = "start") -> set[tuple[Any, Any]]:
    """Edges that close a loop: in a depth-first search from ``source`` (then from any node
    it does not reach), the edges to a node still on the search stack.

    Without them the graph has no cycle. The report's process map and the BPMN export draw
    them as loops back.

    >>> import networkx as nx
    >>> find_back_edges(nx.DiGraph([("start", "a"), ("a", "b"), ("b", "a"), ("b", "end")]))
    {('b', 'a')}
    """
    import networkx as nx  # only here: see the module docstring

    back: set[tuple[Any, Any]] = set()
    seen: set[Any] = set()
    roots = [source] if source in g else []
    roots += [n for n in g if n != source]
    for root in roots:
        if root in seen:
            continue
        stack = {root}
        seen.add(root)
        for u, v, direction in nx.dfs_labeled_edges(g, source=root):
            if direction == "forward" and u != v:
                if v in seen:  # reached before, from an earlier root: not a loop here
                    continue
                stack.add(v)
                seen.add(v)
            elif direction == "reverse":
                stack.discard(v)
            elif direction == "nontree" and v in stack:
                back.add((u, v))
    return back
