"""What an hourly run costs with the settling horizon against the old blanket three-day lookback.

    .venv/bin/python -m bench.hourly_cost --scale small --hours 6

Two pipelines load the same simulator (one with ``settle_days`` 10 and ``lookback_days`` 0, the defaults; one with
``lookback_days`` 3 and no verification, the previous defaults), then run hourly while late data arrives for a day
two days back every other hour. Per run it prints requests, rows read from Pendo for data and for fingerprints,
event rows rewritten in the warehouse (deleted plus inserted, also apart) and wall time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pendulum

from simulator.testing import SimulatorProcess
from tests.e2e.harness import Loader, event_drift

MODES = {"settle (new default)": {"settle_days": 10, "lookback_days": 0},
         "lookback 3 (old default)": {"settle_days": 0, "lookback_days": 3}}
EVENTS = ("events", "page_events", "feature_events", "track_events", "guide_events", "poll_events")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--hours", type=int, default=6)
    parser.add_argument("--late-visitors", type=int, default=5)
    args = parser.parse_args()
    with SimulatorProcess(scale=args.scale) as sim, tempfile.TemporaryDirectory() as tmp:
        loaders = {mode: Loader(sim, Path(tmp) / str(i), source_args=settings)
                   for i, (mode, settings) in enumerate(MODES.items())}
        for load in loaders.values():
            load.run(list(EVENTS))
        print(f"{'hour':>4}  {'mode':<26}{'requests':>9}{'data rows':>11}{'fp rows':>9}{'rewritten':>11}"
              f"{'deleted':>9}{'inserted':>9}{'seconds':>9}")
        for hour in range(1, args.hours + 1):
            sim.advance(hours=1)
            if hour % 2:
                info = sim.info()
                day = pendulum.from_timestamp(info["now_ms"] / 1000, tz=info["tz"]).subtract(days=2)
                sim.late(day.to_date_string(), visitors=args.late_visitors)
            for mode, load in loaders.items():
                started = time.monotonic()
                summary = load.run(list(EVENTS))
                print(f"{hour:>4}  {mode:<26}{summary.requests:>9,}{summary.data_rows:>11,}"
                      f"{summary.fingerprint_rows:>9,}{summary.rows_rewritten:>11,}{summary.rows_deleted:>9,}"
                      f"{summary.rows_inserted:>9,}{time.monotonic() - started:>9.1f}")
        for mode, load in loaders.items():
            drift = event_drift(load)
            print(f"{mode}: {'equal to Pendo over the whole loaded range' if not drift else f'DRIFT {drift}'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
