"""The discrete-event engine: one replication of a model, on SimPy's event calendar.

One engine, in five parts, each stating its invariants in its docstring
(see ``docs/engine.md`` for how a case moves and what a pool policy must do):

* :mod:`~procsim.engine.plan` — the model compiled once to integer tables: nodes, the
  normalised route types, and each pool's *policy* (FIFO or SERVERS);
* :mod:`~procsim.engine.sources` — the random sources, one stream each;
* :mod:`~procsim.engine.pools` — the SERVERS policy's servers and rules (calendars, named
  people, priorities, batches);
* :mod:`~procsim.engine.run` — :func:`run_replication`: arrivals, routing (written once)
  and both policies; the only module that touches SimPy's internals;
* :mod:`~procsim.engine.record` — the :class:`ReplicationRecord` and the time integrals
  rebuilt from it after the run.

A pool's policy depends on the pool, not on the rest of the model: a plain FIFO pool costs
the same in a model whose other pools have calendars or people. No files, no printing, no
wall clock here.
"""

from procsim.engine.plan import Plan, compile_model, realistic_features
from procsim.engine.record import ReplicationRecord
from procsim.engine.run import run_replication

__all__ = ["Plan", "ReplicationRecord", "compile_model", "realistic_features", "run_replication"]
