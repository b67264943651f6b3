"""Private machinery behind :mod:`runnables.schema`.

The package splits the work in small modules: type introspection (``_introspect``),
annotation constraints (``_constraints``), error paths (``_errors``), JSON Schema
generation (``_generate``) and strict cattrs structuring (``_validate``).
"""
