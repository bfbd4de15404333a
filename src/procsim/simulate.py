"""Run a model: many seeded replications, here, in worker processes or on a Dask cluster.

A replication's random streams depend only on the root seed and its index, so where it
runs (this process, a local worker process, a Dask worker on another machine) never
changes its numbers: the same seed gives the same :class:`~procsim.kpi.RunResult`.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import closing, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from procsim.engine import Plan, ReplicationRecord, compile_model, run_replication
from procsim.errors import ProcsimError, SimulationError
from procsim.kpi import ReplicationKpis, RunResult, replication_kpis, resolve_warmup
from procsim.model.check import check_stability
from procsim.model.schema import Model
from procsim.rng import draw_seed
from procsim.units import parse_duration

__all__ = ["ClusterError", "dask_executor", "running", "simulate"]

#: ``progress(done, total)``: replications finished so far, out of ``total``.
Progress = Callable[[int, int], None]


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
    progress: Progress | None = None,
    executor: Executor | None = None,
    on_record: Callable[[ReplicationRecord], None] | None = None,
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

    options = _OPTIONS.get() or _Options()
    progress = progress if progress is not None else options.progress
    executor = executor if executor is not None else options.executor
    plan = compile_model(model)
    task = _Task(plan, seed, n_cases, arrival_duration, run.max_activity_instances)
    # Records are needed at the end only for an event log kept in the result or for MSER-5,
    # which looks at every replication at once; otherwise each becomes KPIs on arrival.
    hold = keep_records or warmup_setting == "auto"
    records: list[ReplicationRecord] = []
    per_replication: list[ReplicationKpis] = []
    warmups: list[int] = []
    # closing(): an error here stops the workers at once (see _records), traceback or not.
    with closing(_records(task, replications, jobs, executor, progress)) as arriving:
        for record in arriving:
            if on_record is not None:
                on_record(record)
            if hold:
                records.append(record)
            else:
                (w,) = resolve_warmup([record], warmup_setting, by_duration=by_duration)
                warmups.append(w)
                per_replication.append(replication_kpis(plan, record, w))
            del record
    if hold:
        warmups = resolve_warmup(records, warmup_setting, by_duration=by_duration)
        per_replication = [replication_kpis(plan, rec, w)
                           for rec, w in zip(records, warmups, strict=True)]
    return RunResult(
        model=model,
        seed=seed,
        replications=replications,
        warmup=warmups,
        warmup_setting=warmup_setting,
        per_replication=per_replication,
        records=records if keep_records else None,
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


def _records(task: _Task, replications: int, jobs: int | None, executor: Executor | None,
             progress: Progress | None) -> Generator[ReplicationRecord, None, None]:
    """Every replication's record, in the order of replications."""
    if progress:
        progress(0, replications)
    if executor is not None:
        yield from _in_order(executor, task, replications, progress)
        return
    workers = min(jobs or os.cpu_count() or 1, replications)
    if workers <= 1:
        for r in range(replications):
            yield task(r)
            if progress:
                progress(r + 1, replications)
        return
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_ignore_interrupts)
    try:
        yield from _in_order(pool, task, replications, progress)
    except BaseException:
        # Ctrl-C, an error in a replication, or the caller gave up on the rest: stop the
        # workers now rather than after the replications they are running.
        _terminate(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _in_order(executor: Executor, task: _Task, replications: int,
              progress: Progress | None) -> Iterator[ReplicationRecord]:
    futures: list[Future[ReplicationRecord] | None] = [
        executor.submit(task, r) for r in range(replications)]
    pending = {f for f in futures if f is not None}
    following = 0  # the next replication to hand on
    try:
        while pending:
            _, pending = wait(pending, return_when=FIRST_COMPLETED)
            if progress:
                progress(replications - len(pending), replications)
            while following < replications:
                future = futures[following]
                assert future is not None
                if not future.done():
                    break
                futures[following] = None  # let the record go once it has been handed on
                following += 1
                yield future.result()
    finally:
        for future in futures:
            if future is not None:
                future.cancel()


def _ignore_interrupts() -> None:
    """Worker processes leave Ctrl-C to the parent, which stops them (no tracebacks)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _terminate(pool: ProcessPoolExecutor) -> None:
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    # Python 3.11's executor, finding its workers gone, sets an exception on every pending
    # future, and fails (a traceback on stderr) on those already cancelled: drop them first.
    pending = getattr(pool, "_pending_work_items", None)
    if isinstance(pending, dict):
        for key, item in list(pending.items()):
            if item.future.cancelled():
                pending.pop(key, None)
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()
    # A worker stopped while it was sending a record leaves half a message in the result
    # pipe, and the executor's manager thread would wait for the rest for ever (and
    # shutdown, or the interpreter's exit, with it). With every worker gone, closing the
    # parent's copy of the pipe's writing end turns that wait into an end of file, which
    # the executor handles as a broken pool: its threads end and shutdown returns.
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    if writer is not None:
        writer.close()


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
