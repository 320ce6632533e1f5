"""Shared fixtures: every test starts its own simulator process on a free loopback port and stops it by pid."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from simulator.testing import SimulatorProcess

os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"

# A fixed "now" keeps the data (and DST cases) reproducible: 2026-03-20 is after New York's DST change.
SIM_NOW = "2026-03-20T15:30:00Z"


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[SimulatorProcess]:
    """A tiny simulator for tests that only read; never advance its clock or inject faults into it."""
    with SimulatorProcess(scale="tiny", now=SIM_NOW) as sim:
        yield sim


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimulatorProcess]]:
    """Factory for a private simulator that a test may change (clock, retag, faults)."""
    started: list[SimulatorProcess] = []

    def factory(**options: object) -> SimulatorProcess:
        options.setdefault("scale", "tiny")
        options.setdefault("now", SIM_NOW)
        sim = SimulatorProcess(**options).start()  # type: ignore[arg-type]
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()
