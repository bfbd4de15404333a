"""Reports and plots: HTML, Markdown and PDF reports, and the plots they share with notebooks."""

from procsim.report.plots import (
    PALETTE,
    ActivityTimeDisplay,
    DistributionDisplay,
    ProcessMapDisplay,
    QueueDisplay,
    UtilizationDisplay,
)
from procsim.report.sweep import SweepDisplay
from procsim.report.writer import write_report

__all__ = [
    "PALETTE",
    "ActivityTimeDisplay",
    "DistributionDisplay",
    "ProcessMapDisplay",
    "QueueDisplay",
    "SweepDisplay",
    "UtilizationDisplay",
    "write_report",
]
