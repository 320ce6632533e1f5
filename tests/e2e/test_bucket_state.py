"""``_pendo_buckets`` in the destination: every loaded bucket with its rows, when it was extracted and verified,
and whether it is final; it survives a new machine because it lives with the data."""

from __future__ import annotations

import shutil

import pendulum

from tests.e2e.harness import Loader


def _state(load: Loader, table: str) -> dict[int, tuple]:
    rows = load.query(f"SELECT {load.epoch_ms('bucket')}, rows, fingerprint, extracted_at, verified_at, final "
                      f"FROM {load.table('_pendo_buckets')} WHERE table_name = '{table}'")
    return {r[0]: r[1:] for r in rows}


def test_bucket_state_records_extraction_verification_and_finality(loader, tmp_path) -> None:
    load: Loader = loader()
    load.run(["page_events", "guide_events"])
    first = _state(load, "page_events")
    truth = load.sim.truth("page_events")
    days = {row["day"] for row in truth}
    assert days <= set(first)
    per_day = {d: sum(1 for row in truth if row["day"] == d) for d in days}
    assert all(first[d][0] == per_day[d] for d in days)  # rows as extracted
    assert all(first[d][3] is None and not first[d][4] for d in first)  # nothing verified yet
    shutil.rmtree(tmp_path / "pipelines")  # a new machine: the state table is in the destination
    load.run(["page_events", "guide_events"])
    second = _state(load, "page_events")
    info = load.sim.info()
    now = pendulum.from_timestamp(info["now_ms"] / 1000, tz=info["tz"])
    verified = {d for d, row in second.items() if row[3] is not None}
    assert len(verified) == 10  # the settling horizon: ten days before the cursor day
    assert all(second[d][2] for d in verified)  # Pendo's fingerprint, hashed
    final = {d for d, row in second.items() if row[4]}
    oldest = int(now.start_of("day").subtract(days=9).in_tz("UTC").timestamp() * 1000)
    assert final and all(d < oldest for d in final)
    assert _state(load, "guide_events")
