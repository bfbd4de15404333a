"""Scenarios: a baseline model plus a few changes, addressed by dotted paths.

A scenario file is either a full model, or::

    procsim: 1
    name: Two more L1 agents and a self-service FAQ
    base: ../models/service_desk.yaml        # relative to this file
    changes:
      resources.agents.capacity: 8
      flow.triage: {resolve_l1: 0.65, resolve_l2: 0.20, self_service: 0.15}
      activities.self_service: {duration: {dist: exponential, mean: 4}}

Every changed path must exist in the base, so that a typo cannot silently leave the
baseline unchanged; the one exception is a new entry directly under a named collection
(``activities``, ``resources``, ``gateways``, ``attributes``, ``kpis``, ``flow``), which is
how a scenario adds an activity. ``null`` removes such an entry.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any, Literal

from procsim.errors import Issue, ModelError, close_match_hint
from procsim.model.load import load_model, model_from_data, read_text
from procsim.model.schema import Model
from procsim.model.yamlpos import Positions, _dotted, read_yaml

__all__ = ["Change", "apply_changes", "load_scenario", "with_okrs"]

#: Sections whose entries are named by the user; a scenario may add or remove entries there.
COLLECTIONS = ("activities", "resources", "gateways", "attributes", "kpis", "flow")
_ENVELOPE = ("procsim", "name", "description", "base", "changes")


@dataclass(frozen=True)
class Change:
    """One change a scenario makes to its base model.

    ``before`` is ``None`` for an added entry, ``after`` is ``None`` for a removed one.
    """

    path: str
    kind: Literal["set", "add", "remove"]
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "before": self.before, "after": self.after}

    def describe(self, *, arrow: str = "->", width: int | None = None) -> str:
        """``path: before -> after`` with values in YAML flow style, each cut to ``width``."""
        before = "(new)" if self.kind == "add" else _flow_yaml(self.before, width)
        after = "(removed)" if self.kind == "remove" else _flow_yaml(self.after, width)
        return f"{self.path}: {before} {arrow} {after}"


def _flow_yaml(value: Any, width: int | None) -> str:
    import yaml

    text = str(yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10**6))
    text = text.strip().removesuffix("...").strip()
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def load_scenario(path: str | os.PathLike[str]) -> Model:
    """Load a scenario file (a base model plus changes) or a plain model file.

    The returned model carries ``model.changes`` (a tuple of :class:`Change`, empty for a
    plain model), ``model.base_file`` and ``model.source_data`` (the merged YAML data).

    Raises
    ------
    procsim.errors.ModelError
        For a malformed scenario, a change to a path that does not exist in the base (with a
        close-match hint), or a merged model that is invalid.
    """
    file = os.fspath(path)
    text = read_text(file)
    data, positions, issues = read_yaml(text, file)
    if not (isinstance(data, dict) and "base" in data):
        model = load_model(file)
        model._source_data = data
        return model

    def error(message: str, *where: Any, key: bool = False) -> Issue:
        line, col = positions.of(where, key=key) or (None, None)
        return Issue(_dotted(where), message, file, line, col)

    for key in data:
        if key not in _ENVELOPE:
            issues.append(error(
                f"unknown field '{key}' in a scenario (it holds {', '.join(_ENVELOPE)}; "
                f"write model fields as changes, e.g. '{key}.…: value')", key, key=True))
    if data.get("procsim") != 1:
        issues.append(error(f"expected 1, got {data.get('procsim')!r}", "procsim"))
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        issues.append(error("expected a non-empty text as the scenario's name", "name"))
    base_ref = data.get("base")
    changes = data.get("changes")
    if not isinstance(base_ref, str):
        issues.append(error(f"expected the path of the base model, got {base_ref!r}", "base"))
    if not isinstance(changes, dict) or not changes:
        issues.append(error("expected a mapping of dotted paths to new values, e.g. "
                            "'resources.agents.capacity: 8'", "changes"))
    if issues:
        raise ModelError(issues, file)
    assert isinstance(base_ref, str) and isinstance(changes, dict)

    base_file = os.path.normpath(os.path.join(os.path.dirname(file), base_ref))
    if not os.path.isfile(base_file):
        raise ModelError([error(f"no such base model: {base_file}", "base")], file)
    if os.path.abspath(base_file) == os.path.abspath(file):
        raise ModelError([error("a scenario cannot be its own base", "base")], file)
    base_text = read_text(base_file)
    base_data, _, _ = read_yaml(base_text, base_file)
    if isinstance(base_data, dict) and "base" in base_data:
        raise ModelError([error(f"{base_ref} is itself a scenario; a scenario's base must be a "
                                f"full model (here: its base, {base_data['base']})", "base")], file)
    load_model(base_file)  # the base must be valid on its own; its errors name its own file

    merged = copy.deepcopy(base_data)
    merged_positions = Positions()
    merged_positions.values[()] = positions.of(("changes",)) or (1, 1)
    applied: list[Change] = []
    for dotted, value in changes.items():
        try:
            applied.append(_apply(merged, str(dotted), copy.deepcopy(value)))
        except _PathError as exc:
            issues.append(error(str(exc), "changes", dotted, key=True))
            continue
        # Positions of the new value, so errors in it point into the scenario file.
        target = tuple(_parts(str(dotted)))
        for where, pos in positions.values.items():
            if where[:2] == ("changes", dotted):
                merged_positions.values[target + where[2:]] = pos
    if issues:
        raise ModelError(issues, file)

    # The scenario is its own process variant: its name and description, not the base's.
    merged["name"] = data["name"]
    merged.pop("description", None)
    if "description" in data:
        merged["description"] = data["description"]
    model = model_from_data(merged, merged_positions, file=file)
    model._changes = tuple(applied)
    model._base_file = base_file
    model._source_data = merged
    return model


def apply_changes(model: Model, changes: dict[str, Any], *, name: str | None = None) -> Model:
    """A scenario built in Python: ``model`` with ``changes`` (dotted path → new value).

    The rules are those of a scenario file; the result carries ``model.changes``, so that
    :func:`procsim.compare` and the reports show what changed.

    Examples
    --------
    >>> from procsim import load_model
    >>> base = load_model("models/service_desk.yaml")
    >>> more = apply_changes(base, {"resources.agents.capacity": 6}, name="Six agents")
    >>> more.resources["agents"].capacity, more.changes[0].describe()
    (6, 'resources.agents.capacity: 5 -> 6')

    Raises
    ------
    procsim.errors.ModelError
        For a path that does not exist in the model (with a close-match hint) or an invalid result.
    """
    merged = copy.deepcopy(model.source_data)
    applied: list[Change] = []
    issues: list[Issue] = []
    for dotted, value in changes.items():
        try:
            applied.append(_apply(merged, str(dotted), copy.deepcopy(value)))
        except _PathError as exc:
            issues.append(Issue(str(dotted), str(exc)))
    if issues:
        raise ModelError(issues)
    if name is not None:
        merged["name"] = name
    result = model_from_data(merged)
    result._file = model.file
    result._changes = (*model.changes, *applied)
    result._base_file = model.base_file or model.file
    return result


class _PathError(ValueError):
    pass


def _parts(dotted: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in dotted.split(".")]


def _apply(data: dict[str, Any], dotted: str, value: Any) -> Change:
    parts = _parts(dotted)
    if not dotted or any(p == "" for p in parts):
        raise _PathError(f"expected a dotted path such as 'resources.agents.capacity', "
                         f"got {dotted!r}")
    if parts[0] in ("procsim", "name", "description"):
        raise _PathError(f"'{parts[0]}' cannot be changed here; give the scenario its own "
                         "name and description")
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        node = _step(node, part, parts[:depth])
    last = parts[-1]
    prefix = ".".join(str(p) for p in parts[:-1])
    in_collection = len(parts) == 2 and parts[0] in COLLECTIONS
    if isinstance(node, list):
        if not isinstance(last, int) or not 0 <= last < len(node):
            raise _PathError(f"no item {last!r} in {prefix} (it has {len(node)} items)")
        before, node[last] = node[last], value
        return Change(dotted, "set", before, value)
    if not isinstance(node, dict):
        raise _PathError(f"{prefix} is a single value, not a mapping; change '{prefix}' itself")
    if last in node:
        before = node[last]
        if value is None and in_collection:
            del node[last]
            return Change(dotted, "remove", before, None)
        node[last] = value
        return Change(dotted, "set", before, value)
    if in_collection and value is not None:
        node[last] = value
        return Change(dotted, "add", None, value)
    where = prefix or "the base model"
    raise _PathError(
        f"no field '{last}' in {where}{close_match_hint(str(last), [str(k) for k in node])}; "
        "a change must address a field that exists in the base (new entries can only be "
        f"added directly under {', '.join(COLLECTIONS)})"
    )


def _step(node: Any, part: str | int, before: list[str | int]) -> Any:
    where = ".".join(str(p) for p in before) or "the base model"
    if isinstance(node, dict):
        if part in node:
            return node[part]
        raise _PathError(f"no field '{part}' in {where}"
                         f"{close_match_hint(str(part), [str(k) for k in node])}")
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    raise _PathError(f"no field '{part}' in {where} (it is not a mapping)")


def with_okrs(model: Model, path: str | os.PathLike[str]) -> Model:
    """``model`` with the ``kpis`` and ``okrs`` of a separate OKR file added.

    The file holds only ``kpis:`` (added to the model's, replacing any of the same name) and
    ``okrs:`` (replacing the model's); errors name the OKR file, its lines and fields.
    """
    file = os.fspath(path)
    text = read_text(file)
    data, positions, issues = read_yaml(text, file)
    if not isinstance(data, dict) or not data:
        raise ModelError([Issue("", "expected a mapping with 'kpis' and/or 'okrs'", file, 1, 1)],
                         file)
    for key in data:
        if key not in ("kpis", "okrs"):
            line, col = positions.of((key,), key=True) or (None, None)
            hint = close_match_hint(str(key), ["kpis", "okrs"])
            issues.append(Issue(str(key), f"unknown field '{key}'{hint} in an OKR file (it holds "
                                "kpis and okrs)", file, line, col))
    if issues:
        raise ModelError(issues, file)
    merged = copy.deepcopy(model.source_data)
    if isinstance(data.get("kpis"), dict):
        merged["kpis"] = {**(merged.get("kpis") or {}), **data["kpis"]}
    elif "kpis" in data:
        merged["kpis"] = data["kpis"]  # the schema reports what is wrong with it
    if "okrs" in data:
        merged["okrs"] = data["okrs"]
    merged_positions = Positions()
    merged_positions.values.update(positions.values)
    merged_positions.keys.update(positions.keys)
    merged_positions.values.setdefault((), (1, 1))
    result = model_from_data(merged, merged_positions, file=file)
    result._file = model.file
    result._changes = model.changes
    result._base_file = model.base_file
    result._okrs_file = file
    return result
