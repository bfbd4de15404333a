"""Plots of run and comparison results: compute once, draw on any matplotlib ``Axes``.

Every plot is a *Display* in the manner of scikit-learn: ``from_result`` computes what
is drawn (small arrays, no figure), ``plot(ax=None)`` draws it on the given axes (or a new
figure) and returns the display, with ``ax_`` and ``figure_`` set. Notebooks and the
reports use the same classes, so a figure in a report is the figure a notebook shows.

``result`` is a :class:`~procsim.RunResult`, a :class:`~procsim.compare.ComparisonResult`
(baseline first, then the scenarios) or a mapping of names to run results. Each series
keeps one colour in every figure: the baseline is grey, scenarios follow
:data:`PALETTE` (Okabe–Ito, readable by colour-blind readers and in greyscale print).

Names are the user's text: every one goes through :func:`literal_text`, so that a ``$`` is
drawn as a dollar sign, never read as mathtext (a name such as ``cost $x^2$`` would be typeset,
and ``$\\frac{1}$`` would stop the report). Legends get their handles and labels explicitly,
so that a name starting with ``_`` is shown rather than taken for matplotlib's "no legend".
Plots of activities and pools, and the process map, show at most :data:`PLOT_LIMIT`
activities or pools (those where cases wait most) and say how many they leave out: a large
model's figures then stay readable and take time and memory in proportion to what they show.

matplotlib is imported only when something is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from procsim.errors import UsageError, WrongTypeError
from procsim.kpi import RunResult
from procsim.stats import Estimate
from procsim.units import short_unit

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "PALETTE",
    "PLOT_LIMIT",
    "ActivityTimeDisplay",
    "DistributionDisplay",
    "LogDistributionDisplay",
    "LogWaitingDisplay",
    "ParetoDisplay",
    "ProcessMapDisplay",
    "ProfileDisplay",
    "QueueDisplay",
    "UtilizationDisplay",
    "WipDisplay",
    "literal_text",
    "new_axes",
    "rank_activities",
    "series_of",
]

#: Baseline grey, then the Okabe–Ito colours for scenarios, in order.
PALETTE = ["#5f6b73", "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9",
           "#8C6D31"]

#: The most activities (or pools) a plot shows by default; a larger model is summarised.
PLOT_LIMIT = 30


def literal_text(text: Any) -> str:
    """``text`` for a matplotlib label, drawn as written: ``$`` is never read as mathtext.

    Matplotlib typesets text between two unescaped dollar signs and raises on bad mathtext;
    an escaped ``\\$`` is drawn as ``$`` whether or not the rest of the string is mathtext,
    and no ``$`` is left unescaped, so the string is never mathtext.

    >>> literal_text("cost $x^2$")
    'cost \\\\$x^2\\\\$'
    """
    return str(text).replace("$", r"\$")


@dataclass(frozen=True)
class Series:
    """One named run in a figure, with its colour."""

    name: str
    result: RunResult
    color: str


def series_of(result: Any) -> list[Series]:
    """The runs in ``result`` (a run, a comparison or a mapping), with their colours."""
    from procsim.compare import ComparisonResult

    pairs: list[tuple[str, RunResult]]
    if isinstance(result, RunResult):
        pairs = [(str(result.model.name), result)]
    elif isinstance(result, ComparisonResult):
        pairs = [("baseline", result.baseline)] + [(s.name, s.result) for s in result.scenarios]
    elif isinstance(result, Mapping):
        pairs = list(result.items())
    else:
        raise WrongTypeError(f"expected a RunResult, a ComparisonResult or a mapping of names to "
                        f"RunResults, got {type(result).__name__}")
    return [Series(name, run, PALETTE[i % len(PALETTE)]) for i, (name, run) in enumerate(pairs)]


def rank_activities(result: Any) -> list[str]:
    """The activities of every series, the ones where cases wait most first.

    The key is the waiting an activity adds to the average case (visits per case × mean wait
    per visit, as in :meth:`procsim.RunResult.bottlenecks`), then its own time per case (so
    that long delays without a resource come before short ones); for several series, the
    largest over the series. Ties keep the model's order.

    >>> from procsim import load_model, simulate
    >>> run = simulate(load_model("models/service_desk.yaml"), replications=2, seed=1)
    >>> rank_activities(run)[:2]
    ['confirm', 'triage']
    """
    keys: dict[str, tuple[float, float]] = {}
    for s in series_of(result):
        for name in s.result.model.activities:
            waiting = processing = 0.0
            for r in s.result.per_replication:
                m = r.activities[name]
                visits = float(np.nan_to_num(m["visits_per_case"]))
                waiting += visits * float(np.nan_to_num(m["waiting_time"]))
                processing += visits * float(np.nan_to_num(m["processing_time"]))
            n = max(len(s.result.per_replication), 1)
            old = keys.get(name, (0.0, 0.0))
            keys[name] = (max(old[0], waiting / n), max(old[1], processing / n))
    return sorted(keys, key=lambda a: (-keys[a][0], -keys[a][1]))


def _legend(ax: Axes, handles: list[Any], labels: list[str], **kwargs: Any) -> Any:
    """A legend with these entries, each label drawn as written (see :func:`literal_text`)
    and wrapped: a long name must not make the legend wider than the plot."""
    import textwrap

    return ax.legend(handles, [literal_text(textwrap.fill(label, 60)) for label in labels],
                     **kwargs)


def _left_out_note(shown: int, total: int, what: str) -> str:
    """``""``, or what a summarised plot leaves out (for its axis label)."""
    if shown >= total:
        return ""
    return f"\nshown: {shown} of {total} {what}; {total - shown} left out"


def new_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Axes, Figure]:
    """``ax`` and its figure, or new axes on a new figure of ``size`` inches: where every
    Display's ``plot(ax=None)`` draws."""
    if ax is not None:
        return ax, ax.figure  # type: ignore[return-value]
    from matplotlib.figure import Figure

    # A bare Figure (not pyplot): nothing global, no GUI backend needed, nothing to close.
    fig = Figure(figsize=size, layout="constrained")
    return fig.add_subplot(), fig


def _kpi_label(kpi: str) -> str:
    return kpi.replace("_", " ").capitalize()


# --- distributions --------------------------------------------------------------------------


@dataclass
class DistributionDisplay:
    """The distribution over cases of a case KPI (cycle time, cost per case …) per series.

    Holds, per series, 201 quantiles (for the ECDF and box plots) and a histogram on bins
    shared by all series; the target, when given, is drawn as a line.

    Examples
    --------
    >>> from procsim import load_model, simulate
    >>> from procsim.report.plots import DistributionDisplay
    >>> run = simulate(load_model("models/service_desk.yaml"), replications=2, seed=1)
    >>> display = DistributionDisplay.from_result(run, kpi="cycle_time", target=60)
    >>> display.plot(kind="ecdf").ax_.get_xlabel()
    'Cycle time (min)'
    """

    kpi: str
    unit: str
    names: list[str]
    colors: list[str]
    quantiles: list[np.ndarray]
    means: list[float]
    bins: np.ndarray
    counts: list[np.ndarray]
    #: label → value of every target line
    targets: dict[str, float] = field(default_factory=dict)
    ax_: Any = field(default=None, repr=False)
    figure_: Any = field(default=None, repr=False)

    #: Probabilities of the stored quantiles.
    PROBABILITIES = np.linspace(0.0, 1.0, 201)

    @classmethod
    def from_result(cls, result: Any, kpi: str = "cycle_time", *,
                    target: float | Mapping[str, float] | None = None) -> DistributionDisplay:
        """``target``: a value, or a mapping of labels to values, drawn as dashed lines."""
        series = series_of(result)
        if target is None:
            targets: dict[str, float] = {}
        elif isinstance(target, Mapping):
            targets = {str(k): float(v) for k, v in target.items()}
        else:
            targets = {f"target {float(target):g}": float(target)}
        samples = [np.concatenate(s.result.case_values(kpi)) for s in series]
        unit = series[0].result.kpi(kpi).unit
        # Shared bins up to the largest 99.5th percentile: the far tail would squash the rest.
        top = max(float(np.percentile(x, 99.5)) for x in samples)
        low = min(float(x.min()) for x in samples)
        bins = np.linspace(min(low, 0.0), top, 61)
        return cls(
            kpi=kpi, unit=unit, names=[s.name for s in series], colors=[s.color for s in series],
            quantiles=[np.quantile(x, cls.PROBABILITIES) for x in samples],
            means=[float(x.mean()) for x in samples],
            bins=bins,
            counts=[np.histogram(x, bins=bins)[0] / x.size for x in samples],
            targets=targets,
        )

    @property
    def axis_label(self) -> str:
        return f"{_kpi_label(self.kpi)} ({short_unit(self.unit)})"

    def plot(self, ax: Axes | None = None, *, kind: str = "ecdf") -> DistributionDisplay:
        """Draw an ECDF (``kind="ecdf"``), histograms (``"hist"``) or box plots (``"box"``)."""
        if kind not in ("ecdf", "hist", "box"):
            raise UsageError(f"expected kind 'ecdf', 'hist' or 'box', got {kind!r}")
        ax, fig = new_axes(ax, (7.0, 3.6))
        if kind == "box":
            self._box(ax)
        else:
            handles: list[Any] = []
            for color, q, counts in zip(self.colors, self.quantiles, self.counts, strict=True):
                if kind == "ecdf":
                    handles += ax.step(q, self.PROBABILITIES, where="post", color=color, lw=1.8)
                else:
                    handles.append(ax.stairs(counts, self.bins, color=color, lw=1.8))
            ax.set_xlabel(literal_text(self.axis_label))
            ax.set_ylabel("share of cases at or below" if kind == "ecdf" else "share of cases")
            if kind == "ecdf":
                ax.set_ylim(0, 1.01)
                ax.yaxis.set_major_formatter(_percent())
            ax.set_xlim(self.bins[0], max([self.bins[-1], *self.targets.values()]))
            handles += self._target_lines(ax)
            ax.grid(alpha=0.3)
            _legend(ax, handles, [*self.names, *self.targets],
                    loc="lower right" if kind == "ecdf" else "upper right", fontsize="small")
        self.ax_, self.figure_ = ax, fig
        return self

    def _box(self, ax: Axes) -> None:
        p = self.PROBABILITIES

        def at(q: np.ndarray, prob: float) -> float:
            return float(np.interp(prob, p, q))

        import textwrap

        stats = [{"label": literal_text(textwrap.fill(name, 22)), "med": at(q, 0.5),
                  "q1": at(q, 0.25), "q3": at(q, 0.75), "whislo": at(q, 0.05),
                  "whishi": at(q, 0.95), "mean": mean}
                 for name, q, mean in zip(self.names, self.quantiles, self.means, strict=True)]
        parts = ax.bxp(stats, orientation="horizontal", showmeans=True, showfliers=False,
                       patch_artist=True, widths=0.55,
                       meanprops={"marker": "D", "markerfacecolor": "white",
                                  "markeredgecolor": "black", "markersize": 5})
        for box, color in zip(parts["boxes"], self.colors, strict=True):
            box.set_facecolor(color)
            box.set_alpha(0.75)
        for median in parts["medians"]:
            median.set_color("black")
        ax.invert_yaxis()  # baseline on top
        ax.set_xlabel(literal_text(self.axis_label) + " — box: quartiles, whiskers: 5th–95th "
                      "percentile, ◇ mean")
        if self.targets:
            _legend(ax, self._target_lines(ax), list(self.targets), loc="lower right",
                    fontsize="small")
        ax.grid(axis="x", alpha=0.3)

    def _target_lines(self, ax: Axes) -> list[Any]:
        styles = ["--", "-.", ":", "--"]
        return [ax.axvline(value, color="#B2182B", ls=styles[k % len(styles)], lw=1.4)
                for k, value in enumerate(self.targets.values())]


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)


# --- activities and pools -------------------------------------------------------------------


@dataclass
class ActivityTimeDisplay:
    """Mean waiting and processing time per visit of every activity, stacked, per series.

    Activities without a resource show their duration as delay (hatched). A model with more
    than ``top`` activities shows the ``top`` where cases wait most (:func:`rank_activities`)
    in the model's order, and the axis label says how many are left out (``left_out``).

    Examples
    --------
    >>> from procsim import load_model, simulate
    >>> from procsim.report.plots import ActivityTimeDisplay
    >>> run = simulate(load_model("models/service_desk.yaml"), replications=2, seed=1)
    >>> d = ActivityTimeDisplay.from_result(run).plot()
    >>> d.activities[:2], d.ax_.get_xlabel()
    (['triage', 'await_customer'], 'Mean time per visit (min)')
    """

    activities: list[str]
    names: list[str]
    colors: list[str]
    waiting: np.ndarray        # series × activities
    processing: np.ndarray     # series × activities
    delay: list[bool]
    unit: str
    #: activities of the model(s) not shown (beyond ``top``)
    left_out: int = 0
    ax_: Any = field(default=None, repr=False)
    figure_: Any = field(default=None, repr=False)

    @classmethod
    def from_result(cls, result: Any, *, top: int | None = PLOT_LIMIT) -> ActivityTimeDisplay:
        """``top``: the most activities shown (``None``: all of them)."""
        series = series_of(result)
        activities: list[str] = []
        seen: set[str] = set()
        for s in series:  # a scenario may add activities
            activities += [a for a in s.result.model.activities if a not in seen]
            seen.update(s.result.model.activities)
        total = len(activities)
        if top is not None and total > top:
            kept = set(rank_activities(result)[:top])
            activities = [a for a in activities if a in kept]

        def metric(run: RunResult, name: str, key: str) -> float:
            if name not in run.model.activities:
                return np.nan
            return run.activity(name, key).mean

        waiting = np.array([[metric(s.result, a, "waiting_time") for a in activities]
                            for s in series])
        processing = np.array([[metric(s.result, a, "processing_time") for a in activities]
                               for s in series])
        delay = [all(a not in s.result.model.activities
                     or s.result.model.activities[a].resource is None for s in series)
                 for a in activities]
        return cls(activities, [s.name for s in series], [s.color for s in series],
                   np.nan_to_num(waiting), np.nan_to_num(processing), delay,
                   series[0].result.time_unit, total - len(activities))

    def plot(self, ax: Axes | None = None) -> ActivityTimeDisplay:
        n_series, n_act = self.waiting.shape
        ax, fig = new_axes(ax, (7.0, 0.5 + n_act * (0.35 + 0.22 * n_series)))
        height = 0.8 / n_series
        y = np.arange(n_act)
        for i in range(n_series):
            pos = y - 0.4 + height * (i + 0.5)
            ax.barh(pos, self.waiting[i], height=height * 0.92, color=self.colors[i],
                    label=f"{self.names[i]}: waiting" if n_series > 1 else "waiting")
            ax.barh(pos, self.processing[i], left=self.waiting[i], height=height * 0.92,
                    color=self.colors[i], alpha=0.35,
                    hatch=["//" if d else "" for d in self.delay],
                    edgecolor=self.colors[i], linewidth=0.6,
                    label=f"{self.names[i]}: processing" if n_series > 1 else "processing")
        ax.set_yticks(y, [literal_text(a) for a in self.activities])
        ax.invert_yaxis()
        n_all = n_act + self.left_out
        ax.set_xlabel(f"Mean time per visit ({short_unit(self.unit)})"
                      + _left_out_note(n_act, n_all, "activities, those where cases wait most"))
        ax.grid(axis="x", alpha=0.3)
        from matplotlib.patches import Patch

        handles = [Patch(color=c) for c in self.colors] if n_series > 1 else []
        labels = list(self.names) if n_series > 1 else []
        handles += [Patch(color="#5f6b73"), Patch(color="#5f6b73", alpha=0.35),
                    Patch(facecolor="#5f6b73", alpha=0.35, hatch="//")]
        labels += ["waiting", "processing", "delay (no resource)"]
        _legend(ax, handles, labels, fontsize="small", loc="lower left",
                bbox_to_anchor=(0.0, 1.01), ncols=3, frameon=False)
        self.ax_, self.figure_ = ax, fig
        return self


@dataclass
class UtilizationDisplay:
    """Utilisation of every pool with its 95 % interval, per series.

    Utilisation is busy time over the servers' time on shift in the measurement window
    (capacity × window for a pool without a calendar). With more than ``top`` pools, the
    ``top`` busiest (highest utilisation in any series) are shown, in the model's order, and
    the axis label says how many are left out (``left_out``).

    Examples
    --------
    >>> from procsim import load_model, simulate
    >>> from procsim.report.plots import UtilizationDisplay
    >>> run = simulate(load_model("models/service_desk.yaml"), replications=2, seed=1)
    >>> UtilizationDisplay.from_result(run).plot().pools
    ['agents', 'specialists']
    """

    pools: list[str]
    names: list[str]
    colors: list[str]
    estimates: list[list[Estimate | None]]     # series × pools
    capacities: list[list[int | None]]
    #: pools of the model(s) not shown (beyond ``top``)
    left_out: int = 0
    ax_: Any = field(default=None, repr=False)
    figure_: Any = field(default=None, repr=False)

    @classmethod
    def from_result(cls, result: Any, *, top: int | None = PLOT_LIMIT) -> UtilizationDisplay:
        """``top``: the most pools shown (``None``: all of them)."""
        series = series_of(result)
        pools: list[str] = []
        seen: set[str] = set()
        for s in series:
            pools += [p for p in s.result.model.resources if p not in seen]
            seen.update(s.result.model.resources)
        total = len(pools)
        if top is not None and total > top:
            def busy(pool: str) -> float:
                return max(float(np.nan_to_num(s.result.resource(pool, "utilization").mean))
                           for s in series if pool in s.result.model.resources)

            kept = set(sorted(pools, key=lambda p: -busy(p))[:top])
            pools = [p for p in pools if p in kept]
        estimates = [[s.result.resource(p, "utilization") if p in s.result.model.resources
                      else None for p in pools] for s in series]
        capacities = [[s.result.model.resources[p].capacity if p in s.result.model.resources
                       else None for p in pools] for s in series]
        return cls(pools, [s.name for s in series], [s.color for s in series], estimates,
                   capacities, total - len(pools))

    def plot(self, ax: Axes | None = None) -> UtilizationDisplay:
        n_series, n_pools = len(self.names), len(self.pools)
        ax, fig = new_axes(ax, (7.0, 0.6 + n_pools * (0.3 + 0.25 * n_series)))
        height = 0.8 / n_series
        y = np.arange(n_pools)
        handles = []
        for i in range(n_series):
            pos = y - 0.4 + height * (i + 0.5)
            est = self.estimates[i]
            means = np.array([e.mean if e else np.nan for e in est])
            err = np.array([e.half_width if e else np.nan for e in est])
            handles.append(ax.barh(pos, means, height=height * 0.92, color=self.colors[i],
                                   xerr=err, error_kw={"ecolor": "black", "capsize": 2.5,
                                                       "lw": 1}))
            for p, m, e, c in zip(pos, means, err, self.capacities[i], strict=True):
                if np.isfinite(m):
                    ax.text(min(m + np.nan_to_num(e), 1.0) + 0.015, p, f"{m:.0%} of {c}",
                            va="center", fontsize="x-small")
        ax.axvline(1.0, color="black", lw=0.8)
        ax.set_xlim(0, 1.18)
        ax.xaxis.set_major_formatter(_percent())
        ax.set_yticks(y, [literal_text(p) for p in self.pools])
        ax.invert_yaxis()
        ax.set_xlabel("Utilisation (busy time / server time on shift; bars: 95 % CI)"
                      + _left_out_note(n_pools, n_pools + self.left_out, "pools, the busiest"))
        ax.grid(axis="x", alpha=0.3)
        if n_series > 1:
            _legend(ax, handles, self.names, fontsize="small", loc="lower left",
                    bbox_to_anchor=(0.0, 1.01), ncols=min(n_series, 3), frameon=False)
        self.ax_, self.figure_ = ax, fig
        return self


@dataclass
class QueueDisplay:
    """Queue length of one pool over simulated time, per series.

    The line is the mean across replications of the queue length averaged over each window;
    the band spans the 10th–90th percentile of the replications. The dotted line marks the end
    of the warm-up (the first measured arrival, mean across replications).

    Examples
    --------
    >>> from procsim import load_model, simulate
    >>> from procsim.report.plots import QueueDisplay
    >>> run = simulate(load_model("models/service_desk.yaml"), replications=2, seed=1)
    >>> QueueDisplay.from_result(run).pool    # the busiest pool by default
    'agents'
    """

    pool: str
    names: list[str]
    colors: list[str]
    times: list[np.ndarray]
    mean: list[np.ndarray]
    low: list[np.ndarray]
    high: list[np.ndarray]
    warmup_end: float
    unit: str
    ax_: Any = field(default=None, repr=False)
    figure_: Any = field(default=None, repr=False)

    @classmethod
    def from_result(cls, result: Any, pool: str | None = None, *, points: int = 60
                    ) -> QueueDisplay:
        series = series_of(result)
        first = series[0].result
        if pool is None:
            pools = list(first.model.resources)
            if not pools:
                raise UsageError(f"model '{first.model.name}' has no resource pools")
            pool = max(pools, key=lambda p: first.resource(p, "queue_length").mean)
        names, colors, times, mean, low, high = [], [], [], [], [], []
        warmups = []
        for s in series:
            if pool not in s.result.model.resources:
                continue
            r = list(s.result.model.resources).index(pool)
            queues = [k.queue for k in s.result.per_replication if k.queue is not None]
            end = min(float(q.edges[-1]) for q in queues)
            grid = np.linspace(min(float(q.edges[0]) for q in queues), end, points)
            curves = np.array([np.interp(grid, q.midpoints, q.values[:, r]) for q in queues])
            names.append(s.name)
            colors.append(s.color)
            times.append(grid)
            mean.append(curves.mean(axis=0))
            low.append(np.percentile(curves, 10, axis=0))
            high.append(np.percentile(curves, 90, axis=0))
            warmups += [q.warmup_end for q in queues]
        return cls(pool, names, colors, times, mean, low, high, float(np.mean(warmups)),
                   first.time_unit)

    def plot(self, ax: Axes | None = None) -> QueueDisplay:
        ax, fig = new_axes(ax, (7.0, 3.0))
        scale, unit = _time_axis(float(max(t[-1] for t in self.times)), self.unit)
        handles, labels = [], list(self.names)
        for color, t, m, lo, hi in zip(self.colors, self.times, self.mean, self.low, self.high,
                                       strict=True):
            ax.fill_between(t / scale, lo, hi, color=color, alpha=0.18, lw=0)
            handles += ax.plot(t / scale, m, color=color, lw=1.6)
        if self.warmup_end > 0:
            handles.append(ax.axvline(self.warmup_end / scale, color="black", ls=":", lw=1))
            labels.append("end of warm-up")
        ax.set_xlabel(f"Simulated time ({unit})")
        ax.set_ylabel(f"Cases queueing for {literal_text(self.pool)}")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        _legend(ax, handles, labels, fontsize="small", loc="upper right")
        self.ax_, self.figure_ = ax, fig
        return self


def _time_axis(span: float, unit: str) -> tuple[float, str]:
    """A readable unit for an axis spanning ``span`` time units: (divisor, unit label)."""
    from procsim.units import to_hours

    hours = to_hours(span, unit)
    if hours >= 72:
        return span / (hours / 24), "days"
    if hours >= 3:
        return span / hours, "hours"
    return 1.0, short_unit(unit)


# --- the process map ------------------------------------------------------------------------


@dataclass
class ProcessMapDisplay:
    """The process graph as a heat map of waiting: where cases queue, and how many pass.

    Nodes are laid out left to right by their distance from the start (flows that go back,
    such as rework, are drawn as arcs); activity boxes are coloured by the mean waiting time
    per visit and labelled with it; the width and label of every flow are the tokens per case
    that passed along it in the simulation.

    A model with more than ``top`` activities is summarised: the map shows the ``top``
    activities where cases wait most (:func:`rank_activities`), with start and end; a dashed,
    unlabelled arrow (in ``indirect``) stands for paths through steps that are left out
    (``left_out`` of them, activities and gateways), and the title says so. Drawing time and
    memory then stay bounded however large the model.

    Examples
    --------
    >>> from procsim import load_model, simulate
    >>> from procsim.report.plots import ProcessMapDisplay
    >>> run = simulate(load_model("models/service_desk.yaml"), replications=2, seed=1)
    >>> d = ProcessMapDisplay.from_result(run)
    >>> round(d.flows[("start", "triage")], 6), round(d.flows[("confirm", "end")], 6)
    (1.0, 1.0)
    """

    name: str
    nodes: list[str]
    kinds: dict[str, str]
    positions: dict[str, tuple[float, float]]
    edges: list[tuple[str, str]]
    back_edges: set[tuple[str, str]]
    flows: dict[tuple[str, str], float]
    waiting: dict[str, float]
    resources: dict[str, str | None]
    unit: str
    vmax: float
    #: inches per unit of ``positions`` (x, y)
    scale: tuple[float, float] = (1.7, 1.1)
    orientation: str = "horizontal"
    #: flows that stand for paths through left-out steps (a summarised map)
    indirect: set[tuple[str, str]] = field(default_factory=set)
    #: activities and gateways of the model not shown
    left_out: int = 0
    #: activities in the model (shown or not)
    activity_count: int = 0
    ax_: Any = field(default=None, repr=False)
    figure_: Any = field(default=None, repr=False)

    @classmethod
    def from_result(cls, result: RunResult, *, name: str | None = None,
                    vmax: float | None = None, orientation: str = "auto",
                    top: int | None = PLOT_LIMIT) -> ProcessMapDisplay:
        """``vmax``: the waiting time at the top of the colour scale (share it across maps).

        ``orientation``: ``"horizontal"`` (left to right), ``"vertical"`` (top to bottom), or
        ``"auto"``: horizontal up to 7 steps from start to end, vertical beyond, so that long
        processes stay readable at the width of a page.

        ``top``: the most activities drawn; a larger model is summarised (``None``: draw all).
        """
        import networkx as nx

        from procsim.model.graph import build_graph, find_back_edges

        if not isinstance(result, RunResult):
            raise WrongTypeError(f"expected a RunResult (draw one map per run), got "
                            f"{type(result).__name__}")
        model = result.model
        g = build_graph(model)
        indirect: set[tuple[str, str]] = set()
        left_out = 0
        if top is not None and len(model.activities) > top:
            kept = {*rank_activities(result)[:top], "start", "end"}
            left_out = g.number_of_nodes() - len(kept & set(g.nodes))
            g, indirect = _contract(g, kept)
        back = find_back_edges(g)
        dag = nx.DiGraph(g.edges - back)
        dag.add_nodes_from(g.nodes)
        layer = {}
        for depth, generation in enumerate(nx.topological_generations(dag)):
            for node in generation:
                layer[node] = depth
        if orientation not in ("auto", "horizontal", "vertical"):
            raise UsageError(f"expected orientation 'auto', 'horizontal' or 'vertical', got "
                             f"{orientation!r}")
        depths = sorted(set(layer.values()))
        if orientation == "auto":
            orientation = "horizontal" if len(depths) <= 8 else "vertical"
        positions: dict[str, tuple[float, float]] = {}
        for depth in depths:
            members = [n for n in g.nodes if layer[n] == depth]
            for k, node in enumerate(members):
                across = (len(members) - 1) / 2 - k
                positions[node] = ((float(depth), across) if orientation == "horizontal"
                                   else (-across, -float(depth)))
        scale = (1.7, 1.1) if orientation == "horizontal" else (2.1, 0.85)
        flows = {edge: float(np.mean([r.flows.get(edge, 0.0) for r in result.per_replication]))
                 for edge in g.edges if edge not in indirect}
        waiting = {a: float(np.nan_to_num(result.activity(a, "waiting_time").mean))
                   for a in model.activities if a in g}
        kinds = {n: ("event" if n in ("start", "end") else
                     "activity" if n in model.activities else "gateway") for n in g.nodes}
        scale_top = vmax if vmax is not None else max([*waiting.values(), 1e-9])
        return cls(name or str(model.name), list(g.nodes), kinds, positions, list(g.edges),
                   back, flows, waiting,
                   {a: s.resource for a, s in model.activities.items() if a in g},
                   result.time_unit, scale_top, scale, orientation, indirect, left_out,
                   len(model.activities))

    def plot(self, ax: Axes | None = None) -> ProcessMapDisplay:
        from matplotlib import colormaps
        from matplotlib.colors import Normalize

        xs = [x for x, _ in self.positions.values()]
        ys = [y for _, y in self.positions.values()]
        x_lim = (min(xs) - 0.65, max(xs) + 0.65)
        y_lim = (min(ys) - 0.6, max(ys) + 0.6)
        sx, sy = self.scale
        ax, fig = new_axes(ax, (1.3 + sx * (x_lim[1] - x_lim[0]),
                                 0.4 + sy * (y_lim[1] - y_lim[0])))
        cmap = colormaps["YlOrRd"]
        norm = Normalize(0.0, self.vmax)
        unit = short_unit(self.unit)
        texts = {}
        for node in self.nodes:
            x, y = self.positions[node]
            kind = self.kinds[node]
            if kind == "activity":
                wait = self.waiting[node]
                pool = self.resources[node]
                label = (f"{literal_text(node)}\nwaits {wait:.3g} {unit}\n{literal_text(pool)}"
                         if pool else f"{literal_text(node)}\n(delay)")
                face = cmap(norm(wait)) if pool else (0.93, 0.93, 0.93, 1.0)
                r, g, b = face[:3]
                ink = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"
                texts[node] = ax.text(x, y, label, ha="center", va="center", fontsize=8,
                                      color=ink, zorder=3, bbox={"boxstyle": "round,pad=0.45",
                                                      "fc": face, "ec": "#333333", "lw": 0.8})
            elif kind == "gateway":
                texts[node] = ax.text(x, y, "◇\n" + literal_text(node), ha="center",
                                      va="center", fontsize=7, color="#333333", zorder=3,
                                      bbox={"boxstyle": "round,pad=0.2", "fc": "white",
                                            "ec": "#999999", "lw": 0.6})
            else:
                texts[node] = ax.text(x, y, literal_text(node), ha="center", va="center",
                                      fontsize=8, zorder=3,
                                      bbox={"boxstyle": "circle,pad=0.3", "fc": "white",
                                            "ec": "#333333", "lw": 1.4 if node == "end" else 0.8})
        # Arrows are clipped at the boxes; drawn after them (higher zorder), they see the
        # boxes' size at the resolution being drawn.
        top_flow = max([*self.flows.values(), 1e-9])
        for u, v in self.edges:
            flow = self.flows.get((u, v), 0.0)
            backwards = (u, v) in self.back_edges
            via = (u, v) in self.indirect
            (x0, y0), (x1, y1) = self.positions[u], self.positions[v]
            # Loops arc below; a forward flow that would cross another node arcs above it.
            rad = -0.45 if backwards else self._detour(u, v)
            color = "#B2182B" if backwards else "#444444"
            ax.annotate(
                "", xy=(x1, y1), xytext=(x0, y0), zorder=4,
                arrowprops={"arrowstyle": "-|>", "color": color,
                            "lw": 0.8 if via else 0.6 + 4.0 * flow / top_flow,
                            "linestyle": "--" if via else "-", "mutation_scale": 12,
                            "patchA": texts[u].get_bbox_patch(),
                            "patchB": texts[v].get_bbox_patch(), "shrinkA": 1, "shrinkB": 1,
                            "connectionstyle": f"arc3,rad={rad}"})
            if via:  # the tokens that pass through left-out steps are not known here
                continue
            if rad:
                # The middle of an arc3 curve lies half way to its control point, which is
                # rad × the chord, turned by 90° in display space, off the chord's middle.
                lx = (x0 + x1) / 2 + 0.5 * rad * (y1 - y0) * sy / sx
                ly = (y0 + y1) / 2 - 0.5 * rad * (x1 - x0) * sx / sy
                va = "top" if rad > 0 or backwards else "bottom"
                ha = "center"
            elif self.orientation == "horizontal":
                lx, ly, ha, va = x0 + 0.4 * (x1 - x0), y0 + 0.4 * (y1 - y0) + 0.06, "center", \
                    "bottom"
            else:
                lx, ly, ha, va = x0 + 0.5 * (x1 - x0) + 0.05, y0 + 0.5 * (y1 - y0), "left", \
                    "center"
            ax.text(lx, ly, f"{flow:.2f}", ha=ha, va=va, fontsize=7, color=color,
                    zorder=5, bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none",
                                    "alpha": 0.8})
        ax.set_xlim(*x_lim)
        ax.set_ylim(*y_lim)
        ax.set_axis_off()
        import textwrap

        # About 11 characters of 10-point text per inch: the title never outgrows the map.
        columns = max(30, int(float(fig.get_size_inches()[0]) * 11))
        title = textwrap.fill(self.name, columns)
        if self.left_out:
            shown = sum(kind == "activity" for kind in self.kinds.values())
            title += "\n" + textwrap.fill(
                f"shown: the {shown} of {self.activity_count} activities where cases wait "
                f"most; {self.left_out} steps left out (dashed arrows pass through them)",
                columns)
        ax.set_title(literal_text(title), fontsize=10)
        from matplotlib.cm import ScalarMappable

        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.7, pad=0.01,
                           fraction=0.03, aspect=25)
        bar.set_label(f"Mean wait per visit ({unit})", fontsize=8)
        self.ax_, self.figure_ = ax, fig
        return self

    def _detour(self, u: str, v: str) -> float:
        """Curvature of a forward flow: 0, or an arc away from a node that lies in its way."""
        a, b = self.positions[u], self.positions[v]
        for w in self.nodes:
            p = self.positions[w]
            if w not in (u, v) and _on_segment(p, a, b):
                # arc3 bends towards the side where cross(b - a, p - a) < 0 when rad > 0.
                cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
                return 0.3 if cross >= 0 else -0.3
        return 0.0


def _contract(g: Any, kept: set[str]) -> tuple[Any, set[tuple[str, str]]]:
    """The graph of the ``kept`` nodes of ``g``: its flows between them, and one flow for every
    path through nodes that are not kept (returned apart: the indirect flows).

    One search from every kept node through the others: time in proportion to the kept
    nodes × the size of ``g``.
    """
    import networkx as nx

    h = nx.DiGraph()
    h.add_nodes_from(n for n in g.nodes if n in kept)  # the model's order
    indirect: set[tuple[str, str]] = set()
    for u in list(h.nodes):
        h.add_edges_from((u, v) for v in g.successors(u) if v in kept)
        stack = [v for v in g.successors(u) if v not in kept]
        seen = set(stack)
        while stack:
            for w in g.successors(stack.pop()):
                if w in kept:
                    if w != u and not h.has_edge(u, w):
                        h.add_edge(u, w)
                        indirect.add((u, w))
                elif w not in seen:
                    seen.add(w)
                    stack.append(w)
    return h, indirect


def _on_segment(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float],
                tolerance: float = 0.3) -> bool:
    """Does ``p`` lie within ``tolerance`` of the segment from ``a`` to ``b``, between its ends?"""
    d = np.subtract(b, a)
    t = float(np.dot(np.subtract(p, a), d) / np.dot(d, d))
    if not 0.0 < t < 1.0:
        return False
    return float(np.linalg.norm(np.add(a, t * d) - np.asarray(p))) < tolerance


# --- event logs: KPIs measured from a log, and a log beside its simulation -----------------
#
# These take the KPIs of a log (:class:`procsim.eventlog.kpis.LogKpis`, duck-typed: reports
# sit left of ``eventlog`` in the layout) or a mapping of names to one or several of them
# ("log" → its KPIs, "simulation" → one per replication). The first series is the log, drawn
# in the baseline grey; the second the simulation, in the first scenario colour.
# docs/report.md, "Plots of event logs", shows each of them.

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _log_series(logs: Any) -> list[tuple[str, list[Any], str]]:
    """``(name, [LogKpis, …], colour)`` per series of ``logs``."""
    if isinstance(logs, Mapping):
        pairs = [(str(k), list(v) if isinstance(v, (list, tuple)) else [v])
                 for k, v in logs.items()]
    else:
        pairs = [("log", [logs])]
    pairs = [(name, runs) for name, runs in pairs if runs]
    if not pairs:
        raise UsageError("expected the KPIs of at least one log")
    return [(name, runs, PALETTE[i % len(PALETTE)]) for i, (name, runs) in enumerate(pairs)]


@dataclass
class LogDistributionDisplay:
    """The distribution over cases of a per-case KPI of one or more logs (ECDF or histogram).

    The cases of every replication of a series are pooled. Bins are shared by the series and
    end at the largest 99.5th percentile (the far tail would squash the rest), taken as a
    case's value; the axis label says how many cases lie beyond.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> k = SimpleNamespace(per_case={"cycle_time": np.array([1.0, 2.0, 4.0])},
    ...                     time_unit="hours")
    >>> LogDistributionDisplay.from_result(k).plot(kind="hist").ax_.get_xlabel()
    'Cycle time (h)'
    """

    kpi: str
    unit: str
    names: list[str]
    colors: list[str]
    quantiles: list[np.ndarray]
    bins: np.ndarray
    counts: list[np.ndarray]
    cases: list[int]
    #: per series, the cases beyond the last bin (not drawn)
    above: list[int] = field(default_factory=list)
    ax_: Any = field(default=None, repr=False)
    figure_: Any = field(default=None, repr=False)

    PROBABILITIES = np.linspace(0.0, 1.0, 201)

    @classmethod
    def from_result(cls, logs: Any, kpi: str = "cycle_time") -> LogDistributionDisplay:
        series = _log_series(logs)
        samples = [np.concatenate([np.asarray(k.per_case[kpi], dtype=float) for k in runs])
                   for _, runs, _ in series]
        samples = [x[np.isfinite(x)] for x in samples]
        if any(x.size == 0 for x in samples):
            raise UsageError(f"no case has a {kpi}")
        # The 99.5th percentile as a case's value ("higher"): the axis ends at a case, and a
        # small log keeps its largest one.
        top = max(float(np.percentile(x, 99.5, method="higher")) for x in samples)
        low = min(0.0, *(float(x.min()) for x in samples))
        bins = np.linspace(low, top if top > low else low + 1.0, 51)
        return cls(kpi=kpi, unit=series[0][1][0].time_unit,
                   names=[n for n, _, _ in series], colors=[c for _, _, c in series],
                   quantiles=[np.quantile(x, cls.PROBABILITIES) for x in samples], bins=bins,
                   counts=[np.histogram(x, bins=bins)[0] / x.size for x in samples],
                   cases=[int(x.size) for x in samples],
                   above=[int(np.count_nonzero(x > bins[-1])) for x in samples])

    def plot(self, ax: Axes | None = None, *, kind: str = "ecdf") -> LogDistributionDisplay:
        """Draw ECDFs (``kind="ecdf"``) or histograms (``"hist"``) of the series."""
        if kind not in ("ecdf", "hist"):
            raise UsageError(f"expected kind 'ecdf' or 'hist', got {kind!r}")
        ax, fig = new_axes(ax, (7.0, 3.4))
        handles: list[Any] = []
        for color, q, counts in zip(self.colors, self.quantiles, self.counts, strict=True):
            if kind == "ecdf":
                handles += ax.step(q, self.PROBABILITIES, where="post", color=color, lw=1.8)
            elif len(self.names) == 1:
                handles.append(ax.stairs(counts, self.bins, color=color, fill=True, alpha=0.8))
            else:
                handles.append(ax.stairs(counts, self.bins, color=color, lw=1.8))
        label = f"{_kpi_label(self.kpi)} ({short_unit(self.unit)})"
        if any(self.above):
            beyond = "; ".join(f"{n:,} of {c:,}" if len(self.names) == 1 else
                               f"{name} {n:,} of {c:,}" for name, n, c in
                               zip(self.names, self.above, self.cases, strict=True))
            label += (f"\ncases above {self.bins[-1]:,.4g} {short_unit(self.unit)} not "
                      f"shown: {beyond}")
        ax.set_xlabel(literal_text(label))
        ax.set_ylabel("share of cases at or below" if kind == "ecdf" else "share of cases")
        if kind == "ecdf":
            ax.set_ylim(0, 1.01)
        ax.yaxis.set_major_formatter(_percent())
        ax.set_xlim(self.bins[0], self.bins[-1])
        ax.grid(alpha=0.3)
        _legend(ax, handles, [f"{n} ({c:,} cases)" for n, c in zip(self.names, self.cases,
                                                                      strict=True)],
                loc="lower right" if kind == "ecdf" else "upper right", fontsize="small")
        self.ax_, self.figure_ = ax, fig
        return self


@dataclass
class ProfileDisplay:
    """Counts by hour of the day or day of the week (arrivals or events) as shares, per series.

    ``field`` is a tuple attribute of the KPIs: ``arrivals_by_hour``,
    ``arrivals_by_weekday`` or ``events_by_hour``. A series of several replications shows
    their pooled share, with the range across replications as a band.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> k = SimpleNamespace(arrivals_by_weekday=(5, 5, 5, 5, 5, 0, 0))
    >>> d = ProfileDisplay.from_result(k, "arrivals_by_weekday").plot()
    >>> d.labels[:2], float(d.shares[0][0])
    (['Mon', 'Tue'], 0.2)
    """

    field_name: str
    labels: list[str]
    names: list[str]
    colors: list[str]
    shares: list[np.ndarray]
    low: list[np.ndarray]
    high: list[np.ndarray]
    totals: list[int]
    ax_: Any = field(default=None, repr=False)
    figure_: Any = field(default=None, repr=False)

    @classmethod
    def from_result(cls, logs: Any, field_name: str = "events_by_hour") -> ProfileDisplay:
        if field_name not in ("arrivals_by_hour", "arrivals_by_weekday", "events_by_hour"):
            raise UsageError(f"expected arrivals_by_hour, arrivals_by_weekday or "
                             f"events_by_hour, got {field_name!r}")
        series = _log_series(logs)
        labels = list(_WEEKDAYS) if field_name.endswith("weekday") else \
            [f"{h:02d}" for h in range(24)]
        shares, low, high, totals = [], [], [], []
        for _, runs, _ in series:
            counts = np.array([np.asarray(getattr(k, field_name), dtype=float) for k in runs])
            each = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
            shares.append(counts.sum(axis=0) / max(float(counts.sum()), 1.0))
            low.append(each.min(axis=0))
            high.append(each.max(axis=0))
            totals.append(int(counts.sum()))
        return cls(field_name, labels, [n for n, _, _ in series], [c for _, _, c in series],
                   shares, low, high, totals)

    def plot(self, ax: Axes | None = None) -> ProfileDisplay:
        ax, fig = new_axes(ax, (7.0, 3.0))
        x = np.arange(len(self.labels))
        n = len(self.names)
        width = 0.8 / n
        handles = []
        for i, (color, share, lo, hi) in enumerate(zip(self.colors, self.shares, self.low,
                                                       self.high, strict=True)):
            pos = x - 0.4 + width * (i + 0.5)
            handles.append(ax.bar(pos, share, width=width * 0.92, color=color))
            if not np.allclose(lo, hi):
                ax.errorbar(pos, share, yerr=[np.maximum(share - lo, 0),
                                              np.maximum(hi - share, 0)],
                            fmt="none", ecolor="black", elinewidth=0.8, capsize=1.5)
        if len(self.labels) == 24:  # every other hour named: 24 labels crowd a narrow plot
            ax.set_xticks(x[::2], self.labels[::2])
            ax.set_xticks(x, minor=True)
        else:
            ax.set_xticks(x, self.labels)
        what = "case arrivals" if self.field_name.startswith("arrivals") else "activity starts"
        ax.set_xlabel("hour of the day (the log's local time)"
                      if self.field_name.endswith("hour") else "day of the week")
        ax.set_ylabel(f"share of {what}")
        ax.yaxis.set_major_formatter(_percent())
        ax.grid(axis="y", alpha=0.3)
        if n > 1:
            _legend(ax, handles, list(self.names), fontsize="small", loc="upper right")
        self.ax_, self.figure_ = ax, fig
        return self


@dataclass
class WipDisplay:
    """Work in progress (cases between their start and end) over the log's period.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> t = pd.date_range("2026-01-05", periods=3, freq="D", tz="UTC")
    >>> k = SimpleNamespace(wip_series=tuple(zip(t, [1.0, 3.0, 2.0])), values={"wip": 2.0})
    >>> WipDisplay.from_result(k).plot().ax_.get_ylabel()
    'cases in progress'
    """

    times: list[Any]
    wip: np.ndarray
    mean: float
    ax_: Any = field(default=None, repr=False)
    figure_: Any = field(default=None, repr=False)

    @classmethod
    def from_result(cls, kpis: Any) -> WipDisplay:
        series = list(kpis.wip_series)
        if not series:
            raise UsageError("the log has no work-in-progress series")
        # The wall clock of the log's zone: matplotlib would otherwise show UTC.
        import pandas as pd

        times = [pd.Timestamp(t) for t, _ in series]
        times = [(t.tz_localize(None) if t.tz is not None else t).floor("us").to_pydatetime()
                 for t in times]
        return cls(times, np.array([float(w) for _, w in series]),
                   float(kpis.values.get("wip", np.nan)))

    def plot(self, ax: Axes | None = None) -> WipDisplay:
        ax, fig = new_axes(ax, (7.0, 3.0))
        line = ax.plot(self.times, self.wip, color=PALETTE[1], lw=1.6)
        handles, labels = list(line), ["per window"]
        if np.isfinite(self.mean):
            handles.append(ax.axhline(self.mean, color="black", ls=":", lw=1))
            labels.append(f"time-average {self.mean:.3g}")
        ax.set_ylabel("cases in progress")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        # Above the axes: inside, it would hide part of the line.
        _legend(ax, handles, labels, fontsize="small", loc="lower left",
                bbox_to_anchor=(0.0, 1.01), ncols=2, frameon=False)
        self.ax_, self.figure_ = ax, fig
        return self


@dataclass
class LogWaitingDisplay:
    """Mean waiting time per visit of every activity, per series (log, simulation …).

    A series of several replications shows their mean, with their range as an error bar.
    At most ``top`` activities are shown, those where the first series waits most per case
    (visits per case × mean wait), and the axis label says how many are left out; they are
    drawn longest bar first, by the first series' mean wait per visit.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> k = SimpleNamespace(time_unit="minutes", activities={
    ...     "a": {"waiting_time": 5.0, "visits_per_case": 1.0},
    ...     "b": {"waiting_time": 1.0, "visits_per_case": 1.0}})
    >>> LogWaitingDisplay.from_result(k).plot().activities
    ['a', 'b']
    """

    activities: list[str]
    names: list[str]
    colors: list[str]
    mean: np.ndarray   # series × activities
    low: np.ndarray
    high: np.ndarray
    unit: str
    left_out: int = 0
    ax_: Any = field(default=None, repr=False)
    figure_: Any = field(default=None, repr=False)

    @classmethod
    def from_result(cls, logs: Any, *, top: int | None = PLOT_LIMIT) -> LogWaitingDisplay:
        series = _log_series(logs)
        activities: list[str] = []
        for _, runs, _ in series:
            for k in runs:
                activities += [a for a in k.activities if a not in activities]

        def per_case(a: str) -> float:
            m = series[0][1][0].activities.get(a)
            return -1.0 if m is None else float(np.nan_to_num(
                m["waiting_time"] * m["visits_per_case"]))

        def per_visit(a: str) -> float:
            m = series[0][1][0].activities.get(a)
            return -1.0 if m is None else float(np.nan_to_num(m["waiting_time"]))

        total = len(activities)
        activities = sorted(activities, key=per_case, reverse=True)
        if top is not None:
            activities = activities[:top]
        # Drawn in the order of what the bars show (sorted() is stable: ties keep the rank).
        activities = sorted(activities, key=per_visit, reverse=True)
        values = [np.array([[float(k.activities[a]["waiting_time"]) if a in k.activities
                             else np.nan for a in activities] for k in runs])
                  for _, runs, _ in series]
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an activity no run has
                mean = np.array([np.nanmean(v, axis=0) for v in values])
                low = np.array([np.nanmin(v, axis=0) for v in values])
                high = np.array([np.nanmax(v, axis=0) for v in values])
        return cls(activities, [n for n, _, _ in series], [c for _, _, c in series],
                   np.nan_to_num(mean), np.nan_to_num(low), np.nan_to_num(high),
                   series[0][1][0].time_unit, total - len(activities))

    def plot(self, ax: Axes | None = None) -> LogWaitingDisplay:
        n_series, n_act = self.mean.shape
        ax, fig = new_axes(ax, (7.0, 0.8 + n_act * (0.3 + 0.18 * n_series)))
        height = 0.8 / n_series
        y = np.arange(n_act)
        handles = []
        for i in range(n_series):
            pos = y - 0.4 + height * (i + 0.5)
            handles.append(ax.barh(pos, self.mean[i], height=height * 0.92,
                                   color=self.colors[i]))
            if not np.allclose(self.low[i], self.high[i]):
                ax.errorbar(self.mean[i], pos,
                            xerr=[np.maximum(self.mean[i] - self.low[i], 0),
                                  np.maximum(self.high[i] - self.mean[i], 0)],
                            fmt="none", ecolor="black", elinewidth=0.8, capsize=1.5)
        ax.set_yticks(y, [literal_text(a) for a in self.activities])
        ax.invert_yaxis()
        ax.set_xlabel(f"Mean waiting time per visit ({short_unit(self.unit)})"
                      + _left_out_note(n_act, n_act + self.left_out,
                                       "activities, those where cases wait most"))
        ax.grid(axis="x", alpha=0.3)
        if n_series > 1:
            _legend(ax, handles, list(self.names), fontsize="small", loc="lower left",
                    bbox_to_anchor=(0.0, 1.01), ncols=n_series, frameon=False)
        self.ax_, self.figure_ = ax, fig
        return self


#: Colours of ParetoDisplay by what became of a candidate.
PARETO_COLORS = {"feasible": "#009E73", "infeasible": "#D55E00", "undecided": "#E69F00",
                 "dominated": "#5f6b73"}


@dataclass
class ParetoDisplay:
    """The cost–KPI trade-off of an optimisation: every simulated candidate's objective
    against a key result's KPI, the Pareto front joined, the target drawn, the recommended
    configuration starred.

    Examples
    --------
    >>> from procsim import parse_model
    >>> from procsim.optimise import optimise
    >>> desk = parse_model('''
    ... procsim: 1
    ... name: Desk
    ... arrivals: {interarrival: {dist: exponential, mean: 1}}
    ... resources: {clerks: {capacity: 3, cost_per_hour: 30}}
    ... activities: {serve: {resource: clerks, duration: {dist: exponential, mean: 2.4}}}
    ... flow: {start: serve, serve: end}
    ... okrs: [{objective: Short queues, key_results: [{kpi: waiting_time, to: "<= 1"}]}]
    ... ''')
    >>> result = optimise(desk, vary={"resources.clerks.capacity": "3..6"}, seed=1,
    ...                   cases=500, warmup=50)
    >>> display = ParetoDisplay.from_result(result).plot()
    >>> display.labels[display.best], len(display.front)
    ('clerks = 4', 4)
    """

    objective: str
    kpi: str
    target: float
    labels: list[str]
    x: np.ndarray
    y: np.ndarray
    status: list[str]
    front: list[int]
    best: int | None
    ax_: Any = field(default=None, repr=False)
    figure_: Any = field(default=None, repr=False)

    @classmethod
    def from_result(cls, result: Any, kpi: str | None = None) -> ParetoDisplay:
        """Compute what is drawn, from a :class:`procsim.optimise.OptimiseResult`; ``kpi`` as
        :meth:`~procsim.optimise.OptimiseResult.pareto_front` takes it."""
        index = result.pareto_index(kpi) if hasattr(result, "pareto_index") else None
        if index is None:
            raise UsageError("expected an OptimiseResult with a constraint on a KPI other "
                             "than the objective")
        constraint = result.constraints[index]
        points = [c for c in result.simulated if c.objective is not None
                  and len(c.checks) > index]
        front_ids = {id(c) for c in result.pareto_front(kpi)}

        def label(c: Any) -> str:
            return ", ".join(f"{p.split('.')[1] if p.startswith('resources.') else p} = {v:g}"
                             for p, v in c.changes)

        return cls(
            objective=result.objective, kpi=constraint.text, target=constraint.threshold.value,
            labels=[label(c) for c in points],
            x=np.array([c.objective.mean for c in points]),
            y=np.array([c.checks[index].estimate.mean for c in points]),
            status=[c.status for c in points],
            front=sorted((i for i, c in enumerate(points) if id(c) in front_ids),
                         key=lambda i: points[i].objective.mean),
            best=next((i for i, c in enumerate(points) if c is result.best), None))

    def plot(self, ax: Axes | None = None) -> ParetoDisplay:
        ax, fig = new_axes(ax, (7.0, 4.2))
        seen: set[str] = set()
        for i in range(len(self.x)):
            status = self.status[i]
            ax.scatter([self.x[i]], [self.y[i]], color=PARETO_COLORS.get(status, "#5f6b73"),
                       s=28, zorder=3, label=None if status in seen else status)
            seen.add(status)
        if self.front:
            ax.plot(self.x[self.front], self.y[self.front], color=PALETTE[1], linewidth=1.2,
                    zorder=2, label="Pareto front")
        ax.axhline(self.target, color="#B2182B", linestyle="--", linewidth=1,
                   label=literal_text(f"target: {self.kpi}"))
        if self.best is not None:
            ax.scatter([self.x[self.best]], [self.y[self.best]], marker="*", s=220,
                       color="#B2182B", zorder=4, label="recommended")
            ax.annotate(literal_text(self.labels[self.best]),
                        (self.x[self.best], self.y[self.best]), textcoords="offset points",
                        xytext=(8, 8), fontsize="small")
        ax.set_xlabel(literal_text(f"Mean {self.objective.replace('_', ' ')}"))
        ax.set_ylabel(literal_text(self.kpi))
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", frameon=False)
        self.ax_, self.figure_ = ax, fig
        return self
