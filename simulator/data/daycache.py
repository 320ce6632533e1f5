"""A memory-budgeted, thread-safe memo of generated days (sessions, hour rows, guide events, indexes).

Generating a day is most of the cost of serving it, and a backfill reads every day once per table,
so the cache should hold the whole served history when it fits. It is bounded by an approximate byte
budget, not an entry count, because a day weighs ~0.05 MB at the tiny scale and ~14 MB at the large
one: tests start many tiny simulators in parallel, the benchmark one large one.

Builds run outside the cache lock so concurrent requests for other days proceed; a second request for
a key being built waits for that build instead of repeating it. Values are deterministic functions
of their key, so whoever builds a key builds the same value.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
MB = 1 << 20
DEFAULT_CACHE_MB = 512
ENTRY_BYTES = 256  # the key, the entry and an empty value: so that empty days count too
# Approximate bytes per generated item (tracemalloc, large scale); they only size the cache budget.
SESSION_BYTES, HOUR_ROW_BYTES, GUIDE_EVENT_BYTES = 330, 220, 700


class DayCache:
    """Least-recently-used eviction once the summed weights exceed ``budget_bytes``."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = max(0, budget_bytes)
        self.used = 0
        self.items: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
        self.building: dict[tuple, threading.Event] = {}
        self.lock = threading.Lock()
        self.builds = 0  # how many values were generated (a miss each); tests read it

    def get(self, key: tuple, build: Callable[[], T], weigh: Callable[[T], int]) -> T:
        """The cached value of ``key``, built (and weighed, in bytes) on a miss."""
        while True:
            with self.lock:
                hit = self.items.get(key)
                if hit is not None:
                    self.items.move_to_end(key)
                    return hit[0]  # type: ignore[return-value]
                pending = self.building.get(key)
                if pending is None:
                    done = self.building[key] = threading.Event()
                    break
            pending.wait()  # then loop: normally a hit; if the build failed or was evicted, build it here
        try:
            value = build()
            weight = weigh(value) + ENTRY_BYTES
            with self.lock:
                self.builds += 1
                self._put(key, value, weight)
        finally:
            with self.lock:
                del self.building[key]
            done.set()
        return value

    def _put(self, key: tuple, value: object, weight: int) -> None:
        if weight > self.budget:
            return  # never cache what alone exceeds the budget: it would evict everything else
        self.items[key] = (value, weight)
        self.used += weight
        while self.used > self.budget:
            _, (_, w) = self.items.popitem(last=False)
            self.used -= w

    def discard(self, keep: Callable[[tuple], bool]) -> None:
        """Drop the entries whose key ``keep`` rejects (e.g. rows of a revision a retag replaced)."""
        with self.lock:
            for key in [k for k in self.items if not keep(k)]:
                self.used -= self.items.pop(key)[1]
