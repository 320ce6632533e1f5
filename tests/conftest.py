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


# --- one directory shared by every xdist worker of a run (tests/models builds its warehouse there once) ------
SHARED_DIR_ENV = "PENDO_TESTS_SHARED_DIR"


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller, before it starts workers: they inherit the variable
        import tempfile

        os.environ[SHARED_DIR_ENV] = tempfile.mkdtemp(prefix="pendo-tests-shared-")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput") and os.environ.get(SHARED_DIR_ENV):
        from tests.models.shared_build import release_shared

        release_shared(os.environ.pop(SHARED_DIR_ENV))
