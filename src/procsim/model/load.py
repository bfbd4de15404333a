"""Load a model file: YAML with positions → schema validation → semantic checks.

Every problem is collected and raised at once as one :class:`~procsim.errors.ModelError`.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ValidationError

from procsim.errors import Issue, ModelError, close_match_hint
from procsim.model.check import check_model
from procsim.model.schema import Model
from procsim.model.yamlpos import Positions, _dotted, read_yaml

__all__ = ["load_model", "parse_model"]


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
    try:
        with open(file, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise ModelError([Issue("", "no such file", file)], file) from None
    except IsADirectoryError:
        issue = Issue("", "expected a model file, got a directory", file)
        raise ModelError([issue], file) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError([Issue("", f"cannot read the file: {exc}", file)], file) from None
    return parse_model(text, file=file)


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
        got = "an empty file" if data is None else _show(data)
        issues.append(Issue("", f"expected a mapping of model fields, got {got}", file, line, col))
        raise ModelError(issues, file)

    time_unit = data.get("time_unit", "minutes")
    if time_unit not in ("seconds", "minutes", "hours", "days"):
        time_unit = "minutes"  # the schema reports the bad unit itself
    try:
        model = Model.model_validate(data, context={"time_unit": time_unit})
    except ValidationError as exc:
        issues.extend(_issue_from_pydantic(err, data, positions, file) for err in exc.errors())
        raise ModelError(issues, file) from None

    model._file = file
    model._positions = dict(positions.values)
    issues.extend(check_model(model))
    if issues:
        raise ModelError(issues, file)
    return model


# --- pydantic errors → issues -------------------------------------------------------------------


def _field_vocabulary() -> list[str]:
    """Every field name of the format, for 'did you mean' hints on unknown fields."""
    from procsim import dists
    from procsim.model import schema

    names: set[str] = set()
    classes: list[type[BaseModel]] = [
        schema.Model, schema.RunSettings, schema.Arrivals, schema.Resource, schema.Activity,
        schema.Gateway, schema.Branch, *dists.DISTRIBUTIONS.values(),
    ]
    for cls in classes:
        names.update(cls.model_fields)
    return sorted(names)


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
    if value is None:
        return "nothing"
    text = repr(value) if isinstance(value, str) else str(value)
    if isinstance(value, bool):
        text = str(value).lower()
    return text if len(text) <= 60 else text[:57] + "..."


_NUMBER_TYPES = {"float_parsing", "float_type", "finite_number"}
_INT_TYPES = {"int_parsing", "int_type", "int_from_float"}
_BOUNDS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}


def _issue_from_pydantic(
    err: Any, data: dict[str, Any], positions: Positions, file: str | None
) -> Issue:
    kind: str = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    value = err.get("input")
    path, rest = _data_path(tuple(err["loc"]), data)
    at_key = False

    if kind == "missing":
        message = f"missing required field '{rest[0]}'" if rest else "missing required value"
    elif kind == "extra_forbidden":
        unknown = path[-1] if path else "?"
        message = f"unknown field '{unknown}'" + close_match_hint(str(unknown), _field_vocabulary())
        path, at_key = (*path[:-1], unknown), True
    elif kind == "union_tag_invalid":
        from procsim.dists import DISTRIBUTIONS

        tag = ctx.get("tag", value)
        message = (
            f"expected a distribution ({', '.join(DISTRIBUTIONS)}), got '{tag}'"
            + close_match_hint(str(tag), list(DISTRIBUTIONS))
        )
        if isinstance(_get(data, path), dict) and "dist" in _get(data, path):
            path = (*path, "dist")
    elif kind == "union_tag_not_found":
        message = f"missing required field '{ctx.get('discriminator', 'dist').strip(chr(39))}'"
    elif kind in _NUMBER_TYPES:
        message = f"expected a number, got {_show(value)}"
    elif kind in _INT_TYPES:
        message = f"expected an integer, got {_show(value)}"
    elif kind in _BOUNDS:
        key, op = _BOUNDS[kind]
        message = f"expected a number {op} {ctx.get(key)}, got {_show(value)}"
    elif kind == "literal_error":
        message = f"expected {ctx.get('expected')}, got {_show(value)}"
        if isinstance(value, str):
            expected = str(ctx.get("expected", "")).replace(" or ", ",")
            options = [o.strip(" '") for o in expected.split(",")]
            message += close_match_hint(value, [o for o in options if o])
    elif kind == "string_pattern_mismatch":
        message = (
            "expected a name of letters, digits, '_' or '-' starting with a letter, "
            f"got {_show(value)}"
        )
    elif kind in ("dict_type", "model_type", "model_attributes_type"):
        message = f"expected a mapping, got {_show(value)}"
    elif kind == "list_type":
        message = f"expected a list, got {_show(value)}"
    elif kind in ("string_type",):
        message = f"expected a text, got {_show(value)}"
    elif kind == "bool_type":
        message = f"expected true or false, got {_show(value)}"
    elif kind == "too_short":
        message = (f"expected at least {ctx.get('min_length')} item(s), "
                   f"got {ctx.get('actual_length')}")
    elif kind == "value_error":
        message = str(err["msg"]).removeprefix("Value error, ")
    else:
        message = f"{err['msg'][0].lower()}{err['msg'][1:]}, got {_show(value)}"

    line, col = positions.of(path, key=at_key) or (None, None)
    return Issue(_dotted(path + rest if kind == "missing" and not rest else path), message,
                 file, line, col)


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data
