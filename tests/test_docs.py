"""The documentation and the example models run: every YAML example is valid, every model works.

A ```yaml block whose first line that is not a comment is ``procsim: 1`` is a complete model:
it must load and simulate. Any other ```yaml block is a fragment and must be valid YAML.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import procsim
from procsim.dists import DISTRIBUTIONS
from procsim.kpi import CASE_KPIS
from procsim.model.schema import Model, RunSettings

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "docs" / "model-format.md", ROOT / "README.md"]
MODELS = sorted((ROOT / "models").glob("*.yaml"))

_FENCE = re.compile(r"^```yaml[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def _yaml_blocks(path: Path) -> list[tuple[str, str]]:
    """``(id, text)`` of each ```yaml block of ``path``; none when the file does not exist."""
    if not path.exists():  # README.md may not be written yet
        return []
    text = path.read_text(encoding="utf-8")
    return [
        (f"{path.name}:{text.count(chr(10), 0, m.start()) + 2}", m.group(1))
        for m in _FENCE.finditer(text)
    ]


def _is_model(block: str) -> bool:
    lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    return bool(lines) and lines[0].strip() == "procsim: 1"


BLOCKS = [block for path in DOCS for block in _yaml_blocks(path)]
MODEL_BLOCKS = [pytest.param(text, id=where) for where, text in BLOCKS if _is_model(text)]
FRAGMENT_BLOCKS = [pytest.param(text, id=where) for where, text in BLOCKS if not _is_model(text)]


# --- documentation ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", MODEL_BLOCKS)
def test_doc_model_runs(text: str) -> None:
    model = procsim.parse_model(text)
    # Tiny runs; warm-up off so that a documented warm-up cannot exceed 200 cases.
    result = procsim.simulate(model, replications=2, cases=200, warmup=0, seed=1)
    assert result.kpi("cycle_time").mean > 0


@pytest.mark.parametrize("text", FRAGMENT_BLOCKS)
def test_doc_fragment_is_valid_yaml(text: str) -> None:
    yaml.safe_load(text)


def test_reference_has_examples() -> None:
    assert len(MODEL_BLOCKS) >= 3
    assert len(FRAGMENT_BLOCKS) >= 5


def test_reference_mentions_every_field_kpi_and_distribution() -> None:
    # The reference must keep up with the code: a new field, KPI or distribution needs a line.
    doc = (ROOT / "docs" / "model-format.md").read_text(encoding="utf-8")
    for name in [*Model.model_fields, *RunSettings.model_fields, *CASE_KPIS,
                 "throughput_per_hour", "wip"]:
        assert f"`{name}`" in doc, f"docs/model-format.md does not mention `{name}`"
    for name in DISTRIBUTIONS:
        assert f"dist: {name}" in doc, f"docs/model-format.md has no example of dist: {name}"


# --- example models -----------------------------------------------------------------------------


def test_there_are_example_models() -> None:
    assert {p.name for p in MODELS} >= {
        "service_desk.yaml", "loan_application.yaml", "order_to_cash.yaml"
    }


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_example_model_is_stable(path: Path) -> None:
    model = procsim.load_model(path)
    loads = procsim.offered_load(model)
    assert loads, "an example model should have at least one resource pool"
    for name, load in loads.items():
        assert load.utilization < 1, f"{path.name}: pool '{name}' is unstable"


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_example_model_runs_with_its_own_settings(path: Path) -> None:
    model = procsim.load_model(path)
    assert model.run.seed is not None, "an example model should give its seed"
    result = procsim.simulate(model, replications=2)
    assert result.kpi("cycle_time").mean > 0
    # The comments of each model quote the expected utilisations; the simulation agrees.
    for name, load in procsim.offered_load(model).items():
        measured = result.resource(name, "utilization").mean
        assert measured == pytest.approx(load.utilization, abs=0.05), name
