"""One process at a time in a pipeline's local working directory (one per warehouse: pipelines/identity.py).

Writers of one dataset on different machines or working dirs are kept apart by the warehouse's own locks
(pipelines/writer_lock.py); this one protects dlt's local files.

``flock`` on a file in the pipelines directory: the kernel releases it when the process dies, however it dies,
so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from sources.pendo.errors import PendoError


class PipelineLockedError(PendoError):
    """Another process is running the same pipeline."""


class PipelineLock:
    def __init__(self, pipelines_dir: str, pipeline_name: str) -> None:
        self.path = Path(pipelines_dir) / f".{pipeline_name}.lock"
        self._fd: int | None = None

    def __enter__(self) -> PipelineLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise PipelineLockedError(
                f"pipeline '{self.path.stem.lstrip('.')}' is already running (pid {holder}); "
                "wait for it to finish, this run did nothing"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
