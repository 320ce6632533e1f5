"""A row buffer that spills to disk: a window's answer is complete before any row reaches dlt.

A body cut mid-stream is retried from scratch; rows from the broken attempt must never be loaded. So a
window's rows are held until its answer parsed to the end. Memory stays bounded: past ``max_in_memory``
rows the spool writes JSON lines to a temporary file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO

import orjson

DEFAULT_MAX_IN_MEMORY = 50_000


class RowSpool:
    def __init__(self, max_in_memory: int = DEFAULT_MAX_IN_MEMORY) -> None:
        self.max_in_memory = max_in_memory
        self._rows: list[dict] = []
        self._file: IO[bytes] | None = None
        self.count = 0

    @classmethod
    def holding(cls, rows: list[dict]) -> RowSpool:
        """A spool of rows already parsed whole (a body small enough to be held), kept as they are."""
        spool = cls()
        spool._rows, spool.count = rows, len(rows)
        return spool

    @property
    def on_disk(self) -> bool:
        """Rows past ``max_in_memory`` went to a file: convert them lazily, page by page."""
        return self._file is not None

    def append(self, row: dict) -> None:
        self.count += 1
        if self._file is None and len(self._rows) < self.max_in_memory:
            self._rows.append(row)
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="pendo-spool-")  # noqa: SIM115 - closed by close()
        self._file.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))

    def pages(self, page_size: int = 10_000) -> Iterator[list[dict]]:
        """Yield the rows in order, in lists of at most ``page_size``; the spool is emptied as it goes."""
        rows, self._rows = self._rows, []
        for i in range(0, len(rows), page_size):
            yield rows[i : i + page_size]
        del rows
        if self._file is not None:
            self._file.seek(0)
            page: list[dict] = []
            for line in self._file:
                page.append(orjson.loads(line))
                if len(page) >= page_size:
                    yield page
                    page = []
            if page:
                yield page
            self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._rows = []

    def __enter__(self) -> RowSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
