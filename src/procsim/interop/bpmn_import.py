"""BPMN 2.0 XML (with or without Prosimos parameters) → a procsim YAML model.

:func:`import_bpmn` reads one process of a BPMN file and writes it as a procsim model:

- tasks of every type (``task``, ``userTask``, ``serviceTask``, ``manualTask``,
  ``scriptTask``, ``sendTask``, ``receiveTask``, ``businessRuleTask``) → activities;
- intermediate catch events (timers, messages, signals) → delays (activities without a
  resource), a timer's ``timeDuration`` becoming a fixed duration;
- the start event → ``start``; every end event → ``end``;
- exclusive and parallel gateways → gateways of the same type; a gateway that both joins
  and splits becomes two (``<name>_join`` or ``<name>_merge``, then ``<name>``);
- inclusive gateways → a parallel split when every branch has probability 1, else an
  exclusive choice (one branch per case, probabilities normalised), always with a warning;
  the matching inclusive join follows its split;
- a task with several outgoing flows (BPMN's implicit parallel split) → a parallel gateway
  ``split_after_<task>``; intermediate throw events → nothing (they take no time);
- sub-processes → flattened, their activities prefixed with the sub-process name.

Names become snake_case ids (unique, never ``start``/``end`` or a YAML keyword); every
activity and gateway keeps its BPMN type, id and name in its ``description``. Without
parameters, durations, branch probabilities and arrivals are placeholders marked
``PLACEHOLDER`` (in the description and in a YAML comment) and listed in
:attr:`ImportResult.placeholders`. Problems in the XML are :class:`~procsim.errors.Issue` s
with the file, line and column of the element, raised together in one
:class:`~procsim.errors.ModelError`, as for a YAML model.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET
from xml.parsers import expat

import yaml

from procsim.errors import Issue, ModelError, close_match_hint

__all__ = ["ImportResult", "ImportWarning", "import_bpmn", "snake_case"]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
TASKS = frozenset({"task", "userTask", "serviceTask", "manualTask", "scriptTask", "sendTask",
                   "receiveTask", "businessRuleTask"})
GATEWAYS = {"exclusiveGateway": "exclusive", "parallelGateway": "parallel",
            "inclusiveGateway": "inclusive"}
SUBPROCESSES = frozenset({"subProcess", "transaction"})
#: Elements without meaning for a simulation (documentation, data, layout): skipped.
IGNORED = frozenset({
    "documentation", "extensionElements", "laneSet", "lane", "textAnnotation", "association",
    "dataObject", "dataObjectReference", "dataStoreReference", "dataInputAssociation",
    "dataOutputAssociation", "ioSpecification", "property", "group", "incoming", "outgoing",
    "category", "auditing", "monitoring", "supportedInterfaceRef", "resourceRole", "performer",
    "humanPerformer", "potentialOwner", "standardLoopCharacteristics",
    "multiInstanceLoopCharacteristics", "conditionExpression",
})
#: Elements the import refuses, with the reason given in the error.
UNSUPPORTED = {
    "complexGateway": "complex gateways have no procsim equivalent; use exclusive or parallel "
                      "gateways",
    "eventBasedGateway": "event-based gateways (a race between events) have no procsim "
                         "equivalent; use an exclusive gateway with probabilities",
    "callActivity": "a call activity needs the called process; copy it in as a sub-process",
    "boundaryEvent": "boundary events (interrupting timers, errors, escalations) have no procsim "
                     "equivalent; model the alternative path with an exclusive gateway",
    "adHocSubProcess": "ad-hoc sub-processes have no order to simulate",
}
#: Date-time at simulated time 0 of imported models that use calendars: a Monday, 00:00.
DEFAULT_START = datetime(2026, 1, 5, 0, 0)
_RESERVED = {"start", "end"}


@dataclass(frozen=True)
class ImportWarning:
    """Something the import approximated or left out, with where it came from.

    Examples
    --------
    >>> print(ImportWarning("mapped to an exclusive choice", "m.bpmn", 12, 5,
    ...                     "inclusiveGateway[Gateway_1]"))
    m.bpmn:12:5: warning: inclusiveGateway[Gateway_1]: mapped to an exclusive choice
    """

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str = ""

    def __str__(self) -> str:
        where = self.file or "<bpmn>"
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{where}: warning: {self.path + ': ' if self.path else ''}{self.message}"


@dataclass(frozen=True)
class ImportResult:
    """An imported model: its YAML text and what was approximated or left to fill in.

    Attributes
    ----------
    text : str
        The procsim model as commented YAML; ``procsim.model.parse_model(text)`` loads it.
    data : dict
        The same model as plain data.
    warnings : tuple of ImportWarning
        Every approximation and every part of the input that was left out.
    placeholders : tuple of str
        Dotted paths of the values that are placeholders, to be filled in.
    ids : dict
        BPMN id → procsim name, for every imported element.
    """

    text: str
    data: dict[str, Any]
    warnings: tuple[ImportWarning, ...] = ()
    placeholders: tuple[str, ...] = ()
    ids: dict[str, str] = field(default_factory=dict)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write :attr:`text` to ``path`` atomically (never a half-written file)."""
        from procsim.output import atomic_write

        return atomic_write(path, lambda fh: fh.write(self.text))


# --- names --------------------------------------------------------------------------------------


def snake_case(text: str) -> str:
    """A readable procsim id from a BPMN name (ASCII letters, digits and ``_``).

    Examples
    --------
    >>> snake_case("Authorize Supplier's Invoice payment")
    'authorize_suppliers_invoice_payment'
    >>> snake_case("Überprüfung (2. Stufe)")
    'uberprufung_2_stufe'
    >>> snake_case("3rd check")
    'n_3rd_check'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = re.sub(r"['’`]", "", ascii_text)
    name = re.sub(r"[^A-Za-z0-9]+", "_", ascii_text).strip("_").lower()[:60].rstrip("_")
    if name and name[0].isdigit():
        name = "n_" + name
    return name


class _Namer:
    """Unique names per section; activities and gateways share one section ("nodes")."""

    def __init__(self) -> None:
        self.used: dict[str, set[str]] = {}

    def __call__(self, text: str, section: str, *, fallback: str = "x", suffix: str = "") -> str:
        base = snake_case(text) or snake_case(fallback) or "x"
        used = self.used.setdefault(section, set())
        if (section == "nodes" and base in _RESERVED) or yaml.safe_load(base) != base:
            base = f"{base}_{suffix or section.rstrip('s')}"
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}_{n}"
        used.add(name)
        return name


# --- XML with positions -------------------------------------------------------------------------


def _parse_xml(raw: bytes, file: str) -> tuple[ET.Element, dict[int, tuple[int, int]]]:
    """Parse XML with expat, remembering the (line, column) of every element."""
    positions: dict[int, tuple[int, int]] = {}
    parser = expat.ParserCreate(namespace_separator="}")
    stack: list[ET.Element] = []
    root: list[ET.Element] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        element = ET.Element("{" + name if "}" in name else name, attrs)
        positions[id(element)] = (parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)
        if stack:
            stack[-1].append(element)
        else:
            root.append(element)
        stack.append(element)

    def end(name: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack:
            stack[-1].text = (stack[-1].text or "") + data

    def no_entities(*args: Any) -> None:
        raise ValueError("entity declarations are not allowed in a BPMN file")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.EntityDeclHandler = no_entities
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        message = expat.ErrorString(exc.code) if exc.code is not None else str(exc)
        raise ModelError([Issue("", f"malformed XML: {message}", file, exc.lineno,
                                exc.offset + 1)], file) from None
    except ValueError as exc:
        raise ModelError([Issue("", str(exc), file, parser.CurrentLineNumber,
                                parser.CurrentColumnNumber + 1)], file) from None
    return root[0], positions


def _local(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an element tag."""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _iso_duration(text: str) -> float | None:
    """Seconds in an ISO 8601 duration such as ``PT2H30M`` or ``P1DT12H`` (None if not one)."""
    m = re.fullmatch(r"\s*P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?"
                     r"(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?\s*", text or "")
    if not m or not any(m.groups()):
        return None
    w, d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return (((w * 7 + d) * 24 + h) * 60 + mi) * 60 + s


# --- the process graph --------------------------------------------------------------------------


@dataclass
class _Node:
    key: str
    kind: str  # activity, delay, exclusive, parallel, inclusive, start, end, pass
    label: str
    tag: str
    bpmn_id: str | None
    pos: tuple[int | None, int | None]
    timer: float | None = None
    event: str | None = None
    lane: str | None = None
    origin: str = ""  # why a generated node exists
    inclusive: bool = False
    name: str = ""


@dataclass
class _Edge:
    id: str
    src: str
    dst: str
    pos: tuple[int | None, int | None] = (None, None)
    conditional: bool = False


class _Reader:
    def __init__(self, file: str, positions: dict[int, tuple[int, int]]) -> None:
        self.file = file
        self.positions = positions
        self.nodes: dict[str, _Node] = {}
        self.edges: list[_Edge] = []
        self.issues: list[Issue] = []
        self.warnings: list[ImportWarning] = []
        self.lanes: dict[str, str] = {}

    def pos(self, element: ET.Element) -> tuple[int | None, int | None]:
        return self.positions.get(id(element), (None, None))

    def issue(self, element: ET.Element | None, message: str, path: str = "") -> None:
        line, col = self.pos(element) if element is not None else (None, None)
        self.issues.append(Issue(path, message, self.file, line, col))

    def warn(self, where: _Node | ET.Element | None, message: str) -> None:
        if isinstance(where, _Node):
            line, col = where.pos
            path = f"{where.tag}[{where.bpmn_id}]" if where.bpmn_id else ""
        elif where is not None:
            line, col = self.pos(where)
            path = f"{_local(where.tag)[1]}[{where.get('id', '')}]"
        else:
            line = col = None
            path = ""
        self.warnings.append(ImportWarning(message, self.file, line, col, path))

    def collect(self, container: ET.Element, prefix: tuple[str, ...],
                parent: _Node | None, lane: str | None) -> None:
        starts: list[str] = []
        ends: list[str] = []
        flows: list[ET.Element] = []
        subprocesses: set[str] = set()
        for lane_el in container.iter(f"{{{BPMN_NS}}}lane"):
            for node_ref in lane_el.findall(f"{{{BPMN_NS}}}flowNodeRef"):
                if node_ref.text and lane_el.get("name"):
                    self.lanes[node_ref.text.strip()] = lane_el.get("name", "")
        for child in container:
            ns, tag = _local(child.tag)
            if ns != BPMN_NS:
                continue  # extensions of modelling tools
            eid = child.get("id", "")
            path = f"{tag}[{eid}]"
            if tag in ("sequenceFlow",):
                flows.append(child)
                continue
            if tag in IGNORED:
                continue
            if tag in UNSUPPORTED:
                self.issue(child, f"unsupported element: {UNSUPPORTED[tag]}", path)
                continue
            if not eid:
                self.issue(child, f"{tag} without an id", path)
                continue
            if eid in self.nodes:
                self.issue(child, f"duplicate id {eid!r}", path)
                continue
            name = (child.get("name") or "").strip()
            label = " / ".join([*prefix, name]) if name else ""
            node_lane = self.lanes.get(eid, lane)
            node = _Node(eid, "", label, tag, eid, self.pos(child), lane=node_lane)
            if tag in TASKS:
                node.kind = "activity"
                for loop in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
                    if child.find(f"{{{BPMN_NS}}}{loop}") is not None:
                        self.warn(child, f"{loop} is not simulated: the task runs once per visit")
            elif tag == "startEvent":
                node.kind = "pass" if parent else "start"
                starts.append(eid)
                if not parent and _event_kind(child):
                    self.warn(child, f"{_event_kind(child)} start event: cases arrive as given "
                              "by the arrivals (parameters or placeholder)")
            elif tag == "endEvent":
                node.kind = "pass" if parent else "end"
                ends.append(eid)
                kind = _event_kind(child)
                if kind and kind != "terminate":
                    self.warn(child, f"{kind} end event: read as a plain end")
            elif tag == "intermediateCatchEvent":
                node.kind = "delay"
                node.event = _event_kind(child) or "none"
                timer = child.find(f".//{{{BPMN_NS}}}timeDuration")
                if node.event == "timer" and timer is not None:
                    node.timer = _iso_duration(timer.text or "")
                    if node.timer is None:
                        self.warn(child, f"timer duration {timer.text!r} is not an ISO 8601 "
                                  "duration: placeholder")
                elif node.event == "timer":
                    self.warn(child, "timer without timeDuration (a date or cycle): "
                              "placeholder duration")
                else:
                    self.warn(child, f"{node.event} catch event: a delay (waiting for it)")
            elif tag == "intermediateThrowEvent":
                node.kind = "pass"
            elif tag in GATEWAYS:
                node.kind = GATEWAYS[tag]
                node.inclusive = node.kind == "inclusive"
            elif tag in SUBPROCESSES:
                if child.get("triggeredByEvent") == "true":
                    self.issue(child, "unsupported element: event sub-processes have no procsim "
                               "equivalent", path)
                    continue
                node.kind = "pass"
                self.nodes[eid] = node
                exit_node = _Node(eid + "#exit", "pass", label, tag, eid, node.pos)
                self.nodes[exit_node.key] = exit_node
                subprocesses.add(eid)
                self.collect(child, (*prefix, name or eid), node, node_lane)
                continue
            else:
                self.issue(child, f"unsupported element '{tag}'"
                           + close_match_hint(tag, sorted(TASKS | set(GATEWAYS))), path)
                continue
            self.nodes[eid] = node
        for flow in flows:
            fid, src, dst = flow.get("id", ""), flow.get("sourceRef", ""), flow.get("targetRef", "")
            path = f"sequenceFlow[{fid}]"
            bad = False
            for role, ref in (("sourceRef", src), ("targetRef", dst)):
                if ref not in self.nodes:
                    self.issue(flow, f"dangling flow: {role} {ref!r} names no element of this "
                               "process" + close_match_hint(ref, list(self.nodes)), path)
                    bad = True
            if bad:
                continue
            conditional = flow.find(f"{{{BPMN_NS}}}conditionExpression") is not None
            self.edges.append(_Edge(fid, src + "#exit" if src in subprocesses else src, dst,
                                    self.pos(flow), conditional))
        if parent is not None:
            if len(starts) != 1:
                self.issue(None, f"sub-process {parent.bpmn_id!r} needs exactly one start event, "
                           f"got {len(starts)}")
                self.issues[-1] = Issue(f"{parent.tag}[{parent.bpmn_id}]", self.issues[-1]
                                        .message.split(": ", 1)[-1], self.file, *parent.pos)
            else:
                self.edges.append(_Edge("", parent.key, starts[0]))
            for e in ends:
                self.edges.append(_Edge("", e, parent.key + "#exit"))


def _event_kind(element: ET.Element) -> str | None:
    for child in element:
        ns, tag = _local(child.tag)
        if ns == BPMN_NS and tag.endswith("EventDefinition"):
            return tag.removesuffix("EventDefinition")
    return None


# --- import -------------------------------------------------------------------------------------


def import_bpmn(
    path: str | os.PathLike[str],
    *,
    params: str | os.PathLike[str] | None = None,
    process: str | None = None,
    time_unit: str = "hours",
    start: datetime = DEFAULT_START,
    name: str | None = None,
) -> ImportResult:
    """Convert a BPMN 2.0 process (and optional Prosimos parameters) into a procsim model.

    Parameters
    ----------
    path : str or path-like
        The BPMN 2.0 XML file.
    params : str or path-like, optional
        Prosimos simulation parameters (JSON, the layout of Prosimos 2.1.0). Without them
        durations, probabilities and arrivals are placeholders.
    process : str, optional
        The id of the process to import when the file holds several.
    time_unit : str
        The model's time unit (durations are written with their own unit anyway).
    start : datetime
        The model's ``start`` when it uses calendars (default: Monday 2026-01-05 00:00).
    name : str, optional
        The model's name (default: the process's name, else the file's stem).

    Returns
    -------
    ImportResult
        The model text, its data, warnings and placeholders.

    Raises
    ------
    procsim.errors.ModelError
        Malformed XML or JSON, unsupported elements, dangling flows, or a result procsim
        would reject; every problem with its file, line and column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> bpmn = '''<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
    ...   <process id="p">
    ...     <startEvent id="s"/><userTask id="t1" name="Check invoice"/><endEvent id="e"/>
    ...     <sequenceFlow id="f1" sourceRef="s" targetRef="t1"/>
    ...     <sequenceFlow id="f2" sourceRef="t1" targetRef="e"/>
    ...   </process>
    ... </definitions>'''
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "invoice.bpmn"
    >>> _ = file.write_text(bpmn)
    >>> result = import_bpmn(file)
    >>> result.data["flow"]
    {'start': 'check_invoice', 'check_invoice': 'end'}
    >>> result.placeholders
    ('arrivals.interarrival', 'activities.check_invoice.duration')
    """
    file = os.fspath(path)
    try:
        raw = Path(file).read_bytes()
    except FileNotFoundError:
        raise ModelError([Issue("", "no such file", file)], file) from None
    except OSError as exc:
        raise ModelError([Issue("", f"cannot read the file: {exc}", file)], file) from None
    root, positions = _parse_xml(raw, file)
    reader = _Reader(file, positions)
    if _local(root.tag) != (BPMN_NS, "definitions"):
        ns, tag = _local(root.tag)
        raise ModelError([Issue("", f"expected a BPMN 2.0 <definitions> element (namespace "
                                f"{BPMN_NS}), got <{tag}>" + (f" in namespace {ns}" if ns else ""),
                                file, *positions.get(id(root), (None, None)))], file)
    chosen = _choose_process(root, process, file, positions)
    reader.collect(chosen, (), None, None)
    builder = _Builder(reader, chosen, file, time_unit, start,
                       name or chosen.get("name") or Path(file).stem)
    return builder.build(params)


def _choose_process(root: ET.Element, wanted: str | None, file: str,
                    positions: dict[int, tuple[int, int]]) -> ET.Element:
    processes = root.findall(f"{{{BPMN_NS}}}process")
    ids = [p.get("id", "") for p in processes]
    if wanted is not None:
        for p in processes:
            if p.get("id") == wanted:
                return p
        raise ModelError([Issue("", f"no process with id {wanted!r} (processes: "
                                f"{', '.join(ids) or 'none'})" + close_match_hint(wanted, ids),
                                file)], file)
    with_nodes = [p for p in processes
                  if any(_local(c.tag)[1] in TASKS | {"startEvent"} for c in p)]
    if len(with_nodes) == 1:
        return with_nodes[0]
    if not with_nodes:
        raise ModelError([Issue("", "no process with a start event or a task in the file", file,
                                *positions.get(id(root), (None, None)))], file)
    raise ModelError([Issue("", f"{len(with_nodes)} processes in the file ("
                            + ", ".join(p.get("id", "") for p in with_nodes)
                            + "); choose one with --process ID", file)], file)


class _Builder:
    def __init__(self, reader: _Reader, process: ET.Element, file: str, time_unit: str,
                 start: datetime, name: str) -> None:
        self.r = reader
        self.process = process
        self.file = file
        self.time_unit = time_unit
        self.start = start
        self.name = name
        self.namer = _Namer()
        self.comments: dict[tuple[Any, ...], str] = {}
        self.placeholders: list[str] = []

    # The graph, normalised to what procsim's flow can say.
    def normalise(self) -> None:
        r = self.r
        nodes, edges = r.nodes, r.edges
        for key in [k for k, n in nodes.items() if n.kind == "pass"]:
            leaving = [e for e in edges if e.src == key]
            if len(leaving) == 1 and leaving[0].dst != key:
                for e in edges:
                    if e.dst == key:
                        e.dst = leaving[0].dst
                edges.remove(leaving[0])
                del nodes[key]
            elif len(leaving) > 1:
                nodes[key].kind = "parallel"
                nodes[key].origin = "several outgoing flows (a parallel split)"
        starts = [n for n in nodes.values() if n.kind == "start"]
        if len(starts) != 1 and not r.issues:
            where = starts[1] if len(starts) > 1 else None
            r.issues.append(Issue("", f"expected one start event in the process, got "
                                  f"{len(starts)}", self.file, *(where.pos if where else
                                                                (None, None))))
        if not any(n.kind == "end" for n in nodes.values()):
            r.issues.append(Issue("", "the process has no end event", self.file))
        outs: dict[str, list[_Edge]] = {k: [] for k in nodes}
        ins: dict[str, list[_Edge]] = {k: [] for k in nodes}
        for e in edges:
            outs[e.src].append(e)
            ins[e.dst].append(e)
        for key, node in list(nodes.items()):
            path = f"{node.tag}[{node.bpmn_id}]"
            if node.kind != "end" and not outs[key]:
                r.issues.append(Issue(path, "has no outgoing sequence flow: a case would stop "
                                      "here (connect it, or end it with an end event)",
                                      self.file, *node.pos))
            if node.kind not in ("start",) and not ins[key]:
                r.issues.append(Issue(path, "has no incoming sequence flow: no case can reach "
                                      "it", self.file, *node.pos))
            if node.kind == "pass" and not outs[key]:
                continue
            if node.kind in ("activity", "delay", "start") and len(outs[key]) > 1:
                conditional = any(e.conditional for e in outs[key])
                kind = "inclusive" if conditional else "parallel"
                split = _Node(key + "#split", kind, "", node.tag, node.bpmn_id, node.pos,
                              origin=f"the {node.tag} has several outgoing flows"
                              + (" with conditions" if conditional else ""),
                              inclusive=conditional)
                nodes[split.key] = split
                for e in outs[key]:
                    e.src = split.key
                edges.append(_Edge("", key, split.key))
            elif node.kind in GATEWAYS.values() and len(ins[key]) > 1 and len(outs[key]) > 1:
                join = _Node(key + "#join", node.kind, node.label, node.tag, node.bpmn_id,
                             node.pos, origin="the gateway both joins and splits",
                             inclusive=node.inclusive)
                nodes[join.key] = join
                for e in ins[key]:
                    e.dst = join.key
                edges.append(_Edge("", join.key, key))
        if r.issues:
            raise ModelError(r.issues, self.file)

    def _order_from_start(self) -> None:
        """Put the nodes in the order a reader follows them: breadth-first from start."""
        nodes = self.r.nodes
        start = next(k for k, n in nodes.items() if n.kind == "start")
        order, todo = [start], [start]
        while todo:
            key = todo.pop(0)
            for e in self.outs(key):
                if e.dst not in order:
                    order.append(e.dst)
                    todo.append(e.dst)
        order += [k for k in nodes if k not in order]
        self.r.nodes = {k: nodes[k] for k in order}

    def outs(self, key: str) -> list[_Edge]:
        return [e for e in self.r.edges if e.src == key]

    def ins(self, key: str) -> list[_Edge]:
        return [e for e in self.r.edges if e.dst == key]

    def build(self, params_file: str | os.PathLike[str] | None) -> ImportResult:
        from procsim.interop import prosimos

        self.normalise()
        self._order_from_start()
        nodes = self.r.nodes
        # Names, in document order.
        counters: dict[str, int] = {}
        for node in nodes.values():
            if node.kind in ("start", "end"):
                node.name = node.kind
                continue
            if node.kind in ("activity", "delay"):
                fallback = node.bpmn_id or "activity"
                if node.kind == "delay" and not node.label:
                    counters[node.event or "wait"] = counters.get(node.event or "wait", 0) + 1
                    fallback = f"{node.event if node.event != 'none' else 'wait'}_" \
                               f"{counters[node.event or 'wait']}"
                node.name = self.namer(node.label, "nodes", fallback=fallback,
                                       suffix="task" if node.kind == "activity" else "event")
        mapping = None
        if params_file is not None:
            params = prosimos.read_params(os.fspath(params_file))
            tasks = {n.bpmn_id: n.name for n in nodes.values()
                     if n.kind == "activity" and n.bpmn_id and "#" not in n.key}
            events = {n.bpmn_id: n.name for n in nodes.values()
                      if n.kind == "delay" and n.bpmn_id}
            gateway_ids = [n.bpmn_id for n in nodes.values()
                           if n.kind in GATEWAYS.values() and n.bpmn_id]
            mapping = prosimos.map_params(
                params, tasks=tasks, events=events, gateways=gateway_ids,
                snake=lambda text, section: self.namer(text, section, fallback=section))
            for (path, line, col), message in mapping.warnings:
                self.r.warnings.append(ImportWarning(message, params.file, line, col, path))
        self._resolve_inclusive(mapping)
        for node in nodes.values():
            if node.kind in ("exclusive", "parallel", "inclusive", "pass"):
                node.name = self._gateway_name(node, counters)
        ids = {n.bpmn_id: n.name for n in nodes.values()
               if n.bpmn_id and "#" not in n.key and n.kind not in ("start", "end")}
        data = self._assemble(mapping, params_file)
        if "arrivals.interarrival" in self.placeholders:
            self._stable_placeholder_arrivals(data)
        text = self._emit(data, mapping, params_file)
        self._validate(text)
        return ImportResult(text, data, tuple(self.r.warnings), tuple(self.placeholders), ids)

    def _gateway_name(self, node: _Node, counters: dict[str, int]) -> str:
        many_out = len(self.outs(node.key)) > 1
        if node.key.endswith("#split"):
            owner = self.r.nodes[node.key.removesuffix("#split")]
            return self.namer(f"split_after_{owner.name}", "nodes")
        if node.key.endswith("#join"):
            owner = self.r.nodes[node.key.removesuffix("#join")]
            base = owner.label or owner.bpmn_id or "gateway"
            role = "join" if node.kind == "parallel" else "merge"
            return self.namer(f"{base}_{role}", "nodes")
        if node.label:
            return self.namer(node.label, "nodes", suffix="gateway")
        if node.kind == "parallel":
            role = "split" if many_out else "join"
        else:
            role = "choice" if many_out else "merge"
        counters[role] = counters.get(role, 0) + 1
        return self.namer(f"{role}_{counters[role]}", "nodes")

    def _resolve_inclusive(self, mapping: Any) -> None:
        """Inclusive splits: parallel if every branch has probability 1, else exclusive."""
        nodes = self.r.nodes
        parallel_splits: set[str] = set()
        for node in nodes.values():
            if node.kind != "inclusive" or len(self.outs(node.key)) < 2:
                continue
            probs = (mapping.probabilities.get(node.bpmn_id or "", {}) if mapping else {})
            flows = self.outs(node.key)
            if flows and all(probs.get(e.id) == 1.0 for e in flows):
                node.kind = "parallel"
                parallel_splits.add(node.key)
                self.r.warn(node, "inclusive split with every branch at probability 1: a "
                            "parallel split (exact)")
            else:
                node.kind = "exclusive"
                self.r.warn(node, "inclusive split mapped to an exclusive choice: each case "
                            "takes exactly one branch (BPMN may take several); the branch "
                            "probabilities are normalised to sum to 1")
        for node in nodes.values():
            if node.kind != "inclusive":
                continue
            # The join follows the nearest inclusive splits upstream of it.
            seen, todo, found = {node.key}, [e.src for e in self.ins(node.key)], set()
            while todo:
                key = todo.pop()
                if key in seen:
                    continue
                seen.add(key)
                if nodes[key].inclusive and key != node.key and len(self.outs(key)) > 1:
                    found.add(key)
                    continue
                todo += [e.src for e in self.ins(key)]
            if found and found <= parallel_splits:
                node.kind = "parallel"
            else:
                node.kind = "exclusive"
                if len(self.ins(node.key)) > 1:
                    self.r.warn(node, "inclusive join mapped to an exclusive merge")

    def _assemble(self, mapping: Any, params_file: Any) -> dict[str, Any]:
        nodes = self.r.nodes
        data: dict[str, Any] = {"procsim": 1, "name": self.name}
        source = Path(self.file).name + (f" and {Path(params_file).name}" if params_file else "")
        data["description"] = f"Imported from {source} by procsim import."
        data["time_unit"] = self.time_unit
        uses_calendars = bool(mapping and mapping.calendars)
        if uses_calendars:
            data["start"] = self.start.strftime("%Y-%m-%dT%H:%M")
            self.comments[("start",)] = f"a {self.start:%A}: simulated time 0"
        if mapping and mapping.calendars:
            data["calendars"] = mapping.calendars
        # Arrivals.
        arrivals: dict[str, Any] = {}
        if mapping and "interarrival" in mapping.arrivals:
            dist = mapping.arrivals["interarrival"]
            if "calendar" in mapping.arrivals:
                dist, note = self._prosimos_arrivals(dist, mapping)
                self.comments[("arrivals", "interarrival")] = note
            arrivals["interarrival"] = _yaml_dist(dist)
            if "calendar" in mapping.arrivals:
                arrivals["calendar"] = mapping.arrivals["calendar"]
        else:
            arrivals["interarrival"] = {"dist": "exponential", "mean": 1}
            self._placeholder(("arrivals", "interarrival"), "mean time between arrivals")
        data["arrivals"] = arrivals
        if mapping and mapping.attributes:
            data["attributes"] = {k: (_yaml_dist(v) if "dist" in v else v)
                                  for k, v in mapping.attributes.items()}
        # Resources: from the parameters, else one pool per lane.
        resources: dict[str, Any] = {}
        lane_pools: dict[str, str] = {}
        if mapping:
            resources = mapping.resources
            for pool, comment in mapping.comments.items():
                self.comments[("resources", pool)] = comment
        else:
            for node in nodes.values():
                if node.kind == "activity" and node.lane and node.lane not in lane_pools:
                    pool = self.namer(node.lane, "resources", fallback="pool")
                    lane_pools[node.lane] = pool
                    resources[pool] = {"capacity": 1,
                                       "description": f"BPMN lane {node.lane}. PLACEHOLDER: "
                                       "capacity"}
                    self._placeholder(("resources", pool, "capacity"), "capacity of the lane")
        if resources:
            data["resources"] = resources
        if mapping and mapping.people:
            data["people"] = mapping.people
        if mapping and mapping.priority:
            data["priority"] = mapping.priority
        # Activities.
        activities: dict[str, Any] = {}
        for node in nodes.values():
            if node.kind not in ("activity", "delay"):
                continue
            spec: dict[str, Any] = {}
            what = "task" if node.kind == "activity" else f"{node.event} event"
            desc = f"BPMN {node.tag} {node.bpmn_id}"
            if node.label:
                desc += f": {node.label}"
            path = ("activities", node.name)
            from_params = mapping.activities.get(node.name) if mapping else None
            if from_params:
                spec["resource"] = from_params["resource"]
                spec["duration"] = _yaml_dist(from_params["duration"])
                if "durations" in from_params:
                    spec["durations"] = {p: _yaml_dist(d)
                                         for p, d in from_params["durations"].items()}
            elif mapping and node.name in mapping.events:
                spec["duration"] = _yaml_dist(mapping.events[node.name])
            elif node.timer is not None:
                spec["duration"] = {"dist": "fixed", "value": _duration(node.timer)}
                self.comments[(*path, "duration")] = "from the timer's timeDuration"
            else:
                if node.kind == "activity" and node.lane in lane_pools:
                    spec["resource"] = lane_pools[node.lane]
                spec["duration"] = {"dist": "fixed", "value": 1}
                self._placeholder((*path, "duration"), f"duration of the {what}")
                desc += ". PLACEHOLDER: duration"
            if mapping and node.name in mapping.batches:
                batch = dict(mapping.batches[node.name])
                if "timeout" in batch:
                    batch["timeout"] = _duration(batch["timeout"])
                spec["batch"] = batch
            spec = {"description": desc, **spec}
            activities[node.name] = spec
        data["activities"] = activities
        # Gateways.
        gateways: dict[str, Any] = {}
        for node in nodes.values():
            if node.kind in ("exclusive", "parallel"):
                desc = (f"BPMN {node.tag} {node.bpmn_id}" if not node.origin
                        else f"Added by the import: {node.origin} (BPMN {node.bpmn_id})")
                if node.label and not node.origin:
                    desc += f": {node.label}"
                gateways[node.name] = {"type": node.kind, "description": desc}
        if gateways:
            data["gateways"] = gateways
        # Flow.
        flow: dict[str, Any] = {}
        start = next(n for n in nodes.values() if n.kind == "start")
        order = [start] + [n for n in nodes.values() if n.kind not in ("start", "end")]
        for node in order:
            outs = self.outs(node.key)
            targets = [nodes[e.dst].name for e in outs]
            if node.kind == "parallel" and len(outs) > 1:
                flow[node.name] = targets
            elif len(outs) > 1:
                flow[node.name] = self._choice(node, outs, mapping)
            else:
                flow[node.name] = targets[0]
        data["flow"] = flow
        return data

    def _choice(self, node: _Node, outs: list[_Edge], mapping: Any) -> dict[str, float]:
        nodes = self.r.nodes
        given = mapping.probabilities.get(node.bpmn_id or "", {}) if mapping else {}
        path = ("flow", node.name)
        probs: list[float | None] = [given.get(e.id) for e in outs]
        if "#" in node.key or all(p is None for p in probs):
            n = len(outs)
            equal = [round(1 / n, 4)] * (n - 1)
            probs = [*equal, round(1 - sum(equal), 4)]
            self._placeholder(path, "branch probabilities (equal shares)")
        elif any(p is None for p in probs):
            missing = [e.id for e, p in zip(outs, probs, strict=True) if p is None]
            rest = max(0.0, 1 - sum(p for p in probs if p is not None))
            probs = [rest / len(missing) if p is None else p for p in probs]
            self.r.warn(node, f"no probability for flows {', '.join(missing)}: they share the "
                        "rest equally, as in Prosimos")
        total = sum(p for p in probs if p is not None)
        choice: dict[str, float] = {}
        for e, p in zip(outs, probs, strict=True):
            value = float(p or 0.0) / total if total > 0 else 1 / len(outs)
            target = nodes[e.dst].name
            choice[target] = choice.get(target, 0.0) + value
        if total > 0 and abs(total - 1) > 1e-9 and path not in self.comments:
            self.r.warn(node, f"branch probabilities sum to {total:.10g}: normalised to 1")
        return {k: float(f"{v:.12g}") for k, v in choice.items()}

    def _prosimos_arrivals(self, dist: dict[str, Any], mapping: Any) -> tuple[dict[str, Any], str]:
        from procsim.interop.prosimos import arrival_factor, scale_dist

        intervals = mapping.calendars[mapping.arrivals["calendar"]]
        factor = arrival_factor(dist, intervals, self.start)
        note = (f"Prosimos' wall-clock gaps x {factor:.4g}: the same arrival rate on the "
                "calendar's open hours")
        self.r.warnings.append(ImportWarning(
            "arrival calendar: Prosimos draws the gap between arrivals in wall-clock time and "
            "moves an arrival that falls in closed hours to the next opening; procsim counts "
            f"the gap in open hours only. The gaps are scaled by {factor:.4g} so that both have "
            "the same long-run arrival rate", self.file, None, None, "arrivals"))
        return scale_dist(dist, factor), note

    def _stable_placeholder_arrivals(self, data: dict[str, Any]) -> None:
        """Space placeholder arrivals so that no pool is loaded above 50 %."""
        from procsim.model import model_from_data, offered_load

        try:
            loads = offered_load(model_from_data(data))
        except ModelError:
            return  # reported by _validate with the BPMN positions
        busiest = max((load.utilization for load in loads.values()), default=0.0)
        if busiest > 0.5:
            data["arrivals"]["interarrival"]["mean"] = math.ceil(2 * busiest)

    def _placeholder(self, path: tuple[Any, ...], what: str) -> None:
        self.placeholders.append(".".join(str(p) for p in path))
        self.comments[path] = f"PLACEHOLDER: {what}"

    # --- YAML text ------------------------------------------------------------------------------

    def _emit(self, data: dict[str, Any], mapping: Any, params_file: Any) -> str:
        lines = [f"# Imported from {Path(self.file).name}"
                 + (f" with the Prosimos parameters {Path(params_file).name}" if params_file
                    else "") + " by `procsim import`.",
                 f"# BPMN process: {self.process.get('id', '')}"
                 + (f" ({self.process.get('name')})" if self.process.get("name") else "")]
        if self.placeholders:
            lines.append("# To fill in (marked PLACEHOLDER below):")
            lines += [f"#   - {p}" for p in self.placeholders]
        if self.r.warnings:
            lines.append("# Approximated or left out (also printed by `procsim import`):")
            for w in self.r.warnings:
                text = f"{w.path + ': ' if w.path else ''}{w.message}"
                lines += _wrap(text, "#   - ", "#     ")
        blocks = {("calendars",), ("arrivals",), ("attributes",), ("resources",), ("people",),
                  ("activities",), ("gateways",), ("flow",)}

        def is_block(path: tuple[Any, ...], value: Any) -> bool:
            if path in blocks:
                return True
            if len(path) == 2 and path[0] in ("calendars", "activities"):
                return True
            return len(path) == 3 and path[0] == "activities" and path[2] == "durations"

        def write(key: Any, value: Any, path: tuple[Any, ...], indent: str) -> None:
            comment = self.comments.get(path)
            suffix = f"  # {comment}" if comment else ""
            if not is_block(path, value):
                lines.append(f"{indent}{key}: {_flow_yaml(value)}{suffix}")
                return
            lines.append(f"{indent}{key}:{suffix}")
            if isinstance(value, dict):
                for k, v in value.items():
                    write(k, v, (*path, k), indent + "  ")
            else:
                lines.extend(f"{indent}  - {_flow_yaml(item)}" for item in value)

        for key, value in data.items():
            if key in ("calendars", "activities", "flow", "resources"):
                lines.append("")
            write(key, value, (key,), "")
        return "\n".join(lines) + "\n"

    def _validate(self, text: str) -> None:
        """Load the result as procsim would; map its problems back to the BPMN elements."""
        from procsim.model.load import parse_model

        try:
            parse_model(text, file="<imported>")
        except ModelError as err:
            by_name = {n.name: n for n in self.r.nodes.values()}
            issues = []
            for issue in err.issues:
                parts = issue.path.split(".")
                node = next((by_name[p] for p in reversed(parts) if p in by_name), None)
                if node is None:
                    names = re.findall(r"'([^']+)'", issue.message)
                    node = next((by_name[n] for n in names if n in by_name), None)
                where = f" (BPMN {node.tag} {node.bpmn_id})" if node else ""
                pos = node.pos if node else (None, None)
                issues.append(Issue(issue.path, f"the imported model is not valid: "
                                    f"{issue.message}{where}", self.file, *pos))
            raise ModelError(issues, self.file) from None


def _wrap(text: str, first: str, rest: str, width: int = 96) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest) or [first]


def _flow_yaml(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False,
                          allow_unicode=True)
    return text.strip().removesuffix("...").strip()


def _number(x: float) -> float | int:
    value = float(f"{x:.12g}")
    return int(value) if value == int(value) and abs(value) < 1e15 else value


def _duration(seconds: float) -> str | int:
    """A duration in seconds as procsim text with the largest exact unit: '4min', '1382.8s'."""
    if seconds == 0:
        return 0
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        q = seconds / size
        if q == int(q):
            return f"{int(q)}{unit}"
    return f"{_number(seconds)}s"


_DURATION_KEYS = {"value", "min", "max", "mode", "mean", "sd", "scale", "values", "edges"}


def _yaml_dist(dist: dict[str, Any]) -> dict[str, Any]:
    """A mapped distribution (seconds) as procsim YAML data, durations with their unit."""
    out: dict[str, Any] = {}
    for key, value in dist.items():
        if key in _DURATION_KEYS:
            out[key] = [_duration(v) for v in value] if isinstance(value, list) \
                else _duration(value)
        elif isinstance(value, list):
            out[key] = [_number(v) for v in value]
        elif isinstance(value, float):
            out[key] = _number(value)
        else:
            out[key] = value
    return out
