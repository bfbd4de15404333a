"""Reports and plots: HTML, Markdown and PDF reports, and the plots they share with notebooks."""

from procsim.report.plots import (
    PALETTE,
    ActivityTimeDisplay,
    DistributionDisplay,
    ProcessMapDisplay,
    QueueDisplay,
    UtilizationDisplay,
)

__all__ = [
    "PALETTE",
    "ActivityTimeDisplay",
    "DistributionDisplay",
    "ProcessMapDisplay",
    "QueueDisplay",
    "UtilizationDisplay",
]
