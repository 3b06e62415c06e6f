"""Operator implementations, one module per family. Importing this package registers them all."""
from evo.ops import activation, bnn, conv, elementwise, pool, shape, sign  # noqa: F401
