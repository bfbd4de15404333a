"""The layout flows one way, and no private name crosses a module (STYLE.md, issue 15 item 3).

Every module under ``src/procsim`` is parsed (not imported); every ``import`` and
``from … import`` counts, wherever it stands (inside a function, under ``TYPE_CHECKING``),
and so does ``importlib.import_module("procsim…")`` with a literal name. A module may import:

* anything in its own *unit* (a module, or a package with all its submodules: ``procsim.model``,
  ``procsim.report``, …), private names excepted;
* any unit of a lower layer;
* a unit listed *before* it in its own layer (the order inside a layer is part of the table:
  ``compare``, ``sweep`` and ``optimise`` judge with ``okr``; ``optimise`` screens with
  ``sweep``; ``report`` writes with ``output``).

No module uses a private name (``_x``, not a dunder) of another module: neither imported
(``from procsim.m import _x``), nor through a module (``m._x``), nor as an attribute of an
object (``result._x``) when ``_x`` is defined by another procsim module and not by this one
(a private attribute set or read from outside the class's module).

Violations in files being rewritten by others are listed in :data:`KNOWN`, each with the
fix it needs; the list only shrinks: an entry that no longer occurs fails the test too.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# The layers, lowest first (STYLE.md: model → engine → kpi/stats → simulate →
# okr/compare/sweep/optimise → report/output → eventlog/interop → cli). Each entry is a unit:
# a module, or a package with every submodule in it. Inside a layer a unit may import the units
# listed before it, never those after it: the base layer's order is the order of its
# dependencies (units are read by dists, calendars by arrivals, all of them by the model);
# okr comes first in its layer because compare, sweep and optimise judge key results with it,
# and sweep before optimise, which screens candidates with it; output before report, whose
# writers write atomically with it. ``procsim`` itself (``__init__.py``) is the facade on top:
# nothing inside the package imports from it. A new module outside these packages must be
# placed here (test_every_module_is_placed).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("procsim.version", "procsim.errors", "procsim.units", "procsim.rng",
              "procsim.dists", "procsim.calendars", "procsim.arrivals", "procsim.progress",
              "procsim.model")),
    ("engine", ("procsim.engine",)),
    ("kpi/stats", ("procsim.stats", "procsim.kpi")),
    ("simulate", ("procsim.simulate",)),
    ("okr/compare/sweep/optimise", ("procsim.okr", "procsim.compare", "procsim.sweep",
                                    "procsim.optimise")),
    ("report/output", ("procsim.output", "procsim.report")),
    ("eventlog/interop", ("procsim.eventlog", "procsim.interop")),
    ("cli", ("procsim.cli", "procsim.__main__")),
    ("facade", ("procsim",)),
)

# Violations allowed for a while, each with the fix it needs (empty: none). Keys are
# ``"importer -> imported"`` for an import against the layers and ``"module uses _name"`` for a
# private name, without line numbers so that the list survives edits around them.
KNOWN: dict[str, str] = {}


@dataclass(frozen=True)
class Violation:
    file: str
    line: int
    key: str  # as in KNOWN
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(src: Path, package: str = "procsim") -> dict[str, Path]:
    return {module_name(p, src): p for p in sorted((src / package).rglob("*.py"))}


def place(module: str, layers: tuple[tuple[str, tuple[str, ...]], ...] = LAYERS,
          ) -> tuple[int, int, str] | None:
    """(layer index, position in the layer, unit) of ``module``; None when it is not placed."""
    best: tuple[int, int, str] | None = None
    for i, (_, units) in enumerate(layers):
        for j, unit in enumerate(units):
            exact = module == unit
            inside = "." in unit and module.startswith(unit + ".")
            if (exact or inside) and (best is None or len(unit) > len(best[2])):
                best = (i, j, unit)
    return best


def _imports(tree: ast.Module, module: str, is_package: bool, known: set[str],
             ) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    """(line, imported module, names imported from it) for every procsim import."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "procsim":
                    yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(node, package)
            if target.split(".")[0] != "procsim":
                continue
            names = []
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:  # ``from procsim import dists`` imports the module
                    yield node.lineno, sub, ()
                else:
                    names.append(alias.name)
            if names:
                yield node.lineno, target, tuple(names)
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and node.args[0].value.split(".")[0] == "procsim"
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id == "import_module"))):
            yield node.lineno, node.args[0].value, ()


def _resolve(node: ast.ImportFrom, package: str) -> str:
    """The absolute name of the module a ``from … import`` reads from."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _defined_private(tree: ast.Module) -> set[str]:
    """Private names a module defines: functions, classes, assigned names, ``self._x`` and
    class attributes."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
              and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            out.add(node.attr)
    return {n for n in out if _private(n)}


def check(src: Path, layers: tuple[tuple[str, tuple[str, ...]], ...] = LAYERS,
          package: str = "procsim") -> list[Violation]:
    """Every violation of the layers and of private names under ``src/<package>``."""
    found = modules(src, package)
    known = set(found)
    trees = {m: ast.parse(p.read_text(encoding="utf-8"), str(p)) for m, p in found.items()}
    defined = {m: _defined_private(t) for m, t in trees.items()}
    out: list[Violation] = []
    for module, tree in trees.items():
        path = found[module]
        file = str(path.relative_to(src.parent)) if src.parent in path.parents else str(path)
        here = place(module, layers)
        aliases: dict[str, str] = {}  # local name -> procsim module it stands for
        for line, target, names in _imports(tree, module, path.name == "__init__.py", known):
            there = place(target, layers)
            if here is not None and there is not None and here[2] != there[2]:
                if there[0] > here[0]:
                    out.append(Violation(file, line, f"{module} -> {target}",
                                         f"{module} imports {target} (layer "
                                         f"{layers[there[0]][0]} above {layers[here[0]][0]})"))
                elif there[0] == here[0] and there[1] > here[1]:
                    out.append(Violation(file, line, f"{module} -> {target}",
                                         f"{module} imports {target} ({there[2]} comes after "
                                         f"{here[2]} in layer {layers[here[0]][0]})"))
            for name in names:
                if _private(name) and target != module:
                    out.append(Violation(file, line, f"{module} uses {name}",
                                         f"{module} imports private {target}.{name}"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == package:
                        aliases[alias.asname or package] = alias.name if alias.asname else package
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node, module if path.name == "__init__.py"
                                else module.rpartition(".")[0])
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    if sub in known:
                        aliases[alias.asname or alias.name] = sub
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and _private(node.attr)):
                continue
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            name = node.attr
            via = aliases.get(owner.id) if isinstance(owner, ast.Name) else None
            if via is not None and via != module:
                out.append(Violation(file, node.lineno, f"{module} uses {name}",
                                     f"{module} uses private {via}.{name}"))
            elif via is None and name not in defined[module]:
                owners = sorted(m for m, names in defined.items() if name in names)
                if owners:
                    out.append(Violation(file, node.lineno, f"{module} uses {name}",
                                         f"{module} uses private {name} of "
                                         f"{' or '.join(owners)}"))
    return sorted(set(out), key=lambda v: (v.file, v.line, v.text))


def test_every_module_is_placed() -> None:
    unplaced = [m for m in modules(SRC) if place(m) is None]
    assert not unplaced, ("modules missing from LAYERS in tests/test_layering.py (place each "
                          f"in its layer): {unplaced}")


def test_every_unit_of_the_table_exists() -> None:
    """A renamed or removed module leaves no stale line in the table."""
    names = set(modules(SRC))
    stale = [unit for _, units in LAYERS for unit in units if unit not in names]
    assert not stale, f"LAYERS names modules that do not exist: {stale}"


def test_imports_follow_the_layers_and_no_private_name_crosses_a_module() -> None:
    violations = check(SRC)
    new = [v for v in violations if v.key not in KNOWN]
    assert not new, "\n".join(["imports against the layers or private names used across "
                               "modules:", *map(str, new)])
    gone = sorted(set(KNOWN) - {v.key for v in violations})
    assert not gone, f"fixed: remove these entries from KNOWN in tests/test_layering.py: {gone}"


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root / "src"


def test_the_check_finds_each_kind_of_violation(tmp_path: Path) -> None:
    """The check can fail: a synthetic package with one violation of each kind."""
    src = write_package(tmp_path, {
        "procsim/__init__.py": "from procsim.cli import main\n__version__ = '0'\n",
        "procsim/errors.py": "_HIDDEN = 1\n",
        "procsim/cli.py": "def main():\n    pass\n",
        "procsim/model/__init__.py": "",
        "procsim/model/schema.py": "class Model:\n    def __init__(self):\n"
                                   "        self._file = None\n",
        "procsim/model/load.py": "from procsim.model.schema import Model\n"
                                 "from ..cli import main\n\n"
                                 "def load():\n    m = Model()\n    m._file = 'x'\n",
        "procsim/units.py": "from procsim import errors\n"
                            "def f():\n    from procsim.cli import main  # hidden\n"
                            "    return errors._HIDDEN\n",
        "procsim/kpi.py": "from .errors import _HIDDEN\nfrom procsim import __version__\n",
        "procsim/stats.py": "import importlib\nimportlib.import_module('procsim.kpi')\n",
        "procsim/okr.py": "",
        "procsim/compare.py": "from procsim import okr\n",
        "procsim/sweep.py": "import procsim.compare\n",
        "procsim/orphan.py": "",
    })
    got = {str(v).replace("\\", "/") for v in check(src)}
    assert got == {
        "src/procsim/units.py:3: procsim.units imports procsim.cli (layer cli above base)",
        "src/procsim/units.py:4: procsim.units uses private procsim.errors._HIDDEN",
        "src/procsim/kpi.py:1: procsim.kpi imports private procsim.errors._HIDDEN",
        "src/procsim/kpi.py:2: procsim.kpi imports procsim (layer facade above kpi/stats)",
        "src/procsim/stats.py:2: procsim.stats imports procsim.kpi "
        "(procsim.kpi comes after procsim.stats in layer kpi/stats)",
        "src/procsim/model/load.py:2: procsim.model.load imports procsim.cli (layer cli above "
        "base)",
        "src/procsim/model/load.py:6: procsim.model.load uses private _file of "
        "procsim.model.schema",
    }
    # compare may use okr, sweep may use compare (listed before it), the facade imports down.
    assert not [v for v in check(src) if v.file.endswith(("compare.py", "sweep.py"))]
    unplaced = [m for m in modules(src) if place(m) is None]
    assert unplaced == ["procsim.orphan"]


@pytest.mark.parametrize(("module", "unit"), [
    ("procsim.engine", "procsim.engine"), ("procsim.engine.run", "procsim.engine"),
    ("procsim.engine_rich", None), ("procsim.model.load", "procsim.model"),
    ("procsim", "procsim"), ("procsim.newthing", None),
])
def test_units_match_on_whole_names(module: str, unit: str | None) -> None:
    got = place(module)
    assert (got[2] if got else None) == unit
