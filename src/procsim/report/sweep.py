"""The plot of a parameter sweep: a KPI with its interval, the cost, and the knee.

Like the other displays (:mod:`procsim.report.plots`), :class:`SweepDisplay` computes in
``from_result`` and draws in ``plot(ax=None)``; matplotlib is imported only when drawing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from procsim.errors import UsageError, WrongTypeError
from procsim.kpi import CASE_KPIS
from procsim.report.plots import PALETTE, literal_text, new_axes
from procsim.sweep import KNEE_THRESHOLD, Knee, SweepResult
from procsim.units import short_unit

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["SweepDisplay"]

#: The KPI curve, the cost curve and the knee (the knee in the colour of target lines).
KPI_COLOR, COST_COLOR, KNEE_COLOR = PALETTE[1], PALETTE[2], "#B2182B"

#: Fields of a duration distribution, whose values are in the model's time unit.
_DURATION_FIELDS = ("mean", "sd", "value", "min", "mode", "max", "scale", "loc")


@dataclass
class SweepDisplay:
    """A KPI against the swept parameter, with its interval, the cost and the knee marked.

    The KPI is drawn with its 95 % confidence band across replications; the cost (staffing
    cost per hour, or the mean cost per case) on a second axis; the knee
    (:meth:`procsim.sweep.SweepResult.knee`) is starred and annotated; values skipped as
    unstable are shaded.

    Examples
    --------
    >>> from procsim import parse_model
    >>> from procsim.sweep import sweep
    >>> from procsim.report.sweep import SweepDisplay
    >>> desk = parse_model('''
    ... procsim: 1
    ... name: Desk
    ... currency: EUR
    ... arrivals: {interarrival: {dist: exponential, mean: 1}}
    ... resources: {clerks: {capacity: 3, cost_per_hour: 30}}
    ... activities: {serve: {resource: clerks, duration: {dist: exponential, mean: 2.4}}}
    ... flow: {start: serve, serve: end}
    ... ''')
    >>> s = sweep(desk, "resources.clerks.capacity", [2, 3, 4, 5, 6],
    ...           replications=3, cases=1000, warmup=100, seed=1)
    >>> d = SweepDisplay.from_result(s).plot()
    >>> d.ax_.get_ylabel(), d.cost_ax_.get_ylabel()
    ('Mean cycle time (min)', 'Staffing cost (EUR/hour)')
    >>> d.knee.value
    5
    """

    name: str
    path: str
    x_label: str
    values: np.ndarray
    kpi: str
    stat: str
    unit: str
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    knee: Knee | None
    threshold: float
    skipped: list[float] = field(default_factory=list)
    cost: np.ndarray | None = None
    cost_low: np.ndarray | None = None
    cost_high: np.ndarray | None = None
    cost_label: str = ""
    integer: bool = False
    #: the pool whose capacity is swept, if any
    pool: str | None = None
    ax_: Any = field(default=None, repr=False)
    figure_: Any = field(default=None, repr=False)
    #: the twin axes of the cost curve (``None`` without one)
    cost_ax_: Any = field(default=None, repr=False)
    #: the knee's annotation (``None`` without a knee)
    knee_annotation_: Any = field(default=None, repr=False)

    @classmethod
    def from_result(cls, sweep: SweepResult, kpi: str = "cycle_time", stat: str = "mean", *,
                    cost: bool | str = True, threshold: float = KNEE_THRESHOLD
                    ) -> SweepDisplay:
        """Compute what is drawn.

        Parameters
        ----------
        sweep : SweepResult
        kpi, stat : str
            The KPI statistic on the main axis, e.g. ``"cycle_time"``, ``"p90"``.
        cost : bool or {"staffing", "cost_per_case"}
            The cost curve: ``"staffing"`` (capacity × cost per hour, summed over pools),
            ``"cost_per_case"`` (the KPI, with its interval), ``True`` for staffing when a
            capacity is swept and cost per case otherwise, ``False`` for none.
        threshold : float
            The knee's threshold (see :func:`procsim.sweep.find_knee`).
        """
        if not isinstance(sweep, SweepResult):
            raise WrongTypeError(f"expected a SweepResult, got {type(sweep).__name__}")
        if cost is True:
            cost = "staffing" if sweep.pool else "cost_per_case"
        if cost not in (False, None, "staffing", "cost_per_case"):
            raise UsageError(f"expected cost True, False, 'staffing' or 'cost_per_case', "
                             f"got {cost!r}")
        estimates = sweep.kpi(kpi, stat)
        first = sweep.results[0]
        currency = first.model.currency or "currency"
        values = np.asarray(sweep.values, dtype=float)
        display = cls(
            name=sweep.name, path=sweep.path, x_label=_parameter_label(sweep),
            values=values, kpi=kpi, stat=stat, unit=first.kpi(kpi).unit,
            mean=np.array([e.mean for e in estimates]),
            low=np.array([e.ci[0] for e in estimates]),
            high=np.array([e.ci[1] for e in estimates]),
            knee=sweep.knee(kpi, stat, threshold=threshold) if len(values) >= 2 else None,
            threshold=threshold,
            skipped=[float(s.value) for s in sweep.skipped],
            integer=all(float(v).is_integer() for v in values),
            pool=sweep.pool,
        )
        if cost == "staffing":
            display.cost = np.array(sweep.staffing_cost_per_hour())
            display.cost_label = f"Staffing cost ({currency}/hour)"
        elif cost == "cost_per_case":
            per_case = sweep.kpi("cost_per_case")
            display.cost = np.array([e.mean for e in per_case])
            display.cost_low = np.array([e.ci[0] for e in per_case])
            display.cost_high = np.array([e.ci[1] for e in per_case])
            display.cost_label = f"Mean cost per case ({currency})"
        return display

    @property
    def y_label(self) -> str:
        words = self.kpi.replace("_", " ")
        if self.kpi in CASE_KPIS:  # other KPIs have one value per replication: no statistic
            words = f"{ {'mean': 'mean', 'median': 'median'}.get(self.stat, self.stat)} {words}"
        unit = "share of cases" if self.unit == "share" else short_unit(self.unit)
        return f"{words[0].upper()}{words[1:]} ({unit})"

    def plot(self, ax: Axes | None = None) -> SweepDisplay:
        """Draw on ``ax`` (a new figure with constrained layout when ``None``); returns self."""
        ax, fig = new_axes(ax, (7.0, 3.8))
        x, step = self.values, self._step()
        ax.fill_between(x, self.low, self.high, color=KPI_COLOR, alpha=0.18, lw=0,
                        label="95 % confidence interval")
        ax.plot(x, self.mean, color=KPI_COLOR, marker="o", ms=4.5, lw=1.8,
                label=self.y_label.split(" (")[0])
        # Pool names, paths and the currency are the user's text: drawn as written.
        ax.set_xlabel(literal_text(self.x_label))
        ax.set_ylabel(literal_text(self.y_label), color=KPI_COLOR)
        ax.tick_params(axis="y", colors=KPI_COLOR)
        if self.unit == "share":
            from matplotlib.ticker import PercentFormatter

            # As many decimals as the range needs: shares close to 1 differ in the decimals.
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        ax.grid(alpha=0.3)
        if self.integer:
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        every = np.concatenate([x, self.skipped]) if self.skipped else x
        ax.set_xlim(float(every.min()) - step / 2, float(every.max()) + step / 2)
        for i, value in enumerate(sorted(self.skipped)):
            ax.axvspan(value - step / 2, value + step / 2, facecolor="#dddddd",
                       edgecolor="#999999", hatch="//", lw=0,
                       label="unstable: not simulated" if i == 0 else None)

        if self.knee is not None:
            self._mark_knee(ax)
        handles, labels = ax.get_legend_handles_labels()
        if self.cost is not None:
            cax = ax.twinx()
            label = self.cost_label.split(" (")[0]
            if self.cost_low is not None and self.cost_high is not None:
                # Error bars, not a second band: two overlapping bands read as one.
                cax.errorbar(x, self.cost, yerr=[self.cost - self.cost_low,
                                                 self.cost_high - self.cost],
                             color=COST_COLOR, marker="s", ms=4, lw=1.5, ls="--", capsize=3,
                             label=label)
            else:
                cax.plot(x, self.cost, color=COST_COLOR, marker="s", ms=4, lw=1.5, ls="--",
                         label=label)
            # From zero: a flat cost should look flat, not like noise magnified.
            top = float(np.max(self.cost_high if self.cost_high is not None else self.cost))
            cax.set_ylim(0.0, top * 1.08 if top > 0 else 1.0)
            cax.set_ylabel(literal_text(self.cost_label), color=COST_COLOR)
            cax.tick_params(axis="y", colors=COST_COLOR)
            more_handles, more_labels = cax.get_legend_handles_labels()
            handles, labels = handles + more_handles, labels + more_labels
            self.cost_ax_ = cax
            # The KPI, its band and the knee above the cost curve; the twin's background is
            # then the only one drawn.
            ax.set_zorder(cax.get_zorder() + 1)
            ax.patch.set_visible(False)
        # Above the axes, so that it never hides a curve.
        ax.legend(handles, [literal_text(label) for label in labels], fontsize="small",
                  loc="lower left", bbox_to_anchor=(0.0, 1.01), ncols=3, frameon=False)
        self.ax_, self.figure_ = ax, fig
        return self

    def _step(self) -> float:
        every = np.unique(np.concatenate([self.values, self.skipped]))
        return float(np.min(np.diff(every))) if every.size > 1 else 1.0

    def _mark_knee(self, ax: Axes) -> None:
        assert self.knee is not None
        kx, ky = float(self.knee.value), float(self.mean[self.knee.index])
        ax.axvline(kx, color=KNEE_COLOR, ls=":", lw=1.2)
        ax.plot([kx], [ky], marker="*", ms=15, color=KNEE_COLOR, zorder=5, ls="none",
                label=f"knee (next unit gains < {self.threshold * 100:g} %)")
        text = f"knee: {self.knee.value:g}" + (f" {literal_text(self.pool)}" if self.pool
                                               else "")
        if self.knee.gain is not None:
            # Per unit of the parameter; "−" for an improvement of a lower-is-better KPI.
            change = -self.knee.gain if self.mean[-1] <= self.mean[0] else self.knee.gain
            text += f"\nnext unit: {change * 100:+.3g} %".replace("-", "−")
        # Text towards the emptier side: right of a knee in the left half, left otherwise.
        left, right = ax.get_xlim()
        to_right = kx < (left + right) / 2
        self.knee_annotation_ = ax.annotate(
            text, xy=(kx, ky), xytext=(18 if to_right else -18, 28), textcoords="offset points",
            ha="left" if to_right else "right", va="bottom", fontsize="small", color=KNEE_COLOR,
            zorder=6, bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": KNEE_COLOR,
                            "lw": 0.8},
            arrowprops={"arrowstyle": "->", "color": KNEE_COLOR, "lw": 1.0})


def _parameter_label(sweep: SweepResult) -> str:
    """The x-axis label: the swept parameter in words, with its unit."""
    parts = sweep.path.split(".")
    model = sweep.results[0].model
    unit = short_unit(sweep.time_unit)
    if sweep.pool:
        return f"Capacity of {sweep.pool} (people or machines on shift)"
    if len(parts) == 3 and parts[0] == "resources" and parts[2] == "cost_per_hour":
        return f"Cost per hour of {parts[1]} ({model.currency or 'currency'}/hour)"
    if "duration" in parts or "interarrival" in parts:
        if parts[-1] in _DURATION_FIELDS:
            return f"{sweep.path} ({unit})"
    if len(parts) == 3 and parts[0] == "activities" and parts[2] == "cost":
        return f"Cost per execution of {parts[1]} ({model.currency or 'currency'})"
    return sweep.path
