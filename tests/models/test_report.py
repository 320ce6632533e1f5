"""The report is one self-contained HTML page with the charts, built from the marts of each destination."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from pipelines.report import write_report
from tests.models import truth as T
from tests.models import truth_scores as P
from tests.models import truth_summaries as S
from tests.models.conftest import PG_URL, Built

REPORT_SECTIONS = ("Daily, weekly and monthly active users", "Stickiness (DAU / MAU)", "Product Engagement Score",
                   "Visitor frequency", "Guide experiments", "NPS feedback", "Top features and pages",
                   "Guide funnels", "NPS", "Weekly retention", "Account health")


def test_report_is_self_contained_and_shows_the_marts(built: Built, truth: T.Truth, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "report.html"
    path = write_report(built.destination, built.result.dataset, out,
                        duckdb_path=str(built.duckdb_path) if built.duckdb_path else None,
                        postgres_credentials=PG_URL if built.destination == "postgres" else None)
    assert path == out.resolve() and path.is_file()
    page = path.read_text(encoding="utf-8")
    # Viewable offline: no external script, style, image or font, nothing fetched at all.
    assert not re.search(r"<script|<link|<img|<iframe|src=|href=|@import|url\(", page, re.IGNORECASE)
    assert "http://" not in page and "https://" not in page
    for title in REPORT_SECTIONS:
        assert f"<h2>{title}</h2>" in page
    assert page.count("<svg") >= 8

    # Numbers on the page are the ground truth's; headline DAU is the last complete day's, apps by name.
    last_day = truth.last_complete_day
    names = S.app_names(truth)
    dau = {app: v[0] for (app, d), v in T.active_users(truth).items() if d == last_day}
    for app, value in dau.items():
        assert f"<b>{value}</b><span>DAU on {last_day} · {_escape(names[app])}</span>" in page
    all_apps = P.all_apps_active_users(truth)[last_day][0]
    assert f"<b>{all_apps}</b><span>DAU on {last_day} · All apps</span>" in page
    assert f"partial day {truth.open_day}" in page and "(partial day)</title>" in page
    events = Counter()
    for r in T.identified(truth.feature_events):
        events[r["featureId"]] += r["numEvents"]
    top_feature, top_events = events.most_common(1)[0]
    name = next(f["name"] for f in truth.features if f["id"] == top_feature)
    assert f"{_escape(name)}: {top_events:,} events" in page
    overall = [v for k, v in T.nps(truth).items() if k[0] == "all"]
    assert any(f"NPS {v['nps']:+.1f}</h3>" in page for v in overall)
    for (guide_id, _), v in T.guide_funnel(truth).items():
        if v["step_number"] == 1 and v["seen"]:
            assert f"Step 1 seen: {v['seen']} visitors" in page, guide_id


def _escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)
