"""One event window parsed and converted at a time, however many are being fetched.

Fetch threads overlap Pendo's latency, but parsing an answer (orjson) and building its Arrow tables hold the GIL:
two threads parsing at once take as long as one after the other, and hold two answers' worth of dict rows (~3x
the body: ~55 MB for a large-scale day of page_events) at the same moment. So a fetcher takes the turn just before
it parses and gives it back once its answer is converted; the others keep reading their bodies meanwhile, which
are a third of the size of the rows. Once converted, the answer's freed pages go back to the system
(``malloc_trim``) before the next answer parses. On 30 days of the large scale the two lowered a backfill's peak
from 431-458 MB to 389-406 MB (all processes) at the same speed (docs/performance.md).

Only a thread inside :func:`converting` (a window fetcher) takes the turn; any other parse (entity lists,
fingerprints) goes on at once.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from sources.pendo.memory import trim_heap

_TURN = threading.Lock()
_here = threading.local()


@contextlib.contextmanager
def converting() -> Iterator[None]:
    """The span of one window's fetch and conversion: the turn, once taken in it, is held until it ends."""
    _here.active, _here.held = True, False
    try:
        yield
    finally:
        if _here.held:
            trim_heap()  # the answer's dict rows are gone: give their pages back before the next answer parses
            _TURN.release()
        _here.active = _here.held = False


def take() -> None:
    """Called just before a whole answer is parsed: waits for the turn inside :func:`converting`, else nothing."""
    if getattr(_here, "active", False) and not _here.held:
        _TURN.acquire()
        _here.held = True
