"""The model format: schema, loading with positions, and semantic checks."""

from procsim.model.check import check_stability, expected_visits, offered_load
from procsim.model.graph import build_graph
from procsim.model.load import load_model, model_from_data, parse_model
from procsim.model.scenario import Change, apply_changes, load_scenario
from procsim.model.schema import Activity, Arrivals, Branch, Gateway, Model, Resource, RunSettings

__all__ = [
    "Activity",
    "Arrivals",
    "Branch",
    "Change",
    "Gateway",
    "Model",
    "Resource",
    "RunSettings",
    "apply_changes",
    "build_graph",
    "check_stability",
    "expected_visits",
    "load_model",
    "load_scenario",
    "model_from_data",
    "offered_load",
    "parse_model",
]
