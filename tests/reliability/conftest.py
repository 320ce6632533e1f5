"""Fixtures of the reliability suite: a private simulator and warehouse per test."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from simulator.testing import SimulatorProcess
from tests.conftest import SIM_NOW
from tests.reliability.harness import KEY, Completed, Workspace


@pytest.fixture
def make_workspace(make_sim, tmp_path: Path) -> Callable[..., Workspace]:
    """Factory: ``make_workspace(**simulator_options)``; each call gets its own simulator and directory."""
    count = 0

    def factory(name: str | None = None, **sim_options: object) -> Workspace:
        nonlocal count
        count += 1
        sim_options.setdefault("key", KEY)
        return Workspace(make_sim(**sim_options), tmp_path / (name or f"ws{count}"))

    return factory


@pytest.fixture
def ws(make_workspace) -> Workspace:
    return make_workspace()


@dataclass
class TwiceLoaded:
    """A warehouse loaded by two ``pendo-elt run`` with no new data in between, and what each left behind."""

    ws: Workspace
    first: Completed
    second: Completed
    after_first: dict[str, Counter]
    after_second: dict[str, Counter]
    cursors_first: dict
    cursors_second: dict
    loads_first: list[str]
    loads_second: list[str]


@pytest.fixture(scope="session")
def twice_loaded(tmp_path_factory) -> Iterator[TwiceLoaded]:
    """Shared by the idempotency and the secrets tests: every default resource, loaded twice by the CLI."""
    with SimulatorProcess(scale="tiny", now=SIM_NOW, key=KEY) as sim:
        ws = Workspace(sim, tmp_path_factory.mktemp("twice"))
        first = ws.cli("run")
        assert first.returncode == 0, first.stderr[-2000:]
        after_first, cursors_first, loads_first = ws.snapshot(), ws.cursors(), ws.completed_loads()
        second = ws.cli("run")
        assert second.returncode == 0, second.stderr[-2000:]
        yield TwiceLoaded(ws, first, second, after_first, ws.snapshot(), cursors_first, ws.cursors(),
                          loads_first, ws.completed_loads())


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest's hook signature
    """After a run that included crash trials: one line per trial (the figures docs/reliability.md records)."""
    from tests.reliability.test_crash_recovery import RESULTS

    if not RESULTS:
        return
    terminalreporter.section("SIGKILL trials")
    for r in RESULTS:
        verdict = "exact" if not r["differences"] else f"DIFFERS {r['differences']}"
        terminalreporter.write_line(
            f"seed {r['seed']:>2}  planned {r['planned']:<9} +{r['offset_s']:.3f}s  killed in {r['killed_in']:<10} "
            f"{'incremental' if r['incremental'] else 'first-run  '}  {'wiped' if r['wiped'] else 'kept '}  "
            f"rerun {r['rerun_s']:>5.1f}s  {verdict}")
