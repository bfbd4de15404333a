"""Every example in a docstring of procsim runs and prints what it says (numpydoc Examples)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import procsim

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(m.name for m in pkgutil.walk_packages(procsim.__path__, "procsim."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # examples read models/ and scenarios/ by relative path
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, raise_on_error=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_public_api_has_examples() -> None:
    finder = doctest.DocTestFinder()
    examples = sum(len(test.examples) for n in MODULES
                   for test in finder.find(importlib.import_module(n)))
    assert examples > 100
