"""SQL written for a tap-pendo/Stitch warehouse runs unchanged on the compatibility views (schema
<marts>_stitch, opt-in) and answers what the equivalent query answers on the native tables."""

from __future__ import annotations

from collections import Counter

import pytest

from pipelines.models import COMPAT_SUFFIX
from tests.models.conftest import Built

# (what, Stitch-era SQL with {s} for its schema, the same question on pendo-elt's native tables with {n})
QUERIES = [
    ("page views per page per day",
     "SELECT page_id, day, SUM(num_events) AS views FROM {s}.page_events GROUP BY page_id, day",
     "SELECT page_id, day, SUM(num_events) AS views FROM {n}.page_events GROUP BY page_id, day"),
    ("feature clicks per account with an account metadata column",
     "SELECT fe.account_id, a.metadata_custom__plan, SUM(fe.num_events) AS clicks FROM {s}.feature_events fe "
     "JOIN {s}.accounts a ON a.account_id = fe.account_id GROUP BY fe.account_id, a.metadata_custom__plan",
     "SELECT fe.account_id, a.metadata_custom_plan, SUM(fe.num_events) AS clicks FROM {n}.feature_events fe "
     "JOIN {n}.accounts a ON a.account_id = fe.account_id GROUP BY fe.account_id, a.metadata_custom_plan"),
    ("guide seen counts",
     "SELECT guide_id, COUNT(*) AS seen FROM {s}.guide_events WHERE type = 'guideSeen' GROUP BY guide_id",
     "SELECT guide_id, COUNT(*) AS seen FROM {n}.guide_events WHERE type = 'guideSeen' GROUP BY guide_id"),
    ("poll answers with text",
     "SELECT poll_id, visitor_id, poll_response FROM {s}.poll_events "
     "WHERE LOWER(poll_response) LIKE '%export%' OR LENGTH(poll_response) > 12",
     "SELECT poll_id, visitor_id, poll_response FROM {n}.poll_events "
     "WHERE LOWER(poll_response) LIKE '%export%' OR LENGTH(poll_response) > 12"),
    ("visitors by a custom field",
     "SELECT metadata_custom__role, COUNT(*) AS visitors FROM {s}.visitors GROUP BY metadata_custom__role",
     "SELECT metadata_custom_role, COUNT(*) AS visitors FROM {n}.visitors GROUP BY metadata_custom_role"),
    ("recently seen visitors by the top-level lastupdated",
     "SELECT visitor_id, metadata_auto__lastvisit FROM {s}.visitors "
     "WHERE lastupdated >= (SELECT MAX(lastupdated) FROM {s}.visitors) - INTERVAL '7 days'",
     "SELECT visitor_id, metadata_auto_lastvisit FROM {n}.visitors "
     "WHERE metadata_auto_lastupdated >= (SELECT MAX(metadata_auto_lastupdated) FROM {n}.visitors) "
     "- INTERVAL '7 days'"),
    ("the default app by its string id",
     "SELECT COUNT(DISTINCT visitor_id) AS visitors FROM {s}.events WHERE app_id = '-323232'",
     "SELECT COUNT(DISTINCT visitor_id) AS visitors FROM {n}.events WHERE app_id = -323232"),
    ("a metadata field's type from metadata_visitors",
     "SELECT auto__lastvisit__type, custom__role__type FROM {s}.metadata_visitors",
     "SELECT MAX(CASE WHEN field = 'lastvisit' THEN type END) AS lastvisit_type, "
     "MAX(CASE WHEN field = 'role' THEN type END) AS role_type "
     "FROM {n}.metadata_fields WHERE kind = 'visitor'"),
]


@pytest.mark.parametrize(("what", "stitch_sql", "native_sql"), QUERIES, ids=[q[0] for q in QUERIES])
def test_stitch_queries_run_unchanged_and_agree(built: Built, what: str, stitch_sql: str, native_sql: str) -> None:
    compat = built.result.target_schema + COMPAT_SUFFIX
    on_views = built.query(stitch_sql.format(s=compat))
    on_tables = built.query(native_sql.format(n=built.result.dataset))
    assert on_views, f"{what}: the query answers something"
    assert Counter(tuple(map(str, r.values())) for r in on_views) == Counter(
        tuple(map(str, r.values())) for r in on_tables), what


def test_views_have_stitch_names(built: Built) -> None:
    compat = built.result.target_schema + COMPAT_SUFFIX
    visitors = built.query(f"SELECT * FROM {compat}.visitors LIMIT 1")[0]
    assert {"visitor_id", "lastupdated", "metadata_auto__lastvisit", "metadata_agent__email"} <= set(visitors)
    assert not [c for c in visitors if c.startswith("_dlt") or c.startswith("_pendo")]
    texts = built.query(f"SELECT poll_response FROM {compat}.poll_events")
    assert all(isinstance(r["poll_response"], str) for r in texts if r["poll_response"] is not None)
