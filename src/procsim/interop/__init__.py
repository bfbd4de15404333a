"""Interoperability: BPMN 2.0 import (with Prosimos simulation parameters).

:func:`import_bpmn` turns a BPMN 2.0 process, optionally with Prosimos' JSON simulation
parameters, into a procsim model, :func:`import_processes` every process (pool) of a file
(see ``docs/interop.md``).
"""

from procsim.interop.bpmn_import import ImportNote, ImportResult, import_bpmn, import_processes

__all__ = ["ImportNote", "ImportResult", "import_bpmn", "import_processes"]
