"""The reports of ``procsim optimise --report`` and ``procsim sweep --report``.

The optimisation report is written like the run and comparison reports
(:mod:`procsim.report.writer`): :func:`optimise_context` computes its content once from the
:class:`~procsim.optimise.OptimiseResult` (never from printed text), and
:func:`~procsim.report.writer.write_context` lays it out with ``templates/optimise.html.j2``
or ``optimise.md.j2``, in the format the suffix names: one self-contained HTML file,
Markdown with the plot as a PNG file beside it, or PDF (WeasyPrint). Names of the model,
pools, paths, objectives and key results are the user's text: the HTML template escapes
them, the Markdown one passes them through :func:`~procsim.report.writer.markdown_text` or
``markdown_code``.

The sweep page is one self-contained HTML file: the terminal summary (escaped) and the plots
as embedded PNGs (:class:`~procsim.report.sweep.SweepDisplay`). matplotlib is imported only
when drawing.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from procsim.compare import decimals_for, format_amount, key_result_cell
from procsim.errors import WrongTypeError
from procsim.model.targets import kpi_kind
from procsim.okr import KeyResultSpec
from procsim.optimise import Candidate, ConstraintCheck, OptimiseResult
from procsim.report.writer import Figure, ReportContext, provenance, report_format, write_context
from procsim.sweep import GridSweepResult
from procsim.units import short_unit

__all__ = ["optimise_context", "write_optimise_report", "write_sweep_report"]

_STYLE = """body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;
color:#222}pre{background:#f6f7f8;padding:1rem;overflow-x:auto;font-size:.85rem}
img{max-width:100%}h1{font-size:1.5rem}figcaption{color:#555;font-size:.9rem}"""

#: A verdict's symbol and words, as in the comparison's scorecard.
_VERDICT = {"met": ("✓", "met"), "not_met": ("✗", "not met"),
            "inconclusive": ("?", "inconclusive")}
#: Each candidate status: its badge's class, its name and what it means (``{objective}``
#: and ``{level}`` filled in).
_CANDIDATE = {
    "feasible": ("met", "feasible", "meets every requirement with P ≥ {level}"),
    "infeasible": ("not_met", "infeasible", "clearly misses a requirement"),
    "undecided": ("inconclusive", "undecided",
                  "too close to a target to tell within the replications allowed"),
    "dominated": ("skipped", "dominated",
                  "its {objective} is clearly above that of a feasible candidate"),
    "implied_infeasible": ("skipped", "implied infeasible",
                           "not simulated: a candidate with fewer (or, for a cost, more) "
                           "servers in every pool clearly missed a requirement"),
    "unstable": ("skipped", "unstable",
                 "not simulated: a pool's offered load reaches its capacity, its queue "
                 "would grow without bound"),
    "over_budget": ("skipped", "over budget", "not simulated: over the budget"),
    "not_evaluated": ("skipped", "not evaluated",
                      "not simulated: not needed (cheaper feasible candidates were found) or "
                      "not reached"),
}
#: The most simulated candidates listed one by one (the JSON output has them all).
_LISTED = 60


def _png(display: Any) -> str:
    buffer = io.BytesIO()
    display.figure_.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _page(title: str, summary: str, figures: list[tuple[str, str]]) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    for caption, src in figures:
        parts.append(f'<figure><img src="{src}" alt="{html.escape(caption)}">'
                     f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    parts.append(f"<pre>{html.escape(summary)}</pre></body></html>")
    return "\n".join(parts)


# --- words and numbers ----------------------------------------------------------------------


def _percent(p: float) -> str:
    """A probability or share as the reports show it: ``90 %``, ``97.5 %``."""
    # a no-break space: "90 %" stays on one line
    return f"{p:.1%}".replace(".0%", "%").replace("%", "\u00a0%")


def _probability(p: float) -> str:
    """P as the tables show it: ``73 %``; ``< 1 %`` and ``> 99 %`` rather than a certainty."""
    if not math.isfinite(p):
        return "n/a"
    if p < 0.01:
        return "<\u00a01\u00a0%"
    if p > 0.99:
        return ">\u00a099\u00a0%"
    return f"{p:.0%}".replace("%", "\u00a0%")


def _change_words(path: str, value: float) -> str:
    """``7 agents`` for a pool's capacity, ``path = value`` for anything else."""
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "resources" and parts[2] == "capacity":
        return f"{value:g} {parts[1]}"
    return f"{path} = {value:g}"


def _and(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"


def _configuration(c: Candidate) -> str:
    return _and([_change_words(p, v) for p, v in c.changes])


def _current(model: Any, path: str) -> Any:
    """The base model's value at a dotted path (``None`` when it has none)."""
    node: Any = model
    for part in path.split("."):
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            node = getattr(node, part, None)
        if node is None:
            return None
    return node


class _Amounts:
    """Values of the objective in its unit, at one resolution for the whole report."""

    def __init__(self, result: OptimiseResult) -> None:
        model = result.model
        self.kind = kpi_kind(result.objective, model.kpis) or ""
        unit = result.objective_unit
        if self.kind == "money" or unit == "currency":
            unit = model.currency or ""
        self.unit = "" if self.kind == "share" else short_unit(unit)
        means = [abs(c.objective.mean) for c in result.simulated
                 if c.objective is not None and math.isfinite(c.objective.mean)]
        self.decimals = decimals_for(max(means, default=0.0))
        self.per_case = result.objective == "cost_per_case"

    def __call__(self, value: float, *, signed: bool = False, unit: bool = True) -> str:
        if self.kind == "share":
            return f"{value:+.1%}" if signed else f"{value:.1%}"
        text = format_amount(value, self.decimals, signed=signed)
        return f"{text} {self.unit}" if unit and self.unit and text != "n/a" else text

    def interval(self, c: Candidate) -> str:
        if c.objective is None:
            return ""
        lo, hi = c.objective.ci
        return f"[{self(lo, unit=False)}, {self(hi, unit=False)}]"

    def phrase(self, objective: str, value: float) -> str:
        """``46.82 EUR per case`` for the cost per case, ``mean cycle_time 45.1 min`` else."""
        if self.per_case:
            return f"{self(value)} per case"
        return f"mean {objective} {self(value)}"


def _requirements(result: OptimiseResult) -> str:
    """``both key results``, ``all 3 requirements (2 key results and 1 budget)``."""
    n = len(result.constraints)
    counts: dict[str, int] = {}
    for con in result.constraints:
        counts[con.source] = counts.get(con.source, 0) + 1
    if len(counts) == 1:
        (source,) = counts
        return {1: f"the {source}", 2: f"both {source}s"}.get(n, f"all {n} {source}s")
    kinds = _and([f"{k} {s}" + ("s" if k > 1 else "") for s, k in counts.items()])
    return f"all {n} requirements ({kinds})"


def _spec(result: OptimiseResult, check: ConstraintCheck) -> KeyResultSpec:
    con = check.constraint
    return KeyResultSpec("", con.kpi, con.stat, con.threshold, con.relative, con.text, con.kind)


def _value_cell(result: OptimiseResult, check: ConstraintCheck) -> tuple[str, str]:
    return key_result_cell(_spec(result, check), check.estimate,
                           currency=result.model.currency or "",
                           time_unit=result.model.time_unit)


def _objectives(result: OptimiseResult) -> list[str]:
    """Each constraint's group: the objective of a key result, else its source."""
    okrs = [okr.objective for okr in result.model.okrs for _ in okr.key_results]
    out, k = [], 0
    for con in result.constraints:
        if con.source == "key result":
            out.append(f"Objective: {okrs[k]}" if k < len(okrs) else "Key results")
            k += 1
        else:
            out.append({"KPI target": "KPI targets", "budget": "Budgets"}.get(con.source,
                                                                            con.source))
    return out


# --- content --------------------------------------------------------------------------------


def _verdict_rows(result: OptimiseResult, checks: Sequence[ConstraintCheck]
                  ) -> list[dict[str, Any]]:
    groups = _objectives(result)
    rows: list[dict[str, Any]] = []
    for check, group in zip(checks, groups, strict=False):
        value, ci = _value_cell(result, check)
        symbol, label = _VERDICT[check.status]
        rows.append({"group": group, "text": check.constraint.text,
                     "source": check.constraint.source,
                     "target": check.constraint.threshold.text, "value": value, "ci": ci,
                     "status": check.status, "symbol": symbol, "label": label,
                     "probability": _probability(check.probability),
                     "attained": check.probability >= result.confidence})
    return rows


def _status(result: OptimiseResult, c: Candidate) -> dict[str, str]:
    css, name, meaning = _CANDIDATE.get(c.status, ("skipped", c.status, ""))
    return {"status": css, "label": name,
            "meaning": meaning.format(objective=result.objective,
                                      level=_percent(result.confidence))}


def _headline(result: OptimiseResult, amounts: _Amounts) -> dict[str, Any]:
    """The sentence a manager reads first, and what supports it."""
    level = _percent(result.confidence)
    needs = _requirements(result)
    best = result.best
    points: list[str] = []
    if best is None:
        closest = sorted((c for c in result.simulated if c.checks),
                         key=lambda c: -c.min_probability)[:3]
        text = (f"none of the {len(result.candidates)} configurations searched meets {needs} "
                f"with probability ≥ {level}.")
        if closest:
            points.append("Closest: " + "; ".join(
                f"{_configuration(c)} ({_CANDIDATE[c.status][1]}, lowest P "
                f"{_probability(c.min_probability)})" for c in closest) + ".")
        return {"lead": "No recommendation:", "text": text, "status": "not_met",
                "points": points}
    cost = (amounts.phrase(result.objective, best.objective.mean)
            if best.objective is not None else "")
    what = _configuration(best) + (f", {cost}" if cost else "")
    n = result.final_replications
    if result.recheck and result.confirmed:
        lead, status = "Recommended:", "met"
        text = f"{what}; meets {needs} with probability ≥ {level} on {n} fresh replications."
    elif result.recheck:
        lead, status = "Recommended, but not confirmed:", "inconclusive"
        low = [c for c in result.recheck if c.probability < result.confidence]
        text = (f"{what}; on {n} fresh replications " + _and(
            [f"{c.constraint.text} is attained with probability {_probability(c.probability)}"
             for c in low]) + f", below {level}: treat it as borderline.")
    else:
        lead, status = "Interrupted:", "inconclusive"
        text = (f"the best found so far is {what}; it was not re-checked on fresh "
                "replications.")
    points += _today(result, amounts)
    if math.isfinite(best.staffing_cost_per_hour) and best.staffing_cost_per_hour > 0:
        points.append(f"Staff: {format_amount(best.staffing_cost_per_hour, 0)} "
                      f"{result.model.currency or ''} per hour (capacity × cost per hour of "
                      "every pool, paid whether busy or idle).".replace("  ", " "))
    if best.objective is not None:
        ci = best.objective.ci
        points.append(f"The {result.objective} is estimated on the search's "
                      f"{best.objective.n} replications: {amounts(best.objective.mean)} "
                      f"({_percent(best.objective.confidence)} interval "
                      f"{amounts(ci[0], unit=False)} to {amounts(ci[1])}).")
    if result.runner_ups:
        points.append("Next best, also meeting " + needs + ": " + "; ".join(
            _configuration(c) + (f" ({amounts.phrase(result.objective, c.objective.mean)})"
                                 if c.objective is not None else "")
            for c in result.runner_ups) + ".")
    return {"lead": lead, "text": text, "status": status, "points": points}


def _today(result: OptimiseResult, amounts: _Amounts) -> list[str]:
    """A sentence on the base model's own configuration, when the grid holds it."""
    today = {p: _current(result.model, p) for p in result.paths}
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
               for v in today.values()):
        return []
    shown = _and([_change_words(p, float(v)) for p, v in today.items()])
    match = next((c for c in result.candidates if c.values == today), None)
    if match is None:
        return [f"Today ({shown}) is not among the configurations searched."]
    best = result.best
    if match is best:
        return [f"This is today's configuration ({shown}): nothing needs to change."]
    if match.objective is None:
        why = match.reason or _status(result, match)["meaning"]
        return [f"Today ({shown}) was not simulated: {why}."]
    text = f"Today ({shown}): {amounts.phrase(result.objective, match.objective.mean)}"
    missed = [c for c in match.checks if c.probability < result.confidence]
    if missed:
        text += ", but it does not reach " + _and(
            [f"{c.constraint.text} ({_value_cell(result, c)[0]}, "
             f"P\u00a0{_probability(c.probability)})" for c in missed])
    text += (f" ({_status(result, match)['label']} on the search's {match.replications} "
             "replications).")
    if best is not None and best.objective is not None:
        diff = best.objective.mean - match.objective.mean
        relative = diff / match.objective.mean if match.objective.mean else math.nan
        what = "per case" if amounts.per_case else f"in mean {result.objective}"
        text += (f" The recommendation costs {amounts(abs(diff))} "
                 f"{'more' if diff > 0 else 'less'} {what}"
                 + (f" ({abs(relative):.0%})" if math.isfinite(relative) else "") + "."
                 if amounts.per_case else
                 f" The recommendation changes it by {amounts(diff, signed=True)} {what}.")
    return [text]


def _candidate_row(result: OptimiseResult, c: Candidate, amounts: _Amounts,
                   index: int | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "configuration": _configuration(c),
        "staff": (format_amount(c.staffing_cost_per_hour, 0)
                  if math.isfinite(c.staffing_cost_per_hour) else ""),
        "objective": amounts(c.objective.mean, unit=False) if c.objective is not None else "",
        "ci": amounts.interval(c), "replications": c.replications,
        "reason": c.reason, "role": ("recommended" if c is result.best else
                                     "runner-up" if c in result.runner_ups else ""),
        "lowest_p": _probability(c.min_probability) if c.checks else "",
        **_status(result, c)}
    if index is not None and len(c.checks) > index:
        row["kpi"], row["kpi_ci"] = _value_cell(result, c.checks[index])
    else:
        row["kpi"] = row["kpi_ci"] = ""
    if result.best is not None and result.best.objective is not None and \
            c.objective is not None and c is not result.best:
        row["extra"] = amounts(c.objective.mean - result.best.objective.mean, signed=True)
    else:
        row["extra"] = ""
    return row


def _span(values: Sequence[float]) -> str:
    distinct = sorted(set(values))
    if len(distinct) > 2 and all(float(v).is_integer() for v in distinct) and (
            distinct[-1] - distinct[0] == len(distinct) - 1):
        return f"{distinct[0]:g} to {distinct[-1]:g}"
    return ", ".join(f"{v:g}" for v in distinct)


def _method(result: OptimiseResult) -> dict[str, Any]:
    level = _percent(result.confidence)
    simulated = [c.replications for c in result.simulated]
    counts: dict[str, int] = {}
    for c in result.candidates:
        counts[c.status] = counts.get(c.status, 0) + 1
    if result.search == "cheapest-first":
        search = ("cheapest first: only capacities vary, so candidates were visited in order "
                  "of staff cost per hour, which with the same arrivals and work is the order "
                  f"of the full cost per case; the first feasible one is the cheapest, and the "
                  f"search stopped after {len(result.runner_ups)} more (the runner-ups)")
    elif result.search == "exhaustive":
        search = ("exhaustive screening: every stable candidate within budget was simulated; "
                  f"one whose {result.objective} was clearly above that of the best feasible "
                  "candidate (paired, on common random numbers) was dropped as dominated, and "
                  "replications went only to candidates still in question")
    else:   # a search added later is named, not misdescribed
        search = f"{result.search} (docs/optimise.md describes it)"
    settings = [
        ("Searched", "; ".join(f"{p} ∈ {{{_span([c.values[p] for c in result.candidates])}}}"
                               for p in result.paths)
         + f": {len(result.candidates)} configurations"),
        ("Objective", f"the lowest mean {result.objective}"
         + (" (the full cost per case, paid idle staff time included)"
            if result.objective == "cost_per_case" else "")),
        ("Requirement", f"{_requirements(result)} attained, each with "
                        f"probability P ≥ {level}; P from the Student-t distribution of the "
                        "per-replication values, as procsim compare computes it"),
        ("Search", search),
        ("Common random numbers", f"every candidate ran on seed {result.seed}: replication r "
                                  "of each saw the same arrivals, durations and routes, so "
                                  "candidates differ by their changes, not by luck"),
    ]
    if simulated:
        settings.append(("Replications per candidate",
                         f"{min(simulated)} at first, more only while a verdict was close "
                         f"(the two-stage rule n·(h/d)²): {_span_int(simulated)} per simulated "
                         "candidate"))
    settings.append(("Screening", f"a candidate was dropped as infeasible as soon as one "
                                  f"requirement's P fell to {_percent(1 - result.screen)} or less "
                                  f"(screening at {_percent(result.screen)}); candidates that "
                                  "cannot keep up with the work (unstable) were not simulated"))
    if result.recheck:
        settings.append(("Re-check", f"the recommendation was simulated again on "
                                     f"{result.final_replications} fresh replications "
                                     f"(seed {result.recheck_seed}); its verdicts are those "
                                     "of the re-check only, free of the selection bias of "
                                     "picking the best-looking candidate"))
    else:
        settings.append(("Re-check", "none (no recommendation, or interrupted)"))
    spent = (f"{result.replications:,} in {result.simulations} runs (of which the re-check "
             f"{result.recheck_replications:,})")
    if result.exhaustive_replications:
        spent += (f"; every stable candidate at {result.final_replications} replications "
                  f"would take {result.exhaustive_replications:,}: "
                  f"{result.replications / result.exhaustive_replications:.0%} of that")
    settings += [("Replications spent", spent),
                 ("Seed", f"{result.seed} (the re-check's: {result.recheck_seed})")]
    settings += [("Note", note) for note in result.notes]
    order = list(_CANDIDATE)
    statuses = [{"count": n, **_status(result, Candidate((), status))}  # type: ignore[arg-type]
                for status, n in sorted(counts.items(), key=lambda kv: order.index(kv[0])
                                        if kv[0] in order else len(order))]
    return {"settings": settings, "statuses": statuses,
            **provenance([(result.model.name, result.model)])}


def _span_int(values: Sequence[int]) -> str:
    return f"{min(values):,}" if min(values) == max(values) else \
        f"{min(values):,} to {max(values):,}"


def _pareto_figure(result: OptimiseResult, amounts: _Amounts) -> Figure | None:
    from matplotlib.figure import Figure as MplFigure

    from procsim.report.plots import ParetoDisplay, literal_text

    index = result.pareto_index()
    if index is None or not result.simulated:
        return None
    con = result.constraints[index]
    fig = MplFigure(figsize=(9.5, 4.8), layout="constrained")
    display = ParetoDisplay.from_result(result).plot(fig.add_subplot())
    ax = display.ax_
    words = result.objective.replace("_", " ")
    ax.set_xlabel(literal_text(f"Mean {words}" + (f" ({amounts.unit})" if amounts.unit else "")))
    if con.relative or con.kind == "share":
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
    unit = ("change vs today" if con.relative else "share of cases" if con.kind == "share"
            else short_unit(result.model.time_unit) if con.kind == "time"
            else (result.model.currency or "") if con.kind == "money" else "")
    label = f"{con.stat} {con.kpi}" if con.kpi not in result.model.kpis else con.kpi
    ax.set_ylabel(literal_text(label.replace("_", " ") + (f" ({unit})" if unit else "")))
    # Every point of the front named, so that the plot reads without the table: labels
    # alternately below and above the line, so that neighbours do not overlap.
    for k, i in enumerate(display.front):
        if i != display.best:
            ax.annotate(literal_text(display.labels[i]), (display.x[i], display.y[i]),
                        textcoords="offset points", xytext=(6, -13 if k % 2 else 6),
                        fontsize="x-small", color="#5f6b73")
    # Beside the axes: inside, it hides points.
    ax.legend(fontsize="small", frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return Figure(
        "pareto", fig,
        f"Every simulated candidate: mean {result.objective} (x) against {con.text} (y), "
        "coloured by status; the Pareto front (no other candidate is better on both) joined, "
        "the target dashed, the recommendation starred. Estimates of the search's "
        "replications.",
        f"Mean {result.objective} against {con.kpi} for every simulated candidate")


def _kpi_label(result: OptimiseResult, index: int | None) -> str:
    """``waiting_time mean``, or a custom KPI's name, of the Pareto front's constraint."""
    if index is None:
        return ""
    con = result.constraints[index]
    label = con.kpi if con.kpi in result.model.kpis else f"{con.kpi} {con.stat}"
    return f"{label} (change vs today)" if con.relative else label


def optimise_context(result: OptimiseResult, *, title: str | None = None) -> ReportContext:
    """The content of the report of an optimisation: the recommendation and its re-checked
    verdicts, the runner-ups, the Pareto front and its plot, every simulated candidate, and
    the method (see docs/optimise.md).

    Examples
    --------
    >>> from procsim import parse_model
    >>> from procsim.optimise import optimise
    >>> desk = parse_model('''
    ... procsim: 1
    ... name: Desk
    ... currency: EUR
    ... arrivals: {interarrival: {dist: exponential, mean: 1}}
    ... resources: {clerks: {capacity: 3, cost_per_hour: 30}}
    ... activities: {serve: {resource: clerks, duration: {dist: exponential, mean: 2.4}}}
    ... flow: {start: serve, serve: end}
    ... okrs: [{objective: Short queues, key_results: [{kpi: waiting_time, to: "<= 1"}]}]
    ... ''')
    >>> result = optimise(desk, vary={"resources.clerks.capacity": "3..6"}, seed=1,
    ...                   cases=500, warmup=50)
    >>> context = optimise_context(result)
    >>> context.data["headline"]["lead"], context.data["verdicts"][0]["label"]
    ('Recommended:', 'met')
    """
    if not isinstance(result, OptimiseResult):
        raise WrongTypeError(f"expected an OptimiseResult, got {type(result).__name__}")
    model = result.model
    amounts = _Amounts(result)
    index = result.pareto_index()
    checks = result.recheck or (result.best.checks if result.best is not None else ())
    simulated = sorted(result.simulated, key=lambda c: (
        c.objective.mean if c.objective is not None else math.inf))
    figures = {}
    figure = _pareto_figure(result, amounts)
    if figure is not None:
        figures["pareto"] = figure
    changes = []
    if result.best is not None:
        for path, value in result.best.changes:
            now = _current(model, path)
            changes.append({"path": path, "today": "" if now is None else f"{now:g}"
                            if isinstance(now, (int, float)) else str(now),
                            "recommended": f"{value:g}"})
    data = {
        "title": title or f"{model.name}: the cheapest configuration meeting the key results",
        "model": model.name,
        "file": model.file or "",
        "searched": (f"{len(result.candidates)} configurations of "
                     + _and([f"{p} ({_span([c.values[p] for c in result.candidates])})"
                             for p in result.paths])),
        "goal": (f"the lowest mean {result.objective} that meets {_requirements(result)} "
                 f"with probability ≥ {_percent(result.confidence)}"),
        "headline": _headline(result, amounts),
        "verdicts": _verdict_rows(result, checks),
        "verdicts_source": ("recheck" if result.recheck else "search" if checks else ""),
        "verdict_replications": (checks[0].estimate.n if checks else 0),
        "interval": next((_percent(c.checks[0].estimate.confidence) for c in
                          [*([result.best] if result.best else []), *simulated] if c.checks),
                         _percent(2 * result.confidence - 1)),
        "level": _percent(result.confidence),
        "changes": changes,
        "objective": result.objective,
        "unit": amounts.unit,
        "pareto_kpi": _kpi_label(result, index),
        "pareto_target": result.constraints[index].threshold.text if index is not None else "",
        "runner_ups": [_candidate_row(result, c, amounts, index) for c in result.runner_ups],
        "front": [_candidate_row(result, c, amounts, index)
                  for c in result.pareto_front()],
        "candidates": [_candidate_row(result, c, amounts, index)
                       for c in simulated[:_LISTED]],
        "candidates_left_out": max(0, len(simulated) - _LISTED),
        "partial": result.partial,
        "method": _method(result),
    }
    return ReportContext(data, figures)


def write_optimise_report(result: OptimiseResult, path: str | os.PathLike[str], *,
                          title: str | None = None) -> Path:
    """Write the report of an optimisation; the format follows the suffix of ``path`` (as
    :func:`procsim.report.writer.write_report`): ``.html``/``.htm`` one self-contained file,
    ``.md`` with the plot as a PNG file in ``<name>_files/`` beside it, ``.pdf`` with
    WeasyPrint.

    Raises
    ------
    ProcsimError
        For a suffix that is not a report's, or ``.pdf`` without WeasyPrint.
    """
    target = Path(path)
    report_format(target)
    return write_context(optimise_context(result, title=title), target, template="optimise")


def write_sweep_report(result: GridSweepResult, path: str | os.PathLike[str]) -> Path:
    """The table of a sweep and, for every sweep along the last path, the plot of the knee
    KPI with its interval, the cost and the knee (:class:`~procsim.report.sweep.
    SweepDisplay`), as one HTML file."""
    from procsim.output import atomic_write
    from procsim.report.sweep import SweepDisplay

    if not isinstance(result, GridSweepResult):
        raise WrongTypeError(f"expected a GridSweepResult (procsim.sweep.sweep_grid), got "
                             f"{type(result).__name__}")
    figures = []
    # every KPI of the table along the first swept line; the knee KPI along the others
    # (at most 12 of them: a grid is read in the table, the plots show its shape)
    for n, s in enumerate(result.sweeps[:12]):
        where = ", ".join(f"{c.path} = {c.after}" for c in s.results[0].model.changes
                          if c.path != s.path)
        kpis = result.kpis if n == 0 else (result.knee_kpi,)
        for kpi in kpis:
            display = SweepDisplay.from_result(s, kpi).plot()
            figures.append((f"Mean {kpi} against {s.path}" + (f" ({where})" if where else "")
                            + " with its 95 % interval, the staff cost and the knee",
                            _png(display)))
    text = _page(f"{result.name}: sweep of {', '.join(result.paths)}", result.summary(), figures)
    return atomic_write(path, lambda fh: fh.write(text))
