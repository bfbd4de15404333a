"""The report for decision-makers: one self-contained HTML file, Markdown, or PDF.

The report is built from the same result objects as ``--json`` (never from printed text):
:func:`report_context` turns a run or a comparison into plain data and matplotlib figures,
and jinja2 templates (``templates/``) lay them out. The HTML file needs nothing else: styles
are inline, plots are embedded SVG images, no script, font or URL is fetched, and it
prints cleanly. Markdown puts PNG plots in a folder beside the file. PDF prints the HTML
with WeasyPrint (``pip install procsim[pdf]``).

Names and descriptions are the user's text and are shown as text, never read as markup: the
HTML template escapes every value (jinja2's autoescape); the Markdown template passes every
value through :func:`markdown_text` (or :func:`markdown_code`), and only what the writer marks
as its own Markdown (links to the plots) goes out as it is.

Every file is written to a temporary sibling and renamed into place, so an interrupted run
never leaves a half-written report.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import os
import platform
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from procsim.compare import (
    ComparisonResult,
    row_scale,
    scorecard_data,
    scorecard_html,
)
from procsim.errors import ProcsimError, WrongTypeError
from procsim.kpi import PERCENTILES, RunResult
from procsim.okr import Verdict, kpi_health
from procsim.report.plots import (
    ActivityTimeDisplay,
    DistributionDisplay,
    ProcessMapDisplay,
    QueueDisplay,
    UtilizationDisplay,
    literal_text,
    series_of,
)
from procsim.units import short_unit

__all__ = ["REPORT_FORMATS", "Figure", "ReportContext", "markdown_code", "markdown_text",
           "provenance", "render_html", "report_context", "report_format", "scorecard_html",
           "write_context", "write_report"]

#: File suffix → report format.
REPORT_FORMATS = {".html": "html", ".htm": "html", ".md": "markdown", ".pdf": "pdf"}

_HEALTH = {"met": ("✓", "on track"), "not_met": ("✗", "off track"),
           "inconclusive": ("?", "unclear")}
_DEPENDENCIES = ("simpy", "numpy", "scipy", "networkx", "matplotlib", "pydantic", "pyyaml",
                 "jinja2")


@dataclass
class Figure:
    """A figure of the report: a matplotlib figure with its caption and alternative text."""

    key: str
    figure: Any
    caption: str
    alt: str
    src: str = ""        # filled in by the writer: a data URI (HTML) or a relative path (Markdown)

    @property
    def width_px(self) -> int:
        """The figure's natural width on screen (CSS pixels): a small figure is not blown up."""
        return round(float(self.figure.get_size_inches()[0]) * 96)


@dataclass
class ReportContext:
    """Everything a report shows, as plain data and figures (see :func:`report_context`)."""

    data: dict[str, Any]
    figures: dict[str, Figure] = field(default_factory=dict)


# --- content --------------------------------------------------------------------------------


def report_context(result: RunResult | ComparisonResult, *, title: str | None = None
                   ) -> ReportContext:
    """The content of the report for a run or a comparison."""
    if isinstance(result, ComparisonResult):
        return _comparison_context(result, title)
    if isinstance(result, RunResult):
        return _run_context(result, title)
    raise WrongTypeError(f"expected a RunResult or a ComparisonResult, got {type(result).__name__}")


def _fmt(value: float, digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _ci(lo: float, hi: float, digits: int = 4) -> str:
    return f"[{_fmt(lo, digits)}, {_fmt(hi, digits)}]"


def _percent_text(confidence: float) -> str:
    return f"{confidence:.1%}".replace(".0%", "%")


def _unit(unit: str) -> str:
    return "" if unit == "share" else short_unit(unit)


def _health_units(model: Any) -> dict[str, str]:
    """Each custom KPI's unit as shown beside its value ("share" for a share of cases)."""
    from procsim.model.targets import kpi_kind

    units = {"time": _unit(model.time_unit), "money": model.currency or "",
             "rate": "cases/h", "count": "cases"}
    out = {}
    for name in model.kpis:
        kind = kpi_kind(name, model.kpis) or "time"
        out[name] = "share" if kind == "share" else units.get(kind, "")
    return out


def _health_rows(columns: list[str], health: list[dict[str, Verdict]], units: dict[str, str]
                 ) -> list[dict[str, Any]]:
    rows = []
    for name in health[0]:
        cells = []
        for h in health:
            v = h[name]
            symbol, label = _HEALTH[v.status]
            value = v.estimate.mean
            unit = units.get(name, "")
            shown = (f"{value:.1%}" if unit == "share"
                     else f"{_fmt(value)} {unit}".rstrip())
            cells.append({"status": v.status, "symbol": symbol, "label": label, "value": shown})
        rows.append({"name": name, "target": health[0][name].threshold.text, "cells": cells})
    return rows


def _bottleneck_rows(run: RunResult, top: int = 5) -> list[dict[str, Any]]:
    unit = _unit(run.time_unit)
    return [{"rank": k + 1, "activity": b.activity, "pool": b.pool,
             "wait_per_case": f"{_fmt(b.wait_per_case.mean, 3)} {unit}",
             "ci": _ci(*b.wait_per_case.ci, 3),
             "share": f"{b.share_of_waiting:.0%}",
             "wait_per_visit": f"{_fmt(b.wait_per_visit.mean, 3)} {unit}",
             "visits": f"{b.visits_per_case:.2f}",
             "utilization": f"{b.utilization.mean:.0%}"}
            for k, b in enumerate(run.bottlenecks(top))]


def _distribution_targets(result: Any, kpi: str) -> dict[str, float]:
    """Target lines for a case KPI: key results and KPI health thresholds on it."""
    out: dict[str, float] = {}
    if isinstance(result, ComparisonResult):
        base = result.baseline
        for kr in result.key_results:
            if kr.kpi == kpi and kr.relative and kr.stat == "mean":
                value = base.kpi(kpi).mean * (1 + kr.threshold.value)
                out[f"KR: mean {kr.threshold.text} vs baseline"] = value
            elif kr.kpi == kpi and not kr.relative:
                out[f"KR: {kr.stat} {kr.threshold.text}"] = kr.threshold.value
        model = base.model
    else:
        model = result.model
    from procsim.model.targets import kpi_target

    for name, spec in model.kpis.items():
        if not getattr(spec, "target", None):
            continue
        if getattr(spec, "of", None) == kpi:
            threshold = kpi_target(model, name)  # reads "<= 2wd" for working_cycle_time too
            out[f"{name}: {spec.stat} {threshold.text}"] = threshold.value
        elif getattr(spec, "share", None) == kpi and spec.within is not None:
            out[f"{name}: {spec.target} within {_fmt(spec.within)} "
                f"{_unit(model.time_unit)}"] = spec.within
    # One line per value: the first label names it.
    seen: set[float] = set()
    return {k: v for k, v in out.items() if not (v in seen or seen.add(v))}  # type: ignore[func-returns-value]


def _figures(result: Any, runs: list[tuple[str, RunResult]]) -> dict[str, Figure]:
    from matplotlib.figure import Figure as MplFigure

    figures: dict[str, Figure] = {}
    first = runs[0][1]
    unit = _unit(first.time_unit)
    currency = first.model.currency or "currency units"
    for kpi, what in (("cycle_time", f"cycle time ({unit})"),
                      ("cost_per_case", f"cost per case ({currency})")):
        display = DistributionDisplay.from_result(result, kpi=kpi,
                                                  target=_distribution_targets(result, kpi))
        fig = MplFigure(figsize=(10, 4.2 + 0.35 * len(runs)), layout="constrained")
        left, right = fig.subplots(1, 2, width_ratios=[1.25, 1])
        display.plot(left, kind="ecdf")
        display.plot(right, kind="box")
        right.set_xlabel(display.axis_label)
        figures[kpi] = Figure(
            kpi, fig,
            f"Distribution of {what} over cases. Left: share of cases at or below each value "
            "(read the 90th percentile where a line crosses 90 %). Right: box = middle half of "
            "cases, whiskers = 5th–95th percentile, ◇ = mean. Dashed lines: targets.",
            f"Distribution of {what} per scenario")
    activities = ActivityTimeDisplay.from_result(result)
    n_act = len(activities.activities)
    fig = MplFigure(figsize=(10, 1.0 + n_act * (0.3 + 0.2 * len(runs))), layout="constrained")
    activities.plot(fig.add_subplot())
    figures["activities"] = Figure(
        "activities", fig,
        "Mean waiting (solid) and processing (light) time per visit of each activity; "
        "hatched bars are delays without a resource (e.g. waiting for the customer)."
        + _left_out_sentence(n_act, activities.left_out, "activities",
                             "where cases wait most (waiting per case)"),
        "Waiting and processing time per activity")
    if first.model.resources:
        pools = UtilizationDisplay.from_result(result)
        n_pools = len(pools.pools)
        fig = MplFigure(figsize=(10, 1.0 + n_pools * (0.3 + 0.25 * len(runs))),
                        layout="constrained")
        pools.plot(fig.add_subplot())
        figures["utilization"] = Figure(
            "utilization", fig,
            "Share of the pool's capacity that is busy, with the 95 % confidence interval, and "
            "the capacity (staff) behind it. Above about 85 %, queues grow quickly."
            + _left_out_sentence(n_pools, pools.left_out, "pools", "that are busiest"),
            "Utilisation per resource pool")
        busiest = sorted(first.model.resources,
                         key=lambda p: -first.resource(p, "queue_length").mean)[:2]
        fig = MplFigure(figsize=(10, 3.2), layout="constrained")
        axes = fig.subplots(1, len(busiest), squeeze=False)[0]
        for ax, pool in zip(axes, busiest, strict=True):
            QueueDisplay.from_result(result, pool).plot(ax)
            ax.set_title(literal_text(pool), fontsize=10)
        figures["queues"] = Figure(
            "queues", fig,
            "Cases waiting for the busiest pools over simulated time: mean over replications "
            "(line) and the 10th–90th percentile of replications (band). Before the dotted "
            "line the system is still filling up and is not measured.",
            "Queue length over simulated time for the busiest pools")
    vmax = max([max([np.nan_to_num(run.activity(a, "waiting_time").mean)
                     for a in run.model.activities] or [0.0]) for _, run in runs] + [1e-9])
    for k, (name, run) in enumerate(runs):
        process_map = ProcessMapDisplay.from_result(run, name=name, vmax=vmax).plot()
        summary = ""
        if process_map.left_out:
            shown = sum(kind == "activity" for kind in process_map.kinds.values())
            summary = (f" This model is large: the map shows the {shown} of its "
                       f"{process_map.activity_count} activities where cases wait most "
                       f"(waiting per case) and leaves out {process_map.left_out} steps "
                       "(activities and gateways); a dashed arrow stands for a path through "
                       "left-out steps.")
        figures[f"map{k}"] = Figure(
            f"map{k}", process_map.figure_,
            f"Process map of {name}: arrows are labelled with cases per case that pass along "
            "them (their width follows); boxes are coloured by the mean wait per visit, on "
            "one colour scale for every map; red arcs are loops back (rework)." + summary,
            f"Process map of {name}")
    return figures


def _left_out_sentence(shown: int, left_out: int, what: str, which: str) -> str:
    """The sentence a caption adds when a plot leaves some activities or pools out."""
    if not left_out:
        return ""
    return (f" This model is large: the plot shows the {shown} of {shown + left_out} {what} "
            f"{which}, in the model's order, and leaves out {left_out}.")


def _method(runs: list[tuple[str, RunResult]], confidence: float, adjustment: str,
            extra: list[tuple[str, str]]) -> dict[str, Any]:

    first = runs[0][1]
    measured = [r.cases["cycle_time"].size for r in first.per_replication]
    arrivals = [w + m for w, m in zip(first.warmup, measured, strict=True)]
    settings = [
        ("Seed", str(first.seed)),
        ("Replications", f"{first.replications} (independent; common random numbers across "
                         "models)" if len(runs) > 1 else str(first.replications)),
        ("Horizon", f"{_span(arrivals)} arrivals per replication, each run until every case "
                    "has finished"),
        ("Warm-up", f"{_warmup_setting(first)} → {_span(first.warmup)} cases dropped per "
                    "replication"),
        ("Measured cases", f"{sum(measured):,} in all ({_span(measured)} per replication)"),
        ("Confidence", f"{_percent_text(confidence)} intervals (Student t across replications;"
                       f" adjustment: {adjustment})"),
        *extra,
    ]
    if first.precision is not None:
        targets = ", ".join(k if s == "mean" else f"{k} {s}" for k, s in first.precision_kpis)
        settings.insert(2, ("Replications chosen", f"automatically, until {targets} within "
                            f"±{first.precision:.0%} of the value (at least "
                            f"{first.model.run.min_replications}, at most "
                            f"{first.model.run.max_replications})"))
    settings += [("Note", note) for note in first.notes]
    return {"settings": settings, **provenance([(name, r.model) for name, r in runs])}


def provenance(models: list[tuple[str, Any]]) -> dict[str, Any]:
    """What a report's Method section lists besides its settings: every input file of
    ``models`` (``(name, model)`` pairs: the model, its base and its OKRs) with its SHA-256,
    procsim's, Python's and the dependencies' versions, the platform and the time of writing.

    >>> from procsim import load_model
    >>> sorted(provenance([("desk", load_model("models/service_desk.yaml"))]))
    ['files', 'generated', 'platform', 'versions']
    """
    from procsim.version import __version__

    files: list[dict[str, str]] = []
    for name, model in models:
        for label, path in (("model", model.file), ("base", model.base_file),
                            ("OKRs", model.okrs_file)):
            if path and os.path.isfile(path) and all(f["path"] != path for f in files):
                digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
                files.append({"name": name, "role": label, "path": path, "sha256": digest})
    versions = [("procsim", __version__), ("Python", platform.python_version())]
    for dist in _DEPENDENCIES:
        try:
            versions.append((dist, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            versions.append((dist, "not installed"))
    return {"files": files, "versions": versions,
            "platform": f"{platform.system()} {platform.machine()}",
            "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def _warmup_setting(run: RunResult) -> str:
    setting = run.warmup_setting
    if setting == "auto":
        return "auto (MSER-5)"
    if isinstance(setting, float):  # a duration, in the model's time unit
        return f"the first {_readable(setting, run.time_unit)} of arrivals"
    return f"the first {setting} cases"


def _span(values: list[int]) -> str:
    return f"{min(values):,}" if min(values) == max(values) else f"{min(values):,}–{max(values):,}"


def _kpi_rows(run: RunResult) -> list[dict[str, Any]]:
    rows = []
    for name in run.kpi_names:
        k = run.kpi(name)
        share = k.unit == "share"
        show = (lambda v: f"{v:.1%}") if share else _fmt
        rows.append({"name": name, "mean": show(k.mean),
                     "ci": f"[{show(k.estimate.ci[0])}, {show(k.estimate.ci[1])}]",
                     "percentiles": [show(k.percentiles[f"p{q}"]) if f"p{q}" in k.percentiles
                                     else "" for q in PERCENTILES],
                     "unit": "" if share else _unit(k.unit)})
    return rows


def _comparison_context(result: ComparisonResult, title: str | None) -> ReportContext:
    base = result.baseline
    runs = [(s.name, s.result) for s in series_of(result)]
    colors = {s.name: s.color for s in series_of(result)}
    units = _health_units(base.model)
    health_cols = ["baseline", *(s.name for s in result.scenarios)]
    health = _health_rows(health_cols, [result.baseline_health,
                                        *(s.health for s in result.scenarios)], units) \
        if result.baseline_health else []
    differences = []
    for i, kc in enumerate(result.scenarios[0].kpis if result.scenarios else []):
        row = [s.kpis[i] for s in result.scenarios]
        scale = row_scale(row)
        cells = []
        for c in row:
            shown = c.formatted(scale)
            share = c.unit == "share"
            cells.append({"value": shown["scenario"] + ("%" if share else ""),
                          "difference": shown["difference"] + (" pts" if share else ""),
                          "ci": shown["difference_ci"],
                          "relative": shown["relative"],
                          "distinguishable": c.distinguishable})
        first = kc.formatted(scale)
        differences.append({"label": kc.label,
                            "unit": "" if kc.unit == "share" else first["unit"],
                            "baseline": first["baseline"] + ("%" if kc.unit == "share" else ""),
                            "baseline_ci": first["baseline_ci"], "cells": cells})
    changes = [{"name": s.name, "file": s.model.file or "(built in Python)",
                "color": colors[s.name],
                "rows": [{"path": c.path, "kind": c.kind,
                          "before": "(new)" if c.kind == "add" else _yaml(c.before),
                          "after": "(removed)" if c.kind == "remove" else _yaml(c.after)}
                         for c in s.model.changes]}
               for s in result.scenarios]
    extra = []
    if result.precision is not None:
        extra.append(("Replications chosen", f"automatically, rounds "
                      f"{' → '.join(map(str, result.rounds))}, for ±{result.precision:.0%}"))
    data = {
        "kind": "compare",
        "title": title or f"{base.model.name}: will the improvements reach the key results?",
        "baseline": base.model.name,
        "series": [{"name": n, "color": colors[n]} for n, _ in runs],
        "recommendation": result.recommendation(),
        "scorecard": scorecard_data(result) if result.key_results else None,
        "scorecard_html": scorecard_html(result, standalone=False) if result.key_results else "",
        "health_columns": health_cols,
        "health": health,
        "differences": differences,
        "difference_columns": [s.name for s in result.scenarios],
        "confidence": _percent_text(result.confidence),
        "bottlenecks": [{"name": n, "color": colors[n], "rows": _bottleneck_rows(r)}
                        for n, r in runs if r.model.resources],
        "changes": changes,
        "maps": [f"map{k}" for k in range(len(runs))],
        "method": _method(runs, result.confidence, result.adjustment, extra),
        "headline": _headline(base),
    }
    return ReportContext(data, _figures(result, runs))


def _run_context(run: RunResult, title: str | None) -> ReportContext:
    units = _health_units(run.model)
    health = kpi_health(run, run.model)
    data = {
        "kind": "run",
        "title": title or f"{run.model.name}: simulation results",
        "baseline": run.model.name,
        "description": run.model.description or "",
        "series": [{"name": s.name, "color": s.color} for s in series_of(run)],
        "recommendation": None,
        "scorecard": None,
        "headline": _headline(run),
        "kpis": _kpi_rows(run),
        "health_columns": [run.model.name],
        "health": _health_rows([run.model.name], [health], units) if health else [],
        "differences": [],
        "bottlenecks": [{"name": run.model.name, "color": series_of(run)[0].color,
                         "rows": _bottleneck_rows(run)}] if run.model.resources else [],
        "changes": [],
        "maps": ["map0"],
        "method": _method([(run.model.name, run)], 0.95, "none", []),
    }
    return ReportContext(data, _figures(run, [(run.model.name, run)]))


def _readable(amount: float, unit: str, *, like: float | None = None) -> str:
    """A duration in the largest unit that keeps ``like`` (default: ``amount``) at least 2:
    ``"16.1 days"``, ``"95 min"``. Pass the largest of several values as ``like`` so that a
    sentence uses one unit."""
    from procsim.units import to_hours

    hours = to_hours(amount, unit)
    scale = abs(to_hours(like if like is not None else amount, unit))
    if scale >= 48:
        return f"{_fmt(hours / 24, 3)} days"
    if scale >= 2:
        return f"{_fmt(hours, 3)} h"
    if scale * 60 >= 2:
        return f"{_fmt(hours * 60, 3)} min"
    return f"{_fmt(hours * 3600, 3)} s"


def _headline(run: RunResult) -> list[str]:
    """Three sentences on the run: cycle time, the busiest pool, the biggest wait."""
    unit = _unit(run.time_unit)
    ct = run.kpi("cycle_time")
    lo, hi = ct.estimate.ci
    p90 = ct.percentiles["p90"]
    top = max(p90, hi)
    out = [f"Cases take {_readable(ct.mean, run.time_unit, like=top)} on average (95 % CI "
           f"{_readable(lo, run.time_unit, like=top)} to {_readable(hi, run.time_unit, like=top)});"
           f" 9 in 10 finish within {_readable(p90, run.time_unit, like=top)}."]
    if run.model.resources:
        pool = max(run.model.resources, key=lambda p: run.resource(p, "utilization").mean)
        out.append(f"The busiest pool is {pool}, busy "
                   f"{run.resource(pool, 'utilization').mean:.0%} of the time with "
                   f"{run.model.resources[pool].capacity} staff.")
        ranked = run.bottlenecks(1)
        if ranked and ranked[0].wait_per_case.mean > 0:
            b = ranked[0]
            out.append(f"Most waiting happens before {b.activity} ({b.share_of_waiting:.0%} of "
                       f"all waiting, {_fmt(b.wait_per_case.mean, 3)} {unit} per case).")
    return out


def _yaml(value: Any) -> str:
    from procsim.model.scenario import flow_yaml

    return flow_yaml(value, 120)


# --- rendering ------------------------------------------------------------------------------


class _Markdown(str):
    """Markdown written by the report itself (not the user's text): output as it is."""


#: Characters that are Markdown syntax anywhere in a line (CommonMark, GitHub's tables,
#: strikethrough and ``$`` maths, and ``{…}`` attribute lists of some renderers).
_MARKDOWN_SYNTAX = re.compile(r"[\\`*_{}\[\]#|$~]")


def markdown_text(value: Any) -> str:
    """``value`` as Markdown that renders as the text itself, on one line.

    ``&``, ``<`` and ``>`` become character references (no HTML tag, comment or autolink can
    start); characters of inline syntax (emphasis, code, links and images, headings, table
    cells, strikethrough, maths) are escaped with a backslash; a start that would open a
    block (a list item such as ``- x`` or ``1. x``, a thematic break) is escaped too; line
    breaks and runs of spaces become one space, so that a table row or a heading stays one
    line. The result is safe in a paragraph, a heading, a list item, a table cell and an
    image's alternative text.

    >>> markdown_text("<img src=x onerror=alert(1)> | *a_b* [x](javascript:y)")
    '&lt;img src=x onerror=alert(1)&gt; \\\\| \\\\*a\\\\_b\\\\* \\\\[x\\\\](javascript:y)'
    >>> markdown_text("1. first\\n- second")
    '1\\\\. first - second'
    """
    if isinstance(value, _Markdown):
        return value
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_SYNTAX.sub(lambda m: "\\" + m.group(), text)
    # At the start of a line: "-", "+", "=" open a list item, a thematic break or a setext
    # heading (but "-5" is a number); "12." and "12)" an ordered list item.
    text = re.sub(r"^([-+=])(?![0-9])", r"\\\1", text)
    return re.sub(r"^([0-9]{1,9})([.)])(?=\s|$)", r"\1\\\2", text)


def markdown_code(value: Any, *, table: bool = True) -> str:
    """``value`` as a Markdown code span that shows it as written, on one line.

    Nothing inside a code span is markup; the fence is one backtick longer than the longest
    run of backticks in ``value``. In a table cell (``table=True``) ``|`` is escaped, as GitHub
    splits a row into cells before it reads code spans (the backslash is not shown).

    >>> markdown_code("a ``b`` c")
    '```a ``b`` c```'
    >>> markdown_code("x|y"), markdown_code("x|y", table=False)
    ('`x\\\\|y`', '`x|y`')
    """
    text = " ".join(str(value).split())
    if not text:
        return _Markdown("")
    if table:
        text = text.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text[0] == "`" or text[-1] == "`" else ""
    return _Markdown(f"{fence}{pad}{text}{pad}{fence}")


def _environment(markdown: bool = False) -> Any:
    import jinja2

    if markdown:
        # Every value in the template is the user's text unless the writer made it Markdown.
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("procsim.report", "templates"), autoescape=False,
            finalize=markdown_text, trim_blocks=True, lstrip_blocks=True,
            keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
        env.filters["code"] = markdown_code
        return env
    return jinja2.Environment(
        loader=jinja2.PackageLoader("procsim.report", "templates"),
        autoescape=jinja2.select_autoescape(["html.j2"]),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def _svg_uri(fig: Any) -> str:
    buffer = io.BytesIO()
    # Text as paths: the SVG then looks the same in every browser and needs no font.
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "procsim"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()


def _png_uri(fig: Any) -> str:
    return "data:image/png;base64," + base64.b64encode(_png(fig)).decode("ascii")


def render_html(context: ReportContext, *, template: str = "report", image: str = "svg"
                ) -> str:
    """The report as one self-contained HTML document.

    ``template`` names the layout, ``templates/<template>.html.j2``; ``image`` is how the
    plots are embedded: ``"svg"`` (text drawn as paths) or ``"png"``.
    """
    uri = {"svg": _svg_uri, "png": _png_uri}[image]
    for fig in context.figures.values():
        fig.src = uri(fig.figure)
    return str(_environment().get_template(f"{template}.html.j2").render(
        **context.data, figures=context.figures))



def write_report(result: RunResult | ComparisonResult, path: str | os.PathLike[str], *,
                 title: str | None = None) -> Path:
    """Write the report of a run or a comparison; the format follows the suffix of ``path``.

    ``.html`` is one self-contained file; ``.md`` writes PNG plots into ``<name>_files/``
    beside it; ``.pdf`` needs WeasyPrint (``pip install procsim[pdf]``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from procsim import load_model, simulate
    >>> run = simulate(load_model("models/service_desk.yaml"), replications=2, seed=1)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "desk.html"
    >>> write_report(run, out).read_text(encoding="utf-8").count("<img")
    6
    """
    target = Path(path)
    report_format(target)  # before the work: a bad suffix or no WeasyPrint is said at once
    return write_context(report_context(result, title=title), target)


def report_format(path: str | os.PathLike[str]) -> str:
    """The format of a report written to ``path``: ``"html"``, ``"markdown"`` or ``"pdf"``.

    Raises
    ------
    ProcsimError
        For a suffix not in :data:`REPORT_FORMATS`, or for ``.pdf`` without WeasyPrint.

    Examples
    --------
    >>> report_format("out/desk.MD")
    'markdown'
    """
    target = Path(path)
    fmt = REPORT_FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise ProcsimError(f"{target}: expected a report file ending in "
                           f"{', '.join(REPORT_FORMATS)}, got '{target.suffix or 'no suffix'}'")
    if fmt == "pdf":
        _weasyprint(target)
    return fmt


def _weasyprint(target: Path) -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:
        raise ProcsimError(
            f"{target}: PDF reports need WeasyPrint: pip install 'procsim[pdf]' "
            f"(or write .html and print it from a browser) [{exc.__class__.__name__}]"
        ) from None
    return weasyprint


def write_context(context: ReportContext, path: str | os.PathLike[str], *,
                  template: str = "report", image: str = "svg") -> Path:
    """Write a report's content in the format that the suffix of ``path`` names.

    The layout is ``templates/<template>.html.j2`` for HTML and PDF (plots embedded as
    ``image``, see :func:`render_html`) and ``templates/<template>.md.j2`` for Markdown, whose
    PNG plots go into ``<name>_files/`` beside it; :func:`write_report` and the reports on
    event logs (:mod:`procsim.report.logs`) write through it. Every file is written to a
    temporary sibling and renamed into place.

    Raises
    ------
    ProcsimError
        As :func:`report_format`.
    OSError
        When a file cannot be written.
    """
    from procsim.output import atomic_write, atomic_write_bytes

    target = Path(path)
    fmt = report_format(target)
    if fmt == "html":
        html = render_html(context, template=template, image=image)
        return atomic_write(target, lambda fh: fh.write(html))
    if fmt == "pdf":
        html = render_html(context, template=template, image=image)
        pdf = _weasyprint(target).HTML(string=html).write_pdf()
        return atomic_write_bytes(target, pdf)
    folder = target.with_name(f"{target.stem}_files")
    folder.mkdir(exist_ok=True)
    for fig in context.figures.values():
        name = f"{_slug(fig.key)}.png"
        atomic_write_bytes(folder / name, _png(fig.figure))
        # Percent-encoded: a space, a parenthesis or a "<" in the file's name ends no link.
        fig.src = _Markdown(quote(f"{folder.name}/{name}"))
    markdown = _environment(markdown=True).get_template(f"{template}.md.j2").render(
        **context.data, figures=context.figures)
    return atomic_write(target, lambda fh: fh.write(markdown))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
