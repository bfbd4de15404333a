"""A model's control flow as BPMN 2.0 XML with a diagram, for BPMN editors (bpmn.io, Camunda).

What maps to what (see docs/interop.md, "Export"):

* ``start`` and ``end`` become a ``startEvent`` and an ``endEvent``;
* an activity with a resource becomes a ``userTask`` whose ``performer`` refers to a
  ``resource`` element named after the pool; an activity without one (a delay: time passes,
  nobody works) becomes an ``intermediateCatchEvent`` with a timer whose ``timeDuration`` is
  the mean of its duration;
* gateways become ``exclusiveGateway`` / ``parallelGateway``; where the model routes straight
  from an activity (or ``start``) to several nodes, by probabilities or conditions, the
  export adds the exclusive gateway BPMN needs there (and a parallel one for a list);
* a conditional branch keeps its condition as a ``conditionExpression`` (procsim's own
  syntax, e.g. ``order_value > 2000``) and as the flow's label; the branch without ``when``
  is the gateway's ``default`` flow; a probability is kept in the flow's ``documentation``
  and label (``60%``);
* durations, costs and descriptions go to each element's ``documentation``;
* what the model says about each element is also kept as JSON in its ``extensionElements``
  (namespace ``urn:procsim:bpmn``: ``procsim:model`` on the process, ``procsim:spec`` on
  activities and gateways, ``procsim:branch`` on branches, ``procsim:added`` on the gateways
  the export adds), so that :func:`procsim.interop.import_bpmn` gives the same model back.

Element ids are the model's own names (``triage``; ``start`` and ``end``); what the export
adds gets ids such as ``triage_split`` and ``flow_triage_resolve_l1``. The diagram is laid
out left to right in layers by distance from the start (:func:`lay_out_layers`); flows that
go back (rework loops) run below the process.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from procsim.model.graph import find_back_edges, flow_kind
from procsim.model.schema import Model
from procsim.units import SECONDS_PER

__all__ = [
    "BPMN_NAMESPACES",
    "Layering",
    "build_bpmn_graph",
    "find_back_edges",
    "format_bpmn",
    "lay_out_layers",
    "model_data",
    "write_bpmn",
]

#: Prefix -> namespace of the documents written here (the prefixes bpmn.io uses).
BPMN_NAMESPACES = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "procsim": "urn:procsim:bpmn",
}

#: Width and height of the shape of each kind of element, in diagram units (pixels).
SHAPE_SIZE = {"task": (100, 80), "event": (36, 36), "gateway": (50, 50)}
_COLUMN = 100   # width of a layer: the widest shape
_GAP = 110      # between layers: room for the bends and the labels of the flows
_PITCH = 120    # between the centres of two shapes of a layer
_MARGIN = 60
_LABEL = (100, 27)  # the name under an event or a gateway

_COMPARISON = re.compile(r"^\s*(==|!=|<=|>=|<|>)")


# --- the BPMN graph -----------------------------------------------------------------------------


def build_bpmn_graph(model: Model) -> nx.DiGraph:
    """The model's flow as BPMN elements: a graph keyed by element id.

    Node attributes: ``element`` (the BPMN tag: ``startEvent``, ``endEvent``, ``userTask``,
    ``intermediateCatchEvent``, ``exclusiveGateway``, ``parallelGateway``), ``name``,
    ``node`` (the model's node, ``None`` for a gateway the export adds), ``documentation``,
    ``resource`` (a pool or ``None``) and ``timer`` (an ISO 8601 duration or ``None``). Edge
    attributes: ``id``, ``name`` (the label), ``condition`` (text or ``None``),
    ``probability`` (or ``None``), ``default`` (the branch without a condition) and
    ``documentation``.

    Examples
    --------
    >>> from procsim.model import parse_model
    >>> m = parse_model('''
    ... procsim: 1
    ... name: Two steps
    ... arrivals: {interarrival: {dist: exponential, mean: 5}}
    ... resources: {clerk: {capacity: 1}}
    ... activities:
    ...   a: {resource: clerk, duration: {dist: fixed, value: 1}}
    ...   b: {duration: {dist: fixed, value: 90}}
    ... flow: {start: a, a: {b: 0.5, end: 0.5}, b: end}
    ... ''')
    >>> g = build_bpmn_graph(m)
    >>> g.nodes["a_split"]["element"], g.nodes["b"]["element"], g.nodes["b"]["timer"]
    ('exclusiveGateway', 'intermediateCatchEvent', 'PT1H30M')
    >>> g.edges["a_split", "b"]["name"]
    '50%'
    """
    unit = model.time_unit
    taken = {"start", "end", *model.activities, *model.gateways}
    g = nx.DiGraph(name=model.name, taken=taken)
    arrivals = model.arrivals.interarrival
    g.add_node("start", element="startEvent", name="start", node="start", resource=None,
               timer=None, spec=None, documentation=_lines(
                   f"arrivals: interarrival {arrivals!r} ({unit})" if arrivals is not None
                   else "arrivals: a rate profile (see the procsim model)"))
    for name, activity in model.activities.items():
        details = [activity.description, f"duration: {activity.duration!r} ({unit})"]
        if activity.resource is not None:
            details.append(f"resource: {activity.resource}")
        else:
            details.append("delay: no resource works on it; the timer shows the mean duration")
        if activity.cost:
            details.append(f"cost: {activity.cost:g} per instance")
        if activity.batch is not None:
            details.append(f"batch: {activity.batch!r}")
        g.add_node(name, node=name, name=_readable(name), resource=activity.resource,
                   element="userTask" if activity.resource is not None
                   else "intermediateCatchEvent",
                   timer=None if activity.resource is not None
                   else _iso_duration(activity.duration.mean, unit),
                   documentation=_lines(*details),
                   spec=_source(model, "activities", name))
    for name, gateway in model.gateways.items():
        g.add_node(name, element=f"{gateway.type}Gateway", name=_readable(name), node=name,
                   resource=None, timer=None, documentation=gateway.description or None,
                   spec=_source(model, "gateways", name))
    g.add_node("end", element="endEvent", name="end", node="end", resource=None, timer=None,
               documentation=None, spec=None)

    targets: Any
    for source, targets in model.flow.items():
        form = flow_kind(targets)
        if form == "next":
            _add_flow(g, source, targets)
            continue
        needed = "parallelGateway" if form == "parallel" else "exclusiveGateway"
        split = source
        if g.nodes[source]["element"] != needed:
            # BPMN routes through gateways; procsim also lets a task choose or split.
            split = _unique(taken, f"{source}_split")
            kind = "parallel split" if form == "parallel" else "choice"
            g.add_node(split, element=needed, name="", node=None, resource=None, timer=None,
                       documentation=f"the {kind} after {source} (a gateway added by the export)",
                       spec=None)
            _add_flow(g, source, split)
        if form == "choice":
            for target, p in targets.items():
                _add_flow(g, split, target, probability=float(p), name=f"{100 * p:.3g}%",
                          documentation=f"probability {p:g}", branches=[{"probability": p}])
        elif form == "parallel":
            for target in targets:
                _add_flow(g, split, target)
        else:
            raw = _source(model, "flow", source)
            for index, branch in enumerate(targets):
                condition = _condition_text(branch.when) if branch.when else None
                when = raw[index].get("when") if isinstance(raw, list) and index < len(raw) \
                    and isinstance(raw[index], dict) else branch.when
                kept: list[dict[str, Any]] = [{"index": index, "when": when} if branch.when
                                              else {"index": index}]
                if g.has_edge(split, branch.to):  # two branches to one node: either holds
                    edge = g.edges[split, branch.to]
                    old = edge["condition"]
                    condition = None if old is None or condition is None \
                        else f"({old}) or ({condition})"
                    kept = [*edge["branches"], *kept]
                    g.remove_edge(split, branch.to)
                _add_flow(g, split, branch.to, condition=condition,
                          default=condition is None, name=condition or "otherwise",
                          branches=kept)
    return g


def _add_flow(g: nx.DiGraph, source: str, target: str, **attrs: Any) -> None:
    values = {"name": None, "condition": None, "probability": None, "default": False,
              "documentation": None, "branches": None, **attrs}
    flow_id = _unique(g.graph["taken"], f"flow_{source}_{target}")
    g.add_edge(source, target, id=flow_id, **values)


def model_data(model: Model) -> dict[str, Any]:
    """The model as plain data: what its YAML file says (or its fields, for a model built in
    Python), JSON-safe."""
    import json

    data = model.source_data
    if not isinstance(data, dict):
        data = model.model_dump(mode="json", exclude_defaults=True)
    return json.loads(json.dumps(data, default=str))


def _source(model: Model, section: str, name: str) -> Any:
    return model_data(model).get(section, {}).get(name)


def _unique(taken: set[str], base: str) -> str:
    """``base``, or ``base_2``, ``base_3``… : an id no element has yet (and take it)."""
    candidate, k = base, 1
    while candidate in taken:
        k += 1
        candidate = f"{base}_{k}"
    taken.add(candidate)
    return candidate


def _readable(name: str) -> str:
    """A label for the diagram: ``receive_application`` -> ``receive application``."""
    return name.replace("_", " ")


def _lines(*parts: str | None) -> str | None:
    text = "\n".join(p for p in parts if p)
    return text or None


def _condition_text(when: dict[str, Any]) -> str:
    """A branch's ``when`` in procsim's syntax: ``amount > 10000 and tier in [gold, silver]``."""
    out = []
    for attribute, raw in when.items():
        if isinstance(raw, list):
            out.append(f"{attribute} in [{', '.join(str(v) for v in raw)}]")
        elif isinstance(raw, str) and _COMPARISON.match(raw):
            out.append(f"{attribute} {raw.strip()}")
        else:
            out.append(f"{attribute} == {raw}")
    return " and ".join(out)


def _iso_duration(value: float, time_unit: str) -> str:
    """An ISO 8601 duration, to the millisecond: 90 minutes -> ``PT1H30M``.

    >>> _iso_duration(1.5, "days"), _iso_duration(12.5, "seconds"), _iso_duration(0, "hours")
    ('P1DT12H', 'PT12.5S', 'PT0S')
    """
    ms = round(value * SECONDS_PER[time_unit] * 1000)
    days, ms = divmod(ms, 86_400_000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    clock = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M")) if v)
    if ms:
        clock += f"{ms / 1000:g}S"
    text = "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "")
    return text if text != "P" else "PT0S"


# --- layout -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layering:
    """Where each node of a graph goes in a left-to-right layered drawing.

    ``layer`` is the column (the longest distance from a source once loops are cut),
    ``row`` the position in the column, centred on 0 (so a column of two has rows -0.5 and
    0.5), ``rows`` the number of rows of the fullest column. A forward edge that spans
    several layers passes through a free slot of each layer in between: ``bends[u, v]``
    lists their ``(layer, row)``. ``back_edges`` close loops and go from right to left.
    """

    layer: dict[Any, int]
    row: dict[Any, float]
    rows: int
    back_edges: frozenset[tuple[Any, Any]]
    bends: dict[tuple[Any, Any], tuple[tuple[int, float], ...]]


def lay_out_layers(g: nx.DiGraph, source: Hashable = "start", sink: Hashable | None = "end",
                   sweeps: int = 4) -> Layering:
    """Assign the nodes of ``g`` to layers and rows for a left-to-right drawing.

    Loops are cut at their back edges (:func:`find_back_edges`); each node goes to the layer
    of its longest path from a source, ``sink`` (if any) to the last layer; a long edge gets
    a placeholder in every layer it crosses, so that it never runs through a node; the rows
    of each layer are ordered by the barycentre of their neighbours, sweeping right then left
    ``sweeps`` times, which removes most crossings.

    Examples
    --------
    >>> g = nx.DiGraph([("start", "a"), ("a", "b"), ("a", "c"), ("b", "end"), ("c", "end"),
    ...                 ("start", "end")])
    >>> lay = lay_out_layers(g)
    >>> [lay.layer[n] for n in ("start", "a", "b", "c", "end")], lay.rows
    ([0, 1, 2, 2, 3], 3)
    >>> lay.bends["start", "end"]  # the long edge passes above a and b, in slots of its own
    ((1, -0.5), (2, -1.0))
    """
    back = find_back_edges(g, source)
    dag = nx.DiGraph()
    dag.add_nodes_from(g)
    dag.add_edges_from(e for e in g.edges if e not in back)
    layer: dict[Any, int] = {}
    for depth, generation in enumerate(nx.topological_generations(dag)):
        for node in generation:
            layer[node] = depth
    if sink is not None and sink in layer and dag.out_degree(sink) == 0:
        layer[sink] = max(layer.values())

    # Placeholders for long edges; ``slots`` is the graph of layer-to-next-layer steps.
    slots = nx.DiGraph()
    slots.add_nodes_from(g)
    chains: dict[tuple[Any, Any], list[Any]] = {}
    for u, v in dag.edges:
        chain = [("bend", u, v, k) for k in range(1, layer[v] - layer[u])]
        for k, dummy in enumerate(chain, start=1):
            layer[dummy] = layer[u] + k
        chains[u, v] = chain
        nx.add_path(slots, [u, *chain, v])

    # First order: depth-first from the source, in the order of the flows in the model.
    rank: dict[Any, float] = {}
    visit = list(nx.dfs_preorder_nodes(g, source)) if source in g else []
    for node in [*visit, *(n for n in g if n not in set(visit))]:
        rank.setdefault(node, float(len(rank)))
    for (u, _), chain in chains.items():
        for k, dummy in enumerate(chain, start=1):
            rank[dummy] = rank[u] + k / (len(chain) + 1)
    columns: dict[int, list[Any]] = defaultdict(list)
    for node in sorted(layer, key=rank.__getitem__):
        columns[layer[node]].append(node)
    depth = max(columns, default=-1)
    position: dict[Any, float] = {}

    def place(column: list[Any]) -> None:
        for i, node in enumerate(column):
            position[node] = i - (len(column) - 1) / 2

    for column in columns.values():
        place(column)
    for _ in range(sweeps):
        for layers, neighbours in ((range(1, depth + 1), slots.predecessors),
                                   (range(depth - 1, -1, -1), slots.successors)):
            for k in layers:
                column = columns[k]
                keys = {n: _barycentre([position[m] for m in neighbours(n)], position[n])
                        for n in column}
                column.sort(key=keys.__getitem__)
                place(column)
    rows = max((len(c) for c in columns.values()), default=0)
    return Layering(
        layer={n: layer[n] for n in g},
        row={n: position[n] for n in g},
        rows=rows,
        back_edges=frozenset(back),
        bends={edge: tuple((layer[d], position[d]) for d in chain)
               for edge, chain in chains.items()},
    )


def _barycentre(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


# --- XML ----------------------------------------------------------------------------------------


def _q(prefix: str, tag: str) -> str:
    return f"{{{BPMN_NAMESPACES[prefix]}}}{tag}"


def format_bpmn(model: Model) -> str:
    """The model's control flow as a BPMN 2.0 XML document with a diagram (a string).

    Examples
    --------
    >>> from procsim import load_model
    >>> text = format_bpmn(load_model("models/service_desk.yaml"))
    >>> text.splitlines()[1][:60]
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/2'
    >>> text.count("<bpmn:userTask "), text.count("<bpmn:exclusiveGateway ")
    (4, 2)
    """
    from procsim.simulate import expect_model

    expect_model(model)
    from procsim.version import __version__

    for prefix, uri in BPMN_NAMESPACES.items():
        ET.register_namespace(prefix, uri)
    g = build_bpmn_graph(model)
    taken: set[str] = g.graph["taken"]
    root = ET.Element(_q("bpmn", "definitions"), {
        "id": _unique(taken, "definitions"),
        "targetNamespace": "urn:procsim",
        "exporter": "procsim",
        "exporterVersion": __version__,
    })
    pools = [p for p in model.resources if any(a.resource == p
                                                for a in model.activities.values())]
    resource_id = {p: _unique(taken, f"resource_{p}") for p in pools}
    for pool in pools:
        ET.SubElement(root, _q("bpmn", "resource"), {"id": resource_id[pool], "name": pool})
    process_id = _unique(taken, "process")
    process = ET.SubElement(root, _q("bpmn", "process"),
                            {"id": process_id, "name": model.name, "isExecutable": "false"})
    _documentation(process, model.description.strip() or None)
    whole = model_data(model)
    _extension(process, "model", {k: v for k, v in whole.items()
                                  if k not in ("activities", "gateways", "flow")})
    for node, data in g.nodes(data=True):
        attributes = {"id": node}
        if data["name"]:
            attributes["name"] = data["name"]
        element = ET.SubElement(process, _q("bpmn", data["element"]), attributes)
        _documentation(element, data["documentation"])
        if data.get("spec") is not None:
            _extension(element, "spec", data["spec"])
        elif data["node"] is None:
            _extension(element, "added", True)
        for _, _, flow in g.in_edges(node, data=True):
            ET.SubElement(element, _q("bpmn", "incoming")).text = flow["id"]
        for _, _, flow in g.out_edges(node, data=True):
            ET.SubElement(element, _q("bpmn", "outgoing")).text = flow["id"]
            if flow["default"] and data["element"] == "exclusiveGateway":
                element.set("default", flow["id"])
        if data["resource"] is not None:
            performer = ET.SubElement(element, _q("bpmn", "performer"),
                                      {"id": _unique(taken, f"{node}_performer")})
            ET.SubElement(performer, _q("bpmn", "resourceRef")).text = \
                resource_id[data["resource"]]
        if data["timer"] is not None:
            timer = ET.SubElement(element, _q("bpmn", "timerEventDefinition"),
                                  {"id": _unique(taken, f"{node}_timer")})
            duration = ET.SubElement(timer, _q("bpmn", "timeDuration"),
                                     {_q("xsi", "type"): "bpmn:tFormalExpression"})
            duration.text = data["timer"]
    for u, v, flow in g.edges(data=True):
        attributes = {"id": flow["id"], "sourceRef": u, "targetRef": v}
        if flow["name"]:
            attributes["name"] = flow["name"]
        element = ET.SubElement(process, _q("bpmn", "sequenceFlow"), attributes)
        _documentation(element, flow["documentation"])
        if flow["branches"] is not None:
            _extension(element, "branch", flow["branches"])
        if flow["condition"] is not None:
            expression = ET.SubElement(element, _q("bpmn", "conditionExpression"),
                                       {_q("xsi", "type"): "bpmn:tFormalExpression"})
            expression.text = flow["condition"]
    _diagram(root, g, process_id, taken)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") \
        + "\n"


def write_bpmn(model: Model, path: str | os.PathLike[str]) -> Path:
    """Write :func:`format_bpmn` of ``model`` to ``path``, atomically.

    Raises ``OSError`` when the file cannot be written (nothing is left behind).
    """
    from procsim.simulate import expect_model

    expect_model(model)
    from procsim.output import atomic_write

    text = format_bpmn(model)
    return atomic_write(path, lambda fh: fh.write(text))


def _extension(element: ET.Element, what: str, value: Any) -> None:
    """What procsim's import needs to give the model back: JSON in ``extensionElements``."""
    import json

    extensions = ET.SubElement(element, _q("bpmn", "extensionElements"))
    ET.SubElement(extensions, _q("procsim", what)).text = json.dumps(value, sort_keys=False)


def _documentation(element: ET.Element, text: str | None) -> None:
    if text:
        ET.SubElement(element, _q("bpmn", "documentation")).text = text


def _shape_kind(element: str) -> str:
    if element.endswith("Gateway"):
        return "gateway"
    return "event" if element.endswith("Event") else "task"


def _diagram(root: ET.Element, g: nx.DiGraph, process_id: str, taken: set[str]) -> None:
    """The ``bpmndi:BPMNDiagram``: a shape per node, an edge with waypoints per flow."""
    lay = lay_out_layers(g)
    top = _MARGIN + SHAPE_SIZE["task"][1] // 2

    def centre(layer: int, row: float) -> tuple[int, int]:
        x = _MARGIN + layer * (_COLUMN + _GAP) + _COLUMN // 2
        y = top + round((row + (lay.rows - 1) / 2) * _PITCH)
        return x, y

    def column_left(layer: int) -> int:
        return _MARGIN + layer * (_COLUMN + _GAP)

    boxes: dict[str, tuple[int, int, int, int]] = {}
    for node, data in g.nodes(data=True):
        x, y = centre(lay.layer[node], lay.row[node])
        w, h = SHAPE_SIZE[_shape_kind(data["element"])]
        boxes[node] = (x - w // 2, y - h // 2, w, h)
    bottom = max((b[1] + b[3] for b in boxes.values()), default=0) + _LABEL[1] + 20

    diagram = ET.SubElement(root, _q("bpmndi", "BPMNDiagram"),
                            {"id": _unique(taken, "diagram")})
    plane = ET.SubElement(diagram, _q("bpmndi", "BPMNPlane"),
                          {"id": _unique(taken, "plane"), "bpmnElement": process_id})
    for node, data in g.nodes(data=True):
        attributes = {"id": _unique(taken, f"{node}_di"), "bpmnElement": node}
        if data["element"] == "exclusiveGateway":
            attributes["isMarkerVisible"] = "true"
        shape = ET.SubElement(plane, _q("bpmndi", "BPMNShape"), attributes)
        x, y, w, h = boxes[node]
        _bounds(shape, x, y, w, h)
        if data["name"] and _shape_kind(data["element"]) != "task":
            label = ET.SubElement(shape, _q("bpmndi", "BPMNLabel"))
            _bounds(label, x + w // 2 - _LABEL[0] // 2, y + h + 6, *_LABEL)

    back_lane = 0
    for u, v, flow in g.edges(data=True):
        ux, uy, uw, uh = boxes[u]
        vx, vy, _, vh = boxes[v]
        u_mid, v_mid = uy + uh // 2, vy + vh // 2
        label_at: tuple[int, int, int]  # x, y, width of the flow's label
        if (u, v) in lay.back_edges:
            # Out to the right, down below the process, back left, up and into the target.
            out_x = column_left(lay.layer[u]) + _COLUMN + _GAP // 4
            in_x = column_left(lay.layer[v]) - _GAP // 4
            low = bottom + 20 * back_lane
            back_lane += 1
            points = [(ux + uw, u_mid), (out_x, u_mid), (out_x, low), (in_x, low), (in_x, v_mid),
                      (vx, v_mid)]
            label_at = (in_x + 6, low + 4, min(out_x - in_x - 12, 160))
        else:
            points = [(ux + uw, u_mid)]
            steps = [(layer, centre(layer, row)[1]) for layer, row in lay.bends.get((u, v), ())]
            for layer, y in [*steps, (lay.layer[v], v_mid)]:
                if y != points[-1][1]:  # bend in the gap before the layer
                    bend_x = column_left(layer) - _GAP // 2
                    points += [(bend_x, points[-1][1]), (bend_x, y)]
            points.append((vx, v_mid))
            last_x = points[-2][0] if len(points) > 2 else ux + uw
            label_at = (last_x + 6, v_mid - _LABEL[1] - 2, max(vx - last_x - 10, 40))
        edge = ET.SubElement(plane, _q("bpmndi", "BPMNEdge"),
                             {"id": _unique(taken, f"{flow['id']}_di"), "bpmnElement": flow["id"]})
        for x, y in _simplify(points):
            ET.SubElement(edge, _q("di", "waypoint"), {"x": str(x), "y": str(y)})
        if flow["name"]:
            label = ET.SubElement(edge, _q("bpmndi", "BPMNLabel"))
            _bounds(label, label_at[0], label_at[1], label_at[2], _LABEL[1])


def _simplify(points: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop repeated points and the middle one of three in a line."""
    out: list[tuple[int, int]] = []
    for p in points:
        if out and p == out[-1]:
            continue
        if len(out) >= 2 and (out[-2][0] == out[-1][0] == p[0] or out[-2][1] == out[-1][1] == p[1]):
            out[-1] = p
            continue
        out.append(p)
    return out


def _bounds(parent: ET.Element, x: int, y: int, width: int, height: int) -> None:
    ET.SubElement(parent, _q("dc", "Bounds"),
                  {"x": str(x), "y": str(y), "width": str(width), "height": str(height)})
