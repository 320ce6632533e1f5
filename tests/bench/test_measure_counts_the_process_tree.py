"""The benchmark's peak memory counts every process of a run, not only the one it started (issue 15)."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.measure import run_child

HOLD = "b = bytearray({mb} << 20); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep({s})"


def test_a_child_that_holds_memory_in_its_own_child_is_measured_with_it(tmp_path: Path) -> None:
    grandchild = HOLD.format(mb=200, s=1.5)
    parent = (f"import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', {grandchild!r}]); "
              f"{HOLD.format(mb=150, s=0)}; p.wait()")
    result = run_child([sys.executable, "-c", parent], {}, tmp_path, tmp_path / "run.log", 60)
    assert result.rss_mb >= 340  # both together held ~360 MB at once; neither alone more than ~210 MB
