"""``pendo-elt simulate``: run the Pendo simulator until stopped.

The first line printed is machine-readable (``base_url=... integration_key=...``) so scripts and tests can
start it with ``--port 0`` and read where it listens.
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading

import pendulum

from simulator.data import SCALES, Dataset
from simulator.data.daycache import DEFAULT_CACHE_MB
from simulator.server import DEFAULT_MAX_ROWS, SimulatorServer, SimulatorState


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one")
    parser.add_argument("--key", default=None, help="integration key to accept (default: a random one, printed)")
    parser.add_argument("--read-only-key", default=None,
                        help="a second, valid key without 'Allow Write Access': /token/verify says writeAccess "
                             "false and aggregations answer 403")
    parser.add_argument("--seed", type=int, default=1, help="data seed; same seed, same data")
    parser.add_argument("--scale", choices=SCALES, default="small", help="data size")
    parser.add_argument("--tz", default="America/New_York", help="subscription time zone")
    parser.add_argument("--now", default=None, help="simulated 'now', ISO 8601 or epoch ms")
    parser.add_argument("--lag-minutes", type=int, default=60, help="processing lag before data is served")
    parser.add_argument("--history-days", type=int, default=30, help="days of history before now")
    parser.add_argument(
        "--max-rows", type=int, default=DEFAULT_MAX_ROWS,
        help="row ceiling of one aggregation answer before 'Query exceeded memory limit'",
    )
    parser.add_argument(
        "--cache-mb", type=float, default=DEFAULT_CACHE_MB,
        help="approximate memory for generated days (~14 MB a day at the large scale); 0 regenerates every answer",
    )


def parse_now(value: str | None) -> int | None:
    """Accept epoch ms or any ISO 8601 timestamp (UTC if no offset)."""
    if value is None:
        return None
    if value.lstrip("-").isdigit():
        return int(value)
    return int(pendulum.parse(value, tz="UTC").timestamp() * 1000)


def build_state(args: argparse.Namespace) -> SimulatorState:
    dataset = Dataset(
        seed=args.seed, scale=args.scale, tz=args.tz, now_ms=parse_now(args.now),
        lag_ms=args.lag_minutes * 60_000, history_days=args.history_days, cache_mb=args.cache_mb,
    )
    state = SimulatorState(dataset=dataset, max_rows=args.max_rows)
    if args.key:
        state.integration_key = args.key
    state.read_only_key = args.read_only_key
    return state


def tune_gc() -> None:
    """Collect cycles rarely: the heap is mostly cached days (millions of long-lived objects), and the
    default thresholds rescan them so often while answers are built that serving runs ~2-3x slower.
    Only for a process that does nothing but serve; the simulator's own code makes few cycles."""
    gc.collect()
    gc.freeze()  # the subscription built at startup is never garbage
    gc.set_threshold(100_000, 50, 100)


def serve(args: argparse.Namespace) -> int:
    try:
        state = build_state(args)
    except (ValueError, KeyError) as exc:
        print(f"error: cannot start the simulator: {exc}", file=sys.stderr)
        return 2
    server = SimulatorServer(state, port=args.port)
    tune_gc()
    ds = state.dataset
    print(
        f"base_url={server.base_url} integration_key={state.integration_key} seed={args.seed} "
        f"scale={args.scale} tz={ds.tz} now={pendulum.from_timestamp(ds.now_ms / 1000).to_iso8601_string()}",
        flush=True,
    )
    stop = threading.Event()

    def _shutdown(*_: object) -> None:
        if not stop.is_set():
            stop.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _shutdown)
    signal.signal(signal.SIGINT, _shutdown)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description="Run the local Pendo API simulator.",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_arguments(parser)
    return serve(parser.parse_args(argv))
