"""What ``pendo-elt verify`` of all loaded history reads when nothing changed, against what a reload reads.

    .venv/bin/python -m bench.verify_cost --scale small
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pipelines.verify import verify
from simulator.testing import SimulatorProcess
from tests.e2e.harness import Loader

EVENTS = ["events", "page_events", "feature_events", "track_events", "guide_events", "poll_events"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="small")
    args = parser.parse_args()
    with SimulatorProcess(scale=args.scale) as sim, tempfile.TemporaryDirectory() as tmp:
        load = Loader(sim, Path(tmp))
        loaded = load.run(EVENTS)
        reload_rows = sum(loaded.rows.get(t, 0) for t in EVENTS)
        info = sim.info()
        started = time.monotonic()
        result = verify(load.pipeline(), resources=EVENTS, base_url=sim.base_url,
                        integration_key=sim.integration_key, subscription_timezone=info["tz"])
        seconds = time.monotonic() - started
        read = sum(t.rows_read for t in result.tables.values())
        checked = max(t.buckets_checked for t in result.tables.values())
        print(f"reload: {reload_rows:,} event rows; verify of {checked} buckets: {read:,} fingerprint rows "
              f"({100 * read / reload_rows:.2f}% of a reload) in {seconds:.1f}s, drift: {result.drift}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
