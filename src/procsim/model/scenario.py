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
import re
from dataclasses import dataclass
from typing import Any, Literal

from procsim.errors import Issue, ModelError, close_match_hint, quote
from procsim.errors import dotted as dotted_path
from procsim.model.load import load_model, model_from_data, not_a_model, read_text
from procsim.model.schema import Model
from procsim.model.yamlpos import Positions, read_yaml

__all__ = ["Change", "apply_changes", "flow_yaml", "load_scenario", "with_okrs"]

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
        before = "(new)" if self.kind == "add" else flow_yaml(self.before, width)
        after = "(removed)" if self.kind == "remove" else flow_yaml(self.after, width)
        return f"{self.path}: {before} {arrow} {after}"


def flow_yaml(value: Any, width: int | None = None) -> str:
    """``value`` as one line of YAML flow style, cut to ``width`` characters (with ``…``).

    How a change's values are shown, here and in the reports.

    >>> flow_yaml({"capacity": 3, "calendar": "office"})
    '{capacity: 3, calendar: office}'
    >>> flow_yaml(list(range(40)), 20)
    '[0, 1, 2, 3, 4, 5, …'
    """
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
    # A file with changes but no base is a scenario that lost its base, not a model.
    if not (isinstance(data, dict) and ("base" in data or "changes" in data)):
        return load_model(file).with_source(source_data=data)

    def error(message: str, *where: Any, key: bool = False) -> Issue:
        line, col = positions.of(where, key=key) or (None, None)
        return Issue(dotted_path(where), message, file, line, col)

    for key in data:
        if key not in _ENVELOPE:
            hint = close_match_hint(str(key), list(_ENVELOPE))
            issues.append(error(
                f"unknown field {quote(key)}{hint} in a scenario (it holds "
                f"{', '.join(_ENVELOPE)}" + ("" if hint else
                                             f"; write model fields as changes, e.g. "
                                             f"'{key}.…: value'") + ")", key, key=True))
    version = data.get("procsim")
    if version != 1 or isinstance(version, bool):
        issues.append(error(f"expected 1, got {_brief(version)}", "procsim"))
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        issues.append(error("expected a non-empty text as the scenario's name", "name"))
    base_ref = data.get("base")
    changes = data.get("changes")
    if not isinstance(base_ref, str) or not base_ref.strip() or _CONTROL.search(base_ref):
        issues.append(error(f"expected the path of the base model, got {_brief(base_ref)}"
                            + (" (a path holds no control characters)"
                               if isinstance(base_ref, str) and _CONTROL.search(base_ref)
                               else ""), "base"))
    if not isinstance(changes, dict) or not changes:
        issues.append(error("expected a mapping of dotted paths to new values, e.g. "
                            "'resources.agents.capacity: 8'", "changes"))
    if issues:
        raise ModelError(issues, file)
    assert isinstance(base_ref, str) and isinstance(changes, dict)

    base_file = os.path.normpath(os.path.join(os.path.dirname(file), base_ref))
    if os.path.isdir(base_file):
        raise ModelError([error(f"expected a model file as base, got a directory: {base_file}",
                                "base")], file)
    if not os.path.isfile(base_file):
        raise ModelError([error(f"no such base model: {base_file}", "base")], file)
    if os.path.abspath(base_file) == os.path.abspath(file):
        raise ModelError([error("a scenario cannot be its own base", "base")], file)
    base_data, base_positions, base_issues = _read_base(
        base_file, lambda message: error(message, "base"), file)
    if "base" in base_data:
        raise ModelError([error(f"{base_ref} is itself a scenario; a scenario's base must be a "
                                f"full model (here: its base, {_brief(base_data['base'])})",
                                "base")], file)
    # The base must be valid on its own; its errors name its own file.
    model_from_data(base_data, base_positions, file=base_file, issues=base_issues)

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
    return model_from_data(merged, merged_positions, file=file).with_source(
        changes=tuple(applied), base_file=base_file, source_data=merged)


# C0 and C1 controls (NUL, line breaks, escape sequences): never part of a file's path.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _brief(value: Any) -> str:
    """``value`` for a message, short: texts quoted (and cut), collections by their kind."""
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = "nothing" if value is None else str(value).lower() if isinstance(value, bool) \
        else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _read_base(base_file: str, error: Any, file: str
               ) -> tuple[dict[str, Any], Positions, list[Issue]]:
    """The YAML data of a scenario's base, if it is a procsim model; else a ModelError placed
    at the scenario's ``base:`` that says so without quoting the file.

    A base may be any path, outside the scenario's folder too; an error about a file that is
    not a model must not show what it holds (``base: /etc/passwd``).
    """
    try:
        base_text = read_text(base_file)
    except ModelError as exc:
        if not exc.issues[0].message.startswith("not a procsim model"):  # e.g. too large
            raise
        raise ModelError([error(f"{base_file} is {exc.issues[0].message}")], file) from None
    looks_like_a_model = re.search(r"^procsim\s*:", base_text, re.MULTILINE) is not None
    try:
        base_data, positions, issues = read_yaml(base_text, base_file)
    except ModelError:
        if looks_like_a_model:
            raise  # a model with a mistake: its own errors, with its own lines, help
        raise ModelError([error(f"{base_file} is not a procsim model (not valid YAML, and no "
                                "'procsim: 1' in it)")], file) from None
    if base_data is None:
        raise ModelError([error(f"{base_file} is not a procsim model (it is empty)")], file)
    if not isinstance(base_data, dict):
        raise ModelError([error(f"{base_file} is {not_a_model(base_data)}")], file)
    if "procsim" not in base_data:
        raise ModelError([error(f"{base_file} is not a procsim model (it has no 'procsim: 1'; "
                                "a model starts with it)")], file)
    return base_data, positions, issues


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
    return model_from_data(merged).with_source(
        file=model.file, changes=(*model.changes, *applied),
        base_file=model.base_file or model.file)


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
        raise _PathError(f"{quote(parts[0])} cannot be changed here; give the scenario its own "
                         "name and description")
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        node = _step(node, part, parts[:depth])
    last = parts[-1]
    prefix = ".".join(str(p) for p in parts[:-1])
    in_collection = len(parts) == 2 and parts[0] in COLLECTIONS
    if isinstance(node, list):
        if not isinstance(last, int) or not 0 <= last < len(node):
            raise _PathError(_no_item(last, node, prefix))
        before, node[last] = node[last], value
        return Change(dotted, "set", before, value)
    if not isinstance(node, dict):
        raise _PathError(f"{prefix} is a single value, not a mapping; change {quote(prefix)} "
                         "itself")
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
        f"no field {quote(last)} in {where}{close_match_hint(str(last), [str(k) for k in node])}; "
        "a change must address a field that exists in the base (new entries can only be "
        f"added directly under {', '.join(COLLECTIONS)})"
    )


def _step(node: Any, part: str | int, before: list[str | int]) -> Any:
    where = ".".join(str(p) for p in before) or "the base model"
    if isinstance(node, dict):
        if part in node:
            return node[part]
        raise _PathError(f"no field {quote(part)} in {where}"
                         f"{close_match_hint(str(part), [str(k) for k in node])}")
    if isinstance(node, list):
        if isinstance(part, int) and 0 <= part < len(node):
            return node[part]
        raise _PathError(_no_item(part, node, where))
    raise _PathError(f"no field {quote(part)} in {where} (it is a single value, not a mapping)")


def _no_item(part: str | int, items: list[Any], where: str) -> str:
    """Why ``part`` does not address an item of the list ``items`` at ``where``."""
    n = len(items)
    numbers = ("it is empty" if n == 0 else "it has 1 item, numbered 0" if n == 1
               else f"it has {n} items, numbered 0 to {n - 1}")
    if isinstance(part, int):
        return f"no item {part} in {where}: {numbers}"
    if re.fullmatch(r"\s*-\s*\d+\s*", part):
        return (f"expected an item number >= 0 in {where}, got {part.strip()} ({numbers}; "
                "negative numbers do not count from the end)")
    return f"{where} is a list: expected an item number, got {quote(part)} ({numbers})"


def with_okrs(model: Model, path: str | os.PathLike[str]) -> Model:
    """``model`` with the ``kpis`` and ``okrs`` of a separate OKR file added.

    The file holds only ``kpis:`` (added to the model's, replacing any of the same name) and
    ``okrs:`` (replacing the model's); errors name the OKR file, its lines and fields.
    """
    file = os.fspath(path)
    text = read_text(file)
    data, positions, issues = read_yaml(text, file)
    if not isinstance(data, dict) or not data:
        expected = "a mapping with 'kpis' and/or 'okrs'"
        message = (f"expected {expected}, got an empty mapping" if data == {}
                   else not_a_model(data, expected, "OKR file"))
        raise ModelError([Issue("", message, file, 1, 1)], file)
    for key in data:
        if key not in ("kpis", "okrs"):
            line, col = positions.of((key,), key=True) or (None, None)
            hint = close_match_hint(str(key), ["kpis", "okrs"])
            issues.append(Issue(str(key), f"unknown field {quote(key)}{hint} in an OKR file (it "
                                "holds kpis and okrs)", file, line, col))
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
    return model_from_data(merged, merged_positions, file=file).with_source(
        file=model.file, changes=model.changes, base_file=model.base_file, okrs_file=file)
