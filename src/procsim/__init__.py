"""procsim: business-process simulation with trustworthy statistics.

Write a process model in YAML, run it as seeded discrete-event simulations, and get
KPI distributions with confidence intervals.

Examples
--------
>>> import procsim
>>> model = procsim.parse_model('''
... procsim: 1
... name: One desk
... arrivals: {interarrival: {dist: exponential, mean: 5}}
... resources: {clerk: {capacity: 1}}
... activities: {serve: {resource: clerk, duration: {dist: exponential, mean: 4}}}
... flow: {start: serve, serve: end}
... ''')
>>> result = procsim.simulate(model, replications=3, cases=500, seed=7)
>>> result.kpi("cycle_time").unit
'minutes'
"""

from procsim.compare import ComparisonResult
from procsim.errors import ModelError, ProcsimError, SimulationError, UnstableModelError
from procsim.kpi import KpiSummary, RunResult
from procsim.model import (
    Model,
    apply_changes,
    build_graph,
    load_model,
    load_scenario,
    offered_load,
    parse_model,
)
from procsim.optimise import OptimiseResult
from procsim.report.writer import write_report
from procsim.simulate import simulate
from procsim.stats import Estimate
from procsim.sweep import SweepResult

# ``compare``, ``sweep`` and ``optimise`` stay in their modules (procsim.compare.compare,
# procsim.sweep.sweep, procsim.optimise.optimise): a function exported here under a module's
# name would hide the module.

__version__ = "0.1.0"

__all__ = [
    "ComparisonResult",
    "Estimate",
    "KpiSummary",
    "Model",
    "ModelError",
    "OptimiseResult",
    "ProcsimError",
    "RunResult",
    "SimulationError",
    "SweepResult",
    "UnstableModelError",
    "__version__",
    "apply_changes",
    "build_graph",
    "load_model",
    "load_scenario",
    "offered_load",
    "parse_model",
    "simulate",
    "write_report",
]
