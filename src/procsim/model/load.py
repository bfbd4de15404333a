"""Load a model file: YAML with positions → schema validation → semantic checks.

Every problem is collected and raised at once as one :class:`~procsim.errors.ModelError`.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from procsim.errors import Issue, ModelError, close_match_hint, dotted, quote
from procsim.model.check import INTEGER_BOUNDS, check_model, check_references
from procsim.model.schema import Model
from procsim.model.yamlpos import Positions, read_yaml

__all__ = ["MAX_FILE_BYTES", "load_model", "not_a_model", "parse_model", "read_text"]

#: Largest model, scenario or OKR file read, in bytes (10 MB). The largest real models are a
#: few hundred kilobytes; reading and checking a file near this size takes seconds, and a
#: larger one is refused before it is read, so that a stray log or data file cannot hang
#: procsim or exhaust its memory.
MAX_FILE_BYTES = 10_000_000


def load_model(path: str | os.PathLike[str]) -> Model:
    """Read, validate and check a model file.

    Parameters
    ----------
    path : str or path-like
        A procsim YAML model.

    Returns
    -------
    Model
        The validated model; ``model.file`` is ``path``.

    Raises
    ------
    procsim.errors.ModelError
        With every problem found, each with file, line, column and dotted path.
    """
    file = os.fspath(path)
    text = read_text(file)
    return parse_model(text, file=file)


def read_text(file: str) -> str:
    """The text of a model, scenario or OKR file, or a ModelError saying why it cannot be read.

    Files above :data:`MAX_FILE_BYTES` are refused before they are read; a binary file is
    refused without quoting any of it.
    """
    def refuse(message: str, line: int | None = None, col: int | None = None) -> ModelError:
        return ModelError([Issue("", message, file, line, col)], file)

    try:
        with open(file, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise refuse(_too_large(size))
            # Devices and pipes report no size: never read more than the limit from them.
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise refuse("no such file") from None
    except IsADirectoryError:
        raise refuse("expected a model file, got a directory") from None
    except (OSError, ValueError) as exc:  # ValueError: a path holding a NUL character
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise refuse(f"cannot read the file: {reason}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise refuse(_too_large(None))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise refuse("expected UTF-8 text, got UTF-16; save the file as UTF-8", 1, 1)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if b"\x00" in raw[:8192]:  # how git and grep tell binary files from text
            raise refuse("not a procsim model (a binary file, not YAML text)", 1, 1) from None
        before = raw[: exc.start]
        line, col = before.count(b"\n") + 1, exc.start - (before.rfind(b"\n") + 1) + 1
        message = (f"expected UTF-8 text, got the byte 0x{raw[exc.start]:02x}; save the file "
                   "as UTF-8")
        raise refuse(message, line, col) from None


def _too_large(size: int | None) -> str:
    limit = f"{MAX_FILE_BYTES / 1e6:g} MB"
    got = f"file is {size / 1e6:.1f} MB" if size is not None else f"file holds more than {limit}"
    return f"{got}; procsim reads model, scenario and OKR files up to {limit}"


def parse_model(text: str, *, file: str | None = None) -> Model:
    """Validate and check a model given as YAML text (see :func:`load_model`)."""
    data, positions, issues = read_yaml(text, file)
    return model_from_data(data, positions, file=file, issues=issues)


def model_from_data(
    data: Any,
    positions: Positions | None = None,
    *,
    file: str | None = None,
    issues: list[Issue] | None = None,
) -> Model:
    """Validate plain data (as read from YAML) into a checked :class:`Model`."""
    positions = positions or Positions()
    issues = list(issues or [])
    if not isinstance(data, dict):
        line, col = positions.of(()) or (1, 1)
        issues.append(Issue("", not_a_model(data), file, line, col))
        raise ModelError(issues, file)

    time_unit = data.get("time_unit", "minutes")
    if time_unit not in ("seconds", "minutes", "hours", "days"):
        time_unit = "minutes"  # the schema reports the bad unit itself
    schema_issues: list[Issue] = []
    model: Model | None = None
    try:
        model = Model.model_validate(data, context={"time_unit": time_unit})
    except ValidationError as exc:
        schema_issues = _issues_from_pydantic(exc.errors(), data, positions, file)
    # Pydantic's lax numbers take true/false as 1/0; in a model file that is always a mistake.
    reported = {i.path for i in schema_issues}
    schema_issues += [i for i in _boolean_issues(data, positions, file) if i.path not in reported]
    if schema_issues or model is None:
        # Report the names and flow problems too, so that the user sees everything at once;
        # a problem already reported by the schema at the same place is not repeated.
        reported_paths = {i.path for i in schema_issues}
        references = [
            i for i in check_references(data, positions, file)
            if not any(i.path == p or i.path.startswith(p + ".") for p in reported_paths)
        ]
        raise ModelError([*issues, *schema_issues, *references], file)

    model = model.with_source(file=file, positions=dict(positions.values), source_data=data)
    issues.extend(check_model(model))
    if issues:
        raise ModelError(issues, file)
    return model


def not_a_model(data: Any, expected: str = "a mapping of model fields",
                what: str = "model") -> str:
    """The message for a file whose YAML is not a mapping: what it is, never what it says
    (it may be any file at all, given by mistake or by a scenario's ``base``).

    >>> not_a_model("root:x:0:0:root:/root:/bin/bash")
    'not a procsim model (expected a mapping of model fields, got a text)'
    """
    if data is None:
        return f"expected {expected}, got an empty file"
    return f"not a procsim {what} (expected {expected}, got {_kind(data)})"


def _kind(data: Any) -> str:
    if isinstance(data, bool):
        return "true or false"
    if isinstance(data, int | float):
        return "a number"
    if isinstance(data, str):
        return "a text"
    if isinstance(data, list):
        return "a list"
    return "a date" if data.__class__.__name__ in ("date", "datetime") else "a value"


# --- pydantic errors → issues -------------------------------------------------------------------


def _field_names(cls: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in cls.model_fields.items()]


def _fields_at(loc: tuple[Any, ...], data: Any, path: tuple[Any, ...]) -> tuple[str, list[str]]:
    """What holds an unknown field at ``loc`` ("" or a distribution's name) and its fields."""
    from procsim import dists
    from procsim.model import schema

    parent = _get(data, path[:-1]) if path else None
    if isinstance(parent, dict) and isinstance(parent.get("dist"), str) \
            and parent["dist"] in dists.DISTRIBUTIONS:
        tag = str(parent["dist"])
        fields = [f for f in _field_names(dists.DISTRIBUTIONS[tag]) if f != "dist"]
        return tag, fields
    from procsim.calendars import CalendarInterval, CalendarSpec

    where = path[:-1]  # the mapping that holds the unknown field
    depth, section = len(where), (where[0] if where else None)
    classes: dict[tuple[Any, int], list[type[BaseModel]]] = {
        (None, 0): [schema.Model], ("run", 1): [schema.RunSettings],
        ("arrivals", 1): [schema.Arrivals], ("resources", 2): [schema.Resource],
        ("people", 2): [schema.Person], ("priority", 1): [schema.Priority],
        ("activities", 2): [schema.Activity], ("gateways", 2): [schema.Gateway],
        ("flow", 3): [schema.Branch], ("okrs", 2): [schema.Okr],
        ("okrs", 4): [schema.KeyResult], ("calendars", 2): [CalendarSpec],
        ("calendars", 3): [CalendarInterval], ("calendars", 4): [CalendarInterval],
        # Any kind of custom KPI: 'vists' is meant for 'visits' whichever kind it fell to.
        ("kpis", 2): [schema.ShareKpi, schema.VisitKpi, schema.StatKpi],
    }
    if section == "activities" and depth == 3 and where[2] == "batch":
        return "", _field_names(schema.Batch)
    names: list[str] = []
    for cls in classes.get((section, depth), [schema.Model]):
        names += [f for f in _field_names(cls) if f not in names]
    return "", names


def _data_path(loc: tuple[Any, ...], data: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Split a pydantic ``loc`` into the path that exists in ``data`` and what remains.

    Union tags and validator names in ``loc`` are not in the data and are skipped.
    """
    path: list[Any] = []
    node = data
    rest: list[Any] = []
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif i == len(loc) - 1:
            rest.append(part)
    return tuple(path), tuple(rest)


def _show(value: Any) -> str:
    """``value`` as the user wrote it ({a: 1}, [x, y], 'text'), cut to a readable length."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, dict | list):
        if len(value) > 20:  # too long to show anyway; dumping it all would only take time
            return (f"a mapping of {len(value):,} entries" if isinstance(value, dict)
                    else f"a list of {len(value):,} items")
        try:
            text = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False)
            text = text.strip().removesuffix("...").strip()
        except (yaml.YAMLError, RecursionError):  # other objects, or absurdly deep nesting
            text = "a mapping" if isinstance(value, dict) else "a list"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except (ValueError, OverflowError):
        return None


_NUMBER_TYPES = {"float_parsing", "float_type"}
_INT_TYPES = {"int_parsing", "int_type", "int_from_float"}
_BOUNDS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}


_TYPE_KINDS = {
    "string_type", "int_type", "int_parsing", "float_type", "float_parsing", "bool_type",
    "list_type", "dict_type", "model_type", "model_attributes_type", "literal_error",
    "int_from_float", "bool_parsing",
}
_CONDITION = "a value, a list of values, or a comparison such as '> 10000'"
_UNIT_ALIASES = {
    "m": "min", "mins": "min", "minute": "min", "minutes": "min", "hr": "h", "hrs": "h",
    "hour": "h", "hours": "h", "day": "d", "days": "d", "secs": "s", "second": "s",
    "seconds": "s", "week": "w", "weeks": "w", "wk": "w",
}
_DURATION_WITH_UNIT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]+)\s*$")


def _issues_from_pydantic(
    errors: list[Any], data: dict[str, Any], positions: Positions, file: str | None
) -> list[Issue]:
    """Turn pydantic's errors into issues, one per problem.

    An untagged union (the value of a ``when`` condition) gives one error per alternative:
    those are merged into one, or dropped when an error inside the value explains it.
    """
    issues: list[Issue] = []
    # {dsit: lognormal, mean: 800} as an attribute reads as a categorical attribute whose
    # values are not probabilities: one misspelt 'dist' says it better than each value.
    for name, spec in (data.get("attributes") or {}).items() \
            if isinstance(data.get("attributes"), dict) else ():
        misspelt = [k for k, v in spec.items() if isinstance(k, str) and k != "dist"
                    and close_match_hint(k, ["dist"]) and _is_distribution_name(v)] \
            if isinstance(spec, dict) and "dist" not in spec else []
        if misspelt:
            where = ("attributes", name, misspelt[0])
            line, col = positions.of(where, key=True) or (None, None)
            issues.append(Issue(dotted(where), f"unknown field {quote(misspelt[0])} (did you "
                                "mean 'dist'?)", file, line, col))
            errors = [e for e in errors if tuple(e["loc"][:2]) != ("attributes", name)]
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for err in errors:
        path, rest = _data_path(tuple(err["loc"]), data)
        key = path + rest if err["type"] == "missing" else path
        groups.setdefault(key, []).append(err)

    suggested: set[tuple[tuple[Any, ...], str]] = set()  # (mapping path, field) hinted at
    for key, errs in groups.items():
        alternatives = len(errs) > 1 and all(e["type"] in _TYPE_KINDS for e in errs)
        if alternatives:
            deeper = any(k[: len(key)] == key and len(k) > len(key) for k in groups)
            if deeper:
                continue  # the errors inside the value say what is wrong
            issues.append(_merged_issue(key, errs, data, positions, file))
            continue
        for err in errs:
            issue = _issue_from_pydantic(err, data, positions, file)
            hint = re.search(r"\(did you mean '([^']+)'\?\)", issue.message)
            if err["type"] == "extra_forbidden" and hint:
                suggested.add((key[:-1], hint.group(1)))
            issues.append(issue)
    # "unknown field 'capasity' (did you mean 'capacity'?)" already says 'capacity' is missing;
    # "unknown field 'vists' (did you mean 'visits'?)" says that the KPI is not a share KPI
    # missing its 'share'.
    kinds = {(where, f) for where, f in suggested if f in _KIND_FIELDS}
    return [
        i for i in issues
        if not (i.message.startswith("missing required field '")
                and (_missing_key(i) in suggested
                     or any(where == _missing_key(i)[0] for where, _ in kinds)))
    ]


#: Fields that tell one kind of custom KPI from another.
_KIND_FIELDS = {"visits", "of", "share"}


def _is_distribution_name(value: Any) -> bool:
    from procsim.dists import DISTRIBUTIONS

    return isinstance(value, str) and value in DISTRIBUTIONS


def _missing_key(issue: Issue) -> tuple[tuple[Any, ...], str]:
    name = issue.message.split("'")[1]
    # The path of a missing field ends with the field; the mapping is what precedes it.
    path = tuple(_undotted(issue.path))
    return (path[:-1] if path and path[-1] == name else path), name


def _undotted(dotted: str) -> list[Any]:
    parts: list[Any] = []
    for piece in re.findall(r"[^.\[\]]+|\[\d+\]", dotted):
        parts.append(int(piece[1:-1]) if piece.startswith("[") else piece)
    return parts


def _merged_issue(
    path: tuple[Any, ...], errs: list[Any], data: Any, positions: Positions, file: str | None
) -> Issue:
    value = errs[0].get("input")
    if len(path) >= 2 and path[-2] == "when":
        expected = _CONDITION
    elif len(path) >= 3 and path[-3] == "when":
        expected = "a value (a text or a number)"
    else:
        fragments: list[str] = []
        for err in errs:
            text = _issue_from_pydantic(err, data, positions, file).message
            fragment = text.removeprefix("expected ").rsplit(", got ", 1)[0]
            if fragment not in fragments:
                fragments.append(fragment)
        expected = " or ".join(fragments)
    line, col = positions.of(path) or (None, None)
    return Issue(dotted(path), f"expected {expected}, got {_show(value)}", file, line, col)


def _tag(part: Any) -> str:
    """A union tag in a pydantic location without its prefix: 'flow:parallel' -> 'parallel'."""
    return str(part).rpartition(":")[2]


def _is_distribution(loc: tuple[Any, ...]) -> bool:
    """Does ``loc`` name a field whose value is a distribution?"""
    if loc[:1] == ("arrivals",) and loc[-1:] == ("interarrival",):
        return True
    if loc[:1] == ("activities",) and len(loc) == 3 and loc[2] == "duration":
        return True
    return loc[:1] == ("attributes",) and _tag(loc[-1]) == "distribution"


def _issue_from_pydantic(
    err: Any, data: dict[str, Any], positions: Positions, file: str | None
) -> Issue:
    kind: str = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    value = err.get("input")
    loc = tuple(err["loc"])
    path, rest = _data_path(loc, data)
    at_key = False

    if kind == "missing":
        message = f"missing required field {quote(rest[0])}" if rest else "missing required value"
    elif kind == "extra_forbidden":
        unknown = path[-1] if path else "?"
        owner, fields = _fields_at(loc, data, path)
        hint = close_match_hint(str(unknown), fields)
        message = f"unknown field {quote(unknown)}" + hint
        if not hint:
            message += (f" ({owner} takes {', '.join(fields)})" if owner
                        else f"; expected one of {', '.join(fields)}")
        path, at_key = (*path[:-1], unknown), True
    elif kind == "union_tag_invalid":
        from procsim.dists import DISTRIBUTIONS

        tag = ctx.get("tag", value)
        message = (
            f"expected a distribution ({', '.join(DISTRIBUTIONS)}), got {quote(tag)}"
            + close_match_hint(str(tag), list(DISTRIBUTIONS))
        )
        if isinstance(_get(data, path), dict) and "dist" in _get(data, path):
            path = (*path, "dist")
    elif kind == "union_tag_not_found":
        tag_key = str(ctx.get("discriminator", "dist")).strip("'")
        mapping = _get(data, path)
        near = [k for k in mapping if isinstance(k, str) and close_match_hint(k, [tag_key])] \
            if isinstance(mapping, dict) else []
        message = f"missing required field {quote(tag_key)}"
        if near:  # {dsit: gamma, ...}: the tag is there, misspelt
            message = f"unknown field {quote(near[0])}{close_match_hint(near[0], [tag_key])}"
            path, at_key = (*path, near[0]), True
    elif kind in ("dict_type", "model_type", "model_attributes_type") and _is_distribution(loc):
        message = ("expected a distribution such as {dist: exponential, mean: 5}, "
                   f"got {_show(value)}")
        if isinstance(value, int | float) and not isinstance(value, bool):
            message += f"; for a constant write {{dist: fixed, value: {_show(value)}}}"
    elif kind == "dict_type" and loc[:1] == ("attributes",) and _tag(loc[-1]) == "categorical":
        message = ("expected a mapping of values to probabilities or a distribution "
                   f"(with 'dist'), got {_show(value)}")
    elif kind == "list_type" and loc[:1] == ("flow",) and _tag(loc[-1]) == "parallel":
        message = ("expected what follows: a node name, a mapping of node names to "
                   "probabilities, a list of branches, or a list of node names after a parallel "
                   f"gateway, got {_show(value)}")
    elif kind == "string_type" and loc[:1] == ("flow",) and _tag(loc[-2]) == "parallel":
        message = f"expected a node name, got {_show(value)}"
        if isinstance(value, dict):
            message = ("expected a node name, got a mapping; a list of branches with conditions "
                       "writes every item as {to: name, when: {...}}, the last one without "
                       "'when'")
    elif kind == "finite_number":
        message = f"expected a finite number, got {_show(value)}"
    elif kind in _NUMBER_TYPES:
        message = f"expected a number, got {_show(value)}"
    elif kind == "int_parsing_size" and not isinstance(value, float):
        digits = len(str(value)) if isinstance(value, int | str) else 0
        message = f"expected an integer of a reasonable size, got one of {digits} digits"
    elif kind in _INT_TYPES or kind == "int_parsing_size":
        number = _float_or_none(value)
        # '1e308' is a text to YAML but a number to the reader: show it as written.
        shown = value if isinstance(value, str) and number is not None else _show(value)
        message = f"expected an integer, got {shown}"
        bound = INTEGER_BOUNDS.get(str(loc[-1]))
        if number is not None and bound is not None and not number <= bound[0]:
            message = f"expected an integer <= {bound[0]:,}, got {shown}; {bound[1]}"
        elif isinstance(value, str) and number is not None and math.isfinite(number) \
                and number.is_integer() and abs(number) < 1e15:
            message += f"; write it in digits: {int(number)}"
    elif kind in _BOUNDS:
        key, op = _BOUNDS[kind]
        message = f"expected a number {op} {ctx.get(key)}, got {_show(value)}"
    elif kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        options = [o.strip(" '") for o in expected.replace(" or ", ",").split(",")]
        # A long list of options leaves less room for a long value (one readable line).
        shown = quote(value, limit=24) if isinstance(value, str) and len(options) > 8 else (
            _show(value))
        message = f"expected {expected}, got {shown}"
        if str(value) in options:  # procsim: '1'
            message += " (a number, not a text)"
        elif isinstance(value, str):
            message += close_match_hint(value, [o for o in options if o])
    elif kind == "string_pattern_mismatch" and "<=" in str(ctx.get("pattern", "")):
        from procsim.model.targets import comparison_error

        message = comparison_error(value, relative=loc[-1:] == ("change",))
    elif kind == "string_pattern_mismatch":
        message = (
            "expected a name of letters, digits, '_' or '-' starting with a letter, "
            f"got {_show(value)}"
        )
        if isinstance(value, str) and value != value.strip():
            message += " (remove the spaces or line breaks around it)"
    elif kind in ("dict_type", "model_type", "model_attributes_type"):
        message = f"expected a mapping, got {_show(value)}"
    elif kind == "list_type":
        message = f"expected a list, got {_show(value)}"
    elif kind in ("string_type",):
        message = f"expected a text, got {_show(value)}"
    elif kind == "bool_type":
        message = f"expected true or false, got {_show(value)}"
    elif kind == "string_too_short":
        message = f"expected a non-empty text, got {_show(value)}"
    elif kind == "too_short":
        message = (f"expected at least {ctx.get('min_length')} item(s), "
                   f"got {ctx.get('actual_length')}")
    elif kind == "value_error":
        message = str(err["msg"]).removeprefix("Value error, ")
        if not isinstance(value, str) and message.endswith(f"got {value!r}"):
            message = message.removesuffix(repr(value)) + _show(value)
        path, message = _refine_value_error(loc, path, value, message)
    else:
        message = f"{err['msg'][0].lower()}{err['msg'][1:]}, got {_show(value)}"

    line, col = positions.of(path, key=at_key) or (None, None)
    return Issue(dotted(path + rest if kind == "missing" and not rest else path), message,
                 file, line, col)


def _refine_value_error(
    loc: tuple[Any, ...], path: tuple[Any, ...], value: Any, message: str
) -> tuple[tuple[Any, ...], str]:
    """Sharpen the messages of the schema's own validators (path, message)."""
    from procsim.units import SUFFIX_SECONDS

    advice = ""
    unit = _DURATION_WITH_UNIT.match(value) if isinstance(value, str) else None
    if unit and (message.startswith("expected a number or a duration")
                 or loc[:2] == ("run", "warmup")):
        amount, suffix = unit.groups()
        units = ", ".join(SUFFIX_SECONDS)
        better = suffix.lower() if suffix.lower() in SUFFIX_SECONDS else _UNIT_ALIASES.get(
            suffix.lower())
        if better:
            advice = f"; write '{amount}{better}' (units: {units})"
        else:
            advice = f"; unknown unit {quote(suffix)} (units: {units})"
    if loc[:2] == ("run", "warmup"):
        message = ("expected a number of cases, a duration such as '2h', or 'auto', "
                   f"got {_show(value)}")
        if isinstance(value, str) and not advice:
            message += close_match_hint(value, ["auto"])
        return ("run", "warmup"), message + advice
    m = re.match(r"attribute '([^']+)': (.*)$", message)
    if path == ("attributes",) and m:
        return ("attributes", m.group(1)), m.group(2)
    return path, message + advice


_INTEGER_FIELDS = {"capacity", "cases", "replications", "seed", "max_activity_instances", "k"}


def _boolean_issues(data: Any, positions: Positions, file: str | None) -> list[Issue]:
    """true/false where a number is expected (conditions in ``when`` may test booleans)."""
    issues: list[Issue] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, bool):
            if path[:1] == ("resources",) and path[-1:] == ("preempt",):
                return  # a yes/no field
            if path == ("procsim",):
                expected = "1"
            elif path and path[-1] in _INTEGER_FIELDS:
                expected = "an integer"
            else:
                expected = "a number"
            line, col = positions.of(path) or (None, None)
            issues.append(Issue(dotted(path), f"expected {expected}, got {_show(node)}",
                                file, line, col))
        elif isinstance(node, dict):
            if path[:1] == ("flow",) and path[-1:] == ("when",):
                return
            for k, v in node.items():
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, i))

    walk(data, ())
    return issues


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def find_placeholders(path: str | os.PathLike[str]) -> list[Issue]:
    r"""Values still marked ``# PLACEHOLDER`` (as ``procsim import`` writes them), with lines.

    ``procsim validate`` reports them as warnings: the model runs, but these numbers are
    stand-ins to be replaced by real ones.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "m.yaml"
    >>> _ = f.write_text("arrivals:\n  interarrival: {dist: fixed, value: 1}"
    ...                  "  # PLACEHOLDER: rate\n")
    >>> [(i.line, i.path, i.message) for i in find_placeholders(f)]
    [(2, 'arrivals.interarrival', 'placeholder to fill in: rate')]
    """
    file = os.fspath(path)
    issues = []
    keys: list[tuple[int, str]] = []  # (indent, key) of the enclosing mappings
    for number, line in enumerate(read_text(file).splitlines(), start=1):
        body = line.split("#", 1)[0]
        key = re.match(r"^(\s*)(?:- )?([A-Za-z_][\w\-]*)\s*:", body)
        if key:
            indent = len(key.group(1))
            keys = [(i, k) for i, k in keys if i < indent] + [(indent, key.group(2))]
        comment = re.search(r"#\s*PLACEHOLDER\b:?\s*(.*)$", line)
        if comment:
            what = comment.group(1).strip() or "a value"
            issues.append(Issue(".".join(k for _, k in keys), f"placeholder to fill in: {what}",
                                file, number, line.index("#") + 1))
    return issues
