"""Prosimos simulation parameters (JSON) → the parts of a procsim model they describe.

Prosimos (https://github.com/AutomatedProcessImprovement/Prosimos) keeps a process's
simulation parameters beside its BPMN file, in one JSON document. This module reads the
layout Prosimos 2.1.0 accepts and maps every section to procsim's model format; what has
no exact procsim equivalent is approximated *and listed* (see :class:`Mapping.warnings`),
never dropped silently. :func:`procsim.interop.import_bpmn` calls it; the mapping is
documented in ``docs/interop.md``.

Distributions (all Prosimos parameters are seconds)
---------------------------------------------------
Prosimos 2.1.0 samples durations with ``pix_framework``'s ``DurationDistribution``: it
draws from the law below and *redraws* every value that is negative or outside
``[min, max]``, so a Prosimos distribution is the law conditioned on ``[max(min, 0), max]``.

============================  =========================================  ======================
Prosimos                      procsim                                    exact?
============================  =========================================  ======================
``fix [v]``                   ``fixed v``                                yes
``uniform [a, b]``            ``uniform a..b`` (``fixed a`` if a = b)    yes
``expon [mean, min, max]``    ``exponential mean`` when min = 0          yes, when the cut at
                              (Prosimos: min + Exp(mean − min))          max is < 1e-9
``norm [mean, sd, min, max]`` ``normal mean, sd`` (procsim also cuts 0)  yes, when the cuts at
                                                                         min and max are < 1e-9
``lognorm [mean, var, …]``    ``lognormal mean, sd = √var``              as norm
``gamma [mean, var, …]``      ``gamma mean, sd = √var``                  as norm
``triang [c, loc, scale]``    ``triangular loc, loc + c·scale, loc+scale`` yes (Prosimos 2.1.0
                                                                         itself cannot read it)
``exponnorm [K, loc, scale]`` ``gamma`` with the same mean and variance  no: listed
``histogram_sampling``        ``empirical`` on the bin midpoints,         yes
                              weights = differences of the cdf
============================  =========================================  ======================

When the cut at ``min``/``max`` matters (more than 1e-9 of the probability), or when the law
is shifted (``expon`` with ``min > 0``), the import keeps the first two moments exactly: the
mean and variance *of the cut law Prosimos samples* (computed with ``scipy.stats``) become a
``gamma`` (or a ``lognormal`` / ``gamma`` of the same family), and a warning says so.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from procsim.errors import Issue, ModelError, UsageError, close_match_hint

__all__ = ["DISTRIBUTION_NAMES", "Mapping", "map_distribution", "read_params"]

#: Prosimos distribution names the import understands.
DISTRIBUTION_NAMES = ("fix", "uniform", "expon", "norm", "lognorm", "gamma", "triang",
                      "exponnorm", "histogram_sampling", "default")
_ALIASES = {"fixed": "fix", "normal": "norm", "exponential": "expon", "lognormal": "lognorm",
            "log_normal": "lognorm", "triangular": "triang"}
#: Probability of the cut-off tails below which a cut law counts as the uncut one.
NEGLIGIBLE = 1e-9

_DAYS = {"MONDAY": "mon", "TUESDAY": "tue", "WEDNESDAY": "wed", "THURSDAY": "thu",
         "FRIDAY": "fri", "SATURDAY": "sat", "SUNDAY": "sun"}


# --- reading ------------------------------------------------------------------------------------


@dataclass
class Params:
    """The parsed JSON with the position of every value (for messages)."""

    data: dict[str, Any]
    file: str
    positions: Any  # procsim.model.yamlpos.Positions
    #: Paths of a legacy layout read as Prosimos 2.1.0's: new prefix -> prefix in the file.
    aliases: dict[tuple[Any, ...], tuple[Any, ...]] = field(default_factory=dict)

    def original(self, path: tuple[Any, ...]) -> tuple[Any, ...]:
        """Where ``path`` (in Prosimos 2.1.0's layout) is in the file."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.aliases:
                return self.aliases[path[:end]] + tuple(path[end:])
        return tuple(path)

    def issue(self, path: tuple[Any, ...], message: str) -> Issue:
        from procsim.errors import dotted

        path = self.original(path)
        line, col = self.positions.of(path) or (None, None)
        return Issue(dotted(path), message, self.file, line, col)

    def where(self, path: tuple[Any, ...]) -> tuple[str, int | None, int | None]:
        from procsim.errors import dotted

        path = self.original(path)
        line, col = self.positions.of(path) or (None, None)
        return dotted(path), line, col


def read_params(path: str) -> Params:
    """Read a Prosimos JSON file, keeping the line and column of every value.

    Raises
    ------
    procsim.errors.ModelError
        When the file cannot be read or is not a JSON object.
    """
    from procsim.model.load import read_text
    from procsim.model.yamlpos import Positions, read_yaml

    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError([Issue("", f"malformed JSON: {exc.msg}", path, exc.lineno,
                                exc.colno)], path) from None
    positions = Positions()
    try:  # JSON is (nearly) YAML: the YAML reader gives positions for the messages
        _, positions, _ = read_yaml(text, path)
    except ModelError:
        positions = Positions()
    if not isinstance(data, dict):
        raise ModelError([Issue("", "expected a JSON object of Prosimos simulation parameters, "
                                f"got {type(data).__name__}", path, 1, 1)], path)
    return Params(data, path, positions)


# --- distributions ------------------------------------------------------------------------------

#: A procsim distribution with durations in seconds (floats), as plain data.
Dist = dict[str, Any]


def _values(params: Any) -> list[float]:
    out: list[float] = []
    for p in params if isinstance(params, list) else []:
        value: Any = p.get("value") if isinstance(p, dict) else p
        out.append(float(value))
    return out


def map_distribution(spec: Any) -> tuple[Dist, list[str]]:
    """Map one Prosimos distribution to a procsim distribution (seconds).

    Parameters
    ----------
    spec : dict
        ``{"distribution_name": ..., "distribution_params": [{"value": ...}, ...]}``, or a
        ``histogram_sampling`` with ``histogram_data``.

    Returns
    -------
    (dist, notes)
        The procsim distribution as plain data, every duration in seconds, and the notes
        on what is not exact (empty when the mapping is exact).

    Raises
    ------
    procsim.errors.UsageError
        A ``ValueError`` too, with a message for an unknown name or unusable parameters.

    Examples
    --------
    >>> map_distribution({"distribution_name": "gamma", "distribution_params": [
    ...     {"value": 600.0}, {"value": 90000.0}, {"value": 0.0}, {"value": 36000.0}]})
    ({'dist': 'gamma', 'mean': 600.0, 'sd': 300.0}, [])
    >>> map_distribution({"distribution_name": "uniform", "distribution_params": [
    ...     {"value": 240.0}, {"value": 240.0}]})
    ({'dist': 'fixed', 'value': 240.0}, [])
    """
    if not isinstance(spec, dict) or "distribution_name" not in spec:
        raise UsageError("expected a distribution with 'distribution_name', got "
                         f"{json.dumps(spec)[:60]}")
    raw = str(spec["distribution_name"])
    name = _ALIASES.get(raw.lower(), raw.lower())
    if name == "histogram_sampling":
        return _histogram(spec)
    if name not in DISTRIBUTION_NAMES:
        hint = close_match_hint(raw, DISTRIBUTION_NAMES)
        raise UsageError(f"unknown Prosimos distribution {raw!r} (known: "
                         f"{', '.join(DISTRIBUTION_NAMES)}){hint}")
    p = _values(spec.get("distribution_params", []))
    need = {"fix": 1, "uniform": 2, "default": 2, "expon": 1, "norm": 2, "lognorm": 2,
            "gamma": 2, "triang": 3, "exponnorm": 3}[name]
    if len(p) < need:
        raise UsageError(f"{raw} needs at least {need} parameter(s), got {len(p)}")
    if any(not math.isfinite(v) or abs(v) > 1e12 for v in p):
        raise UsageError(f"expected finite parameters below 1e12 s (about 30,000 years), got {p}")
    if name == "fix":
        return {"dist": "fixed", "value": max(p[0], 0.0)}, (
            [f"fix({p[0]:g}) is negative; Prosimos redraws negative durations forever, "
             "procsim uses 0"] if p[0] < 0 else [])
    if name in ("uniform", "default"):
        lo, hi = max(p[0], 0.0), p[1]
        if hi < lo:
            raise UsageError(f"uniform needs min <= max, got {p[0]:g} > {p[1]:g}")
        return ({"dist": "fixed", "value": lo} if hi == lo
                else {"dist": "uniform", "min": lo, "max": hi}), []
    if name == "triang":
        c, loc, scale = p[:3]
        if not (0 <= c <= 1 and scale > 0 and loc >= 0):
            raise UsageError(f"triang needs 0 <= c <= 1, scale > 0 and loc >= 0, got {p[:3]}")
        return ({"dist": "triangular", "min": loc, "mode": loc + c * scale, "max": loc + scale},
                ["triang is not read by Prosimos 2.1.0 (pix_framework has no parser for it); "
                 "read with scipy's parameters [c, loc, scale]"])
    if name == "exponnorm":
        k, loc, scale = p[:3]
        mean, var = loc + k * scale, scale ** 2 * (1 + k ** 2)
        return (_moment_matched("gamma", mean, var),
                [f"exponnorm(K={k:g}, loc={loc:g}, scale={scale:g}) has no procsim equivalent "
                 "(and Prosimos 2.1.0 cannot read it): a gamma with the same mean and variance"])
    # Prosimos 2.1.0: expon [mean, min, max]; norm/lognorm/gamma [a, b, min, max].
    lo = max(p[need], 0.0) if len(p) > need else 0.0
    hi = p[need + 1] if len(p) > need + 1 else math.inf
    if name == "expon":
        return _expon(p[0], lo, hi)
    mean, second = p[0], p[1]
    sd = second if name == "norm" else math.sqrt(max(second, 0.0))
    if sd <= 0:
        return {"dist": "fixed", "value": max(mean, 0.0)}, []
    return _cut(name, mean, sd, lo, hi)


def _histogram(spec: dict[str, Any]) -> tuple[Dist, list[str]]:
    data = spec.get("histogram_data") or {}
    cdf, mids = list(data.get("cdf", [])), list(data.get("bin_midpoints", []))
    if not cdf or len(cdf) != len(mids):
        raise UsageError("histogram_sampling needs 'cdf' and 'bin_midpoints' of equal length, "
                         f"got {len(cdf)} and {len(mids)}")
    notes = []
    weights = [float(c) - float(b) for c, b in zip(cdf, [0.0, *cdf[:-1]], strict=True)]
    if any(w < -1e-12 for w in weights):
        raise UsageError("histogram_sampling needs a non-decreasing cdf")
    if abs(float(cdf[-1]) - 1.0) > 1e-9:
        notes.append(f"the histogram's cdf ends at {cdf[-1]:g}, not 1: weights normalised")
    pairs = [(float(m), w) for m, w in zip(mids, weights, strict=True) if w > 1e-15]
    if any(m < 0 for m, _ in pairs):
        raise UsageError("histogram_sampling needs bin midpoints >= 0")
    # Prosimos samples searchsorted(cdf, u): bin i with probability cdf[i] - cdf[i-1].
    return {"dist": "empirical", "values": [m for m, _ in pairs],
            "weights": [w for _, w in pairs]}, notes


def _expon(mean: float, lo: float, hi: float) -> tuple[Dist, list[str]]:
    from scipy import stats

    scale = mean - lo
    notes: list[str] = []
    if scale <= 0 and mean > 0 and lo > 0:
        raise UsageError(f"expon [mean, min, max] needs its mean above its min (Prosimos "
                         f"samples min + Exp(mean - min)), got mean {mean:g} <= min {lo:g}")
    if scale <= 0:
        return {"dist": "fixed", "value": lo}, notes
    cut = math.exp(-(hi - lo) / scale) if math.isfinite(hi) else 0.0
    if lo == 0 and cut < NEGLIGIBLE:
        return {"dist": "exponential", "mean": scale}, notes
    if hi <= lo:
        return {"dist": "fixed", "value": lo}, [*notes, f"expon cut to [{lo:g}, {hi:g}]: fixed"]
    law = stats.truncexpon(b=(hi - lo) / scale, scale=scale) if math.isfinite(hi) \
        else stats.expon(scale=scale)
    m, v = (float(x) for x in law.stats("mv"))
    what = f"expon(mean {mean:g}, min {lo:g}, max {hi:g}) = {lo:g} + Exp({scale:g})"
    if math.isfinite(hi) and cut >= NEGLIGIBLE:
        what += f" cut at {hi:g}"
    return (_moment_matched("gamma", lo + m, v),
            [*notes, f"{what} has no procsim equivalent: a gamma with its mean {lo + m:.6g} s "
             f"and sd {math.sqrt(v):.6g} s"])


def _frozen(name: str, mean: float, sd: float) -> Any:
    from scipy import stats

    if name == "norm":
        return stats.norm(loc=mean, scale=sd)
    if name == "lognorm":
        sigma2 = math.log1p((sd / mean) ** 2)
        return stats.lognorm(math.sqrt(sigma2), scale=math.exp(math.log(mean) - sigma2 / 2))
    shape = (mean / sd) ** 2
    return stats.gamma(shape, scale=sd ** 2 / mean)


def _cut(name: str, mean: float, sd: float, lo: float, hi: float) -> tuple[Dist, list[str]]:
    procsim = {"norm": "normal", "lognorm": "lognormal", "gamma": "gamma"}[name]
    if name != "norm" and mean <= 0:
        raise UsageError(f"{name} needs a mean > 0, got {mean:g}")
    law = _frozen(name, mean, sd)
    below = float(law.cdf(lo)) - (float(law.cdf(0.0)) if name == "norm" else 0.0)
    above = float(law.sf(hi)) if math.isfinite(hi) else 0.0
    if below < NEGLIGIBLE and above < NEGLIGIBLE:
        return {"dist": procsim, "mean": mean, "sd": sd}, []
    if hi <= lo:
        return {"dist": "fixed", "value": lo}, [f"{name} cut to [{lo:g}, {hi:g}]: fixed"]
    mass = float(law.cdf(hi) - law.cdf(lo))
    m = float(law.expect(lambda x: x, lb=lo, ub=hi)) / mass
    m2 = float(law.expect(lambda x: x * x, lb=lo, ub=hi)) / mass
    v = max(m2 - m * m, 0.0)
    family = "gamma" if name == "norm" else procsim
    return (_moment_matched(family, m, v),
            [f"{name}(mean {mean:g}, sd {sd:g}) cut to [{lo:g}, {hi:g}] by Prosimos "
             f"({below + above:.2%} of it redrawn): a {family} with the cut law's mean "
             f"{m:.6g} s and sd {math.sqrt(v):.6g} s"])


def _moment_matched(family: str, mean: float, var: float) -> Dist:
    if var <= 0 or mean <= 0:
        return {"dist": "fixed", "value": max(mean, 0.0)}
    return {"dist": family, "mean": mean, "sd": math.sqrt(var)}


def dist_mean_var(dist: Dist) -> tuple[float, float]:
    """Mean and variance (seconds) of a mapped distribution, as procsim computes them."""
    from procsim.dists import DISTRIBUTIONS

    cls = DISTRIBUTIONS[dist["dist"]]
    d = cls.model_validate(dist, context={"time_unit": "seconds"})
    return float(d.mean), float(d.variance)


def scale_dist(dist: Dist, factor: float) -> Dist:
    """The distribution of ``factor`` × X (every duration parameter multiplied)."""
    out: Dist = {}
    for key, value in dist.items():
        if key in ("dist", "k", "shape", "weights", "probabilities"):
            out[key] = value
        elif isinstance(value, list):
            out[key] = [v * factor for v in value]
        else:
            out[key] = value * factor
    return out


# --- calendars ----------------------------------------------------------------------------------


def _seconds_of_day(text: Any) -> float:
    m = re.match(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d*)?))?\s*$", str(text))
    if not m:
        raise UsageError(f"expected a time HH:MM:SS, got {text!r}")
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3) or 0)


def map_calendar(periods: Any) -> tuple[list[dict[str, str]], list[str]]:
    """Prosimos ``time_periods`` → procsim calendar intervals (minute resolution).

    Examples
    --------
    >>> map_calendar([{"from": "MONDAY", "to": "FRIDAY", "beginTime": "09:00:00.000",
    ...                "endTime": "17:00:00.000"}])
    ([{'days': 'mon-fri', 'from': '09:00', 'to': '17:00'}], [])
    """
    intervals: list[dict[str, str]] = []
    notes: list[str] = []
    for item in periods if isinstance(periods, list) else []:
        try:
            first, last = _DAYS[str(item["from"]).upper()], _DAYS[str(item["to"]).upper()]
            begin, end = _seconds_of_day(item["beginTime"]), _seconds_of_day(item["endTime"])
        except (KeyError, TypeError) as exc:
            raise UsageError(f"expected a time period with from, to (MONDAY ... SUNDAY), "
                             f"beginTime and endTime, got {json.dumps(item)[:80]}") from exc
        b, e = round(begin / 60), round(end / 60)
        if b * 60 != begin or e * 60 != end:
            notes.append(f"{item['beginTime']}-{item['endTime']} rounded to whole minutes")
        if e <= b:
            notes.append(f"{first} {item['beginTime']}-{item['endTime']} is empty in Prosimos "
                         "(it ends before it begins): left out")
            continue
        days = first if first == last else f"{first}-{last}"
        intervals.append({"days": days, "from": f"{b // 60:02d}:{b % 60:02d}",
                          "to": f"{e // 60:02d}:{e % 60:02d}"})
    return intervals, notes


# --- the whole parameter file -------------------------------------------------------------------


@dataclass
class Mapping:
    """What the Prosimos parameters contribute to the procsim model (durations in seconds).

    ``activities`` holds, per activity name, ``resource``, ``duration`` and ``durations``;
    ``probabilities`` the branch probability of each sequence-flow id, by gateway id;
    ``warnings`` every approximation or left-out part as ``(path, message)``.
    """

    calendars: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    arrivals: dict[str, Any] = field(default_factory=dict)
    arrival_comment: str = ""
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    events: dict[str, Dist] = field(default_factory=dict)
    probabilities: dict[str, dict[str, float]] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    priority: dict[str, Any] | None = None
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[tuple[tuple[str, int | None, int | None], str]] = field(default_factory=list)
    bad_sections: list[str] = field(default_factory=list)


def map_params(params: Params, *, tasks: dict[str, str], events: dict[str, str],
               gateways: Sequence[str], snake: Callable[[str, str], str]) -> Mapping:
    """Map the Prosimos parameters onto the imported process.

    Parameters
    ----------
    params : Params
        From :func:`read_params`.
    tasks, events : dict
        BPMN id → procsim activity name of the tasks and of the intermediate events.
    gateways : sequence of str
        BPMN ids of the gateways.
    snake : callable
        ``snake(text, section)`` → a unique procsim name in that section.

    Raises
    ------
    procsim.errors.ModelError
        For parameters that Prosimos itself could not run (unknown distributions,
        resources, malformed sections), all at once.
    """
    out, issues = Mapping(), []
    section: list[tuple[Any, ...]] = [()]
    try:
        data = _read_legacy_layouts(params, out)
        for key in out.bad_sections:
            issues.append(params.issue((key,), "expected a list (Prosimos 2.1.0) or a mapping "
                                       "by id (the legacy layout), got "
                                       f"{type(params.data[key]).__name__}"))
        _map_params(params, data, out, issues, section, tasks=tasks, events=events,
                    gateways=gateways, snake=snake)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError,
            OverflowError, ZeroDivisionError) as exc:
        # The safety net: a layout this reader does not know is an error, never a traceback.
        what = f"{type(exc).__name__}: {exc}"
        issues.append(params.issue(section[0], "expected the layout of Prosimos 2.1.0's "
                                   f"simulation parameters here, got something else ({what})"))
    if issues:
        raise ModelError(issues, params.file)
    return out


def _read_legacy_layouts(params: Params, out: Mapping) -> dict[str, Any]:
    """The older layouts (mappings by id, as Prosimos' discovery kept them) as 2.1.0's lists."""
    data = dict(params.data)

    def note(key: str, was: str) -> None:
        out.warnings.append((params.where((key,)), f"{key}: the legacy layout ({was}) is read "
                             "as Prosimos 2.1.0's list"))

    profiles = data.get("resource_profiles")
    if isinstance(profiles, dict):
        items = []
        for i, (key, value) in enumerate(profiles.items()):
            if isinstance(value, dict) and "resource_list" in value:
                items.append({"id": value.get("id", key), "name": value.get("name", key),
                              "resource_list": value["resource_list"]})
                params.aliases[("resource_profiles", i)] = ("resource_profiles", key)
            else:  # {profile: [resources]}
                items.append({"id": key, "name": key, "resource_list": value})
                params.aliases[("resource_profiles", i, "resource_list")] = (
                    "resource_profiles", key)
        data["resource_profiles"] = items
        note("resource_profiles", "a mapping of profile id to profile")
    calendars = data.get("resource_calendars")
    if isinstance(calendars, dict):
        data["resource_calendars"] = [
            {"id": key, "name": key,
             "time_periods": value.get("time_periods") if isinstance(value, dict) else value}
            for key, value in calendars.items()]
        for i, key in enumerate(calendars):
            params.aliases[("resource_calendars", i)] = ("resource_calendars", key)
        note("resource_calendars", "a mapping of calendar id to time periods")
    distributions = data.get("task_resource_distribution")
    if isinstance(distributions, dict):
        items = []
        for i, (task, by_resource) in enumerate(distributions.items()):
            resources = []
            for j, (rid, dist) in enumerate((by_resource or {}).items()):
                resources.append({"resource_id": rid, **(dist if isinstance(dist, dict) else {})})
                params.aliases[("task_resource_distribution", i, "resources", j)] = (
                    "task_resource_distribution", task, rid)
            items.append({"task_id": task, "resources": resources})
            params.aliases[("task_resource_distribution", i)] = (
                "task_resource_distribution", task)
        data["task_resource_distribution"] = items
        note("task_resource_distribution", "a mapping of task id to resource id to distribution")
    branching = data.get("gateway_branching_probabilities")
    if isinstance(branching, dict):
        data["gateway_branching_probabilities"] = [
            {"gateway_id": g, "probabilities": [{"path_id": f, "value": p}
                                                for f, p in (flows or {}).items()]}
            for g, flows in branching.items()]
        for i, g in enumerate(branching):
            params.aliases[("gateway_branching_probabilities", i)] = (
                "gateway_branching_probabilities", g)
        note("gateway_branching_probabilities", "a mapping of gateway id to flow id to "
             "probability")
    for key in ("resource_profiles", "resource_calendars", "task_resource_distribution",
                "gateway_branching_probabilities", "event_distribution", "case_attributes",
                "prioritisation_rules", "batch_processing"):
        if key in data and data[key] is not None and not isinstance(data[key], list):
            out.bad_sections.append(key)
            data[key] = None
    return data


def _map_params(params: Params, data: dict[str, Any], out: Mapping, issues: list[Issue],
                section: list[tuple[Any, ...]], *, tasks: dict[str, str],
                events: dict[str, str], gateways: Sequence[str],
                snake: Callable[[str, str], str]) -> None:
    def warn(path: tuple[Any, ...], message: str) -> None:
        out.warnings.append((params.where(path), message))

    # Approximations of the same kind (differing in numbers only) are listed once.
    similar: dict[str, list[tuple[tuple[Any, ...], str, str]]] = {}

    def dist_at(path: tuple[Any, ...], spec: Any, what: str) -> Dist | None:
        try:
            dist, notes = map_distribution(spec)
        except ValueError as exc:
            issues.append(params.issue(path, str(exc)))
            return None
        for note in notes:
            kind = re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?%?", "#", note)
            similar.setdefault(kind, []).append((path, what, note))
        return dist

    section[0] = ("resource_calendars",)
    # Calendars: mapped when used.
    raw_calendars: dict[str, tuple[int, Any]] = {}
    for i, c in enumerate(data.get("resource_calendars") or []):
        if isinstance(c, dict) and "id" in c:
            raw_calendars[str(c["id"])] = (i, c)
    calendar_names: dict[str, str] = {}

    def calendar(cid: str, path: tuple[Any, ...]) -> str | None:
        if cid in calendar_names:
            return calendar_names[cid]
        if "resource_calendars" in out.bad_sections:
            return None  # reported once, at the section
        if cid not in raw_calendars:  # the legacy layout: calendars by resource id
            stem = re.sub(r"_?timetable$", "", cid)
            if stem in raw_calendars:
                cid = stem
        if cid in calendar_names:
            return calendar_names[cid]
        if cid not in raw_calendars:
            issues.append(params.issue(path, f"unknown calendar {cid!r}"
                                       + close_match_hint(cid, list(raw_calendars))))
            return None
        i, c = raw_calendars[cid]
        try:
            intervals, notes = map_calendar(c.get("time_periods"))
        except ValueError as exc:
            issues.append(params.issue(("resource_calendars", i), str(exc)))
            return None
        for note in notes:
            warn(("resource_calendars", i), f"calendar {cid}: {note}")
        if not intervals:
            issues.append(params.issue(("resource_calendars", i),
                                       f"calendar {cid!r} is never open"))
            return None
        name = snake(str(c.get("name") or cid), "calendars")
        calendar_names[cid] = name
        out.calendars[name] = intervals
        return name

    section[0] = ("arrival_time_distribution",)
    # Arrivals.
    arrival_dist = dist_at(("arrival_time_distribution",), data.get("arrival_time_distribution"),
                           "arrivals")
    if arrival_dist is not None and dist_mean_var(arrival_dist)[0] <= 0:
        issues.append(params.issue(("arrival_time_distribution",), "expected a mean time "
                                   "between arrivals > 0, got "
                                   f"{_show_dist(data.get('arrival_time_distribution'))}: "
                                   "every case would arrive at once"))
    elif arrival_dist is not None:
        out.arrivals["interarrival"] = arrival_dist
    raw_cal = data.get("arrival_time_calendar")
    if isinstance(raw_cal, dict):  # the layout Simod writes (Prosimos 2.1.0 expects a list)
        raw_cal = raw_cal.get("time_periods")
    if raw_cal:
        try:
            intervals, notes = map_calendar(raw_cal)
        except ValueError as exc:
            issues.append(params.issue(("arrival_time_calendar",), str(exc)))
            intervals, notes = [], []
        for note in notes:
            warn(("arrival_time_calendar",), f"arrival calendar: {note}")
        if intervals and not _always_open(intervals):
            name = snake("arrivals", "calendars")
            out.calendars[name] = intervals
            out.arrivals["calendar"] = name

    section[0] = ("resource_profiles",)
    # Resources: every Prosimos resource entry is `amount` identical units.
    units: dict[str, dict[str, Any]] = {}  # entry id -> info
    for i, profile in enumerate(data.get("resource_profiles") or []):
        for j, r in enumerate(profile.get("resource_list") or []):
            path = ("resource_profiles", i, "resource_list", j)
            try:
                amount = int(r.get("amount", 1))
                cost = float(r.get("cost_per_hour", 0) or 0)
            except (TypeError, ValueError):
                issues.append(params.issue(path, "expected a number as amount and cost_per_hour"))
                continue
            units[str(r["id"])] = {"name": str(r.get("name") or r["id"]), "amount": amount,
                                   "cost": cost, "calendar": str(r.get("calendar", "")),
                                   "profile": str(profile.get("name") or profile.get("id")),
                                   "path": path}

    section[0] = ("task_resource_distribution",)
    # Which entries may do each task, with which duration (Prosimos: task_resource_distribution).
    per_task: dict[str, dict[str, Dist]] = {}
    task_paths: dict[str, tuple[Any, ...]] = {}
    for i, t in enumerate(data.get("task_resource_distribution") or []):
        tid = str(t.get("task_id"))
        if tid not in tasks:
            warn(("task_resource_distribution", i, "task_id"),
                 f"task {tid!r} is not a task of the BPMN process: its durations are left out")
            continue
        task_paths[tid] = ("task_resource_distribution", i)
        for j, r in enumerate(t.get("resources") or []):
            rid, path = str(r.get("resource_id")), ("task_resource_distribution", i, "resources", j)
            if rid not in units:
                issues.append(params.issue((*path, "resource_id"), f"unknown resource {rid!r}"
                                           + close_match_hint(rid, list(units))))
                continue
            dist = dist_at(path, r, f"task {tasks[tid]}, resource {units[rid]['name']}")
            if dist is not None:
                per_task.setdefault(tid, {})[rid] = dist

    given = [str(t.get("task_id")) for t in data.get("task_resource_distribution") or []]
    if given and tasks and not any(t in tasks for t in given):
        issues.append(params.issue(("task_resource_distribution",), "expected the task ids of "
                                   f"the BPMN process (e.g. {', '.join(list(tasks)[:3])}), got "
                                   f"none of them (e.g. {', '.join(given[:3])}): these "
                                   "parameters belong to another BPMN file"))
        return
    # Tasks sharing exactly the same resources share one queue in Prosimos: one procsim pool.
    groups: dict[tuple[str, ...], list[str]] = {}
    for tid, by_resource in per_task.items():
        groups.setdefault(tuple(sorted(by_resource)), []).append(tid)
    membership: dict[str, int] = {}
    for key in groups:
        for rid in key:
            membership[rid] = membership.get(rid, 0) + 1
    person_names: dict[str, list[str]] = {}
    for key, tids in groups.items():
        members = [units[r] for r in key]
        pool = snake(_pool_stem(members, key), "resources")
        costs = {m["cost"] for m in members}
        cals = {m["calendar"] for m in members}
        same_dist = all(len({json.dumps(per_task[t][r], sort_keys=True) for r in key}) == 1
                        for t in tids)
        shared = any(membership[r] > 1 for r in key)
        spec: dict[str, Any] = {}
        description = "Prosimos resources " + ", ".join(
            f"{m['name']}" + (f" x{m['amount']}" if m["amount"] != 1 else "") for m in members)
        if len(costs) == 1:
            spec["cost_per_hour"] = next(iter(costs))
        if len(cals) == 1 and next(iter(cals)):
            spec["calendar"] = calendar(next(iter(cals)), members[0]["path"])
        if same_dist and not shared and len(costs) == 1 and len(cals) == 1:
            spec = {"capacity": sum(m["amount"] for m in members), **spec}
        else:
            names: list[str] = []
            for rid in key:
                u = units[rid]
                if rid not in person_names:
                    person_names[rid] = []
                    for k in range(u["amount"]):
                        label = u["name"] if u["amount"] == 1 else f"{u['name']}_{k + 1}"
                        pname = snake(label, "people")
                        person: dict[str, Any] = {}
                        if len(cals) > 1 or shared:
                            person["calendar"] = calendar(u["calendar"], u["path"])
                        if len(costs) > 1 or shared:
                            person["cost_per_hour"] = u["cost"]
                        person["description"] = f"Prosimos resource {rid}"
                        out.people[pname] = person
                        person_names[rid].append(pname)
                names += person_names[rid]
            spec = {"members": names, **spec}
        if spec.get("calendar") or any(out.people.get(n, {}).get("calendar")
                                       for n in spec.get("members", [])):
            # Prosimos pauses work off shift and resumes it on the next shift.
            spec["preempt"] = True
        spec["description"] = description
        out.resources[pool] = spec
        for tid in tids:
            by_resource = per_task[tid]
            first = json.dumps(by_resource[key[0]], sort_keys=True)
            # The most common distribution is `duration`; the others are by person.
            counts: dict[str, int] = {}
            for rid in key:
                d = json.dumps(by_resource[rid], sort_keys=True)
                counts[d] = counts.get(d, 0) + units[rid]["amount"]
            common = max(counts, key=lambda d: (counts[d], d == first))
            activity: dict[str, Any] = {"resource": pool, "duration": json.loads(common)}
            if "members" in spec:
                durations = {}
                for rid in key:
                    if json.dumps(by_resource[rid], sort_keys=True) != common:
                        for pname in person_names[rid]:
                            durations[pname] = by_resource[rid]
                if durations:
                    activity["durations"] = durations
            out.activities[tasks[tid]] = activity
    for rid, u in units.items():
        if rid not in membership:
            warn(u["path"], f"resource {u['name']} does no task of the process: left out")
    for tid, name in tasks.items():
        if tid not in per_task and tid not in task_paths:
            warn(("task_resource_distribution",), f"task {name} (BPMN id {tid}) has no "
                 "resources or durations in the parameters: placeholder duration, no resource")

    section[0] = ("event_distribution",)
    # Intermediate events: durations.
    for i, e in enumerate(data.get("event_distribution") or []):
        eid = str(e.get("event_id"))
        if eid not in events:
            warn(("event_distribution", i), f"event {eid!r} is not an intermediate event of the "
                 "process: left out")
            continue
        dist = dist_at(("event_distribution", i), e, f"event {events[eid]}")
        if dist is not None:
            out.events[events[eid]] = dist

    section[0] = ("gateway_branching_probabilities",)
    # Gateways: branch probabilities by sequence-flow id.
    for i, g in enumerate(data.get("gateway_branching_probabilities") or []):
        gid = str(g.get("gateway_id"))
        if gid not in gateways:
            warn(("gateway_branching_probabilities", i), f"gateway {gid!r} is not a gateway of "
                 "the process: left out")
            continue
        probs: dict[str, float] = {}
        for j, p in enumerate(g.get("probabilities") or []):
            if "condition_id" in p:
                warn(("gateway_branching_probabilities", i, "probabilities", j),
                     f"gateway {gid}: branch condition {p['condition_id']!r} (Prosimos "
                     "branch_rules) is not mapped: the branch probability is used instead")
            if "value" in p:
                probs[str(p["path_id"])] = float(p["value"])
            else:
                probs[str(p["path_id"])] = math.nan  # filled in like Prosimos: equal shares
        missing = [k for k, v in probs.items() if math.isnan(v)]
        if missing:
            rest = max(0.0, 1 - sum(v for v in probs.values() if not math.isnan(v)))
            for flow_id in missing:
                probs[flow_id] = rest / len(missing)
            warn(("gateway_branching_probabilities", i), f"gateway {gid}: flows without a "
                 f"probability share the rest equally, as in Prosimos: {', '.join(missing)}")
        out.probabilities[gid] = probs

    section[0] = ("case_attributes",)
    _map_attributes(data, out, warn, dist_at, snake)
    for group in similar.values():
        path, what, note = group[0]
        more = f" (and {len(group) - 1} more like it: " + ", ".join(
            w for _, w, _ in group[1:6]) + (", ..." if len(group) > 6 else "") + ")" \
            if len(group) > 1 else ""
        warn(path, f"{what}: {note}{more}")
    section[0] = ("batch_processing",)
    _map_batches(data, out, warn, tasks)
    for unmapped in ("branch_rules", "event_attributes", "global_attributes", "multitask",
                     "granule_size"):
        if data.get(unmapped):
            warn((unmapped,), f"{unmapped} has no procsim equivalent: left out")
    if data.get("model_type") not in (None, "CRISP"):
        warn(("model_type",), f"model_type {data['model_type']!r}: fuzzy calendars are not "
             "mapped (read as crisp calendars)")


def _show_dist(spec: Any) -> str:
    if not isinstance(spec, dict):
        return json.dumps(spec)[:60]
    values = ", ".join(f"{v:g}" if isinstance(v, (int, float)) else str(v)
                       for v in _raw_values(spec.get("distribution_params")))
    return f"{spec.get('distribution_name')}({values})"


def _raw_values(params: Any) -> list[Any]:
    return [p.get("value") if isinstance(p, dict) else p
            for p in (params if isinstance(params, list) else [])]


def _always_open(intervals: list[dict[str, str]]) -> bool:
    days = {i["days"] for i in intervals if i["from"] == "00:00" and i["to"] == "24:00"}
    return days in ({"mon-sun"}, {"all"})


def _pool_stem(members: list[dict[str, Any]], key: tuple[str, ...]) -> str:
    """A pool name: the common stem of its resources' names ('Clerk-000004' -> 'clerk')."""
    stems = {re.sub(r"[\s_\-]*\d+$", "", m["name"]).strip() for m in members}
    if len(stems) == 1 and next(iter(stems)):
        return next(iter(stems))
    profiles = {m["profile"] for m in members}
    return next(iter(profiles)) if len(profiles) == 1 else "pool"


def _map_attributes(data: dict[str, Any], out: Mapping, warn: Any, dist_at: Any,
                    snake: Callable[[str, str], str]) -> None:
    names: dict[str, str] = {}
    for i, a in enumerate(data.get("case_attributes") or []):
        name = snake(str(a.get("name")), "attributes")
        names[str(a.get("name"))] = name
        if a.get("type") == "discrete":
            values = {str(v["key"]): float(v["value"]) for v in a.get("values") or []}
            total = sum(values.values())
            out.attributes[name] = {k: v / total for k, v in values.items()} if total else {}
        elif a.get("type") == "continuous":
            dist = dist_at(("case_attributes", i, "values"), a.get("values"), f"attribute {name}")
            if dist is not None:
                out.attributes[name] = dist
        else:
            warn(("case_attributes", i), f"case attribute of type {a.get('type')!r}: left out")
    rules = data.get("prioritisation_rules") or []
    if not rules:
        return
    # procsim ranks by one categorical attribute: map rules "attribute = value" / "in".
    order: list[tuple[float, str]] = []
    attribute = None
    for i, rule in enumerate(rules):
        ok = True
        for or_rule in rule.get("rules") or []:
            for r in or_rule:
                attr = names.get(str(r.get("attribute")))
                wanted = r.get("value") if isinstance(r.get("value"), list) else [r.get("value")]
                if (attr is None or (attribute not in (None, attr))
                        or r.get("comparison") not in ("=", "in")
                        or not isinstance(out.attributes.get(attr), dict)
                        or len(or_rule) != 1):
                    ok = False
                    break
                attribute = attr
                order += [(float(rule.get("priority_level", 0)), str(v)) for v in wanted]
        if not ok:
            warn(("prioritisation_rules", i), "prioritisation rule is not 'one categorical case "
                 "attribute = value': priorities are not mapped")
            return
    if attribute is not None:
        ranked = [v for _, v in sorted(order)]
        ranked += [v for v in out.attributes[attribute] if v not in ranked]
        out.priority = {"attribute": attribute, "order": ranked}


def _map_batches(data: dict[str, Any], out: Mapping, warn: Any, tasks: dict[str, str]) -> None:
    for i, b in enumerate(data.get("batch_processing") or []):
        tid = str(b.get("task_id"))
        if tid not in tasks:
            warn(("batch_processing", i), f"batch for unknown task {tid!r}: left out")
            continue
        size, timeout = None, None
        for or_rule in (b.get("firing_rules") or [])[:1]:
            for r in or_rule:
                attr, comp, value = r.get("attribute"), r.get("comparison"), r.get("value")
                if attr == "size" and comp in ("=", ">=", ">"):
                    size = int(value) + (1 if comp == ">" else 0)
                elif attr in ("large_wt", "waiting_time") and comp in ("=", ">=", ">"):
                    timeout = float(value)
                else:
                    warn(("batch_processing", i), f"batch rule {attr} {comp} {value} of task "
                         f"{tasks[tid]} is not mapped")
        if len(b.get("firing_rules") or []) > 1:
            warn(("batch_processing", i), f"batch of {tasks[tid]}: only the first of the OR "
                 "firing rules is mapped")
        if size is None or size < 2:
            warn(("batch_processing", i), f"batch of {tasks[tid]} without a size rule >= 2: "
                 "left out")
            continue
        spec: dict[str, Any] = {"size": size}
        if timeout is not None:
            spec["timeout"] = timeout
        out.batches[tasks[tid]] = spec
        warn(("batch_processing", i), f"batch of {tasks[tid]} ({b.get('type')}): procsim "
             "processes the batch as one duration; Prosimos' duration scaling by batch size "
             "(duration_distrib) is not mapped")


def arrival_factor(dist: Dist, intervals: list[dict[str, str]], start: Any,
                   *, samples: int = 50_000, seed: int = 20260105) -> float:
    """Scale of the inter-arrival times that gives procsim Prosimos' arrival rate.

    Prosimos draws a gap ``g`` in wall-clock time and, when ``t + g`` falls in closed hours
    of the arrival calendar, moves the arrival to the next opening. procsim's renewal
    arrivals on a calendar count the gap in open hours only (the clock stops while closed).
    The long-run rate of the first is measured here by generating ``samples`` arrivals the
    Prosimos way (seeded: the import is deterministic); the factor ``f`` is then chosen so
    that procsim's rate, open fraction / (f · mean gap), equals it.

    Examples
    --------
    >>> from datetime import datetime
    >>> office = [{"days": "mon-fri", "from": "09:00", "to": "17:00"}]
    >>> f = arrival_factor({"dist": "exponential", "mean": 600.0}, office,
    ...                    datetime(2026, 1, 5), samples=20_000)
    >>> 0.9 < f < 1.0      # a gap that crosses closing time is cut short by Prosimos
    True
    """
    import numpy as np

    from procsim.calendars import Calendar
    from procsim.dists import DISTRIBUTIONS

    calendar = Calendar(intervals, start=start, time_unit="seconds", name="arrivals")
    law = DISTRIBUTIONS[dist["dist"]].model_validate(dist, context={"time_unit": "seconds"})
    gaps = law.sample(np.random.default_rng(seed), samples)
    t = calendar.next_open(0.0)
    first = t
    for g in gaps.tolist():
        t += g
        if not calendar.is_open(t):
            t = calendar.next_open(t)
    # Prosimos: `samples` arrivals in t - first wall-clock seconds; procsim: one arrival per
    # f x gap of open time. Dividing by the gaps drawn (not the law's mean) cancels their
    # sampling error: the factor is exactly 1 for a calendar that is always open.
    return float(calendar.open_fraction() * (t - first) / float(gaps.sum()))
