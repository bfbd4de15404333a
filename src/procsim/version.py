"""procsim's version, in the base layer so that every module can record it.

``procsim.__version__`` is the same string; modules inside the package read it from here,
because the package's ``__init__`` is the facade on top of every layer (tests/test_layering.py).

>>> from procsim.version import __version__
>>> __version__.count(".")
2
"""

__version__ = "0.1.0"
