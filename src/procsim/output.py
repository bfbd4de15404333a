"""Writing results to files: JSON and the activity-instance event log, always atomically.

A file is written to a temporary sibling and renamed into place, so a reader never
sees a half-written file and an interrupted run leaves what was there before intact.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from procsim.engine import compile_model
from procsim.kpi import RunResult

__all__ = ["atomic_write", "atomic_write_bytes", "write_events_csv", "write_json"]


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[str]], Any]) -> Path:
    """Call ``write(fh)`` on a temporary file beside ``path``, then rename it to ``path``.

    Raises ``OSError`` when the directory cannot be written; the temporary file is removed.
    The file gets the permissions of the file it replaces, or the usual ones for a new file.
    """
    return _atomic(path, "w", write)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary sibling file and a rename."""
    return _atomic(path, "wb", lambda fh: fh.write(data))


def _atomic(path: str | os.PathLike[str], mode: str, write: Callable[[Any], Any]) -> Path:
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        # mkstemp creates the file readable by its owner only; a report or a JSON result is
        # for others to read too: keep the old file's mode, or apply the umask as open() does.
        try:
            permissions = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            permissions = 0o666 & ~umask
        os.chmod(tmp, permissions)
        if mode == "w":
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                write(fh)
        else:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_json(result: RunResult, path: str | os.PathLike[str]) -> Path:
    """Write ``result.to_dict()`` as JSON (see docs/cli.md for the structure)."""
    data = result.to_dict()
    return atomic_write(path, lambda fh: json.dump(data, fh, indent=2, allow_nan=False))


def write_events_csv(result: RunResult, path: str | os.PathLike[str]) -> Path:
    """Write the activity-instance log: one row per activity instance, all replications.

    Columns: ``replication, case_id, activity, resource, enabled, start, end``, then one column
    per case attribute. Times are in the model's time unit from the start of the replication.
    ``case_id`` is ``<replication>-<case number>`` so that it is unique across replications.
    Requires a result from ``simulate(..., keep_records=True)``.
    """
    if result.records is None:
        raise ValueError("the result holds no records; simulate with keep_records=True")
    plan = compile_model(result.model)
    resources = [plan.pools[p] if p >= 0 else "" for p in plan.activity_pool]
    attributes = list(plan.attributes)

    def write(fh: IO[str]) -> None:
        out = csv.writer(fh)
        out.writerow(["replication", "case_id", "activity", "resource", "enabled", "start", "end",
                      *attributes])
        for record in result.records or []:
            r = record.replication
            order = np.lexsort((record.instance_start, record.instance_case))
            case_attrs = [record.attributes[a] for a in attributes]
            for i in order.tolist():
                case = int(record.instance_case[i])
                a = int(record.instance_activity[i])
                out.writerow([
                    r, f"{r}-{case}", plan.activities[a], resources[a],
                    repr(float(record.instance_enabled[i])),
                    repr(float(record.instance_start[i])),
                    repr(float(record.instance_end[i])),
                    *(_cell(values[case]) for values in case_attrs),
                ])

    return atomic_write(path, write)


def _cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)
