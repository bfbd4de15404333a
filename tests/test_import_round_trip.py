"""procsim export --bpmn, then procsim import: the same model, whatever it holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import procsim
from procsim.cli import app
from procsim.interop import import_bpmn
from procsim.interop.bpmn_export import write_bpmn

PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers" / "prosimos" / "models"
needs_peers = pytest.mark.skipif(not PEERS.is_dir(), reason=f"peer models not found at {PEERS}")
runner = CliRunner()

RICH = """
procsim: 1
name: Everything the export keeps
description: Calendars, people, attributes, priority, batches, conditions, costs.
time_unit: hours
currency: EUR
start: 2026-01-05T08:00
calendars:
  office: [{days: mon-fri, from: "08:00", to: "17:00"}]
  late: [{days: mon-fri, from: "12:00", to: "20:00"}]
arrivals:
  interarrival: {dist: exponential, mean: 30min}
  calendar: office
attributes:
  tier: {gold: 0.2, basic: 0.8}
  amount: {dist: uniform, min: 10, max: 5000}
resources:
  clerks: {members: [ann, bob], calendar: office, cost_per_hour: 30, preempt: true}
  experts: {capacity: 2, cost_per_hour: 80, description: the second line}
people:
  ann: {description: morning}
  bob: {calendar: late, cost_per_hour: 35}
priority: {attribute: tier, order: [gold, basic]}
activities:
  register: {resource: clerks, duration: {dist: gamma, mean: 10min, sd: 4min},
             durations: {bob: {dist: fixed, value: 12min}}}
  review: {resource: experts, duration: {dist: lognormal, mean: 1, sd: 0.5}, cost: 5}
  approve: {resource: clerks, duration: {dist: triangular, min: 5min, mode: 8min, max: 20min}}
  wait_for_customer: {duration: {dist: exponential, mean: 1d}, description: a delay}
  file: {resource: clerks, duration: {dist: fixed, value: 2min},
         batch: {size: 5, timeout: 4h}}
gateways:
  route: {type: exclusive, description: by amount and tier}
  both: {type: parallel}
  both_done: {type: parallel}
flow:
  start: register
  register: route
  route:
    - {to: review, when: {amount: "> 2000"}}
    - {to: both, when: {tier: [gold]}}
    - {to: approve}
  review: {approve: 0.7, wait_for_customer: 0.3}
  wait_for_customer: review
  both: [approve, file]
  approve: both_done
  file: both_done
  both_done: end
"""


def test_a_model_with_everything_comes_back_the_same(tmp_path: Path) -> None:
    model = procsim.parse_model(RICH)
    result = import_bpmn(write_bpmn(model, tmp_path / "rich.bpmn"))
    back = procsim.parse_model(result.text)
    assert back.model_dump() == model.model_dump()
    assert back.people["bob"].calendar == "late"
    assert not result.warnings and not result.placeholders


def test_the_command_line_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "rich.yaml"
    source.write_text(RICH, encoding="utf-8")
    assert runner.invoke(app, ["export", str(source), "--bpmn", str(tmp_path / "r.bpmn")]
                         ).exit_code == 0
    result = runner.invoke(app, ["import", str(tmp_path / "r.bpmn"), "-o",
                                 str(tmp_path / "back.yaml")])
    assert result.exit_code == 0, result.output
    assert "placeholder" not in result.stderr
    assert procsim.load_model(tmp_path / "back.yaml").model_dump() == \
        procsim.load_model(source).model_dump()


@needs_peers
@pytest.mark.parametrize("name", ["loan_application", "event_attributes"])
def test_imported_prosimos_models_round_trip(name: str, tmp_path: Path) -> None:
    first = import_bpmn(PEERS / name / f"{name}.bpmn", params=PEERS / name / f"{name}.json")
    model = procsim.parse_model(first.text)
    again = import_bpmn(write_bpmn(model, tmp_path / "m.bpmn"))
    assert procsim.parse_model(again.text).model_dump() == model.model_dump()
