"""Exceptions raised by the simulator's aggregation interpreter.

They live in their own module so the expression language, the time-series resolver and the
pipeline interpreter can share them without importing each other, and so the HTTP layer can map
them to status codes in one place (a bad query is the caller's fault; a memory blow-up is not).
"""

from __future__ import annotations


class AggregationError(Exception):
    """A request the simulated Pendo rejects: bad envelope, unknown operator, bad arguments."""


class ExpressionError(AggregationError):
    """An expression (filter, eval, select, timeSeries bound, ...) that does not parse."""


class MemoryLimitExceeded(AggregationError):
    """The query would output, or hold in a sort/group, more rows than the simulator allows.

    It may surface while the caller iterates the result rows, not only when the query starts.
    """
