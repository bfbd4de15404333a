"""The notebooks in notebooks/ run from top to bottom, draw their plots, and are committed clean.

Each notebook is executed with nbclient in a fresh ``python3`` kernel, once with the repository
root as working directory (``python -c "…NotebookClient(nb).execute()"`` run there) and once
with the notebook's own folder (where JupyterLab, VS Code and ``jupyter nbconvert --execute
notebooks/x.ipynb`` start the kernel): the notebooks find ``models/…``, ``scenarios/…``,
``okrs/…`` and the event logs in ``tests/data/eventlogs/`` from either.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

#: Text that a rich (HTML) output of the notebook must contain: the tables it exists to show.
EXPECTED_HTML = {
    "bottlenecks.ipynb": ["← knee", "skipped resources.agents.capacity = 4: unstable"],
    "scenario_comparison.ipynb": ['class="scorecard"', "Objective: Resolve tickets faster"],
    "from_event_log.ipynb": ['class="scorecard"', "Objective: Decide loan applications faster"],
}


def test_the_notebooks_are_there() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"bottlenecks.ipynb", "scenario_comparison.ipynb",
                                           "from_event_log.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.slow
@pytest.mark.parametrize("workdir", ["root", "notebook folder"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_draws(path: Path, workdir: str) -> None:
    nb = nbformat.read(path, as_version=4)
    cwd = ROOT if workdir == "root" else path.parent
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                                     resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:  # the cell, and the traceback
        pytest.fail(f"{path.name} failed from the {workdir}:\n{exc}")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: {[(o.ename, o.evalue) for o in errors]}"
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"{path.name} wrote to stderr (a warning?):\n{''.join(stderr)}"
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 1, f"{path.name} drew no plot"
    # Every cell that ends in a figure showed it as an image, not as "<Figure size …>".
    texts = [o["data"]["text/plain"] for o in outputs
             if "text/plain" in o.get("data", {}) and "image/png" not in o["data"]]
    assert not [t for t in texts if t.startswith("<Figure")], f"{path.name}: a figure as text"
    html = "".join(o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {}))
    missing = [text for text in EXPECTED_HTML.get(path.name, []) if text not in html]
    assert not missing, f"{path.name}: no HTML output shows {missing}"


def test_docs_python_example_runs(monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    import re

    doc = (ROOT / "docs" / "notebooks.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", doc, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1
    monkeypatch.chdir(ROOT)
    exec(compile(blocks[0], "docs/notebooks.md", "exec"), {})
    out = capsys.readouterr().out
    assert "skipped resources.agents.capacity = 4: unstable" in out
    assert "Knee at agents = " in out
