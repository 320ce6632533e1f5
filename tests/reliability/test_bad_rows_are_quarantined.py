"""A row that cannot be typed or keyed goes to ``_pendo_rejected``; everything else loads, and the next run
re-extracts its bucket (issue 13, item 5).

Before: a guide event without ``browserTime``, or a rollup whose ``accountId`` is a number in some rows, failed
every run with ``ArrowInvalid`` naming neither table nor field, and nothing loaded for any table. The simulator's
``malform`` fault changes rows of the real answer (``drop`` keys, ``set`` values) for aggregations whose body
names the source (``body_contains``); it hits each table's first window, the oldest day, which lies outside the
lookback of the next run: only the cursor hold makes that run extract it again.
"""

from __future__ import annotations

import json

from tests.reliability.harness import AGG, DATASET, Workspace

TABLES = ["guide_events", "page_events"]
NO_BROWSER_TIME = {"kind": "malform", "path": AGG, "body_contains": "guideEvents", "rows": 2, "every": 7,
                   "drop": ["browserTime"]}
NUMERIC_ACCOUNT = {"kind": "malform", "path": AGG, "body_contains": "pageEvents", "rows": 3, "every": 5,
                   "set": {"accountId": 12345}}


def _rejected(ws: Workspace) -> list[tuple]:
    return ws.query(f"SELECT table_name, raw_json, reason, _dlt_load_id FROM {DATASET}._pendo_rejected ORDER BY 1")


def _matches_truth_but(raw: dict, truth: list[dict], changed: str) -> bool:
    return any({k: v for k, v in t.items() if k != changed} == {k: v for k, v in raw.items() if k != changed}
               for t in truth)


def test_malformed_rows_are_quarantined_everything_else_loads_and_the_next_run_heals(ws: Workspace) -> None:
    ws.sim.inject(NO_BROWSER_TIME, NUMERIC_ACCOUNT)
    result = ws.cli("run", "--resources", ",".join(TABLES))
    assert result.returncode == 0, result.stderr[-3000:]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "5 rows" in warnings[0] and "_pendo_rejected" in warnings[0], result.stderr[-3000:]
    assert "guide_events: 2" in warnings[0] and "page_events: 3" in warnings[0], warnings[0]
    assert "Traceback" not in result.stderr
    summary = dict(line.split()[:2] for line in result.stdout.splitlines()[1:])
    assert summary["_pendo_rejected"] == "5", result.stdout

    rejected = _rejected(ws)
    assert [r[0] for r in rejected] == ["guide_events"] * 2 + ["page_events"] * 3
    assert len({r[3] for r in rejected}) == 1 and rejected[0][3] in ws.completed_loads()
    for table, raw_json, reason, _ in rejected:
        raw = json.loads(raw_json)
        if table == "guide_events":
            assert "browserTime" not in raw and "browserTime is missing" in reason
            assert _matches_truth_but(raw, ws.sim.truth("guide_events"), "browserTime")
        else:
            assert raw["accountId"] == 12345 and "accountId is a number" in reason
            assert _matches_truth_but(raw, ws.sim.truth("page_events"), "accountId")
        assert "next run" in reason
    # everything but the rejected rows loaded, nothing twice
    assert ws.differences(TABLES) == {
        "guide_events": {"missing": 2, "extra": 0, "truth_rows": len(ws.sim.truth("guide_events"))},
        "page_events": {"missing": 3, "extra": 0, "truth_rows": len(ws.sim.truth("page_events"))},
    }
    status = ws.cli("status")
    assert status.returncode == 0 and any(line.split()[:2] == ["_pendo_rejected", "5"]
                                          for line in status.stdout.splitlines()), status.stdout

    healed = ws.cli("run", "--resources", ",".join(TABLES))  # Pendo sends the rows well-formed again
    assert healed.returncode == 0, healed.stderr[-3000:]
    assert not [line for line in healed.stderr.splitlines() if line.startswith("warning:")], healed.stderr
    ws.assert_equals_truth(TABLES)
    ws.assert_cursors_consistent(TABLES)
