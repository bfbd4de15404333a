"""Run a model: many seeded replications, optionally in worker processes, into a RunResult."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from procsim.engine import Plan, ReplicationRecord, compile_model, run_replication
from procsim.errors import SimulationError
from procsim.kpi import RunResult, replication_kpis, resolve_warmup
from procsim.model.check import check_stability
from procsim.model.schema import Model
from procsim.rng import draw_seed
from procsim.units import parse_duration

__all__ = ["simulate"]


def simulate(
    model: Model,
    *,
    replications: int | None = None,
    seed: int | None = None,
    cases: int | None = None,
    duration: float | str | None = None,
    warmup: int | float | str | None = None,
    jobs: int | None = 1,
    allow_unstable: bool = False,
    keep_records: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Simulate ``model`` and return KPI distributions with confidence intervals.

    Every argument left as ``None`` takes its value from the model's ``run`` section.

    Parameters
    ----------
    model : Model
        A checked model, from :func:`procsim.load_model`.
    replications : int, optional
        Number of independent replications.
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
        Keep the raw records in the result (needed to write an event log).
    progress : callable, optional
        Called as ``progress(done, total)`` after each replication.

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
    run = model.run
    if not allow_unstable:
        check_stability(model)
    replications = replications if replications is not None else run.replications
    if replications < 1:
        raise SimulationError(f"expected at least 1 replication, got {replications}")
    seed = seed if seed is not None else run.seed
    seed = seed if seed is not None else draw_seed()

    arrival_duration: float | None
    if duration is not None:
        arrival_duration, n_cases = parse_duration(duration, model.time_unit), None
    elif cases is not None:
        arrival_duration, n_cases = None, cases
    else:
        arrival_duration, n_cases = run.duration, run.cases_or_default

    warmup_setting = warmup if warmup is not None else run.warmup
    by_duration = False
    if isinstance(warmup_setting, str) and warmup_setting != "auto":
        warmup_setting = parse_duration(warmup_setting, model.time_unit)
        by_duration = True
    elif isinstance(warmup_setting, float):
        by_duration = True
    if n_cases is not None and not by_duration and warmup_setting != "auto" \
            and int(warmup_setting) >= n_cases - 1:
        raise SimulationError(
            f"warm-up of {warmup_setting} cases leaves nothing to measure out of {n_cases} cases "
            "per replication; lower the warm-up or raise the number of cases"
        )

    plan = compile_model(model)
    task = _Task(plan, seed, n_cases, arrival_duration, run.max_activity_instances)
    records = _run_all(task, replications, jobs, progress)
    warmups = resolve_warmup(records, warmup_setting, by_duration=by_duration)
    per_replication = [replication_kpis(plan, rec, w) for rec, w in zip(records, warmups,
                                                                        strict=True)]
    return RunResult(
        model=model,
        seed=seed,
        replications=replications,
        warmup=warmups,
        warmup_setting=warmup_setting,
        per_replication=per_replication,
        records=records if keep_records else None,
    )


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


def _run_all(task: _Task, replications: int, jobs: int | None,
             progress: Callable[[int, int], None] | None) -> list[ReplicationRecord]:
    workers = min(jobs or os.cpu_count() or 1, replications)
    records: list[ReplicationRecord] = []
    if workers <= 1:
        for r in range(replications):
            records.append(task(r))
            if progress:
                progress(r + 1, replications)
        return records
    with ProcessPoolExecutor(max_workers=workers) as pool:
        # map() keeps replication order, so the result is the same for any number of workers.
        for r, record in enumerate(pool.map(task, range(replications))):
            records.append(record)
            if progress:
                progress(r + 1, replications)
    return records


