"""Random streams: one independent numpy generator per (replication, source).

A source is named (``"arrivals"``, ``"duration:triage"``, ``"route:triage"``,
``"attribute:priority"``) and keyed by a stable hash of its name, never Python's
``hash()``. Changing one activity therefore leaves every other stream's draws
alone (common random numbers), and a replication's draws depend only on the
root seed and its index, not on which worker process runs it.
"""

from __future__ import annotations

import hashlib

import numpy as np

from procsim.errors import UsageError, WrongTypeError

__all__ = ["RandomStreams", "draw_seed", "stream_key"]


def stream_key(name: str) -> int:
    """A stable 64-bit key for a source name.

    Examples
    --------
    >>> stream_key("arrivals") == stream_key("arrivals")
    True
    """
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


def draw_seed() -> int:
    """A fresh root seed from operating-system entropy (to be printed and recorded)."""
    return int(np.random.SeedSequence().entropy) % (2**63)  # type: ignore[arg-type]


class RandomStreams:
    """Independent generators for one replication of an experiment.

    Parameters
    ----------
    seed : int
        The experiment's root seed.
    replication : int
        Index of the replication (0-based).

    Examples
    --------
    >>> a = RandomStreams(2026, 0).generator("duration:triage").random()
    >>> b = RandomStreams(2026, 0).generator("duration:triage").random()
    >>> a == b, a == RandomStreams(2026, 1).generator("duration:triage").random()
    (True, False)
    """

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = _non_negative_integer(seed, "seed")
        self.replication = _non_negative_integer(replication, "replication")

    def generator(self, name: str) -> np.random.Generator:
        sequence = np.random.SeedSequence(
            self.seed, spawn_key=(self.replication, stream_key(name))
        )
        return np.random.Generator(np.random.PCG64(sequence))


def _non_negative_integer(value: object, what: str) -> int:
    """``int(value)``, or a :class:`~procsim.errors.UsageError` (a ``ValueError``) saying why not
    (numpy's ``SeedSequence`` takes only integers >= 0); a ``WrongTypeError`` for no number."""
    try:
        number = int(value)  # type: ignore[call-overload]
    except TypeError:
        raise WrongTypeError(f"expected a {what} that is an integer >= 0, got "
                             f"{type(value).__name__}") from None
    except (ValueError, OverflowError):
        number = -1
    if number < 0 or isinstance(value, bool) or (isinstance(value, float) and value != number):
        raise UsageError(f"expected a {what} that is an integer >= 0, got {value!r}")
    return number
