"""Exceptions raised by procsim.

The library raises; only the command line formats. Every exception a user can
provoke with bad input derives from :class:`ProcsimError`, so a traceback means
a bug in procsim, never a mistake in a model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "Issue",
    "ModelError",
    "ProcsimError",
    "SimulationError",
    "UnstableModelError",
    "close_match_hint",
]


class ProcsimError(Exception):
    """Root of every error procsim raises on purpose."""


@dataclass(frozen=True)
class Issue:
    """One problem found in a model file.

    Parameters
    ----------
    path : str
        Dotted path of the offending field, e.g. ``"activities.triage.duration.mean"``.
    message : str
        What was expected and what was found.
    file : str or None
        The model file, when the model came from one.
    line, column : int or None
        1-based position of the field in the file, when known.
    """

    path: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.file or "<model>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        prefix = f"{self.path}: " if self.path else ""
        return f"{where}: error: {prefix}{self.message}"


class ModelError(ProcsimError):
    """A model (or scenario) file is invalid; ``issues`` lists every problem found.

    Examples
    --------
    >>> err = ModelError([Issue("run.seed", "expected an integer, got 'x'", "m.yaml", 3, 9)])
    >>> print(err)
    m.yaml:3:9: error: run.seed: expected an integer, got 'x'
    1 error in m.yaml
    """

    def __init__(self, issues: Iterable[Issue], file: str | None = None) -> None:
        self.issues: list[Issue] = sorted(
            issues, key=lambda i: (i.line if i.line is not None else 10**9, i.column or 0, i.path)
        )
        self.file = file or next((i.file for i in self.issues if i.file), None)
        super().__init__(self.render())

    def render(self) -> str:
        lines = [str(i) for i in self.issues]
        n = len(self.issues)
        lines.append(f"{n} error{'s' if n != 1 else ''} in {self.file or '<model>'}")
        return "\n".join(lines)


class UnstableModelError(ModelError):
    """The offered load on some pool is at or above its capacity."""


class SimulationError(ProcsimError):
    """A run could not complete (for instance, it exceeded its bound on activity instances)."""


def close_match_hint(word: str, candidates: Sequence[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest candidate, or ``""``.

    Examples
    --------
    >>> close_match_hint("aprove", ["approve", "reject"])
    " (did you mean 'approve'?)"
    """
    import difflib

    names = [str(c) for c in candidates]
    match = difflib.get_close_matches(str(word), names, n=1, cutoff=0.6)
    if not match and len(str(word)) >= 3:  # an abbreviation: 'expo' for 'exponential'
        match = [n for n in names if n.startswith(str(word))][:1]
    return f" (did you mean '{match[0]}'?)" if match else ""
