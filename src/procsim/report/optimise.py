"""The HTML pages of ``procsim optimise --report`` and ``procsim sweep --report``.

One self-contained file each: the terminal summary (every user text escaped) and the plots
as embedded PNGs, drawn by the Displays (:class:`~procsim.report.plots.ParetoDisplay`,
:class:`~procsim.report.sweep.SweepDisplay`). matplotlib is imported only when drawing.
"""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path
from typing import Any

from procsim.optimise import OptimiseResult
from procsim.sweep import GridSweepResult

__all__ = ["write_optimise_report", "write_sweep_report"]

_STYLE = """body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;
color:#222}pre{background:#f6f7f8;padding:1rem;overflow-x:auto;font-size:.85rem}
img{max-width:100%}h1{font-size:1.5rem}figcaption{color:#555;font-size:.9rem}"""


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


def write_optimise_report(result: OptimiseResult, path: str | os.PathLike[str]) -> Path:
    """The recommendation with its re-checked verdicts, what the search spent, and the
    cost–KPI Pareto front (:class:`~procsim.report.plots.ParetoDisplay`), as one HTML file."""
    from procsim.output import atomic_write
    from procsim.report.plots import ParetoDisplay

    figures = []
    if result.pareto_index() is not None and result.simulated:
        display = ParetoDisplay.from_result(result).plot()
        figures.append((f"Every simulated candidate: mean {result.objective} against "
                        f"{display.kpi}; the Pareto front joined, the target dashed, the "
                        "recommendation starred.", _png(display)))
    text = _page(f"{result.model.name}: the cheapest configuration meeting the key results",
                 result.summary(), figures)
    return atomic_write(path, lambda fh: fh.write(text))


def write_sweep_report(result: GridSweepResult, path: str | os.PathLike[str]) -> Path:
    """The table of a sweep and, for every sweep along the last path, the plot of the knee
    KPI with its interval, the cost and the knee (:class:`~procsim.report.sweep.
    SweepDisplay`), as one HTML file."""
    from procsim.output import atomic_write
    from procsim.report.sweep import SweepDisplay

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
