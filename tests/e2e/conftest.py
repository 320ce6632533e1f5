from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from simulator.testing import SimulatorProcess
from tests.e2e.harness import Loader


@pytest.fixture
def loader(make_sim, tmp_path: Path) -> Callable[..., Loader]:
    def factory(sim: SimulatorProcess | None = None, **kwargs: object) -> Loader:
        return Loader(sim or make_sim(), tmp_path, **kwargs)  # type: ignore[arg-type]

    return factory
