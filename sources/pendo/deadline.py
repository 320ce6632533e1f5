"""A total deadline per answer: ``request_timeout`` bounds the whole answer, not each read of it.

``requests``' read timeout restarts with every packet, so an answer that trickles (a proxy dripping 512 bytes a
second) never times out. :class:`DeadlineReader` reads the body with ``read1`` (whatever bytes have arrived, at
most ``size``), and before each read lowers the socket's timeout to the time left, so both a trickle and a stall
end at the deadline. It also stops reading when the process was asked to stop (SIGINT/SIGTERM, see
``pipelines/signals.py``), so a worker thread in the middle of a slow answer lets go within a read.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from dlt.common.runtime import signals


class DeadlineExceeded(TimeoutError):
    """The whole answer took longer than ``request_timeout``."""


class StopRequested(Exception):
    """The process received SIGINT/SIGTERM while an answer was being read; its rows are thrown away."""


class DeadlineReader:
    """File-like ``read(size)`` over a urllib3 response that raises :class:`DeadlineExceeded` at the deadline."""

    def __init__(self, response: Any, seconds: float, started: float | None = None) -> None:
        self._raw = response.raw
        self._raw.decode_content = True
        self.seconds = seconds
        self.deadline = (time.monotonic() if started is None else started) + seconds
        connection = getattr(self._raw, "connection", None)
        self._sock = getattr(connection, "sock", None)

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (fewer only at the end of the body), gathered ``read1`` by ``read1`` so the deadline
        and a stop request are checked while a large read fills."""
        if size is None or size < 0:
            return self.read_all()
        parts, got = [], 0
        while got < size:
            chunk = self._read1(size - got)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _read1(self, size: int) -> bytes:
        if signals.was_signal_received():
            raise StopRequested("stop requested while reading an answer")
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded(f"the answer took longer than {self.seconds:g}s")
        if self._sock is not None:
            with contextlib.suppress(OSError):  # a stalled answer ends at the deadline, not a full timeout later
                self._sock.settimeout(left)
        try:
            return self._raw.read1(size)
        except Exception as exc:
            if time.monotonic() >= self.deadline:
                raise DeadlineExceeded(f"the answer took longer than {self.seconds:g}s") from exc
            raise

    def read_all(self) -> bytes:
        chunks = []
        while chunk := self._read1(1024 * 1024):
            chunks.append(chunk)
        return b"".join(chunks)
