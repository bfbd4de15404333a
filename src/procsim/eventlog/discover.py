"""Discover a runnable procsim model from an event log (issue 13, part 3).

:func:`discover` reads an :class:`~procsim.eventlog.EventLog` and writes the text of a
commented procsim model (YAML) that :func:`procsim.parse_model` accepts and
:func:`procsim.simulate` runs. It is deliberately simple, and every number it writes says
how many observations it came from:

- **control flow**: the directly-follows graph of the activities of each case (ordered by
  start), from ``start`` to ``end``, written as exclusive choices whose probabilities are the
  observed frequencies. Repeated activities become loops. Parallel gateways are *not*
  discovered: activities of a case that overlap in time (one enabled, or started, before
  the other ended) are put in one sequence, in their usual order over the log, so that none
  of them is skipped; the model then runs them one after the other. Edges below
  ``min_frequency`` of their node's
  outgoing instances are dropped and the rest renormalised, unless the graph would lose a
  node's last way to ``end``.
- **arrivals**: exponential inter-arrival times with the mean gap between consecutive case
  starts (no hour-of-day or weekday profile).
- **durations**: for each activity, the maximum-likelihood fit among ``exponential``,
  ``lognormal``, ``gamma`` and ``normal`` (truncated at 0, as procsim samples it) with the
  smallest AIC, among those whose mean is within 4 standard errors of the observed mean;
  ``fixed`` when every observation is the same.
- **resources**: one pool per set of resources: activities performed by exactly the same
  set of resources share a pool whose capacity is the size of the set. Costs are unknown
  and marked ``# PLACEHOLDER``. An activity most of whose instances have no resource, or
  the resource ``SYSTEM``, is a delay (no pool).

Invariants: the returned text parses (:func:`discover` checks it with
:func:`procsim.parse_model` before returning); every activity and pool name is a valid
procsim name derived from the log's name, which is kept in the ``description``.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from procsim.eventlog.log import EventLog

__all__ = ["DurationFit", "discover", "fit_duration"]

# Resource names that mean "no person": the work is a delay, not a queue for a pool.
_NO_RESOURCE = frozenset({"system"})
# Words YAML 1.1 reads as booleans or null when they are keys; never used as names.
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})
_SECONDS = {"minutes": 60.0, "hours": 3600.0}
_SUFFIX = {"minutes": "min", "hours": "h"}


@dataclass(frozen=True)
class DurationFit:
    """The distribution chosen for a sample of durations (in the model's time unit).

    ``dist`` is a procsim ``dist`` name, ``params`` its parameters (in the time unit),
    ``aic`` the Akaike information criterion of the fit (``None`` for ``fixed``),
    ``observations`` the sample size and ``mean`` the mean of the fitted law.
    """

    dist: str
    params: dict[str, float]
    aic: float | None
    observations: int
    mean: float


def fit_duration(values: Any) -> DurationFit:
    """Fit durations by maximum likelihood and choose the family with the smallest AIC.

    Candidates: ``exponential`` (1 parameter), ``lognormal``, ``gamma`` (2 parameters, only
    when every value is > 0) and ``normal`` truncated at 0 (2 parameters, as procsim samples
    it). AIC = 2k − 2 log L. Only fits whose mean is within 4 standard errors of the sample
    mean compete, so that the model keeps the observed work per activity. A sample whose
    values are all equal (or of size 1) is ``fixed``.

    Examples
    --------
    >>> fit_duration([3.0, 3.0, 3.0]).dist
    'fixed'
    >>> fit = fit_duration(np.random.default_rng(1).lognormal(1.0, 0.3, 2000))
    >>> fit.dist, round(fit.mean, 1)
    ('lognormal', 2.8)
    """
    from scipy import optimize, stats

    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    if n == 0:
        raise ValueError("no durations to fit")
    if n == 1 or float(np.ptp(x)) <= 1e-12 * max(1.0, float(np.max(np.abs(x)))):
        value = max(float(np.mean(x)), 0.0)
        return DurationFit("fixed", {"value": value}, None, n, value)
    mean = float(np.mean(x))
    fits: list[DurationFit] = []
    # Exponential: the MLE of the mean is the sample mean.
    fits.append(DurationFit("exponential", {"mean": mean},
                            2 * 1 - 2 * float(np.sum(stats.expon.logpdf(x, scale=mean))),
                            n, mean))
    if float(np.min(x)) > 0:
        logs = np.log(x)
        mu, sigma = float(np.mean(logs)), float(np.std(logs))
        if sigma > 0:
            ll = float(np.sum(stats.lognorm.logpdf(x, sigma, scale=math.exp(mu))))
            m = math.exp(mu + sigma ** 2 / 2)
            sd = m * math.sqrt(math.expm1(sigma ** 2))
            fits.append(DurationFit("lognormal", {"mean": m, "sd": sd}, 4 - 2 * ll, n, m))
        shape, _, scale = stats.gamma.fit(x, floc=0)
        ll = float(np.sum(stats.gamma.logpdf(x, shape, scale=scale)))
        fits.append(DurationFit("gamma", {"mean": shape * scale, "sd": math.sqrt(shape) * scale},
                                4 - 2 * ll, n, shape * scale))

    def negative_ll(theta: np.ndarray) -> float:
        mu, s = float(theta[0]), math.exp(float(theta[1]))
        return float(-np.sum(stats.norm.logpdf(x, mu, s)) + n * stats.norm.logcdf(mu / s))

    sd0 = float(np.std(x))
    best = optimize.minimize(negative_ll, np.array([mean, math.log(sd0)]), method="Nelder-Mead")
    mu, s = float(best.x[0]), math.exp(float(best.x[1]))
    if best.success and mu > 0 and math.isfinite(best.fun):
        alpha = mu / s  # mean of the normal truncated at 0: mu + s φ(α)/Φ(α)
        m = mu + s * math.exp(float(stats.norm.logpdf(alpha) - stats.norm.logcdf(alpha)))
        fits.append(DurationFit("normal", {"mean": mu, "sd": s}, 4 + 2 * float(best.fun), n, m))
    # A fit whose mean misses the observed one would mis-state the load on the pools and the
    # cycle time (lognormal fits of durations that include overnight pauses do): only fits
    # whose mean is within 4 standard errors of the sample mean compete. The exponential's
    # and the gamma's maximum-likelihood means are the sample mean, so one always qualifies.
    tolerance = 4 * sd0 / math.sqrt(n)
    fair = [f for f in fits if f.aic is not None and math.isfinite(f.aic)
            and abs(f.mean - mean) <= tolerance]
    return min(fair or fits[:1], key=lambda f: f.aic if f.aic is not None else 0.0)


def discover(log: EventLog, *, min_frequency: float = 0.0) -> str:
    """The text of a commented, runnable procsim model (YAML) discovered from ``log``.

    See the module's docstring for what is discovered and how.

    Parameters
    ----------
    log : EventLog
        From :func:`procsim.eventlog.read_log` or :func:`~procsim.eventlog.simulated.
        simulated_log`; at least one case.
    min_frequency : float
        Drop directly-follows edges taken by less than this share of their node's outgoing
        instances (0 ≤ ``min_frequency`` < 1), then renormalise; an edge a node needs to
        reach ``end`` is kept.

    Returns
    -------
    str
        YAML text; :func:`procsim.parse_model` accepts it.

    Raises
    ------
    ValueError
        ``min_frequency`` out of range, or an empty log.

    Examples
    --------
    >>> import procsim
    >>> from procsim.eventlog import read_log
    >>> log = read_log("tests/data/eventlogs/LoanApp_simplified_train.csv.gz")
    >>> model = procsim.parse_model(discover(log, min_frequency=0.05))
    >>> model.time_unit, len(model.activities)
    ('minutes', 12)
    """
    if not (isinstance(min_frequency, (int, float)) and 0.0 <= min_frequency < 1.0):
        raise ValueError(f"min_frequency: expected a number in [0, 1), got {min_frequency!r}")
    frame = log.frame
    if len(frame) == 0:
        raise ValueError("the log has no activity instances")
    frame = frame.sort_values(["case", "start", "end", "line"], kind="stable")
    # A case arrives when its first activity is enabled (when the log says), else starts.
    arrived = frame["enabled"].where(frame["enabled"].notna(), frame["start"])
    starts = arrived.groupby(frame["case"], sort=False).min().sort_values()
    ends = frame.groupby("case", sort=False)["end"].max()
    cycle = (ends[starts.index] - starts).dt.total_seconds().to_numpy(dtype=np.float64)
    time_unit = "hours" if float(np.median(cycle)) >= 86400.0 else "minutes"
    unit = _SECONDS[time_unit]

    names = _names(sorted(frame["activity"].unique().tolist()))
    out: list[str] = []
    source = log.file or "a simulated log"
    first = starts.iloc[0]
    if getattr(first, "tz", None) is not None:  # the model's start is local wall time
        first = first.tz_localize(None)
    out += [
        f"# Discovered by procsim discover from {source}: {log.cases} cases, "
        f"{len(frame)} activity instances.",
        "# Every number says how many observations it came from. Activities that overlap in",
        "# time run in sequence here, in their usual order; arrivals have no daily profile;",
        "# waits other than queues (nights, customers) are not modelled; costs are",
        "# PLACEHOLDERs. Review before use.",
        "procsim: 1",
        f"name: {json.dumps('Discovered: ' + _basename(source), ensure_ascii=False)}",
        f"time_unit: {time_unit}  # median cycle time "
        f"{_num(float(np.median(cycle)) / unit)} {time_unit}, over {log.cases} cases",
        f"start: {first.floor('s').strftime('%Y-%m-%dT%H:%M:%S')}  # first case's arrival",
    ]

    # Arrivals: exponential with the mean gap between consecutive case arrivals.
    offsets = (starts - starts.iloc[0]).dt.total_seconds().to_numpy(dtype=np.float64)
    gaps = np.diff(offsets) / unit
    out.append("arrivals:")
    if len(gaps) and float(np.mean(gaps)) > 0:
        mean_gap = _dur(float(np.mean(gaps)), time_unit)
        out.append(f"  interarrival: {{dist: exponential, mean: {mean_gap}}}  # mean of "
                   f"{len(gaps)} gaps between case arrivals")
    else:
        out.append("  interarrival: {dist: exponential, mean: 1h}  # PLACEHOLDER: arrival rate "
                   "(fewer than 2 distinct case starts)")

    # Flow first: activities it leaves unreachable (through dropped edges) are left out.
    counts = _directly_follows(frame)
    kept = _prune(counts, min_frequency)
    left_out = sorted(a for a in names if a not in kept)
    if left_out:
        out.append(f"# Left out, reachable only through transitions below min_frequency "
                   f"{min_frequency:g}: " + _comment(", ".join(left_out)))
    names = {a: n for a, n in names.items() if a in kept}
    frame = frame[frame["activity"].isin(list(names))]

    # Resources: one pool per set of resources; delays for activities without one.
    pools, activity_pool = _pools(frame)
    if pools:
        out.append("resources:")
        for pool, members in pools.items():
            shown = ", ".join(sorted(members)[:5]) + (", …" if len(members) > 5 else "")
            out.append(f"  {pool}:")
            out.append(f"    capacity: {len(members)}  # distinct resources seen: "
                       f"{_comment(shown)}")
            out.append("    cost_per_hour: 0  # PLACEHOLDER: cost_per_hour")

    # Activities: durations fitted by maximum likelihood, chosen by AIC.
    out.append("activities:")
    seconds = (frame["end"] - frame["start"]).dt.total_seconds()
    for activity, name in names.items():
        values = seconds[frame["activity"] == activity].to_numpy(dtype=np.float64) / unit
        fit = fit_duration(values)
        params = ", ".join(f"{k}: {_dur(v, time_unit)}" for k, v in fit.params.items())
        how = "" if fit.aic is None else ", least AIC of the fitted families"
        out.append(f"  {name}:")
        out.append(f"    description: {json.dumps(activity, ensure_ascii=False)}")
        assigned = activity_pool.get(activity)
        if assigned is not None:
            out.append(f"    resource: {assigned}")
        else:
            out.append("    # no resource (missing or SYSTEM in most instances): a delay")
        out.append(f"    duration: {{dist: {fit.dist}, {params}}}  # {fit.observations} "
                   f"observations, fitted mean {_num(fit.mean)} {time_unit}{how}")

    # Flow: the directly-follows graph as exclusive choices.
    out.append("flow:")
    for node in ["start", *sorted(a for a in kept if a != "start")]:
        targets = kept[node]
        total = sum(targets.values())
        label = "start" if node == "start" else names[node]
        seen = sum(counts[node].values())
        note = (f"{total} observed transitions" if total == seen else
                f"{total} of {seen} observed transitions (rarer ones dropped)")
        if len(targets) == 1:
            (target,) = targets
            out.append(f"  {label}: {_target(target, names)}  # {note}")
            continue
        probs = _probabilities([targets[t] for t in targets])
        body = ", ".join(f"{_target(t, names)}: {p}" for t, p in zip(targets, probs, strict=True))
        out.append(f"  {label}: {{{body}}}  # {note}: "
                   + ", ".join(str(targets[t]) for t in targets))
    text = "\n".join(out) + "\n"
    from procsim.model.load import parse_model

    parse_model(text)  # a bug here must not reach the user as a broken file
    return text


# --- helpers ----------------------------------------------------------------------------------


def _basename(source: str) -> str:
    return re.split(r"[\\/]", source)[-1]


def _comment(text: str) -> str:
    """Text safe in a YAML comment: one line."""
    return re.sub(r"[\r\n]+", " ", text)


def _num(value: float) -> str:
    text = f"{value:.6g}"
    if "e" in text:
        text = f"{value:.12f}".rstrip("0").rstrip(".") or "0"
    return text


def _dur(value: float, time_unit: str) -> str:
    return f"{_num(value)}{_SUFFIX[time_unit]}"


def _sanitise(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", text.strip()).strip("_").lower()
    if not name or not re.match(r"[A-Za-z_]", name):
        name = f"a_{name}"
    if name in ("start", "end") or name in _YAML_WORDS:
        name = f"{name}_activity"
    return name


def _names(originals: list[str]) -> dict[str, str]:
    """A valid, unique procsim name for each original name."""
    taken: set[str] = set()
    names = {}
    for original in originals:
        base = name = _sanitise(str(original))
        number = 2
        while name in taken:
            name, number = f"{base}_{number}", number + 1
        taken.add(name)
        names[original] = name
    return names


def _pools(frame: Any) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Pools (name → members) and each activity's pool; activities without one are delays."""
    import pandas as pd

    sets: dict[str, frozenset[str]] = {}
    for activity, group in frame.groupby("activity", sort=True):
        resources = group["resource"]
        missing = resources.isna() | resources.astype(str).str.lower().isin(_NO_RESOURCE)
        if int(missing.sum()) * 2 >= len(resources):
            continue  # a delay
        sets[activity] = frozenset(str(r) for r in resources[~missing] if not pd.isna(r))
    by_set: dict[frozenset[str], list[str]] = defaultdict(list)
    for activity, members in sets.items():
        by_set[members].append(activity)
    pools: dict[str, set[str]] = {}
    activity_pool: dict[str, str] = {}
    taken: set[str] = set()
    for number, (members, activities) in enumerate(
            sorted(by_set.items(), key=lambda item: sorted(item[1])), start=1):
        prefix = _common_prefix(sorted(members))
        base = _sanitise(prefix) if len(prefix) >= 3 else f"pool_{number}"
        name, extra = base, 2
        while name in taken:
            name, extra = f"{base}_{extra}", extra + 1
        taken.add(name)
        pools[name] = set(members)
        for activity in activities:
            activity_pool[activity] = name
    return pools, activity_pool


def _common_prefix(members: list[str]) -> str:
    """The members' common prefix, cut before trailing digits and separators."""
    prefix = members[0]
    for member in members[1:]:
        while not member.startswith(prefix):
            prefix = prefix[:-1]
    return re.sub(r"[^A-Za-z]+$", "", prefix)


def _traces(frame: Any) -> list[list[str]]:
    """Each case's activities in order, overlapping (parallel) ones in a canonical order.

    An instance belongs to the block of the one before it when it was enabled (else
    started) before the block's latest end: the two ran, or could have run, at once. Within a
    block, activities are ordered by their mean position in such blocks over the whole log
    (their usual order), so that parallel work becomes one sequence instead of a choice
    between the orders that happened to be observed.
    """
    blocks: list[list[list[str]]] = []
    ready = frame["enabled"].where(frame["enabled"].notna(), frame["start"])
    columns = zip(frame["case"].tolist(), frame["activity"].tolist(), ready.tolist(),
                  frame["end"].tolist(), strict=True)
    case_blocks: list[list[str]] = []
    current_case: object = None
    latest_end: Any = None
    for case, activity, begin, end in columns:
        if case != current_case:
            case_blocks = []
            blocks.append(case_blocks)
            current_case, latest_end = case, None
        if latest_end is not None and begin < latest_end:
            case_blocks[-1].append(activity)
            latest_end = max(latest_end, end)
        else:
            case_blocks.append([activity])
            latest_end = end
    positions: dict[str, list[int]] = defaultdict(list)
    for case_blocks in blocks:
        for block in case_blocks:
            if len(block) > 1:
                for position, activity in enumerate(block):
                    positions[activity].append(position)
    rank = {a: sum(p) / len(p) for a, p in positions.items()}
    traces = []
    for case_blocks in blocks:
        trace: list[str] = []
        for block in case_blocks:
            trace += block if len(block) == 1 else sorted(
                block, key=lambda a: (rank[a], a))
        traces.append(trace)
    return traces


def _directly_follows(frame: Any) -> dict[str, Counter[str]]:
    """Counts of each node's successors over :func:`_traces`, with ``start``/``end`` nodes."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for activities in _traces(frame):
        trace = ["start", *activities, "end"]
        for a, b in itertools.pairwise(trace):
            counts[a][b] += 1
    return counts


def _prune(counts: dict[str, Counter[str]], min_frequency: float) -> dict[str, dict[str, int]]:
    """Edges at or above ``min_frequency`` of their node's outgoing, keeping the graph valid.

    Each node keeps its most frequent edge. While a node reachable from ``start`` cannot reach
    ``end``, its dropped edges are restored (in the full graph every node reaches ``end``,
    since every case does). Nodes left unreachable from ``start`` are removed.
    """
    kept: dict[str, dict[str, int]] = {}
    for node, targets in counts.items():
        total = sum(targets.values())
        ranked = sorted(targets.items(), key=lambda item: (-item[1], item[0]))
        kept[node] = {t: c for i, (t, c) in enumerate(ranked)
                      if i == 0 or c / total >= min_frequency}
    while True:
        reachable = _reach("start", kept)
        reverse: dict[str, set[str]] = defaultdict(set)
        for node in reachable:
            for target in kept.get(node, {}):
                reverse[target].add(node)
        reaches_end = _reach("end", reverse)
        stuck = [n for n in reachable if n != "end" and n not in reaches_end]
        if not stuck:
            break
        for node in stuck:
            kept[node] = dict(sorted(counts[node].items(), key=lambda item: (-item[1], item[0])))
    return {node: kept[node] for node in sorted(reachable) if node != "end"}


def _reach(origin: str, graph: Any) -> set[str]:
    seen, todo = {origin}, [origin]
    while todo:
        for target in graph.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _probabilities(counts: list[int]) -> list[str]:
    """Shares of ``counts`` with six decimals, each > 0, summing to exactly 1."""
    total = sum(counts)
    micro = [max(1, round(1_000_000 * c / total)) for c in counts]
    micro[micro.index(max(micro))] += 1_000_000 - sum(micro)
    return [f"{m / 1_000_000:.6f}".rstrip("0").rstrip(".") for m in micro]


def _target(node: str, names: dict[str, str]) -> str:
    return node if node == "end" else names[node]
