"""A simulation run's activity instances as an :class:`~procsim.eventlog.EventLog`.

So that a simulated log and a real one go through the same code (KPIs from a log,
back-testing): :func:`simulated_log` turns one replication of a result kept with
``simulate(..., keep_records=True)`` into the frame every reader returns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from procsim.errors import UsageError
from procsim.eventlog.log import COLUMNS, EventLog
from procsim.simulate import expect_result
from procsim.units import SECONDS_PER

__all__ = ["simulated_log"]


def simulated_log(result: Any, replication: int = 0, *,
                  origin: datetime | None = None) -> EventLog:
    """The activity instances of one replication of ``result`` as an :class:`EventLog`.

    One row per activity instance, as :func:`procsim.output.write_events_csv` writes them:
    ``case`` is ``"<replication>-<case number>"``, ``resource`` the person who did the work
    where the pool names its ``members``, else the pool (missing for a delay),
    ``enabled``/``start``/``end`` the simulated times as date-times after ``origin`` (to the
    nanosecond, so that durations are those of the run), ``line`` the 1-based index of the
    instance in the record (in order of start). Every case of the replication is there, the
    warm-up's included.

    Parameters
    ----------
    result : procsim.RunResult
        From ``simulate(..., keep_records=True)``.
    replication : int
        Which replication (0-based).
    origin : datetime, optional
        The date-time of simulated time 0; default: the model's ``start``. A time-zone-aware
        ``origin`` gives a log in that zone (``time_zone`` its name), a naive one a log of
        naive local times.

    Raises
    ------
    ValueError
        When the result kept no records, ``replication`` is out of range, or there is
        neither ``origin`` nor a model ``start``.

    Examples
    --------
    >>> import procsim
    >>> from procsim.eventlog.simulated import simulated_log
    >>> m = procsim.parse_model('''
    ... procsim: 1
    ... name: One desk
    ... start: 2026-01-05T08:00
    ... arrivals: {interarrival: {dist: exponential, mean: 5}}
    ... resources: {clerk: {capacity: 1}}
    ... activities: {serve: {resource: clerk, duration: {dist: exponential, mean: 4}}}
    ... flow: {start: serve, serve: end}
    ... ''')
    >>> result = procsim.simulate(m, replications=1, cases=3, seed=1, warmup=0,
    ...                           keep_records=True)
    >>> log = simulated_log(result)
    >>> log.cases, len(log), list(log.frame.columns)
    (3, 3, ['case', 'activity', 'resource', 'start', 'end', 'enabled', 'line'])
    """
    import pandas as pd

    records = expect_result(result).records
    if records is None:
        raise UsageError("the result holds no records; simulate with keep_records=True")
    if not 0 <= replication < len(records):
        raise UsageError(f"replication {replication} out of range: the result has "
                         f"{len(records)}")
    model = result.model
    origin = origin if origin is not None else model.start
    if origin is None:
        raise UsageError("the model has no 'start' date-time; give origin=datetime(...)")
    record = records[replication]
    from procsim.engine import compile_model

    plan = result.plan or compile_model(model)
    pools = [plan.pools[p] if p >= 0 else None for p in plan.activity_pool]
    ns_per_unit = SECONDS_PER[model.time_unit] * 1e9
    zone = getattr(origin, "tzinfo", None)
    base = pd.Timestamp(origin)

    def clock(times: np.ndarray) -> Any:
        offsets = pd.to_timedelta(np.rint(np.asarray(times, dtype=np.float64) * ns_per_unit)
                                  .astype(np.int64), unit="ns")
        return base + offsets

    kinds = record.instance_activity.astype(np.intp)
    resource = [pools[a] if pools[a] is not None else pd.NA for a in kinds.tolist()]
    if record.instance_server is not None and model.people:
        # Named members: the person who did the work, as a real log would say.
        people = list(model.people)
        resource = [people[p] if p >= 0 else r
                    for p, r in zip(record.instance_server.tolist(), resource, strict=True)]
    frame = pd.DataFrame({
        "case": pd.Series([f"{replication}-{c}" for c in record.instance_case.tolist()],
                          dtype=object),
        "activity": pd.Series([plan.activities[a] for a in kinds.tolist()], dtype=object),
        "resource": pd.Series(resource, dtype=object),
        "start": clock(record.instance_start),
        "end": clock(record.instance_end),
        "enabled": clock(record.instance_enabled),
        "line": np.arange(1, len(kinds) + 1, dtype=np.int64),
    }, columns=list(COLUMNS))
    frame = frame.sort_values(["case", "start"], kind="stable").reset_index(drop=True)
    return EventLog(frame, file=None, time_zone=str(zone) if zone is not None else None)
