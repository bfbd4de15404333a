"""Run a model: many seeded replications, here, in worker processes or on a Dask cluster.

A replication's random streams depend only on the root seed and its index, so where it
runs (this process, a local worker process, a Dask worker on another machine) never
changes its numbers: the same seed gives the same :class:`~procsim.kpi.RunResult`.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from procsim.engine import Plan, ReplicationRecord, compile_model, run_replication
from procsim.errors import (
    ProcsimError,
    SimulationError,
    UsageError,
    WrongTypeError,
    close_match_hint,
    quote,
)
from procsim.kpi import ReplicationKpis, RunResult, replication_kpis, resolve_warmup
from procsim.model.check import check_stability
from procsim.model.schema import Model
from procsim.rng import draw_seed
from procsim.stats import replications_needed
from procsim.units import format_duration, parse_duration

__all__ = [
    "PASSED_ON",
    "RUN_SETTINGS",
    "ClusterError",
    "RunOptions",
    "dask_executor",
    "default_cases",
    "expect_model",
    "expect_result",
    "precision_targets",
    "replications_for_precision",
    "run_length",
    "running",
    "simulate",
]

#: ``progress(done, total)``: replications finished so far, out of ``total``.
Progress = Callable[[int, int], None]


def expect_model(model: Any, what: str = "model") -> Model:
    """``model`` when it is a :class:`~procsim.model.Model`, else a
    :class:`~procsim.errors.WrongTypeError` naming ``what`` (the argument's name).

    >>> expect_model("claims.yaml")
    Traceback (most recent call last):
    ...
    procsim.errors.WrongTypeError: model: expected a Model (from procsim.load_model), got str
    """
    if not isinstance(model, Model):
        raise WrongTypeError(f"{what}: expected a Model (from procsim.load_model), got "
                             f"{type(model).__name__}")
    return model


def expect_result(result: Any, what: str = "result") -> RunResult:
    """``result`` when it is a :class:`~procsim.kpi.RunResult`, else a
    :class:`~procsim.errors.WrongTypeError` naming ``what``."""
    if not isinstance(result, RunResult):
        raise WrongTypeError(f"{what}: expected a RunResult (from procsim.simulate), got "
                             f"{type(result).__name__}")
    return result



#: The arguments of :func:`simulate` that :class:`RunOptions` holds.
RUN_SETTINGS = ("seed", "replications", "precision", "max_replications", "cases", "duration",
                "warmup", "jobs", "executor")
#: The other arguments of :func:`simulate` a study passes on to each run.
PASSED_ON = ("allow_unstable", "keep_records", "progress", "on_record")


@dataclass(frozen=True)
class RunOptions:
    """The settings of a run, resolved once against a model's ``run`` section.

    A study (:func:`procsim.compare.compare`, :func:`procsim.sweep.sweep`,
    :func:`procsim.optimise.optimise`) resolves its options once, on its reference model, and
    passes the same object to every :func:`simulate`, so that all its runs share the seed, the
    run length and the warm-up (and pair up on common random numbers). Build one with
    :meth:`resolve`; change a field with :meth:`replace`.

    Attributes
    ----------
    seed : int
        The root seed (drawn when neither the caller nor the model gave one).
    replications : int or "auto"
        A number of replications, or ``"auto"`` (rounds until ``precision`` is reached).
    precision, min_replications, max_replications
        The ``"auto"`` rule: relative half-width wanted, first round, cap.
    cases, duration
        The run length: exactly one is set (``duration`` as given: a number in the model's
        time unit or a text such as ``"20d"``).
    warmup : int, float, str
        Cases dropped (an int), a duration (a float in the model's time unit or a text such as
        ``"2d"``), or ``"auto"``.
    jobs : int or None
        Worker processes (``None``: all cores).
    executor : concurrent.futures.Executor or None
        Where replications run instead of ``jobs`` processes.
    notes : tuple of str
        What a reader of the results must know about these settings (a run length that was
        the default rather than chosen); every result simulated with them carries the notes.

    Examples
    --------
    >>> from procsim import parse_model
    >>> m = parse_model('''
    ... procsim: 1
    ... name: Desk
    ... run: {cases: 2000, seed: 7}
    ... arrivals: {interarrival: {dist: exponential, mean: 5}}
    ... resources: {clerk: {capacity: 1}}
    ... activities: {serve: {resource: clerk, duration: {dist: exponential, mean: 3}}}
    ... flow: {start: serve, serve: end}
    ... ''')
    >>> options = RunOptions.resolve(m, replications=5, warmup=100)
    >>> options.seed, options.cases, options.duration, options.replications, options.warmup
    (7, 2000, None, 5, 100)
    >>> simulate(m, options=options).replications
    5
    >>> options.replace(duration="8h").cases is None
    True
    """

    seed: int
    replications: int | str
    precision: float
    min_replications: int
    max_replications: int
    cases: int | None
    duration: float | str | None
    warmup: int | float | str
    jobs: int | None = 1
    executor: Executor | None = None
    notes: tuple[str, ...] = ()

    @classmethod
    def resolve(cls, model: Model, *, seed: int | None = None,
                replications: int | str | None = None, precision: float | None = None,
                max_replications: int | None = None, cases: int | None = None,
                duration: float | str | None = None, warmup: int | float | str | None = None,
                jobs: int | None = 1, executor: Executor | None = None) -> RunOptions:
        """Every setting left as ``None`` taken from ``model.run`` (see :func:`simulate`); the
        run length from :func:`run_length`; a seed drawn when there is none. Checks the
        values: a :class:`~procsim.errors.SimulationError` names the first one wrong."""
        run = expect_model(model).run
        replications = replications if replications is not None else run.replications
        if replications != "auto" and (isinstance(replications, bool)
                                       or not isinstance(replications, int)):
            raise SimulationError(f"expected a number of replications or 'auto', got "
                                  f"{replications!r}")
        if replications != "auto" and int(replications) < 1:
            raise SimulationError(f"expected at least 1 replication, got {replications}")
        precision = precision if precision is not None else run.precision
        if not 0 < precision < 1:
            raise SimulationError(f"expected a precision between 0 and 1 (0.1 for ±10 %), "
                                  f"got {precision!r}")
        seed = seed if seed is not None else run.seed
        length = run_length(model, cases=cases, duration=duration)
        notes: tuple[str, ...] = ()
        if cases is None and duration is None and run.cases is None and run.duration is None:
            notes = (f"run length: {length['cases']:,} cases per replication (the default "
                     f"for this model's load; set run.cases or run.duration to choose)",)
        return cls(seed=seed if seed is not None else draw_seed(), replications=replications,
                   precision=precision, min_replications=run.min_replications,
                   max_replications=(max_replications if max_replications is not None
                                     else run.max_replications),
                   cases=length.get("cases"), duration=length.get("duration"),
                   warmup=warmup if warmup is not None else run.warmup, jobs=jobs,
                   executor=executor, notes=notes)

    @classmethod
    def split(cls, model: Model, settings: Mapping[str, Any],
              ) -> tuple[RunOptions, dict[str, Any]]:
        """The options in keyword arguments meant for :func:`simulate` (``options=`` itself,
        or the run settings, resolved on ``model``), and the other arguments, for a study that
        passes ``**kwargs`` on to every run.

        >>> from procsim import parse_model
        >>> m = parse_model('''
        ... procsim: 1
        ... name: Desk
        ... arrivals: {interarrival: {dist: exponential, mean: 5}}
        ... resources: {clerk: {capacity: 1}}
        ... activities: {serve: {resource: clerk, duration: {dist: exponential, mean: 3}}}
        ... flow: {start: serve, serve: end}
        ... ''')
        >>> options, rest = RunOptions.split(m, {"cases": 500, "seed": 3, "keep_records": True})
        >>> options.cases, options.seed, rest
        (500, 3, {'keep_records': True})
        >>> RunOptions.split(m, {"replication": 5})
        Traceback (most recent call last):
        ...
        procsim.errors.UsageError: unknown run setting 'replication' (did you mean 'replications'?)
        """
        rest = dict(settings)
        options = rest.pop("options", None)
        given = {name: rest.pop(name) for name in RUN_SETTINGS if name in rest}
        for name in rest:
            if name not in PASSED_ON:
                raise UsageError(f"unknown run setting {quote(name)}"
                                 f"{close_match_hint(name, [*RUN_SETTINGS, *PASSED_ON])}")
        if options is None:
            return cls.resolve(model, **given), rest
        if not isinstance(options, RunOptions):
            raise WrongTypeError(f"options: expected RunOptions, got {type(options).__name__}")
        if given:
            raise UsageError(f"expected the run settings in options= or as arguments, not "
                             f"both: got options and {', '.join(given)}")
        return options, rest

    def replace(self, **changes: Any) -> RunOptions:
        """These options with ``changes``; a new run length replaces the other one (and the
        note that it was the default)."""
        if "cases" in changes or "duration" in changes:
            changes = {"cases": None, "duration": None, "notes": (), **changes}
        return dataclasses.replace(self, **changes)


def simulate(
    model: Model,
    *,
    replications: int | str | None = None,
    precision: float | None = None,
    max_replications: int | None = None,
    seed: int | None = None,
    cases: int | None = None,
    duration: float | str | None = None,
    warmup: int | float | str | None = None,
    jobs: int | None = 1,
    allow_unstable: bool = False,
    keep_records: bool = False,
    progress: Progress | None = None,
    executor: Executor | None = None,
    on_record: Callable[[ReplicationRecord], None] | None = None,
    extend: RunResult | None = None,
    plan: Plan | None = None,
    options: RunOptions | None = None,
) -> RunResult:
    """Simulate ``model`` and return KPI distributions with confidence intervals.

    Every argument left as ``None`` takes its value from the model's ``run`` section.

    Parameters
    ----------
    model : Model
        A checked model, from :func:`procsim.load_model`.
    replications : int or "auto", optional
        Number of independent replications, or ``"auto"`` (the default unless the model's
        ``run.replications`` fixes it): ``run.min_replications`` (20), then more, as many as
        the two-stage rule says, until the KPIs that the model's key results and KPI targets
        use (the mean cycle time when it has none) have a 95 % interval within
        ``precision`` of their value, at most ``max_replications``.
    precision : float, optional
        With ``"auto"``: the relative half-width wanted (default ``run.precision``, 0.1).
    max_replications : int, optional
        With ``"auto"``: the cap (default ``run.max_replications``, 200); reaching it is said
        in the result's ``notes``.
    seed : int, optional
        Root seed. Without one (here and in the model) a seed is drawn and recorded in the result.
    cases : int, optional
        Arrivals per replication; each replication runs until every case has finished.
    duration : float or str, optional
        Instead of ``cases``: the length of the arrival period, e.g. ``"20d"``.
    warmup : int, str, optional
        Cases dropped from the KPIs: a number of cases, a duration such as ``"2d"``, or ``"auto"``.
    jobs : int, optional
        Worker processes (``None``: all cores). Results do not depend on it.
    allow_unstable : bool
        Run even when a pool's offered load reaches its capacity.
    keep_records : bool
        Keep the raw records in the result. Without it (and without ``warmup="auto"``, which
        needs every replication's record) each record is dropped as soon as its KPIs are
        computed, so memory does not grow with the number of replications.
    progress : callable, optional
        Called as ``progress(done, total)``: once with ``done = 0`` before the first
        replication, then each time replications finish (in any order).
    executor : concurrent.futures.Executor, optional
        Run the replications on this executor instead of ``jobs`` local processes, for
        example on a Dask cluster (:func:`dask_executor`). Results do not depend on it.
    on_record : callable, optional
        Called with each replication's :class:`~procsim.engine.ReplicationRecord`, in the
        order of replications, as soon as it is available (to stream an event log to disk).
    extend : RunResult, optional
        An earlier result of this model with the same seed and horizon: its replications
        are kept and only the following ones run (up to ``replications``), with the warm-up
        it chose. :func:`procsim.compare.compare` adds its rounds this way.
    plan : Plan, optional
        ``model`` compiled already (:func:`procsim.engine.compile_model`), when the caller
        needs the plan before the run: the event-log writers streaming ``on_record`` read
        the same plan instead of a second compilation.
    options : RunOptions, optional
        The run settings resolved already (by a study, for all its runs), instead of
        ``replications``, ``precision``, ``max_replications``, ``seed``, ``cases``,
        ``duration``, ``warmup``, ``jobs`` and ``executor``, which must then be left out.

    ``progress`` and ``executor`` default to those set with :func:`running`.

    Examples
    --------
    >>> from procsim import parse_model, simulate
    >>> m = parse_model('''
    ... procsim: 1
    ... name: One desk
    ... arrivals: {interarrival: {dist: exponential, mean: 5}}
    ... resources: {clerk: {capacity: 1}}
    ... activities: {serve: {resource: clerk, duration: {dist: exponential, mean: 4}}}
    ... flow: {start: serve, serve: end}
    ... ''')
    >>> result = simulate(m, replications=5, cases=2000, seed=1)
    >>> 0.7 < result.resource("clerk", "utilization").mean < 0.9
    True
    """
    run = expect_model(model).run
    if options is None:
        options = RunOptions.resolve(
            model, seed=seed, replications=replications, precision=precision,
            max_replications=max_replications, cases=cases, duration=duration, warmup=warmup,
            jobs=jobs, executor=executor)
    elif not isinstance(options, RunOptions):
        raise WrongTypeError(f"options: expected RunOptions, got {type(options).__name__}")
    else:
        given = [name for name, value in (
            ("replications", replications), ("precision", precision),
            ("max_replications", max_replications), ("seed", seed), ("cases", cases),
            ("duration", duration), ("warmup", warmup), ("executor", executor))
            if value is not None] + (["jobs"] if jobs != 1 else [])
        if given:
            raise UsageError(f"expected the run settings in options= or as arguments, not "
                             f"both: got options and {', '.join(given)}")
    if not allow_unstable:
        check_stability(model)
    fixed = None if options.replications == "auto" else int(options.replications)
    precision = options.precision
    cap = options.max_replications
    first_round = min(options.min_replications, cap)
    seed, jobs = options.seed, options.jobs

    arrival_duration: float | None = None
    n_cases: int | None = options.cases
    if options.duration is not None:
        arrival_duration = parse_duration(options.duration, model.time_unit)
    notes: list[str] = list(options.notes)

    warmup_setting = options.warmup
    by_duration = False
    if isinstance(warmup_setting, str) and warmup_setting != "auto":
        warmup_setting = parse_duration(warmup_setting, model.time_unit)
        by_duration = True
    elif isinstance(warmup_setting, float):
        by_duration = True
    _check_run_length(n_cases, arrival_duration, warmup_setting, by_duration, model.time_unit)

    context = _OPTIONS.get() or _Options()
    progress = progress if progress is not None else context.progress
    executor = options.executor if options.executor is not None else context.executor
    if plan is None:
        plan = compile_model(model)
    elif not isinstance(plan, Plan) or plan.model is not model:
        raise UsageError("plan: expected compile_model(model) of the model simulated, got "
                         + (f"the plan of {quote(plan.model.name)}" if isinstance(plan, Plan)
                            else type(plan).__name__))
    task = _Task(plan, seed, n_cases, arrival_duration, run.max_activity_instances)
    horizon = (f"{n_cases} cases" if arrival_duration is None
               else f"arrivals for {arrival_duration:g} {model.time_unit}")
    targets = precision_targets(model)

    # With warmup "auto", MSER-5 looks at the replications of the first round at once (all of
    # them when their number is fixed): their records are held until it has chosen the cut,
    # which later rounds then keep (the pilot runs of Law & Kelton's procedure). Records are
    # otherwise held only when the result is to keep them; each becomes KPIs on arrival.
    auto_warmup = warmup_setting == "auto"
    records: list[ReplicationRecord] = []
    per_replication: list[ReplicationKpis] = []
    warmups: list[int] = []
    chosen_cut: int | None = None
    done = 0
    if extend is not None:
        if keep_records or extend.seed != seed or extend.horizon != horizon or (
                extend.warmup_setting != warmup_setting):
            raise SimulationError(
                "expected an earlier result with the same seed, horizon and warm-up setting, "
                "and no records kept, to extend")
        per_replication, warmups = list(extend.per_replication), list(extend.warmup)
        done = extend.replications
        chosen_cut = extend.warmup[0] if auto_warmup else None
        notes = list(extend.notes)
    stop = fixed if fixed is not None else max(first_round, done)
    if stop < done:
        raise SimulationError(f"expected at least the {done} replications of the result "
                              f"extended, got {stop}")
    while True:
        pilot = auto_warmup and chosen_cut is None
        held: list[ReplicationRecord] = []
        arriving = _records(task, range(done, stop), jobs, executor, progress)
        try:
            for record in arriving:
                if on_record is not None:
                    on_record(record)
                if keep_records:
                    records.append(record)
                if pilot:
                    held.append(record)
                else:
                    if chosen_cut is not None:
                        w = min(chosen_cut, record.cases - 2)
                    else:
                        (w,) = resolve_warmup([record], warmup_setting, by_duration=by_duration)
                    warmups.append(w)
                    per_replication.append(replication_kpis(plan, record, w))
                del record
        finally:
            # An error here, Ctrl-C or SIGTERM stops the workers at once (see _records); so
            # does a second interrupt arriving while the first is on its way here (an inline
            # loop: a helper function could be interrupted as it is entered).
            late: KeyboardInterrupt | None = None
            while True:
                try:
                    arriving.close()
                    break
                except KeyboardInterrupt as exc:
                    late = late or exc
            if late is not None:
                raise late
        if pilot:
            cuts = resolve_warmup(held, "auto")
            chosen_cut = cuts[0]
            warmups += cuts
            per_replication += [replication_kpis(plan, rec, w)
                                for rec, w in zip(held, cuts, strict=True)]
            notes += _warmup_notes(held, chosen_cut)
            del held
        done = stop
        result = RunResult(
            model=model, seed=seed, replications=done, warmup=warmups,
            warmup_setting=warmup_setting, per_replication=per_replication,
            records=records if keep_records else None, horizon=horizon,
            precision=None if fixed is not None else precision, precision_kpis=targets,
            notes=tuple(notes), plan=plan)
        if fixed is not None:
            return result
        needed = replications_for_precision(result, targets, precision)
        if needed <= done:
            return result
        if done >= cap:
            return dataclasses.replace(result, notes=(*notes, _cap_note(result, targets, cap,
                                                                        needed)))
        stop = min(cap, max(done + 1, needed))


def run_length(model: Model, *, cases: int | None = None,
               duration: float | str | None = None) -> dict[str, Any]:
    """The run length that comparisons pass to every :func:`simulate` of a study, so that
    all its runs pair up: ``{"duration": …}`` or ``{"cases": …}``, the first of ``duration``,
    ``cases``, the model's ``run.duration``, its ``run.cases``, and :func:`default_cases`.

    Examples
    --------
    >>> from procsim import parse_model
    >>> m = parse_model('''
    ... procsim: 1
    ... name: Desk
    ... run: {cases: 2000}
    ... arrivals: {interarrival: {dist: exponential, mean: 5}}
    ... resources: {clerk: {capacity: 1}}
    ... activities: {serve: {resource: clerk, duration: {dist: exponential, mean: 3}}}
    ... flow: {start: serve, serve: end}
    ... ''')
    >>> run_length(m), run_length(m, duration="8h")
    ({'cases': 2000}, {'duration': '8h'})
    """
    run = model.run
    if duration is not None:
        return {"duration": duration}
    if cases is not None:
        return {"cases": cases}
    if run.duration is not None:
        return {"duration": run.duration}
    if run.cases is not None:
        return {"cases": run.cases}
    return {"cases": default_cases(model)}


def default_cases(model: Model) -> int:
    """Cases per replication when the model gives neither ``cases`` nor ``duration``.

    Thirty times the longest relaxation time of the model's pools, in arrivals, and at least
    5,000. The relaxation time of a pool of ``c`` servers at utilisation ``ρ`` with a mean
    service time ``s`` is about ``s / (c (1 − √ρ)²)`` (Whitt 1989, *Planning queueing
    simulations*): the time its queue takes to forget where it started, which is what a
    run must be long compared with, both for the warm-up to be found and for the mean of the
    rest not to keep the start's bias. It grows without bound as ``ρ`` nears 1: 342 cases
    for an M/M/1 queue at ρ = 0.9, so 10,300 cases per replication. The floor of 5,000 is
    there for the skewness of short replications' means: at ρ = 0.8 (71 cases of relaxation)
    runs of 2,200 cases gave 95 % intervals that covered the mean of an M/M/4 queue in only
    90–92 % of 200 seeds, missing low (bench/coverage.py). At most 1,000,000.
    """
    from procsim.model.check import expected_visits, offered_load

    visits = expected_visits(model)
    per_pool = dict.fromkeys(model.resources, 0.0)
    for name, activity in model.activities.items():
        if activity.resource is not None:
            per_pool[activity.resource] += visits[name]
    rate = model.arrival_rate
    longest = 0.0
    for name, load in offered_load(model).items():
        servers = load.available if load.available is not None else load.capacity
        if per_pool[name] <= 0 or servers <= 0 or not 0 < load.utilization < 1:
            continue
        service = load.work_per_case / per_pool[name]
        relaxation = service / (servers * (1 - math.sqrt(load.utilization)) ** 2)
        longest = max(longest, rate * relaxation)
    return int(min(max(5000, math.ceil(30 * longest / 100) * 100), 1_000_000))


def precision_targets(model: Model) -> tuple[tuple[str, str], ...]:
    """The (KPI, statistic) pairs that ``replications: auto`` brings within the precision.

    Those that the model's key results and KPI targets use, in their order; the mean cycle
    time when there are none.
    """
    out: list[tuple[str, str]] = []
    for objective in model.okrs:
        for kr in objective.key_results:
            out.append((kr.kpi, str(kr.stat or "mean")))
    for name, spec in model.kpis.items():
        if getattr(spec, "target", None) is not None:
            out.append((name, "mean"))
    return tuple(dict.fromkeys(out)) or (("cycle_time", "mean"),)


def replications_for_precision(result: RunResult, targets: Sequence[tuple[str, str]],
                               precision: float) -> int:
    """Replications that would bring every target's interval within ``precision`` of it.

    The two-stage rule of :func:`procsim.stats.replications_needed` on each target's
    estimate (a percentile's sectioning interval); a target whose value is 0 has no relative
    precision and is left out.
    """
    needed = 0
    for kpi, stat in targets:
        est = result.estimate(kpi, stat)
        if est.n >= 2 and est.mean and math.isfinite(est.mean) and math.isfinite(est.half_width):
            needed = max(needed, replications_needed(est, precision))
    return needed


def _warmup_notes(held: list[ReplicationRecord], cut: int) -> list[str]:
    shortest = min(r.cases for r in held)
    if cut > shortest // 4:
        return [f"warm-up: MSER-5 cut {cut:,} of {shortest:,} cases (more than a quarter of the "
                "run): the process may not settle within a replication; raise run.cases, "
                "or set run.warmup yourself"]
    return []


def _cap_note(result: RunResult, targets: Sequence[tuple[str, str]], cap: int,
              needed: int) -> str:
    worst = max((result.estimate(k, s) for k, s in targets),
                key=lambda e: e.half_width / abs(e.mean) if e.mean else 0.0)
    reached = worst.half_width / abs(worst.mean) if worst.mean else math.nan
    return (f"replications: stopped at the cap of {cap} (run.max_replications) with an "
            f"interval of ±{reached:.1%}; about {needed:,} would reach the precision")


def _check_run_length(cases: int | None, duration: float | None, warmup: int | float | str,
                      by_duration: bool, time_unit: str) -> None:
    """Refuse, before anything runs, a run length or warm-up that leaves nothing to measure.

    Each replication needs at least 2 measured cases (as :func:`procsim.kpi.replication_kpis`
    does, and the model's own checks of its ``run`` section). A warm-up in cases is compared
    with ``cases``, a warm-up duration with the arrival ``duration``; the other pairings are
    known only once a replication has run, and are checked then.
    """
    if cases is not None and cases < 1:
        raise SimulationError(f"expected at least 1 case per replication, got {cases}")
    if duration is not None and not duration > 0:  # parse_duration refused nan and inf
        raise SimulationError(f"expected a duration > 0, got {duration:g}")
    if warmup == "auto":
        return
    assert not isinstance(warmup, str)
    if not (math.isfinite(warmup) and warmup >= 0):
        raise SimulationError(f"expected a warm-up of 0 or more, got {warmup:g}")
    if cases is not None and not by_duration and warmup > cases - 2:
        left = max(cases - int(warmup), 0)
        leaves = "nothing" if left == 0 else f"{left} case{'s' * (left != 1)}"
        raise SimulationError(
            f"warm-up of {int(warmup):,} cases leaves {leaves} to measure of a run of "
            f"{cases:,} cases; expected a warm-up below the run length, of at most "
            f"{max(cases - 2, 0):,} cases (at least 2 are measured)"
        )
    if duration is not None and by_duration and warmup >= duration:
        raise SimulationError(
            f"warm-up of {format_duration(warmup, time_unit)} leaves nothing to measure of a "
            f"run with arrivals for {format_duration(duration, time_unit)}; expected a warm-up "
            "shorter than the run"
        )


# --- where replications run ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    executor: Executor | None = None
    progress: Progress | None = None


_OPTIONS: ContextVar[_Options | None] = ContextVar("procsim_simulate_options", default=None)


@contextmanager
def running(*, executor: Executor | None = None,
            progress: Progress | None = None) -> Iterator[None]:
    """Make every :func:`simulate` call inside the ``with`` block use this executor and progress.

    For code that calls :func:`simulate` for you, such as :func:`procsim.compare.compare`.
    Arguments passed to :func:`simulate` itself take precedence.

    Parameters
    ----------
    executor : concurrent.futures.Executor, optional
        Where replications run (see :func:`simulate`).
    progress : callable, optional
        ``progress(done, total)``, called by each :func:`simulate` call for its own
        replications.

    Examples
    --------
    >>> from procsim import parse_model
    >>> m = parse_model('''
    ... procsim: 1
    ... name: One desk
    ... arrivals: {interarrival: {dist: exponential, mean: 5}}
    ... resources: {clerk: {capacity: 1}}
    ... activities: {serve: {resource: clerk, duration: {dist: exponential, mean: 4}}}
    ... flow: {start: serve, serve: end}
    ... ''')
    >>> seen = []
    >>> with running(progress=lambda done, total: seen.append((done, total))):
    ...     _ = simulate(m, replications=2, cases=100, seed=1)
    >>> seen
    [(0, 2), (1, 2), (2, 2)]
    """
    token = _OPTIONS.set(_Options(executor, progress))
    try:
        yield
    finally:
        _OPTIONS.reset(token)


class _Task:
    """A picklable callable running replication ``r`` (for worker processes)."""

    def __init__(self, plan: Plan, seed: int, cases: int | None, duration: float | None,
                 max_instances: int | None) -> None:
        self.plan, self.seed, self.cases = plan, seed, cases
        self.duration, self.max_instances = duration, max_instances

    def __call__(self, replication: int) -> ReplicationRecord:
        return run_replication(self.plan, seed=self.seed, replication=replication,
                               cases=self.cases, duration=self.duration,
                               max_instances=self.max_instances)


def _records(task: _Task, replications: range, jobs: int | None, executor: Executor | None,
             progress: Progress | None) -> Generator[ReplicationRecord, None, None]:
    """The records of ``replications`` (indices), in their order.

    ``progress(done, total)`` counts these replications only (0 to ``len(replications)``):
    each round of ``replications="auto"`` shows as one more run.
    """
    if progress:
        progress(0, len(replications))
    if executor is not None:
        yield from _in_order(executor, task, replications, progress)
        return
    workers = min(jobs or os.cpu_count() or 1, len(replications))
    if workers <= 1:
        for r in replications:
            yield task(r)
            if progress:
                progress(r + 1 - replications.start, len(replications))
        return
    pool = _LocalPool(workers)
    completed = False
    try:
        yield from _in_order(pool.executor, task, replications, progress, cancel=False,
                             lost=pool.lost_worker)
        completed = True
    except BrokenProcessPool as err:
        raise SimulationError(
            "a worker process ended abruptly (killed by a signal, or out of memory?); run "
            "again with one job to see any error there") from err
    finally:
        # Ctrl-C, SIGTERM (which the command line turns into a KeyboardInterrupt), an error
        # in a replication, or the caller gave up on the rest: stop the workers now rather
        # than after the replications they are running. close() holds further interrupts;
        # one that comes before it does starts it over, stopping the workers at once.
        held: list[int] = []
        late: KeyboardInterrupt | None = None
        while True:
            try:
                pool.close(at_once=not completed or late is not None, held=held)
                break
            except KeyboardInterrupt as exc:
                late = late or exc
        if completed:  # nothing else on its way up: an interrupt meanwhile is raised now
            if late is not None:
                raise late
            if held:
                signal.raise_signal(held[0])


def _in_order(executor: Executor, task: _Task, replications: range,
              progress: Progress | None, *, cancel: bool = True,
              lost: Callable[[], bool] | None = None) -> Iterator[ReplicationRecord]:
    """The records of ``replications`` run on ``executor``, in their order.

    ``lost()``, when given, says whether a worker process has ended under the pool; it is
    asked every half second while replications are pending, because the executor itself
    may never notice (a worker killed while it sends a record leaves half a message, and
    the executor's thread waits for the rest): the pool is then broken.
    """
    futures: list[Future[ReplicationRecord] | None] = [
        executor.submit(task, r) for r in replications]
    pending = {f for f in futures if f is not None}
    following = 0  # the next replication to hand on
    try:
        while pending:
            done, pending = wait(pending, timeout=None if lost is None else 0.5,
                                 return_when=FIRST_COMPLETED)
            if not done and lost is not None and lost():
                raise BrokenProcessPool("a worker process ended while replications ran")
            if progress:
                progress(len(replications) - len(pending), len(replications))
            while following < len(futures):
                future = futures[following]
                assert future is not None
                if not future.done():
                    break
                futures[following] = None  # let the record go once it has been handed on
                following += 1
                yield future.result()
    finally:
        if cancel:
            for future in futures:
                if future is not None:
                    future.cancel()


# --- worker processes --------------------------------------------------------------------------


def _start_worker() -> None:
    """Initializer of every local worker process: it lives and dies with its parent.

    - It ends when the parent ends, however that happens (SIGKILL, a crash, SIGTERM to a
      script without a handler): nothing else would stop a worker waiting for work. On Linux
      the kernel sends it SIGKILL (the parent-death signal); everywhere a thread watches the
      parent's end of a pipe (see :func:`_exit_with_parent`).
    - Ctrl-C is the parent's to handle: it stops the workers (no tracebacks from them).
    - SIGTERM, with which the parent stops them, ends a worker at once, whatever handler
      it inherited from the parent (the command line's turns SIGTERM into a
      KeyboardInterrupt).
    - It holds neither standard input nor standard output, so that a reader of the parent's
      output (``procsim run … | cat``) sees its end when the parent ends. Standard error
      stays: a worker that crashes says why there.
    """
    _set_parent_death_signal(signal.SIGKILL)
    _exit_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
    finally:
        os.close(devnull)


def _set_parent_death_signal(signum: int) -> None:
    """Linux: have the kernel send ``signum`` to this process when its parent ends.

    Strictly, when the parent's thread that forked it ends. The parent may have ended before
    this call, and then no signal comes: :func:`_exit_with_parent`, called after this, sees
    that. Elsewhere, or without a C library to call, this does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1  # <linux/prctl.h>
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
        return
    prctl(ctypes.c_int(pr_set_pdeathsig), ctypes.c_ulong(signum), ctypes.c_ulong(0),
          ctypes.c_ulong(0), ctypes.c_ulong(0))


def _exit_with_parent() -> None:
    """End this worker process as soon as the process that started it has ended.

    multiprocessing gives each child the reading end of a pipe whose writing end only the
    parent holds (with a ``fork``, also the workers forked after this one, which end the same
    way): it reaches its end of file when the parent is gone. Checked once now, then by a
    daemon thread that waits on it; ``os._exit`` because there is nobody left to report to.
    Any start method, any POSIX system; nothing outside a multiprocessing child.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    if not parent.is_alive():
        os._exit(1)

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="procsim-parent-watch", daemon=True).start()


class _LocalPool:
    """Worker processes on this machine, and the means to stop them at once, whatever happens.

    The workers are forked (or spawned) by the thread that submits, in ``submit()``, which
    outlives the pool: Linux's parent-death signal follows the thread that forked (see
    :func:`_start_worker`).
    """

    def __init__(self, workers: int) -> None:
        self.executor = ProcessPoolExecutor(max_workers=workers, initializer=_start_worker)
        # shutdown() forgets the workers and the result pipe: keep the executor's own dict
        # of workers (it fills it as they start) and its result queue from the start.
        processes = getattr(self.executor, "_processes", None)
        self._processes: dict[int, Any] = processes if processes is not None else {}
        self._results = getattr(self.executor, "_result_queue", None)
        self._manager: threading.Thread | None = None  # the executor's thread, once started

    def lost_worker(self) -> bool:
        """Whether a worker process has ended (the executor's workers end only at shutdown)."""
        return any(process.exitcode is not None for process in list(self._processes.values()))

    def close(self, *, at_once: bool, held: list[int]) -> None:
        """Shut the pool down: at once, or (every replication in) letting the workers end.

        SIGINT and SIGTERM meanwhile (an impatient second Ctrl-C, SIGTERM after SIGINT)
        are held until the workers are stopped, and added to ``held``.
        """
        with _interrupts_held(held):
            if at_once:
                self._stop()
            else:
                self.executor.shutdown(wait=True, cancel_futures=True)

    def _stop(self) -> None:
        """Stop the workers now, drop the replications not started, end the pool's thread.

        As Python 3.14's ``terminate_workers`` does, and on 3.11 to 3.13 by the same means:
        the executor's own thread cancels the replications not started (``shutdown(
        cancel_futures=True)``), then the workers get SIGTERM (SIGKILL if one still runs
        10 s later). No other thread cancels a future: on 3.11 the executor's thread fails
        (a traceback on stderr) on a future cancelled under it, when it hands work on and
        when it finds its workers gone.
        """
        self._manager = self._manager or getattr(self.executor, "_executor_manager_thread", None)
        processes = list(self._processes.values())
        terminate = getattr(self.executor, "terminate_workers", None)  # Python 3.14
        if terminate is not None:
            terminate()
        else:
            self.executor.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                with suppress(ValueError):  # closed: it has ended
                    process.terminate()
        for process in processes:
            with suppress(ValueError):
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()
                    process.join()
        # A worker stopped while it was sending a record leaves half a message in the result
        # pipe, and the executor's thread would wait for the rest for ever (and the
        # interpreter's exit with it). With every worker gone, closing the parent's copy of
        # the pipe's writing end turns that wait into an end of file, which the executor
        # handles as a broken pool: its thread ends.
        writer = getattr(self._results, "_writer", None)
        if writer is not None:
            writer.close()
        if self._manager is not None:
            self._manager.join(timeout=60)  # it ends at once; a bound, as interrupts are held


@contextmanager
def _interrupts_held(held: list[int]) -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM handled in Python raise nothing: they are added
    to ``held``.

    Only the main thread can change signal handlers, and only there do they raise: in
    another thread this holds nothing and needs to hold nothing. Signals whose handler is
    the system's (SIGTERM outside the command line) are left to it.
    """
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            handler = signal.getsignal(signum)
            if callable(handler):
                previous[signum] = handler
                signal.signal(signum, lambda number, frame: held.append(number))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


# --- Dask ---------------------------------------------------------------------------------------


class ClusterError(ProcsimError):
    """A Dask cluster could not be used (not installed, or not reachable)."""


@contextmanager
def dask_executor(address: str, *, timeout: float = 10.0) -> Iterator[Executor]:
    """Connect to a running Dask distributed scheduler; yield an executor for :func:`simulate`.

    Needs the optional extra ``procsim[dask]`` here and procsim, in the same version, on
    every worker. The connection is closed when the ``with`` block ends, which also
    cancels replications still waiting on the cluster.

    Parameters
    ----------
    address : str
        The scheduler, such as ``"tcp://10.0.0.5:8786"``.
    timeout : float
        Seconds to wait for the scheduler to answer.

    Raises
    ------
    ClusterError
        When ``distributed`` is not installed or the scheduler cannot be reached.

    Examples
    --------
    >>> with dask_executor("tcp://scheduler:8786") as ex:  # doctest: +SKIP
    ...     result = simulate(model, replications=100, executor=ex)
    """
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("running on Dask needs the dask extra: pip install 'procsim[dask]'"
                           ) from None
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {err}") from None
    try:
        # pure=False: every submitted replication is a distinct task, never deduplicated.
        yield client.get_executor(pure=False)
    finally:
        client.close()
