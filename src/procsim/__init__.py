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

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from procsim.errors import ModelError, ProcsimError, SimulationError, UnstableModelError
from procsim.version import __version__

if TYPE_CHECKING:  # what the lazy names below resolve to, for type checkers and editors
    from procsim.compare import ComparisonResult
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

# Each public name is imported on first use (PEP 562): the engine, scipy, compare and the
# report cost far more to import than validating a model does, and ``import procsim`` or
# ``procsim validate`` needs none of them. Submodules (``procsim.compare``, ``procsim.okr``,
# ...) load on first attribute access too, as ``import procsim.compare`` does.
_LAZY: dict[str, str] = {
    "ComparisonResult": "procsim.compare",
    "Estimate": "procsim.stats",
    "KpiSummary": "procsim.kpi",
    "Model": "procsim.model",
    "OptimiseResult": "procsim.optimise",
    "RunResult": "procsim.kpi",
    "SweepResult": "procsim.sweep",
    "apply_changes": "procsim.model",
    "build_graph": "procsim.model",
    "load_model": "procsim.model",
    "load_scenario": "procsim.model",
    "offered_load": "procsim.model",
    "parse_model": "procsim.model",
    "simulate": "procsim.simulate",
    "write_report": "procsim.report.writer",
}

#: Public functions named like the module that holds them: ``procsim.simulate`` is the
#: function, while ``import procsim.simulate`` still gives the module (through
#: ``sys.modules``). ``compare``, ``sweep`` and ``optimise`` stay modules here, as they
#: always were (``procsim.compare.compare``): a function exported under a module's name
#: would hide the module.
_FUNCTIONS_NAMED_LIKE_MODULES = frozenset(
    name for name, module in _LAZY.items() if module == f"{__name__}.{name}")


def __getattr__(name: str) -> Any:
    """Import a public name, or a submodule, on first use."""
    module_name = _LAZY.get(name)
    if module_name is not None:
        value = getattr(importlib.import_module(module_name), name)
        globals()[name] = value  # the next access is a plain attribute look-up
        return value
    if name.startswith("__"):  # dunder probes (copy, pickle, doctest, IDEs): not submodules
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise  # the submodule exists but something it imports is missing
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """This package's module type: importing ``procsim.simulate`` keeps ``procsim.simulate``
    the function.

    The import system binds a submodule on its package once it is first imported
    (``setattr(procsim, "simulate", <module>)``); when that happens after ``import procsim``,
    as it does now that ``simulate`` loads lazily, the binding is skipped so that the name
    keeps resolving to the function, exactly as it did when ``__init__`` imported it eagerly.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FUNCTIONS_NAMED_LIKE_MODULES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
