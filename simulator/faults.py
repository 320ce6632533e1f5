"""Fault injection: what the network and Pendo do to a client, queued for the next requests.

A test posts fault specs to the control surface; each spec applies to the next ``times`` requests whose
path starts with ``path``. Faults are consumed in order, so a test can script "two 429s, then a cut body".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

FAULT_KINDS = ("status", "delay", "cut", "truncate", "garbage", "drip", "malform")


class FaultSpecError(ValueError):
    """A fault spec a test sent is malformed."""


@dataclass
class Fault:
    """One scripted misbehaviour.

    kinds:
    - ``status``: answer ``status`` (429, 500, 502, 503, 408, ...) with ``body``; ``retry_after`` seconds
      as a Retry-After header when given.
    - ``delay``: sleep ``seconds`` before answering normally (a client with a shorter timeout times out).
    - ``cut``: send headers with the full Content-Length, then only ``after_bytes`` bytes, and close.
    - ``truncate``: a complete HTTP response whose JSON body is cut after ``after_bytes`` bytes.
    - ``garbage``: answer ``status`` (default 200) with ``body`` (default an HTML error page).
    - ``drip``: the real answer, its body sent at ``bytes_per_second`` (a proxy that trickles); a client that
      gives up closes the connection and the drip stops.
    - ``malform``: the real aggregation answer with ``rows`` of its result rows changed: keys in ``drop``
      removed, ``set`` merged in (``{"accountId": 12345}``), chosen every ``every``-th row from the first.

    ``after`` lets that many matching requests pass untouched before the fault starts.
    """

    kind: str
    times: int = 1
    path: str = "/api/"
    status: int = 500
    retry_after: float | None = None
    seconds: float = 0.0
    after_bytes: int = 0
    body: str = ""
    content_type: str = "text/plain"
    after: int = 0  # let this many matching requests through first (to fail the middle of a run)
    body_contains: str = ""  # only requests whose body contains this text (an aggregation's source name)
    bytes_per_second: float = 512.0
    rows: int = 1
    every: int = 1
    drop: tuple[str, ...] = ()
    set: dict | None = None

    @classmethod
    def from_spec(cls, spec: dict) -> Fault:
        if not isinstance(spec, dict) or spec.get("kind") not in FAULT_KINDS:
            raise FaultSpecError(f"fault kind must be one of {', '.join(FAULT_KINDS)}: {spec!r}")
        known = set(cls.__dataclass_fields__)
        unknown = set(spec) - known
        if unknown:
            raise FaultSpecError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        fault = cls(**spec)
        if fault.times < 1:
            raise FaultSpecError("times must be >= 1")
        if fault.kind == "garbage" and "status" not in spec:
            fault.status = 200
        if fault.kind == "drip" and fault.bytes_per_second <= 0:
            raise FaultSpecError("bytes_per_second must be > 0")
        fault.drop = tuple(fault.drop)
        if fault.kind == "garbage" and not fault.body:
            fault.body = "<html><body><h1>502 Bad Gateway</h1></body></html>"
            fault.content_type = "text/html"
        return fault

    def malform(self, payload: bytes) -> bytes:
        """The answer with ``rows`` result rows changed (``malform``); other answers unchanged."""
        import orjson

        answer = orjson.loads(payload)
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list):
            return payload
        for row in results[:: max(1, self.every)][: self.rows]:
            for key in self.drop:
                row.pop(key, None)
            row.update(self.set or {})
        return orjson.dumps(answer)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class FaultQueue:
    """Thread-safe queue of faults; the server takes the first matching one per request."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.injected = 0

    def add(self, specs: list[dict]) -> list[Fault]:
        faults = [Fault.from_spec(s) for s in specs]
        with self._lock:
            self._faults.extend(faults)
        return faults

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def take(self, path: str, body: bytes = b"") -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path) and fault.body_contains.encode() in body:
                    if fault.after > 0:
                        fault.after -= 1
                        return None
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    self.injected += 1
                    return fault
        return None
