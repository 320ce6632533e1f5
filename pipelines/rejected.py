"""The one warning line a run prints when rows went to ``_pendo_rejected`` instead of their table."""

from __future__ import annotations

import sys

import dlt

from sources.pendo.quarantine import REJECTED_TABLE


def warn_rejected(pipeline: dlt.Pipeline, rows: dict[str, int], *, backfill: bool = False) -> None:
    """``warning: N rows ... (table: n, ...)`` on stderr when this run's summary counted rejected rows."""
    count = rows.get(REJECTED_TABLE, 0)
    if not count:
        return
    per_table = ""
    try:
        load_id = pipeline.last_trace.last_normalize_info.loads_ids[-1]  # type: ignore[union-attr]
        with pipeline.sql_client() as client:
            table = client.make_qualified_table_name(REJECTED_TABLE)
            found = client.execute_sql(f"SELECT table_name, COUNT(*) FROM {table} WHERE _dlt_load_id = %s "
                                       "GROUP BY 1 ORDER BY 1", load_id)
        per_table = " (" + ", ".join(f"{name}: {n:,}" for name, n in found) + ")" if found else ""
    except Exception:  # noqa: BLE001 - the count alone is still worth the line
        pass
    heal = "rerunning this backfill extracts their chunks again" if backfill else \
        "the next run extracts their buckets again"
    print(f"warning: {count:,} rows could not be typed or keyed and were kept in {REJECTED_TABLE}{per_table} with "
          f"the reason; every other row loaded, and {heal}", file=sys.stderr)
