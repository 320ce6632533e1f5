"""Pages between processes: an Arrow table travels as one IPC stream (its buffers, no per-row pickling)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa


class ArrowBytes:
    """One Arrow table as IPC stream bytes."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __reduce__(self) -> tuple:
        return ArrowBytes, (self.data,)


def encode_page(page: Any) -> Any:
    """An Arrow table as :class:`ArrowBytes`; any other page (shaped rows, rejected rows) as it is."""
    if not isinstance(page, pa.Table):
        return page
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, page.schema) as writer:
        writer.write_table(page)
    return ArrowBytes(sink.getvalue().to_pybytes())


def decode_page(page: Any) -> Any:
    """The page :func:`encode_page` encoded; the table's buffers point into the received bytes (no copy)."""
    if isinstance(page, ArrowBytes):
        return pa.ipc.open_stream(pa.py_buffer(page.data)).read_all()
    return page
