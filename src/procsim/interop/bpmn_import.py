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
- sub-processes → flattened, their activities prefixed with the sub-process name; collapsed,
  empty and ad-hoc sub-processes → one activity; call activities → the called process
  inlined (from the file, or a BPMN file of the search path), else a placeholder activity;
- boundary events → an exclusive choice after their activity (interrupting, placeholder
  probability) or a parallel side branch (non-interrupting); an error end event of a
  sub-process → its error boundary event's path; event-based gateways → exclusive choices;
- parallel branches that end separately (or meet at an exclusive merge) → joined before the
  end; elements without outgoing flow → implicit ends; no start event → the elements
  without incoming flow; several start events → a placeholder choice;
- tasks without lanes → a placeholder pool per performer, or one shared ``staff`` pool;
- procsim's own export → the same model (its ``urn:procsim:bpmn`` extension elements).

Every approximation is a warning and a comment in the YAML. A collaboration imports the
process with the most flow nodes (:func:`import_processes`: all of them).

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET
from xml.parsers import expat

import yaml

from procsim.errors import Issue, ModelError, close_match_hint

__all__ = ["ImportNote", "ImportResult", "import_bpmn", "import_processes", "snake_case"]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
#: Namespace of the data procsim's own BPMN export keeps in ``extensionElements``.
PROCSIM_NS = "urn:procsim:bpmn"
TASKS = frozenset({"task", "userTask", "serviceTask", "manualTask", "scriptTask", "sendTask",
                   "receiveTask", "businessRuleTask"})
#: Gateways and what they become; complex and event-based gateways are approximated.
GATEWAYS = {"exclusiveGateway": "exclusive", "parallelGateway": "parallel",
            "inclusiveGateway": "inclusive", "complexGateway": "inclusive",
            "eventBasedGateway": "exclusive"}
SUBPROCESSES = frozenset({"subProcess", "transaction", "adHocSubProcess"})
EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
                    "implicitThrowEvent", "boundaryEvent"})
#: Every element that can be a node of a process's flow.
FLOW_NODES = TASKS | set(GATEWAYS) | SUBPROCESSES | EVENTS | {"callActivity"}
#: Elements without meaning for a simulation (documentation, data, layout): skipped.
IGNORED = frozenset({
    "documentation", "extensionElements", "laneSet", "lane", "childLaneSet", "flowNodeRef",
    "textAnnotation", "association", "group", "category", "categoryValue", "categoryValueRef",
    "dataObject", "dataObjectReference", "dataStore", "dataStoreReference", "dataInput",
    "dataOutput", "inputSet", "outputSet", "dataInputAssociation", "dataOutputAssociation",
    "ioSpecification", "ioBinding", "property", "incoming", "outgoing", "auditing",
    "monitoring", "supportedInterfaceRef", "supports", "resourceRole", "performer",
    "humanPerformer", "potentialOwner", "rendering", "correlationSubscription",
    "standardLoopCharacteristics", "multiInstanceLoopCharacteristics", "completionCondition",
    "conditionExpression",
})
#: Date-time at simulated time 0 of imported models that use calendars: a Monday, 00:00.
DEFAULT_START = datetime(2026, 1, 5, 0, 0)
_RESERVED = {"start", "end"}
#: File name endings of sibling BPMN files searched for called processes.
BPMN_SUFFIXES = (".bpmn", ".bpmn2", ".bpmn20.xml")


@dataclass(frozen=True)
class ImportNote:
    """Something the import approximated or left out, with where it came from.

    Examples
    --------
    >>> print(ImportNote("mapped to an exclusive choice", "m.bpmn", 12, 5,
    ...                  "inclusiveGateway[Gateway_1]"))
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
    warnings : tuple of ImportNote
        Every approximation and every part of the input that was left out.
    placeholders : tuple of str
        Dotted paths of the values that are placeholders, to be filled in.
    ids : dict
        BPMN id → procsim name, for every imported element.
    """

    text: str
    data: dict[str, Any]
    warnings: tuple[ImportNote, ...] = ()
    placeholders: tuple[str, ...] = ()
    ids: dict[str, str] = field(default_factory=dict)
    process: str = ""

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

    def exact(self, name: str, section: str) -> str | None:
        """``name`` itself when it is a usable procsim name not yet taken (else None)."""
        used = self.used.setdefault(section, set())
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", name) or name in used \
                or (section == "nodes" and name in _RESERVED):
            return None
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
    kind: str  # activity, delay, exclusive, parallel, inclusive, start, end, pass, boundary
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
    note: str = ""  # what was approximated: a comment in the YAML
    performer: str | None = None
    attached: str | None = None  # a boundary event's activity
    interrupting: bool = True
    top: bool = True  # a node of the process itself, not of a sub-process
    spec: dict[str, Any] | None = None  # procsim's own export: the node's model entry
    added: bool = False  # procsim's own export: a gateway the export added


@dataclass
class _Edge:
    id: str
    src: str
    dst: str
    pos: tuple[int | None, int | None] = (None, None)
    conditional: bool = False
    alternative: bool = False  # leaves an activity by an interrupting boundary event
    branch: Any = None  # procsim's own export: [{probability} or {index, when}]


def _element_label(element: ET.Element) -> str:
    """How messages name an element: ``userTask[t1 'Check invoice']``."""
    tag = _local(element.tag)[1]
    name = " ".join((element.get("name") or "").split())
    name = name if len(name) <= 40 else name[:39] + "…"
    return f"{tag}[{element.get('id', '')}" + (f" {name!r}]" if name else "]")


def _node_label(node: _Node) -> str:
    name = node.label.rsplit(" / ", 1)[-1] if node.label else ""
    return f"{node.tag}[{node.bpmn_id}" + (f" {name!r}]" if name else "]")


class _Reader:
    """Collects the flow nodes and sequence flows of one process (sub-processes flattened,
    called processes inlined), with every problem found as an issue."""

    def __init__(self, file: str, positions: dict[int, tuple[int, int]], root: ET.Element,
                 search_path: Sequence[str] = ()) -> None:
        self.file = file
        self.positions = positions
        self.root = root
        self.search_path = list(search_path)
        self.nodes: dict[str, _Node] = {}
        self.edges: list[_Edge] = []
        self.issues: list[Issue] = []
        self.warnings: list[ImportNote] = []
        self.lanes: dict[str, str] = {}
        # Every id of the document, for messages about flows that name a non-flow element.
        self.all_ids: dict[str, str] = {}
        for element in root.iter():
            if element.get("id"):
                self.all_ids.setdefault(element.get("id", ""), _local(element.tag)[1])
        self.resources = {r.get("id", ""): str(r.get("name") or r.get("id", ""))
                          for r in root.findall(f"{{{BPMN_NS}}}resource")}
        # Ids of elements already reported (unsupported) or left out with a warning: the
        # flows touching them are not reported again.
        self.reported: set[str] = set()
        self.left_out: set[str] = set()
        # Nodes whose missing flow is a follow-on of a reported problem.
        self.exempt: set[str] = set()
        self.links_thrown: list[tuple[str, str]] = []
        # Error and escalation end events of each sub-process, and where they go.
        self.thrown: dict[str, list[str]] = {}
        self.exits: dict[str, str] = {}
        self.links_caught: dict[str, str] = {}
        self.element_file: dict[int, str] = {}
        self._documents: dict[str, tuple[ET.Element, dict[int, tuple[int, int]]] | None] = {}
        self.procsim_export = root.get("exporter") == "procsim"

    def file_of(self, element: ET.Element) -> str:
        return self.element_file.get(id(element), self.file)

    def pos(self, element: ET.Element) -> tuple[int | None, int | None]:
        return self.positions.get(id(element), (None, None))

    def issue(self, element: ET.Element | None, message: str, path: str = "") -> None:
        line, col = self.pos(element) if element is not None else (None, None)
        file = self.file_of(element) if element is not None else self.file
        self.issues.append(Issue(path, message, file, line, col))

    def warn(self, where: _Node | ET.Element | None, message: str) -> None:
        if isinstance(where, _Node):
            line, col = where.pos
            path = _node_label(where) if where.bpmn_id else ""
        elif where is not None:
            line, col = self.pos(where)
            path = _element_label(where)
        else:
            line = col = None
            path = ""
        file = self.file_of(where) if isinstance(where, ET.Element) else self.file
        self.warnings.append(ImportNote(message, file, line, col, path))

    # --- called processes -------------------------------------------------------------------

    def find_called(self, call: ET.Element) -> ET.Element | None:
        """The process a call activity calls: in this file, else in a BPMN file of the
        search path (by default the file's own folder)."""
        wanted = (call.get("calledElement") or "").strip()
        wanted = wanted.rsplit(":", 1)[-1] if ":" in wanted and not wanted.startswith(
            ("http", "urn")) else wanted
        if not wanted:
            return None
        for process in self.root.iter(f"{{{BPMN_NS}}}process"):
            if process.get("id") == wanted:
                return process
        for element in self.root:  # a global task (globalUserTask, ...): one activity
            if _local(element.tag)[1].startswith("global") and element.get("id") == wanted:
                return element
        folders = [*self.search_path, str(Path(self.file).parent)]
        for folder in dict.fromkeys(folders):
            try:
                candidates = sorted(p for p in Path(folder).iterdir()
                                    if p.name.lower().endswith(BPMN_SUFFIXES))
            except OSError:
                continue
            for candidate in candidates:
                if candidate.resolve() == Path(self.file).resolve():
                    continue
                doc = self._document(str(candidate))
                if doc is None:
                    continue
                for process in doc[0].iter(f"{{{BPMN_NS}}}process"):
                    if process.get("id") == wanted:
                        return process
        return None

    def _document(self, path: str) -> tuple[ET.Element, dict[int, tuple[int, int]]] | None:
        if path not in self._documents:
            try:
                if Path(path).stat().st_size > 20_000_000:
                    raise OSError("too large")
                root, positions = _parse_xml(Path(path).read_bytes(), path)
            except (OSError, ModelError):
                self._documents[path] = None
                return None
            self.positions.update(positions)
            for element in root.iter():
                self.element_file[id(element)] = path
            self._documents[path] = (root, positions)
        return self._documents[path]

    # --- the elements of a process or sub-process -------------------------------------------

    def _inline(self, node: _Node, body: ET.Element, prefix: tuple[str, ...],
                stack: tuple[str, ...], scope: str, subprocesses: set[str],
                local: list[str]) -> None:
        """``node`` (a sub-process or a call activity) becomes a pass-through entry and exit
        node around the flow nodes of ``body``, collected in its place."""
        node.kind = "pass"
        self.nodes[node.key] = node
        self.nodes[node.key + "#exit"] = _Node(node.key + "#exit", "pass", node.label,
                                               node.tag, node.bpmn_id, node.pos, top=node.top)
        subprocesses.add(node.key)
        local.append(node.key)
        self.collect(body, prefix, node, node.lane, stack, scope=scope)

    def collect(self, container: ET.Element, prefix: tuple[str, ...],
                parent: _Node | None, lane: str | None, stack: tuple[str, ...] = (),
                scope: str = "") -> None:
        """The flow nodes of ``container``; ``scope`` prefixes the keys of an inlined called
        process (its ids may repeat those of the caller, or it may be called twice)."""
        starts: list[str] = []
        ends: list[str] = []
        flows: list[ET.Element] = []
        local: list[str] = []
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
            key = scope + eid
            path = _element_label(child)
            if tag == "sequenceFlow":
                flows.append(child)
                continue
            if tag in IGNORED:
                continue
            if tag not in FLOW_NODES:
                hint = close_match_hint(tag, sorted(FLOW_NODES))
                self.issue(child, f"unknown element '{tag}': expected a BPMN flow element (a "
                           f"task, event, gateway or sub-process){hint}", path)
                self.reported.add(key)
                continue
            if not eid:
                self.issue(child, f"expected an id on every {tag}, got none", path)
                continue
            if key in self.nodes:
                self.issue(child, f"duplicate id {eid!r}: expected each id once", path)
                self.reported.add(key)
                continue
            name = " ".join((child.get("name") or "").split())
            label = " / ".join([*prefix, name]) if name else ""
            node_lane = self.lanes.get(eid, lane)
            node = _Node(key, "", label, tag, eid, self.pos(child), lane=node_lane,
                         top=parent is None)
            node.spec = _procsim_data(child, "spec") if self.procsim_export else None
            node.added = bool(self.procsim_export and _procsim_data(child, "added"))
            if tag in TASKS:
                if child.get("isForCompensation") == "true":
                    self.warn(child, "compensation task: left out (it only runs to undo "
                              "work, which procsim does not simulate)")
                    self.left_out.add(key)
                    continue
                node.kind = "activity"
                node.performer = _performer(child, self.resources)
                _warn_loops(self, child)
            elif tag == "callActivity":
                called = self.find_called(child)
                called_id = called.get("id", "") if called is not None else ""
                if called is not None and _local(called.tag)[1] != "process":
                    # A global task: the call activity is that one task.
                    node.kind = "activity"
                    node.performer = _performer(called, self.resources)
                    self.warn(child, f"call activity of the {_local(called.tag)[1]} "
                              f"{called_id!r}: one activity")
                    self.nodes[key] = node
                    local.append(key)
                    continue
                if called is not None and called_id not in stack and len(stack) < 20 \
                        and _has_flow_nodes(called):
                    where = self.file_of(called)
                    self.warn(child, f"call activity: the called process {called_id!r}"
                              + ("" if where == self.file else f" of {Path(where).name}")
                              + " is inlined as a sub-process")
                    self._inline(node, called, (*prefix, name or eid), (*stack, called_id),
                                 f"{key}/", subprocesses, local)
                    continue
                node.kind = "activity"
                wanted = child.get("calledElement") or ""
                why = ("calls itself" if called is not None and called_id in stack else
                       f"calls {wanted!r}, which is in neither this file nor a BPMN file of the "
                       "search path" if wanted else "names no called process (calledElement)")
                node.note = f"PLACEHOLDER: a call activity that {why}: one activity stands for it"
                self.warn(child, f"call activity {why}: a placeholder activity (give the "
                          "called file's folder with --search-path)")
            elif tag == "startEvent":
                node.kind = "pass" if parent else "start"
                starts.append(key)
                if not parent and _event_kind(child):
                    self.warn(child, f"{_event_kind(child)} start event: cases arrive as given "
                              "by the arrivals (parameters or placeholder)")
            elif tag == "endEvent":
                node.kind = "pass" if parent else "end"
                ends.append(key)
                kind = _event_kind(child)
                node.event = kind
                if parent is not None and kind in ("error", "escalation"):
                    # Caught by a boundary event of the sub-process, if it has one (below).
                    self.thrown.setdefault(parent.key, []).append(key)
                elif kind and kind != "terminate":
                    self.warn(child, f"{kind} end event: read as a plain end")
            elif tag == "boundaryEvent":
                node.kind = "boundary"
                node.attached = scope + (child.get("attachedToRef") or "").strip()
                node.event = _event_kind(child) or "none"
                node.interrupting = child.get("cancelActivity", "true") != "false"
                if node.event == "compensate":
                    self.warn(child, "compensation boundary event: left out")
                    self.left_out.add(key)
                    continue
            elif tag == "intermediateCatchEvent":
                node.event = _event_kind(child) or "none"
                if node.event == "link":
                    node.kind = "pass"
                    self.links_caught[scope + _link_name(child)] = key
                else:
                    node.kind = "delay"
                    self._timer(child, node)
            elif tag in ("intermediateThrowEvent", "implicitThrowEvent"):
                node.kind = "pass"
                if _event_kind(child) == "link":
                    self.links_thrown.append((key, scope + _link_name(child)))
            elif tag in GATEWAYS:
                node.kind = GATEWAYS[tag]
                node.inclusive = node.kind == "inclusive"
                if tag == "eventBasedGateway":
                    node.note = ("event-based gateway: the race between its events is "
                                 "approximated by an exclusive choice")
                    self.warn(child, node.note + " (placeholder probabilities, unless given)")
                elif tag == "complexGateway":
                    node.note = "complex gateway: read as an inclusive gateway"
                    self.warn(child, node.note)
            elif tag in SUBPROCESSES:
                if child.get("triggeredByEvent") == "true":
                    self.warn(child, "event sub-process: left out (it runs only when its event "
                              "occurs, which procsim does not simulate)")
                    self.left_out.add(key)
                    continue
                if tag == "adHocSubProcess" or not _has_flow_nodes(child):
                    node.kind = "activity"
                    _warn_loops(self, child)
                    node.note = ("ad-hoc sub-process (its tasks have no order): one activity"
                                 if tag == "adHocSubProcess" else
                                 "collapsed or empty sub-process: one activity")
                    self.warn(child, node.note)
                else:
                    self._inline(node, child, (*prefix, name or eid), stack, scope,
                                 subprocesses, local)
                    continue
            self.nodes[key] = node
            local.append(key)
        for flow in flows:
            self._flow(flow, subprocesses, scope)
        if parent is not None:
            self._enter_and_leave(parent, container, starts, ends, local)

    def _timer(self, child: ET.Element, node: _Node) -> None:
        timer = child.find(f".//{{{BPMN_NS}}}timeDuration")
        if node.event == "timer" and timer is not None:
            node.timer = _iso_duration(timer.text or "")
            if node.timer is None:
                self.warn(child, f"timer duration {timer.text!r} is not an ISO 8601 "
                          "duration: placeholder")
        elif node.event == "timer":
            self.warn(child, "timer without timeDuration (a date or cycle): placeholder duration")
        else:
            self.warn(child, f"{node.event} catch event: a delay (waiting for it)")

    def _flow(self, flow: ET.Element, subprocesses: set[str], scope: str = "") -> None:
        fid = flow.get("id", "")
        src = scope + (flow.get("sourceRef") or "").strip()
        dst = scope + (flow.get("targetRef") or "").strip()
        path = _element_label(flow)
        bad = False
        for role, key in (("sourceRef", src), ("targetRef", dst)):
            ref = key.removeprefix(scope)
            if key in self.nodes:
                continue
            bad = True
            if key in self.reported or key in self.left_out:
                continue  # reported once, at the element itself
            if ref in self.all_ids:
                self.issue(flow, f"{role} {ref!r} names a {self.all_ids[ref]}, expected a flow "
                           "element of this process", path)
            else:
                self.issue(flow, f"dangling flow: {role} {ref!r} names no element of the file"
                           + close_match_hint(ref, [k.removeprefix(scope) for k in self.nodes
                                                    if "#" not in k and k.startswith(scope)]),
                           path)
        if bad:
            self.exempt.update({src, dst})
            return
        conditional = flow.find(f"{{{BPMN_NS}}}conditionExpression") is not None
        branch = _procsim_data(flow, "branch") if self.procsim_export else None
        self.edges.append(_Edge(fid, src + "#exit" if src in subprocesses else src, dst,
                                self.pos(flow), conditional, branch=branch))

    def _enter_and_leave(self, parent: _Node, container: ET.Element, starts: list[str],
                         ends: list[str], local: list[str]) -> None:
        """Flows into a sub-process go to its start; its ends continue after it."""
        entered = {e.dst for e in self.edges}
        left = {e.src for e in self.edges}
        entries = starts or [k for k in local if k not in entered and k not in self.exempt
                             and self.nodes[k].kind != "boundary"]
        first = parent.key
        if not entries:
            self.issue(container, "expected a start event, or an element without incoming "
                       "flow, where the sub-process begins; got none", _node_label(parent))
        elif len(starts) > 1:
            # Start events are alternative triggers: each run begins at one of them.
            choice = _Node(parent.key + "#starts", "exclusive", parent.label, parent.tag,
                           parent.bpmn_id, parent.pos, origin="several start events",
                           top=parent.top)
            choice.note = ("several start events: each run begins at one of them, chosen with "
                           "placeholder probabilities")
            self.nodes[choice.key] = choice
            self.edges.append(_Edge("", parent.key, choice.key))
            first = choice.key
            self.warn(parent, f"{len(starts)} start events: each run begins at one of them (an "
                      "exclusive choice with placeholder probabilities)")
        elif len(entries) > 1:
            self.warn(parent, f"the sub-process begins at {len(entries)} elements at once: "
                      "a parallel split")
        for key in entries:
            self.edges.append(_Edge("", first, key))
        exits = [e for e in ends if e not in self.thrown.get(parent.key, [])]
        for e in self.thrown.get(parent.key, []):
            self.exits[e] = parent.key + "#exit"
        for key in local:
            node = self.nodes[key]
            out_key = key + "#exit" if key + "#exit" in self.nodes else key
            if key not in ends and node.kind != "boundary" and out_key not in left \
                    and key not in self.exempt:
                exits.append(out_key)
        for key in exits:
            self.edges.append(_Edge("", key, parent.key + "#exit"))


def _warn_loops(reader: _Reader, element: ET.Element) -> None:
    for loop in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
        if element.find(f"{{{BPMN_NS}}}{loop}") is not None:
            reader.warn(element, f"{loop} is not simulated: the activity runs once per visit")


def _regions(g: Any, nodes: dict[str, _Node], outs: list[_Edge], stops: set[str],
             sink: str) -> list[tuple[_Edge, set[str]]]:
    """The nodes each branch of a split reaches before one of ``stops``."""
    regions = []
    for e in outs:
        target = sink if nodes[e.dst].kind == "end" else e.dst
        region: set[str] = set()
        todo = [] if target in stops else [target]
        while todo:
            n = todo.pop()
            if n in region or n in stops:
                continue
            region.add(n)
            todo += list(g.successors(n))
        regions.append((e, region))
    return regions


def _event_kind(element: ET.Element) -> str | None:
    for child in element:
        ns, tag = _local(child.tag)
        if ns == BPMN_NS and tag.endswith("EventDefinition"):
            return tag.removesuffix("EventDefinition")
    if element.find(f"{{{BPMN_NS}}}eventDefinitionRef") is not None:
        return "signal"
    return None


def _link_name(element: ET.Element) -> str:
    link = element.find(f"{{{BPMN_NS}}}linkEventDefinition")
    name = link.get("name") if link is not None else None
    return name or element.get("name") or ""


def _has_flow_nodes(container: ET.Element) -> bool:
    """Does ``container`` (a sub-process or process) hold flow nodes of its own?"""
    return any(_local(c.tag)[0] == BPMN_NS and _local(c.tag)[1] in FLOW_NODES
               for c in container)


def _performer(task: ET.Element, resources: dict[str, str]) -> str | None:
    """The resource named by a task's performer (``resourceRef`` or an expression)."""
    for role in ("performer", "humanPerformer", "potentialOwner"):
        element = task.find(f"{{{BPMN_NS}}}{role}")
        if element is None:
            continue
        ref = element.findtext(f"{{{BPMN_NS}}}resourceRef")
        if ref and ref.strip():
            return resources.get(ref.strip(), ref.strip())
        expression = element.findtext(f".//{{{BPMN_NS}}}formalExpression")
        if expression and expression.strip():
            return expression.strip()
        if element.get("name"):
            return element.get("name")
    return None


def _procsim_data(element: ET.Element, what: str) -> Any:
    """The data procsim's own export keeps in an element's ``extensionElements``."""
    import json

    found = element.find(f"{{{BPMN_NS}}}extensionElements/{{{PROCSIM_NS}}}{what}")
    if found is None:
        return None
    try:
        return json.loads(found.text or "null")
    except ValueError:
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
    search_path: Sequence[str | os.PathLike[str]] = (),
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
        The id of the process to import when the file holds several (default: the one with
        the most flow nodes, with a warning). :func:`import_processes` imports them all.
    time_unit : str
        The model's time unit (durations are written with their own unit anyway).
    start : datetime
        The model's ``start`` when it uses calendars (default: Monday 2026-01-05 00:00).
    name : str, optional
        The model's name (default: the process's name, else the file's stem).
    search_path : sequence of str or path-like
        Folders whose BPMN files may hold the processes that call activities call (the
        file's own folder is always searched).

    Returns
    -------
    ImportResult
        The model text, its data, warnings and placeholders.

    Raises
    ------
    procsim.errors.ModelError
        Malformed XML or JSON, unknown elements, dangling flows, or a result procsim
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
    ('arrivals.interarrival', 'resources.staff.capacity', 'activities.check_invoice.duration')
    """
    file, root, positions = _read_document(path)
    chosen, notes = _choose_process(root, process, file, positions)
    return _import_one(file, root, positions, chosen, notes, params=params, time_unit=time_unit,
                       start=start, name=name, search_path=search_path)


def import_processes(
    path: str | os.PathLike[str],
    *,
    params: str | os.PathLike[str] | None = None,
    time_unit: str = "hours",
    start: datetime = DEFAULT_START,
    search_path: Sequence[str | os.PathLike[str]] = (),
) -> list[ImportResult]:
    """Import every process of a BPMN file (each pool of a collaboration) into its own model.

    Takes the arguments of :func:`import_bpmn`; the problems of all processes are raised
    together. :attr:`ImportResult.process` tells which process each result is.
    """
    file, root, positions = _read_document(path)
    processes = [p for p, _ in _processes(root) if _count_flow_nodes(p) > 0]
    if not processes:
        raise ModelError([Issue("", "expected a process with a start event or a task, got "
                                "none", file, *positions.get(id(root), (None, None)))], file)
    results, issues = [], []
    for element in processes:
        try:
            notes = _message_flow_notes(root, file, positions)
            results.append(_import_one(file, root, positions, element, notes, params=params,
                                       time_unit=time_unit, start=start, name=None,
                                       search_path=search_path))
        except ModelError as err:
            issues += err.issues
    if issues:
        raise ModelError(issues, file)
    return results


def _read_document(path: str | os.PathLike[str]
                   ) -> tuple[str, ET.Element, dict[int, tuple[int, int]]]:
    file = os.fspath(path)
    try:
        raw = Path(file).read_bytes()
    except FileNotFoundError:
        raise ModelError([Issue("", "no such file", file)], file) from None
    except OSError as exc:
        raise ModelError([Issue("", f"cannot read the file: {exc}", file)], file) from None
    root, positions = _parse_xml(raw, file)
    if _local(root.tag) != (BPMN_NS, "definitions"):
        ns, tag = _local(root.tag)
        raise ModelError([Issue("", f"expected a BPMN 2.0 <definitions> element (namespace "
                                f"{BPMN_NS}), got <{tag}>" + (f" in namespace {ns}" if ns else ""),
                                file, *positions.get(id(root), (None, None)))], file)
    return file, root, positions


def _import_one(file: str, root: ET.Element, positions: dict[int, tuple[int, int]],
                chosen: ET.Element, notes: list[ImportNote], *, params: Any, time_unit: str,
                start: datetime, name: str | None,
                search_path: Sequence[str | os.PathLike[str]]) -> ImportResult:
    reader = _Reader(file, positions, root, [os.fspath(p) for p in search_path])
    reader.warnings += notes
    reader.collect(chosen, (), None, None, (chosen.get("id", ""),))
    participant = dict(_processes(root)).get(chosen)
    builder = _Builder(reader, chosen, file, time_unit, start,
                       name or chosen.get("name") or participant or Path(file).stem)
    return builder.build(params)


def _processes(root: ET.Element) -> list[tuple[ET.Element, str | None]]:
    """Every process of the file with the name of its participant (pool), if any."""
    names = {p.get("processRef", "").rsplit(":", 1)[-1]: p.get("name")
             for p in root.iter(f"{{{BPMN_NS}}}participant")}
    return [(p, names.get(p.get("id", ""))) for p in root.findall(f"{{{BPMN_NS}}}process")]


def _count_flow_nodes(container: ET.Element) -> int:
    return sum(1 for element in container.iter()
               if _local(element.tag)[0] == BPMN_NS and _local(element.tag)[1] in FLOW_NODES)


def _describe(process: ET.Element, participant: str | None) -> str:
    text = repr(process.get("id", ""))
    names = [n for n in (participant, process.get("name")) if n]
    return text + (f" ({' / '.join(dict.fromkeys(names))})" if names else "")


def _message_flow_notes(root: ET.Element, file: str,
                        positions: dict[int, tuple[int, int]]) -> list[ImportNote]:
    flows = root.findall(f".//{{{BPMN_NS}}}messageFlow")
    if not flows:
        return []
    line, column = positions.get(id(flows[0]), (None, None))
    return [ImportNote(
        f"{len(flows)} message flow(s) between pools are not simulated: each process runs on "
        "its own; where one waits for another, its catch events and receive tasks are delays "
        "with placeholder durations", file, line, column, "messageFlow")]


def _choose_process(root: ET.Element, wanted: str | None, file: str,
                    positions: dict[int, tuple[int, int]]
                    ) -> tuple[ET.Element, list[ImportNote]]:
    """The process to import, and the warnings about the others and the message flows."""
    processes = _processes(root)
    where = positions.get(id(root), (None, None))
    notes = _message_flow_notes(root, file, positions)
    if wanted is not None:
        for p, _ in processes:
            if p.get("id") == wanted:
                return p, notes
        ids = [p.get("id", "") for p, _ in processes]
        raise ModelError([Issue("", f"--process: expected the id of a process of the file "
                                f"({', '.join(_describe(p, n) for p, n in processes) or 'none'}), "
                                f"got {wanted!r}" + close_match_hint(wanted, ids), file,
                                *where)], file)
    candidates = [(p, n) for p, n in processes if _count_flow_nodes(p) > 0]
    if not candidates:
        raise ModelError([Issue("", "expected a process with a start event or a task, got none",
                                file, *where)], file)
    if len(candidates) == 1:
        return candidates[0][0], notes
    # Processes that others call are parts, not the main process.
    called = {c.get("calledElement") for c in root.iter(f"{{{BPMN_NS}}}callActivity")}
    main = [(p, n) for p, n in candidates if p.get("id") not in called] or candidates
    best, participant = max(main, key=lambda pn: _count_flow_nodes(pn[0]))
    others = ", ".join(_describe(p, n) for p, n in candidates if p is not best)
    line, column = positions.get(id(best), (None, None))
    notes.insert(0, ImportNote(
        f"{len(candidates)} processes in the file: imported {_describe(best, participant)}, "
        f"the one with the most flow nodes; the others are {others} (choose one with "
        "--process ID, or all with --process all)", file, line, column, "process"))
    return best, notes


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
        # procsim's own export: the model's sections other than the flow, as it wrote them.
        own = _procsim_data(process, "model") if reader.procsim_export else None
        self.own: dict[str, Any] | None = own if isinstance(own, dict) else None

    # The graph, normalised to what procsim's flow can say.
    def normalise(self) -> None:
        r = self.r
        nodes, edges = r.nodes, r.edges
        for thrown, link in r.links_thrown:
            if link in r.links_caught:
                edges.append(_Edge("", thrown, r.links_caught[link]))
        self._start_and_ends()
        self._boundaries()
        self._uncaught_ends()
        self._contract()
        incoming = {e.dst for e in edges}
        for key, node in nodes.items():
            if node.kind != "start" and key not in incoming and key not in r.exempt:
                r.issues.append(Issue(_node_label(node), "expected an incoming sequence flow, "
                                      "got none: no case can reach it", self.file, *node.pos))
        if r.issues:
            raise ModelError(r.issues, self.file)
        for key, node in list(nodes.items()):
            outs, ins = self.outs(key), self.ins(key)
            alternatives = [e for e in outs if e.alternative]
            normal = [e for e in outs if not e.alternative]
            if alternatives:
                choice = _Node(key + "#boundary", "exclusive", node.label, node.tag,
                               node.bpmn_id, node.pos,
                               origin=f"the interrupting boundary events of the {node.tag}")
                choice.note = ("interrupting boundary event(s): an exclusive choice after the "
                               "activity, which a case leaves by the event's path with a "
                               "placeholder probability")
                nodes[choice.key] = choice
                for e in alternatives:
                    e.src = choice.key
                edges.append(_Edge("", key, choice.key))
                if len(normal) == 1:
                    normal[0].src = choice.key
                    continue
                split_from: _Node = choice
                outs = normal
            else:
                split_from = node
            if node.kind in ("activity", "delay", "start", "pass") and len(outs) > 1:
                conditional = any(e.conditional for e in outs)
                kind = "inclusive" if conditional else "parallel"
                split = _Node(key + "#split", kind, node.label, node.tag, node.bpmn_id,
                              node.pos,
                              origin=f"the {node.tag} has several outgoing flows"
                              + (" with conditions" if conditional else ""),
                              inclusive=conditional)
                nodes[split.key] = split
                for e in outs:
                    e.src = split.key
                edges.append(_Edge("", split_from.key, split.key))
            elif node.kind in GATEWAYS.values() and len(ins) > 1 and len(outs) > 1 \
                    and not (self.own is not None and node.kind == "exclusive"):
                join = _Node(key + "#join", node.kind, node.label, node.tag, node.bpmn_id,
                             node.pos, origin="the gateway both joins and splits",
                             inclusive=node.inclusive)
                nodes[join.key] = join
                for e in ins:
                    e.dst = join.key
                edges.append(_Edge("", join.key, key))
        self._contract()

    def _start_and_ends(self) -> None:
        """One start (implicit starts, several start events), and an end for flows that stop."""
        r = self.r
        nodes, edges = r.nodes, r.edges
        where = r.pos(self.process)
        starts = [n for n in nodes.values() if n.kind == "start"]
        if len(starts) != 1:
            entered = {e.dst for e in edges}
            entries = [n for n in starts] or [
                n for k, n in nodes.items() if n.top and k not in entered
                and n.kind not in ("boundary", "end") and not k.endswith("#exit")
                and k not in r.exempt]
            if not entries:
                r.issues.append(Issue(_element_label(self.process), "expected a start event, or "
                                      "an element without incoming flow where cases begin, got "
                                      "none", self.file, *where))
                return
            start = _Node("#start", "start", "", "process", self.process.get("id"), where)
            nodes["#start"] = start
            for n in entries:
                if n.kind == "start":
                    n.kind = "pass"
            if starts:
                choice = _Node("#start_choice", "exclusive", "", "process",
                               self.process.get("id"), where,
                               origin="the process has several start events")
                choice.note = ("several start events: each case begins at one of them, chosen "
                               "with placeholder probabilities")
                nodes[choice.key] = choice
                edges.append(_Edge("", start.key, choice.key))
                r.warn(starts[1], f"{len(starts)} start events: each case begins at one of them "
                       "(an exclusive choice with placeholder probabilities)")
                first = choice.key
            else:
                first = start.key
                r.warn(entries[0], "no start event: cases begin at "
                       + ", ".join(_node_label(n) for n in entries)
                       + (" at once (a parallel split)" if len(entries) > 1 else "")
                       + " (the elements without incoming flow)")
            for n in entries:
                edges.append(_Edge("", first, n.key))
        left = {e.src for e in edges}
        stops = [n for k, n in nodes.items() if n.kind not in ("end", "boundary")
                 and k not in left and k not in r.exempt and k not in r.exits]
        if stops:
            end = _Node("#end", "end", "", "process", self.process.get("id"), where)
            nodes[end.key] = end
            for n in stops:
                edges.append(_Edge("", n.key, end.key))
                r.warn(n, "no outgoing flow: the case ends here (an implicit end)")

    def _boundaries(self) -> None:
        """Boundary events: an alternative way out of their activity, or a side branch."""
        r = self.r
        nodes, edges = r.nodes, r.edges
        for key, node in list(nodes.items()):
            if node.kind != "boundary":
                continue
            host = node.attached or ""
            at = host + "#exit" if host + "#exit" in nodes else host
            leaving = self.outs(key)
            if at not in nodes or nodes[at].kind not in ("activity", "delay", "pass"):
                what = r.all_ids.get(host)
                r.issues.append(Issue(_node_label(node), f"attachedToRef: expected an activity "
                                      f"of this process, got {host!r}"
                                      + (f" (a {what})" if what else ""), self.file, *node.pos))
                r.exempt.update(e.dst for e in leaving)
                continue
            node.kind = "pass"
            hosted = _node_label(nodes[host]) if host in nodes else host
            if not leaving:
                del nodes[key]
                r.warn(node, f"{node.event} boundary event without outgoing flow: left out")
                continue
            caught = [e for e in r.thrown.get(host, []) if nodes[e].event == node.event
                      and e in r.exits]
            if caught and node.event in ("error", "escalation"):
                # The sub-process's own error (escalation) ends lead to this path: exact.
                for end in caught:
                    edges.append(_Edge("", end, key))
                    del r.exits[end]
                r.warn(node, f"{node.event} boundary event on {hosted}: taken where the "
                       f"sub-process ends with its {node.event} end event(s)")
                continue
            edges.append(_Edge("", at, key, node.pos, alternative=node.interrupting))
            if node.interrupting:
                r.warn(node, f"interrupting {node.event} boundary event on {hosted}: an "
                       "exclusive choice after it, the event's path taken with a placeholder "
                       "probability (BPMN: when the event occurs before the activity ends)")
            else:
                r.warn(node, f"non-interrupting {node.event} boundary event on {hosted}: a "
                       "parallel side branch after it, taken by every case (BPMN: only when "
                       "the event occurs, possibly several times)")

    def _uncaught_ends(self) -> None:
        """Error and escalation ends that no boundary event catches: plain ends."""
        r = self.r
        for end, exit_key in r.exits.items():
            r.edges.append(_Edge("", end, exit_key))
            r.warn(r.nodes[end], f"{r.nodes[end].event} end event: no boundary event of the "
                   "sub-process catches it; read as a plain end")
        r.exits.clear()

    def _contract(self) -> None:
        """Remove the nodes that take no time and do not route (events, sub-process ends)."""
        nodes, edges = self.r.nodes, self.r.edges
        for key in [k for k, n in nodes.items() if n.kind == "pass"]:
            leaving = [e for e in edges if e.src == key]
            if any(e.alternative for e in leaving):
                continue
            if len(leaving) == 1 and leaving[0].dst != key:
                for e in edges:
                    if e.dst == key:
                        e.dst = leaving[0].dst
                edges.remove(leaving[0])
                del nodes[key]
            elif len(leaving) > 1:
                nodes[key].kind = "parallel"
                nodes[key].origin = "several outgoing flows (a parallel split)"

    def _join_open_branches(self) -> None:
        """Join the branches of a parallel split that end separately (BPMN's case ends when
        every branch has ended) or meet at an exclusive merge, before they end or merge."""
        import networkx as nx

        nodes, edges = self.r.nodes, self.r.edges
        sink = "#sink"
        done: set[str] = set()
        for _ in range(len(nodes)):
            g = nx.DiGraph()
            g.add_nodes_from(nodes)
            g.add_edges_from((e.src, sink if nodes[e.dst].kind == "end" else e.dst)
                             for e in edges)
            g.add_node(sink)
            post = nx.immediate_dominators(g.reverse(copy=False), sink)
            candidates = []
            for key, node in nodes.items():
                outs = self.outs(key)
                if node.kind != "parallel" or len(outs) < 2 or key in done or key not in post:
                    continue
                meet = post[key]
                if meet != sink and nodes[meet].kind == "parallel" \
                        and g.in_degree(meet) == len(outs):
                    continue  # closed properly
                stops = {meet}
                regions = _regions(g, nodes, outs, stops, sink)
                if meet == sink:
                    # A branch that reaches a parallel join of an outer split (one node
                    # entered from outside): the branches join just before it.
                    inside = set().union(*(r for _, r in regions)) | {key}
                    entries = {n for n in inside - {key}
                               if any(p not in inside for p in g.predecessors(n))}
                    if len(entries) == 1 and nodes[next(iter(entries))].kind == "parallel":
                        meet = next(iter(entries))
                        stops = {meet, sink}
                        regions = _regions(g, nodes, outs, stops, sink)
                shared = any(a[1] & b[1] for i, a in enumerate(regions) for b in regions[i + 1:])
                if shared or any(key in region for _, region in regions):
                    done.add(key)
                    continue
                candidates.append((sum(len(reg) for _, reg in regions), key, meet, stops,
                                   regions))
            if not candidates:
                return
            _, key, meet, stops, regions = min(candidates, key=lambda c: c[0])
            done.add(key)
            split = nodes[key]
            ending: list[list[_Edge]] = []
            for e, region in regions:
                into = [f for f in edges if (f.src in region or f is e)
                        and (sink if nodes[f.dst].kind == "end" else f.dst) in stops]
                if not into:
                    break
                ending.append(into)
            else:
                join = _Node(key + "#open", "parallel", "", split.tag, split.bpmn_id, split.pos,
                             origin=f"the branches of {_node_label(split)} end separately")
                if meet == sink:
                    what = "end separately"
                elif sink in stops:
                    what = (f"end separately or at {_node_label(nodes[meet])}, which other "
                            "branches also join")
                elif nodes[meet].kind == "parallel":
                    what = f"meet at {_node_label(nodes[meet])}, which other branches also join"
                else:
                    what = f"meet at {_node_label(nodes[meet])}, not at a parallel join"
                join.note = (f"the branches of the parallel split {what}: joined here (BPMN "
                             "ends the case, or passes each branch on, when every branch has "
                             "arrived)")
                nodes[join.key] = join
                for i, into in enumerate(ending):
                    target = join.key
                    if len(into) > 1:
                        merge = _Node(f"{key}#open{i}", "exclusive", "", split.tag,
                                      split.bpmn_id, split.pos,
                                      origin="the alternative ends of one parallel branch")
                        nodes[merge.key] = merge
                        edges.append(_Edge("", merge.key, join.key))
                        target = merge.key
                    for f in into:
                        f.dst = target
                if meet == sink:
                    end = _Node(key + "#end", "end", "", split.tag, split.bpmn_id, split.pos,
                                name="end")
                    nodes[end.key] = end
                    edges.append(_Edge("", join.key, end.key))
                else:
                    edges.append(_Edge("", join.key, meet))
                self.r.warn(split, f"the branches of this parallel split {what}: procsim joins "
                            "them with a parallel join before going on")

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
        if not any(n.kind in ("activity", "delay") for n in self.r.nodes.values()):
            raise ModelError([Issue(_element_label(self.process), "expected at least one task, "
                                    "sub-process or intermediate catch event to simulate, got "
                                    "none", self.file, *self.r.pos(self.process))], self.file)
        self._order_from_start()
        nodes = self.r.nodes
        # Names, in document order.
        counters: dict[str, int] = {}
        for node in nodes.values():
            if node.kind in ("start", "end"):
                node.name = node.kind
                continue
            if node.kind in ("activity", "delay") and self.own is not None and node.bpmn_id \
                    and "#" not in node.key and self.namer.exact(node.bpmn_id, "nodes"):
                node.name = node.bpmn_id
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
                self.r.warnings.append(ImportNote(message, params.file, line, col, path))
        self._resolve_inclusive(mapping)
        self._join_open_branches()
        for node in nodes.values():
            if node.kind in ("exclusive", "parallel", "inclusive", "pass"):
                own_name = self.own is not None and node.bpmn_id and "#" not in node.key \
                    and not node.added and self.namer.exact(node.bpmn_id, "nodes")
                node.name = node.bpmn_id if own_name and node.bpmn_id else \
                    self._gateway_name(node, counters)
        ids = {n.bpmn_id: n.name for n in nodes.values()
               if n.bpmn_id and "#" not in n.key and n.kind not in ("start", "end")}
        data = self._assemble(mapping, params_file)
        if "arrivals.interarrival" in self.placeholders:
            self._stable_placeholder_arrivals(data)
        text = self._emit(data, mapping, params_file)
        self._validate(text)
        return ImportResult(text, data, tuple(self.r.warnings), tuple(self.placeholders), ids,
                            self.process.get("id", ""))

    def _owner_name(self, node: _Node, suffix: str) -> str:
        """The name of the node a generated gateway belongs to."""
        owner = self.r.nodes.get(node.key.removesuffix(suffix))
        if owner is not None and owner.name:
            return owner.name
        label = node.label.rsplit(" / ", 1)[-1] if node.label else ""
        return snake_case(label) or snake_case(node.bpmn_id or "") or "activity"

    def _gateway_name(self, node: _Node, counters: dict[str, int]) -> str:
        many_out = len(self.outs(node.key)) > 1
        if node.key.endswith("#boundary"):
            return self.namer(f"{self._owner_name(node, '#boundary')}_outcome", "nodes")
        if "#open" in node.key:
            role = "join" if node.kind == "parallel" else "merge"
            return self.namer(f"{role}_open_branches", "nodes")
        if node.key == "#start_choice":
            return self.namer("start_event_choice", "nodes")
        if node.key.endswith("#starts"):
            return self.namer(f"{self._owner_name(node, '#starts')}_start_choice", "nodes")
        if node.key.endswith("#split"):
            return self.namer(f"split_after_{self._owner_name(node, '#split')}", "nodes")
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

    def _closed_by_parallel_join(self, key: str) -> bool:
        """Do two branches of ``key`` meet at a parallel gateway that joins (and so waits for
        both)?"""
        import networkx as nx

        nodes = self.r.nodes
        g = nx.DiGraph()
        g.add_nodes_from(nodes)
        g.add_edges_from((e.src, e.dst) for e in self.r.edges)
        joins = {k for k, n in nodes.items() if n.kind == "parallel" and g.in_degree(k) > 1}
        reached = [(nx.descendants(g, e.dst) | {e.dst}) & joins for e in self.outs(key)]
        return any(a & b for i, a in enumerate(reached) for b in reached[i + 1:])

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
            elif not probs and self._closed_by_parallel_join(node.key):
                node.kind = "parallel"
                parallel_splits.add(node.key)
                self.r.warn(node, "inclusive split whose branches meet at a parallel join "
                            "(which waits for all of them): a parallel split, every case taking "
                            "every branch")
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

    def _assemble_own(self, own: dict[str, Any]) -> dict[str, Any]:
        """procsim's own export: its sections, the activities and gateways as it kept them,
        the flow read from the diagram (the gateways the export added folded back)."""
        nodes = self.r.nodes
        data = dict(own)
        activities: dict[str, Any] = {}
        gateways: dict[str, Any] = {}
        for node in nodes.values():
            if node.kind in ("activity", "delay"):
                if isinstance(node.spec, dict):
                    activities[node.name] = node.spec
                    continue
                spec: dict[str, Any] = {"description": f"BPMN {node.tag} {node.bpmn_id}. "
                                        "PLACEHOLDER: duration",
                                        "duration": {"dist": "fixed", "value": 1}}
                if node.timer is not None:
                    spec["duration"] = {"dist": "fixed", "value": _duration(node.timer)}
                self._placeholder(("activities", node.name, "duration"),
                                  "an element added to procsim's export")
                activities[node.name] = spec
            elif node.kind in ("exclusive", "parallel") and not node.added:
                gateways[node.name] = node.spec if isinstance(node.spec, dict) else \
                    {"type": node.kind}
        flow: dict[str, Any] = {}
        for node in nodes.values():
            if node.kind == "end" or node.added:
                continue
            outs = self.outs(node.key)
            if len(outs) == 1 and self.r.nodes[outs[0].dst].added:
                gateway = self.r.nodes[outs[0].dst]
                flow[node.name] = self._own_entry(gateway, self.outs(gateway.key))
            else:
                flow[node.name] = self._own_entry(node, outs)
        data["activities"] = activities
        if gateways:
            data["gateways"] = gateways
        data["flow"] = flow
        return data

    def _own_entry(self, node: _Node, outs: list[_Edge]) -> Any:
        nodes = self.r.nodes
        targets = [nodes[e.dst].name for e in outs]
        kept = [(branch, nodes[e.dst].name) for e in outs if isinstance(e.branch, list)
                for branch in e.branch if isinstance(branch, dict)]
        if kept and all("probability" in b for b, _ in kept):
            return {t: b["probability"] for b, t in kept}
        if kept:
            ordered = sorted(kept, key=lambda bt: bt[0].get("index", 0))
            return [{"to": t, "when": b["when"]} if b.get("when") is not None else {"to": t}
                    for b, t in ordered]
        if len(outs) == 1:
            return targets[0]
        if node.kind == "parallel":
            return targets
        return self._choice(node, outs, None)

    def _assemble(self, mapping: Any, params_file: Any) -> dict[str, Any]:
        if self.own is not None and mapping is None:
            return self._assemble_own(self.own)
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
            # A pool per lane, else per performer, else one shared pool: never silently none.
            for node in nodes.values():
                if node.kind != "activity":
                    continue
                if node.lane:
                    key, what = f"lane {node.lane}", f"BPMN lane {node.lane}"
                    text = node.lane
                elif node.performer:
                    key, what = f"performer {node.performer}", f"BPMN performer {node.performer}"
                    text = node.performer
                else:
                    key, what, text = "", "A pool shared by the tasks without lane or performer",\
                        "staff"
                if key not in lane_pools:
                    pool = self.namer(text, "resources", fallback="pool")
                    lane_pools[key] = pool
                    resources[pool] = {"capacity": 1,
                                       "description": f"{what}. PLACEHOLDER: capacity"}
                    self._placeholder(("resources", pool, "capacity"),
                                      "capacity of the lane" if node.lane else
                                      "capacity of the performer" if node.performer else
                                      "capacity of a pool the BPMN file does not give")
                node.lane = key
            if "" in lane_pools:
                self.r.warnings.append(ImportNote(
                    f"tasks without lane or performer share one placeholder pool "
                    f"{lane_pools['']!r} (capacity 1): set its capacity, or assign the tasks to "
                    "pools", self.file, *self.r.pos(self.process), "resources"))
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
            if node.note:
                desc += f". {node.note}"
                self.comments.setdefault(path, node.note)
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
                if node.note:
                    desc = (f"{desc}. {node.note}" if not node.origin else
                            f"Added by the import (BPMN {node.bpmn_id}): {node.note}")
                    self.comments[("gateways", node.name)] = node.note
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
        if node.key.endswith("#boundary"):
            leaving = [e for e in outs if e.alternative]
            each = round(min(0.1, 0.5 / len(leaving)), 4)
            rest = round(1 - each * len(leaving), 4)
            normal = sum(1 for e in outs if not e.alternative)
            probs = [each if e.alternative else rest / max(normal, 1) for e in outs]
            self._placeholder(path, "probability of leaving by the boundary event(s)")
        elif "#" in node.key or all(p is None for p in probs):
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
        self.r.warnings.append(ImportNote(
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
            if len(path) == 2 and path[0] == "resources" and (*path, "capacity") in \
                    self.comments:
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
                pos = node.pos if node else self.r.pos(self.process)
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
