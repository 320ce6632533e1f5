"""Report sections for Pendo's scores: Product Engagement Score, Looker frequency classes, guide control-group lift,
and the free-text reasons given with NPS scores. Read from the marts; drawn with pipelines/report.py's helpers."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipelines.report_charts import _EMPTY, _e, _fmt_int, _pct

Rows = list[dict[str, Any]]
FREQUENCY_CLASSES = ("daily", "weekly", "monthly", "inactive")
FEEDBACK_ROWS = 8


@dataclass
class ScoreData:
    pes: Rows
    frequency_30d: Rows
    frequency_monthly: Rows
    lift: Rows
    feedback: Rows


def load_scores(run: Callable[[str], Rows]) -> ScoreData:
    return ScoreData(
        pes=run("select app_scope, app_name, as_of_date, window_days, active_visitors, adoption, adoption_basis, "
                "stickiness, new_visitors, recovered_visitors, dropped_visitors, growth_score, pes "
                "from {s}.product_engagement_score order by case when app_scope = 'all' then 1 else 0 end, app_name"),
        frequency_30d=run("select frequency_class_last_30d as frequency_class, count(*) as visitors "
                          "from {s}.visitor_summary group by frequency_class_last_30d"),
        frequency_monthly=run("select month_start, month_is_complete, frequency_class, count(*) as visitors "
                              "from {s}.visitor_frequency group by month_start, month_is_complete, frequency_class "
                              "order by month_start"),
        lift=run("select guide_id, guide_name, outcome_days, treatment_visitors, treatment_rate, control_visitors, "
                 "control_rate, absolute_lift from {s}.guide_lift order by guide_name, guide_id"),
        feedback=run("select response_date, score, nps_category, follow_up_text from {s}.nps_latest_visitor "
                     "where follow_up_text is not null and follow_up_text <> '' "
                     f"order by responded_at desc, visitor_id limit {FEEDBACK_ROWS}"),
    )


def score_sections(data: ScoreData | None) -> list[str]:
    if data is None:
        return []
    return [_pes(data), _frequency(data), _lift(data), _feedback(data)]


def _pes(data: ScoreData) -> str:
    from pipelines.report import _section  # the page's section frame (report.py imports this module)

    if not data.pes:
        return _section("Product Engagement Score", "", _EMPTY)
    rows = "".join(
        f"<tr><td>{_e(r['app_name'])}</td><td><b>{_fmt_int(r['pes'])}</b></td><td>{_pct(r['adoption'])}</td>"
        f"<td>{_pct(r['stickiness'])}</td><td>{_pct(r['growth_score'])} ({_fmt_int(r['new_visitors'])} new, "
        f"{_fmt_int(r['recovered_visitors'])} recovered, {_fmt_int(r['dropped_visitors'])} dropped)</td>"
        f"<td>{_fmt_int(r['active_visitors'])}</td></tr>" for r in data.pes)
    first = data.pes[0]
    table = ("<table><tr><th>App</th><th>PES</th><th>Adoption</th><th>Stickiness</th><th>Growth</th>"
             f"<th>Active visitors</th></tr>{rows}</table>")
    basis = " Adoption counts all tagged pages and features where no Core Events are set." if any(
        r["adoption_basis"] == "all_tagged" for r in data.pes) else ""
    return _section("Product Engagement Score",
                    f"Pendo's PES as of {first['as_of_date']} over {first['window_days']} days: the average of "
                    "adoption (share of Core Events used per active visitor), stickiness (average DAU / MAU) and "
                    "growth ((new + recovered) against dropped visitors)." + basis, table)


def _frequency(data: ScoreData) -> str:
    from pipelines.report import _section  # the page's section frame (report.py imports this module)

    counts = Counter({r["frequency_class"]: int(r["visitors"]) for r in data.frequency_30d})
    cards = "".join(f"<div class=kpi><b>{_fmt_int(counts.get(c, 0))}</b><span>{_e(c)} visitors</span></div>"
                    for c in FREQUENCY_CLASSES)
    months: dict[Any, dict[str, int]] = defaultdict(dict)
    complete: dict[Any, bool] = {}
    for r in data.frequency_monthly:
        months[r["month_start"]][r["frequency_class"]] = int(r["visitors"])
        complete[r["month_start"]] = bool(r["month_is_complete"])
    body = "".join(
        f"<tr><td>{_e(m.strftime('%Y-%m') if hasattr(m, 'strftime') else m)}"
        f"{'' if complete[m] else ' (partial month)'}</td>"
        + "".join(f"<td>{_fmt_int(months[m].get(c, 0))}</td>" for c in FREQUENCY_CLASSES[:3]) + "</tr>"
        for m in sorted(months))
    table = ("<table><tr><th>Month</th><th>Daily</th><th>Weekly</th><th>Monthly</th></tr>" + body + "</table>"
             if body else "")
    return _section("Visitor frequency",
                    "Pendo's Looker classes: 13 or more active days in 30 'daily', 5 to 12 'weekly', fewer "
                    "'monthly'; the cards count the 30 days ending at the last complete day.",
                    f"<div class=kpis>{cards}</div>{table}")


def _lift(data: ScoreData) -> str:
    from pipelines.report import _section  # the page's section frame (report.py imports this module)

    if not data.lift:
        return _section("Guide experiments", "No guide has a control group (guideNotSeen events).", _EMPTY)
    rows = "".join(
        f"<tr><td>{_e(r['guide_name'] or r['guide_id'])}</td><td>{_fmt_int(r['treatment_visitors'])}</td>"
        f"<td>{_pct(r['treatment_rate'])}</td><td>{_fmt_int(r['control_visitors'])}</td>"
        f"<td>{_pct(r['control_rate'])}</td><td><b>{_signed_points(r['absolute_lift'])}</b></td></tr>"
        for r in data.lift)
    days = data.lift[0]["outcome_days"]
    return _section("Guide experiments",
                    f"Guides with a control group: share of visitors who viewed the guide's page within {days} days "
                    "after seeing it (treatment) or being held back (control), and the lift between them.",
                    "<table><tr><th>Guide</th><th>Saw it</th><th>Goal rate</th><th>Held back</th><th>Goal rate</th>"
                    f"<th>Lift</th></tr>{rows}</table>")


def _feedback(data: ScoreData) -> str:
    from pipelines.report import _section  # the page's section frame (report.py imports this module)

    if not data.feedback:
        return _section("NPS feedback", "", _EMPTY)
    rows = "".join(f"<tr><td>{_e(r['response_date'])}</td><td>{_e(r['score'])} ({_e(r['nps_category'])})</td>"
                   f"<td style=\"text-align:left\">{_e(r['follow_up_text'])}</td></tr>" for r in data.feedback)
    return _section("NPS feedback", "The latest NPS scores with the free-text reason the visitor gave.",
                    f"<table><tr><th>Day</th><th>Score</th><th>Reason</th></tr>{rows}</table>")


def _signed_points(value: Any) -> str:
    return "–" if value is None else f"{float(value) * 100:+.0f} pts"


__all__ = ["ScoreData", "load_scores", "score_sections"]
