"""Start-up: what ``import procsim`` and checking a model leave unimported (issue 15).

A fresh interpreter per case (a subprocess), so that what this test process has imported
does not count; each asserts on ``sys.modules``, never on a time. The times themselves are
measured by ``bench/startup.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import procsim
from procsim.model import parse_model
from procsim.model.check import immediate_dominators, reachable_from
from procsim.model.graph import build_graph, flow_edges

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted((ROOT / "models").glob("*.yaml"))
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

#: Modules none of these paths needs: each costs more to import than checking a model does.
HEAVY = ("networkx", "scipy", "scipy.stats", "scipy.special", "matplotlib", "jinja2", "simpy",
         "procsim.engine", "procsim.kpi", "procsim.stats", "procsim.simulate", "procsim.compare",
         "procsim.sweep", "procsim.optimise", "procsim.okr", "procsim.report", "procsim.output",
         "procsim.eventlog", "procsim.interop")


def imported_after(code: str) -> set[str]:
    """The modules loaded once ``code`` has run in a fresh interpreter."""
    script = textwrap.dedent(code) + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_the_probe_sees_an_import() -> None:
    """The check can fail: a module imported by the code shows up."""
    assert "networkx" in imported_after("import networkx")


def test_import_procsim_loads_none_of_the_heavy_modules() -> None:
    loaded = imported_after("import procsim")
    assert "procsim" in loaded
    assert sorted(loaded.intersection(HEAVY)) == []


def test_loading_and_checking_every_example_loads_none_of_them() -> None:
    """What ``procsim validate`` does with a model: load (schema and every check), the offered
    load and the expected visits, on every model in models/ (a truncated normal, a Weibull,
    parallel gateways and loops among them)."""
    assert MODELS
    loaded = imported_after(f"""
        import procsim
        from procsim.model import check_stability, expected_visits
        for path in {[str(m) for m in MODELS]!r}:
            model = procsim.load_model(path)
            procsim.offered_load(model)
            check_stability(model)
            expected_visits(model)
    """)
    assert "procsim.model.check" in loaded
    assert sorted(loaded.intersection(HEAVY)) == []


@pytest.mark.parametrize("argv", [["--help"], ["validate", *map(str, MODELS + SCENARIOS)]],
                         ids=["help", "validate"])
def test_the_command_line_loads_none_of_them(argv: list[str]) -> None:
    loaded = imported_after(f"""
        import sys
        from procsim.cli import main
        sys.argv = ["procsim", *{argv!r}]
        try:
            main()
        except SystemExit as exit:
            assert exit.code in (0, None), exit.code
    """)
    assert "procsim.cli" in loaded
    assert sorted(loaded.intersection(HEAVY)) == []


def test_public_names_resolve_on_first_use() -> None:
    """Each name of ``__all__`` is reachable as it was when ``__init__`` imported them all;
    ``procsim.simulate`` stays the function even after its module is imported behind it."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import importlib, types
        import procsim
        import procsim.compare  # imports procsim.simulate, the module, on the way
        assert callable(procsim.simulate) and not isinstance(procsim.simulate, types.ModuleType)
        assert procsim.simulate is importlib.import_module("procsim.simulate").simulate
        assert isinstance(procsim.compare, types.ModuleType)
        from procsim import simulate
        assert simulate is procsim.simulate
        for name in procsim.__all__:
            assert getattr(procsim, name) is not None, name
        assert procsim.okr.__name__ == "procsim.okr"  # any submodule, on first use
        try:
            procsim.no_such_thing
        except AttributeError as exc:
            assert "no_such_thing" in str(exc)
        else:
            raise AssertionError("expected AttributeError")
        print("ok")
    """)], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_package_in_this_process() -> None:
    assert set(procsim.__all__) <= set(dir(procsim))
    assert procsim.Model is procsim.model.Model
    assert not hasattr(procsim, "__wrapped__")  # dunder probes are not submodule imports


# --- the graph code that replaces networkx on the checking path -----------------------------

graphs = st.integers(2, 9).flatmap(lambda n: st.lists(
    st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n).map(
    lambda edges: (n, edges)))


@settings(max_examples=300, deadline=None)
@given(graphs)
def test_dominators_and_reachability_agree_with_networkx(graph: tuple[int, list]) -> None:
    n, edges = graph
    successors: dict[str, list[str]] = {str(i): [] for i in range(n)}
    for u, v in edges:
        if str(v) not in successors[str(u)]:
            successors[str(u)].append(str(v))
    g = nx.DiGraph()
    g.add_nodes_from(successors)
    g.add_edges_from((u, v) for u, vs in successors.items() for v in vs)
    assert reachable_from(successors, "0") == nx.descendants(g, "0") | {"0"}
    expected = nx.immediate_dominators(g, "0")
    expected["0"] = "0"  # networkx >= 3.5 leaves the root out
    assert immediate_dominators(successors, "0") == expected


def test_flow_edges_are_the_graphs_edges() -> None:
    for path in MODELS:
        model = procsim.load_model(path)
        g = build_graph(model)
        edges = {(u, v): attrs for u, v, attrs in flow_edges(model)}
        assert len(edges) == len(flow_edges(model))
        assert edges == {(u, v): attrs for u, v, attrs in g.edges(data=True)}


def test_a_loop_with_no_exit_is_still_found() -> None:
    """The one check that still uses networkx (imported there) reports as before."""
    with pytest.raises(procsim.ModelError, match="form a loop that can never exit"):
        parse_model("""
procsim: 1
name: Trap
arrivals: {interarrival: {dist: exponential, mean: 5}}
activities:
  a: {duration: {dist: fixed, value: 1}}
  b: {duration: {dist: fixed, value: 1}}
flow: {start: a, a: b, b: a}
""")
