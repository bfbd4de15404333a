"""Event logs: read them (CSV, XES), measure their KPIs, compare simulated logs with them."""

from __future__ import annotations

from procsim.eventlog.log import COLUMNS, EventLog, RowProblem
from procsim.eventlog.read import CANDIDATES, read_log

__all__ = ["CANDIDATES", "COLUMNS", "EventLog", "RowProblem", "read_log"]
