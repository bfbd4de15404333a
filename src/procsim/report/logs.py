"""Reports on event logs: the KPIs of a log (``procsim kpis --report``) and a back-test of a
model against a log (``procsim backtest --report``).

Like the run and comparison report (:mod:`procsim.report.writer`), and written by its
:func:`~procsim.report.writer.write_context`, each is written in the format its suffix names
(:data:`~procsim.report.writer.REPORT_FORMATS`): one self-contained HTML file (styles
inline, plots embedded as PNG images, no script, font or URL fetched), Markdown with the
plots as PNG files in ``<name>_files/`` beside it, or PDF (the HTML printed by WeasyPrint,
``pip install procsim[pdf]``). The content of each report is computed once from the result
objects (never from printed text), by one function for every format, and laid out by jinja2
templates (``templates/logs_*.html.j2`` and ``logs_*.md.j2``): activity, resource and file
names are the user's text, escaped by the HTML templates and passed through
:func:`~procsim.report.writer.markdown_text` (or ``markdown_code``) by the Markdown ones.
Plots are the Displays of :mod:`procsim.report.plots`. Every file is written to a temporary
sibling and renamed into place.

The results are duck-typed (:class:`procsim.eventlog.kpis.LogKpis`,
:class:`procsim.eventlog.fidelity.BacktestResult`): reports sit left of ``eventlog`` in the
layout, so nothing here imports it.

Examples
--------
>>> import numpy as np, pandas as pd, tempfile, pathlib
>>> from procsim.eventlog import EventLog
>>> from procsim.eventlog.kpis import log_kpis
>>> t = pd.to_datetime(["2026-01-05 09:00", "2026-01-05 09:10", "2026-01-05 09:30",
...                     "2026-01-05 10:45"])
>>> frame = pd.DataFrame({"case": ["c1", "c2"], "activity": ["a", "b"],
...     "resource": ["ann", "bob"], "start": t[[0, 2]], "end": t[[1, 3]],
...     "enabled": pd.to_datetime([pd.NaT, pd.NaT]), "line": [2, 3]})
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_log_report(log_kpis(EventLog(frame)), folder / "kpis.html").read_text().count("<img")
5
>>> write_log_report(log_kpis(EventLog(frame)), folder / "kpis.md").read_text().count("![")
5
>>> sorted(p.name for p in (folder / "kpis_files").iterdir())[:2]
['arrivals-hour.png', 'arrivals-weekday.png']
"""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from procsim.errors import UsageError, WrongTypeError
from procsim.report.plots import (
    LogDistributionDisplay,
    LogWaitingDisplay,
    ProfileDisplay,
    WipDisplay,
)
from procsim.report.writer import (
    REPORT_FORMATS,
    Figure,
    ReportContext,
    render_html,
    report_format,
    write_context,
)
from procsim.units import short_unit

__all__ = ["LOG_REPORT_FORMATS", "write_backtest_report", "write_log_report"]

#: The suffixes these reports can be written as: those of every report.
LOG_REPORT_FORMATS = tuple(REPORT_FORMATS)

#: How the log reports embed their plots in HTML and PDF.
_IMAGE = "png"

#: What each distance measure of a back-test is, for the report's table.
_MEASURES = {
    "n_gram": "3-gram distance of the activity sequences (0 to 1)",
    "absolute_event": "EMD of the start and end times of the events",
    "circadian_event": "EMD of the events' hour of the day, per weekday",
    "relative_event": "EMD of the events' times from the start of their case",
    "case_arrival": "EMD of the cases' arrival times",
    "inter_arrival": "EMD of the times between case arrivals",
    "cycle_time": "EMD of the cases' cycle times",
    "work_in_progress": "EMD of the active cases per hour",
}


def _figures(*figures: Figure) -> dict[str, Figure]:
    return {f.key: f for f in figures}


def _figure(key: str, display: Any, caption: str, alt: str) -> Figure:
    return Figure(key, display.figure_, caption, alt)


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or not math.isfinite(float(value)):
        return "n/a"
    value = float(value)
    if abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _moment(value: Any) -> str:
    return "n/a" if value is None else str(value.isoformat())


def _footer() -> dict[str, str]:
    from procsim.version import __version__

    return {"version": __version__,
            "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


# --- the KPIs of a log ----------------------------------------------------------------------


def log_report_html(kpis: Any, *, title: str | None = None) -> str:
    """The report on a log's KPIs as one self-contained HTML document."""
    return render_html(_kpis_context(kpis, title), template="logs_kpis", image=_IMAGE)


def write_log_report(kpis: Any, path: str | os.PathLike[str], *,
                     title: str | None = None) -> Path:
    """Write the report of the KPIs measured from a log; the format follows the suffix.

    ``kpis`` is a :class:`procsim.eventlog.kpis.LogKpis` (from
    :func:`procsim.eventlog.kpis.log_kpis`). The report shows the KPIs, their health against
    targets, the activities and resources (with utilisation against their working hours and
    where those come from), and plots of the cycle-time distribution, the
    arrivals by hour of the day and by day of the week, the work in progress over time and
    the waiting per activity.

    ``.html`` (or ``.htm``) is one self-contained file; ``.md`` writes the plots as PNG files
    into ``<name>_files/`` beside it; ``.pdf`` needs WeasyPrint (``pip install procsim[pdf]``).

    Raises
    ------
    ProcsimError
        For a path not ending in a suffix of :data:`LOG_REPORT_FORMATS`, or ``.pdf`` without
        WeasyPrint.
    OSError
        When a file cannot be written.
    """
    target = Path(path)
    report_format(target)  # before the plots are drawn
    return write_context(_kpis_context(kpis, title), target, template="logs_kpis",
                         image=_IMAGE)


def _kpis_context(k: Any, title: str | None) -> ReportContext:
    """The content of the report on a log's KPIs, for every format."""
    # By its parts, not its class: the report sits below procsim.eventlog (the layers).
    if not all(hasattr(k, a) for a in ("per_case", "case_statistics", "time_unit", "kpi")):
        raise WrongTypeError(f"expected the KPIs of a log (procsim.eventlog.kpis.log_kpis), "
                             f"got {type(k).__name__}")
    unit = short_unit(k.time_unit)
    rows = []
    for name in k.per_case:
        if name == "delay_time" and not float(k.per_case[name].sum() if k.per_case[name].size
                                              else 0.0):
            continue  # only with a model that has delays
        rows.append({"name": name, "unit": unit,
                     "values": [_fmt(k.kpi(name))] + [_fmt(k.kpi(name, f"p{q}"))
                                                      for q in (50, 90, 95)]})
    system = [{"name": "throughput_per_week", "value": _fmt(k.values["throughput_per_week"]),
               "unit": "cases/week"},
              {"name": "wip", "value": _fmt(k.values["wip"]), "unit": "cases (time-average)"}]
    for name, value in k.custom.items():
        kind = k.custom_kinds.get(name, "share")
        system.append({"name": name,
                       "value": f"{value:.1%}" if kind == "share" and math.isfinite(value)
                       else _fmt(value), "unit": unit if kind == "time" else kind})
    health = [{"name": name, "on_track": h.on_track,
               "value": (f"{h.value:.1%}" if h.kind == "share" and math.isfinite(h.value)
                         else _fmt(h.value)) + ("" if h.kind != "time" else f" {unit}"),
               "target": h.threshold.text} for name, h in k.health.items()]
    activities = [{"name": name, "count": f"{int(m['count']):,}",
                   "visits": _fmt(m["visits_per_case"], 3),
                   "share": f"{m['share_of_cases']:.1%}", "waiting": _fmt(m["waiting_time"]),
                   "processing": _fmt(m["processing_time"])}
                  for name, m in k.activities.items()]
    hours = getattr(k, "working_hours", {})
    resources = [{"name": name, "instances": f"{int(m['instances']):,}",
                  "busy": _fmt(m["busy_time"]), "utilization": _share(m["utilization"]),
                  "active": _share(m["utilization_of_active_span"]),
                  "working": _share(m.get("utilization_of_working_hours", math.nan)),
                  "hours": hours[name].text if name in hours else "n/a",
                  "basis": hours[name].basis if name in hours else ""}
                 for name, m in k.resources.items()]
    figures = _figures(
        _figure("cycle_time", LogDistributionDisplay.from_result(k).plot(kind="hist"),
                f"Cycle time of the {k.cases:,} cases (histogram up to the 99.5th percentile).",
                "Histogram of the cases' cycle times"),
        _figure("arrivals_hour", ProfileDisplay.from_result(k, "arrivals_by_hour").plot(),
                "Case arrivals (first start) by hour of the day, in the log's local time.",
                "Bar chart of case arrivals by hour of the day"),
        _figure("arrivals_weekday",
                ProfileDisplay.from_result(k, "arrivals_by_weekday").plot(),
                "Case arrivals by day of the week.",
                "Bar chart of case arrivals by day of the week"),
    )
    if k.wip_series:
        figures["wip"] = _figure("wip", WipDisplay.from_result(k).plot(),
                                 "Cases in progress (between their start and their end), "
                                 "averaged over each of 100 windows of the log's period.",
                                 "Line chart of the work in progress over time")
    figures["waiting"] = _figure("waiting", LogWaitingDisplay.from_result(k).plot(),
                                 "Mean waiting time per visit of each activity (from its "
                                 "enabled time, else from the case's previous end).",
                                 "Bar chart of the mean waiting time per activity")
    data = {
        "title": title or f"KPIs of {k.file or 'the event log'}",
        "file": k.file or "<log>", "cases": f"{k.cases:,}", "events": f"{k.events:,}",
        "first": _moment(k.first), "last": _moment(k.last),
        "time_zone": k.time_zone or "none (local times)", "dropped": k.dropped,
        "time_unit": k.time_unit, "unit": unit, "kpi_rows": rows, "system": system,
        "health": health, "off_track": list(k.off_track), "activities": activities,
        "resources": resources, "calendars_from": getattr(k, "calendars_from", None),
        "footer": _footer(),
    }
    return ReportContext(data, figures)


def _share(value: float) -> str:
    return f"{value:.1%}" if math.isfinite(value) else "n/a"


# --- a back-test ------------------------------------------------------------------------------


def write_backtest_report(result: Any, path: str | os.PathLike[str], *,
                          model: str | None = None, log: str | None = None,
                          seed: int | None = None, first: str | None = None,
                          test_from: str | None = None, title: str | None = None) -> Path:
    """Write the report of a back-test of a model against a log; the format follows the
    suffix of ``path``, as for :func:`write_log_report`.

    ``result`` is a :class:`procsim.eventlog.fidelity.BacktestResult` from
    :func:`procsim.eventlog.fidelity.backtest` (which keeps the KPIs of the log and of each
    simulated log for the overlays). The report shows the distance measures with their
    intervals, the KPIs side by side, and overlays of the log and the simulation: the ECDF of
    the cycle time, the events per hour of the day and the waiting per activity. ``model``,
    ``log``, ``seed``, ``first`` (the simulation's start) and ``test_from`` are shown as given.

    Raises
    ------
    ProcsimError
        For a path not ending in a suffix of :data:`LOG_REPORT_FORMATS`, or ``.pdf`` without
        WeasyPrint.
    ValueError
        For a result without the KPIs of its logs.
    OSError
        When a file cannot be written.
    """
    target = Path(path)
    report_format(target)  # before the plots are drawn
    if not all(hasattr(result, a) for a in ("log_kpis", "simulated_kpis", "distances")):
        raise WrongTypeError(f"expected a BacktestResult (procsim.eventlog.fidelity.backtest), "
                             f"got {type(result).__name__}")
    if result.log_kpis is None or not result.simulated_kpis:
        raise UsageError("the back-test result holds no KPIs of its logs; make it with "
                         "procsim.eventlog.fidelity.backtest")
    return write_context(_backtest_context(result, model=model, log=log, seed=seed,
                                           first=first, test_from=test_from, title=title),
                         target, template="logs_backtest", image=_IMAGE)


def _backtest_context(r: Any, *, model: str | None, log: str | None, seed: int | None,
                      first: str | None, test_from: str | None, title: str | None
                      ) -> ReportContext:
    """The content of the report on a back-test, for every format."""
    pct = f"{r.confidence:.0%}"
    unit = short_unit(r.time_unit)
    units = r.to_dict()["distances"]
    distances = [{"name": name, "what": _MEASURES.get(name, ""),
                  "mean": _fmt(e.mean), "ci": f"[{_fmt(e.ci[0])}, {_fmt(e.ci[1])}]",
                  "unit": units[name]["unit"]} for name, e in r.distances.items()]
    kpis = [{"name": name, "log": _fmt(c.log), "simulated": _fmt(c.simulated.mean),
             "ci": f"[{_fmt(c.simulated.ci[0])}, {_fmt(c.simulated.ci[1])}]",
             "prediction": f"[{_fmt(c.prediction[0])}, {_fmt(c.prediction[1])}]",
             "inside": c.inside} for name, c in r.kpis.items()]
    overlays = {"log": r.log_kpis, "simulation": list(r.simulated_kpis)}
    reps = f"{r.replications} replications pooled"
    figures = _figures(
        _figure("cycle_time", LogDistributionDisplay.from_result(overlays).plot(kind="ecdf"),
                f"Cycle time: the log's cases against the simulated ones ({reps}).",
                "ECDF of the cycle time of the log and of the simulation"),
        _figure("events_hour", ProfileDisplay.from_result(overlays, "events_by_hour").plot(),
                "Activity starts by hour of the day, in the log's local time; the bars of "
                "the simulation span its replications.",
                "Bar chart of activity starts per hour, log against simulation"),
        _figure("waiting", LogWaitingDisplay.from_result(overlays).plot(),
                "Mean waiting time per visit of each activity; the simulation's bar is the "
                "mean of its replications, the error bar their range.",
                "Bar chart of waiting per activity, log against simulation"),
    )
    inside = sum(1 for c in r.kpis.values() if c.inside)
    lk = r.log_kpis
    data = {
        "title": title or f"Back-test of {model or 'the model'} against {log or 'the log'}",
        "model": model or "n/a", "log": log or lk.file or "<log>",
        "cases": f"{lk.cases:,}", "events": f"{lk.events:,}", "first": first or "n/a",
        "test_from": test_from, "replications": r.replications,
        "seed": "n/a" if seed is None else seed, "pct": pct, "unit": unit,
        "time_unit": r.time_unit, "time_zone": lk.time_zone or "none (local times)",
        "distances": distances, "kpis": kpis, "inside": inside, "kpi_count": len(r.kpis),
        "footer": _footer(),
    }
    return ReportContext(data, figures)
