"""Child processes measured one at a time: wall time and CPU time from ``os.wait4``, peak memory of the process tree.

The peak is the summed RSS of the child and all its descendants (pendo-elt's window worker process, DuckDB has
none), sampled every ``TREE_SAMPLE_S``, and never less than the child's own ``ru_maxrss``: a run that moves work
into another process cannot look smaller by it. CPU seconds include the descendants the child waited for.
"""

from __future__ import annotations

import contextlib
import os
import platform
import selectors
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import psutil


class BenchError(RuntimeError):
    """A measurement failed or loaded the wrong rows: the benchmark stops and says why."""


@dataclass
class Sample:
    wall_s: float
    cpu_s: float
    rss_mb: float
    rows: int
    load1: float  # 1-minute load average when the run started


@dataclass
class Series:
    """Repeated samples of one measurement; tables show medians."""

    samples: list[Sample] = field(default_factory=list)

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)

    @property
    def rows(self) -> int:
        return self.samples[-1].rows if self.samples else 0

    @property
    def rows_per_s(self) -> float:
        wall = self.median("wall_s")
        return self.rows / wall if wall else 0.0


TREE_SAMPLE_S = 0.05


@dataclass
class ChildResult:
    wall_s: float
    cpu_s: float
    rss_mb: float  # peak of the whole process tree (see the module docstring)
    stdout: str
    own_rss_mb: float = 0.0  # ``ru_maxrss`` from wait4: the largest single process of the tree, not the sum


def tree_rss_bytes(process: psutil.Process) -> int:
    """Summed RSS of a process and its descendants now (processes that end meanwhile count as nothing)."""
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += member.memory_info().rss
    return total


def run_child(cmd: list[str], env: dict[str, str], cwd: str | Path, log: Path, timeout_s: float) -> ChildResult:
    """Run ``cmd`` to completion (bounded by ``timeout_s``), sampling the memory of its process tree."""
    out_path = log.with_suffix(".out")
    with open(out_path, "wb") as out, open(log, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        tree = psutil.Process(proc.pid)
        deadline = started + timeout_s
        status, usage, peak, next_sample = 0, None, 0, 0.0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if time.perf_counter() >= next_sample:
                peak = max(peak, tree_rss_bytes(tree))
                next_sample = time.perf_counter() + TREE_SAMPLE_S
            if time.perf_counter() > deadline:
                os.kill(proc.pid, signal.SIGKILL)
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                raise BenchError(f"{' '.join(cmd[:4])} ... did not finish in {timeout_s:.0f}s; log: {log}")
            time.sleep(0.02)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(errors="replace")
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise BenchError(f"{' '.join(cmd[:4])} ... exited with {proc.returncode}\n{stdout[-2000:]}\n{tail}")
    assert usage is not None
    own_mb = usage.ru_maxrss / 1024
    return ChildResult(wall, usage.ru_utime + usage.ru_stime, max(own_mb, peak / 2**20), stdout, own_mb)


class ChildServer:
    """A helper server child (the replay server): started, read for its ``base_url=`` line, stopped by pid."""

    def __init__(self, cmd: list[str], env: dict[str, str], cwd: str | Path, start_timeout_s: float = 60) -> None:
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=cwd,
                                     text=True)
        assert self.proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + start_timeout_s
        self.base_url = ""
        while time.monotonic() < deadline and not self.base_url:
            if selector.select(timeout=0.2):
                line = self.proc.stdout.readline()
                if line.startswith("base_url="):
                    self.base_url = line.strip().split("=", 1)[1]
            if self.proc.poll() is not None:
                break
        selector.close()
        if not self.base_url:
            self.stop()
            raise BenchError(f"{' '.join(cmd[:3])} did not start")

    def stop(self) -> None:
        proc = self.proc
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def machine() -> dict[str, str]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "-"

    return {
        "cores": f"{os.cpu_count()} logical ({psutil.cpu_count(logical=False) or '?'} physical)",
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "cpu": model or "unknown",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "dlt": version("dlt"),
        "duckdb": version("duckdb"),
        "pyarrow": version("pyarrow"),
        "orjson": version("orjson"),
        "ijson": version("ijson"),
        "executable": sys.executable,
    }
