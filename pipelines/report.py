"""``pendo-elt report``: one self-contained HTML page of charts built from the marts of ``pendo-elt models``.

The page needs no network to be viewed: styles are inline and every chart is an inline SVG drawn here
(hover a point or a bar for its value: SVG ``<title>`` tooltips, no JavaScript). Apps are named (the ``apps``
table), headline numbers are those of the last complete day, and a day that was not over when it was loaded is
drawn hollow and labelled "partial day". The sections for Pendo's scores live in ``pipelines/report_scores.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.models import _IDENTIFIER, _dlt_credentials, _postgres_env_from_url, default_target_schema
from pipelines.report_charts import (
    _EMPTY,
    NPS_COLORS,
    PALETTE,
    _e,
    _fmt_int,
    _pct,
    grouped_bar_chart,
    hbar_chart,
    line_chart,
    stacked_bar,
)
from pipelines.report_scores import ScoreData, load_scores, score_sections
from sources.pendo.errors import ConfigError, PendoError

TOP_N = 10
MAX_APPS = 4


class ReportError(PendoError):
    """The marts could not be read (not built yet, wrong schema, no connection); one line."""


def write_report(
    destination: str,
    dataset: str,
    out_path: str | Path,
    *,
    duckdb_path: str | None = None,
    postgres_credentials: str | None = None,
    marts_schema: str | None = None,
    title: str = "Pendo product analytics",
) -> Path:
    """Read the marts of ``dataset`` (schema ``marts_schema``, default ``<dataset>_analytics``) and write the page.

    Connection arguments are those of :func:`pipelines.models.run_models`. Returns the written path.
    """
    schema = marts_schema or default_target_schema(dataset)
    if not _IDENTIFIER.match(schema):
        raise ConfigError(f"marts schema must be a lower-case SQL identifier, got {schema!r}")
    query = _reader(destination, dataset, duckdb_path, postgres_credentials)
    data = _load(query, schema, destination)
    page = render(data, title=title, source=f"{destination} · {schema}")
    path = Path(out_path).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


# --- reading the marts --------------------------------------------------------------------------------
Query = Callable[[str], list[dict[str, Any]]]


def _reader(destination: str, dataset: str, duckdb_path: str | None, postgres_credentials: str | None) -> Query:
    if destination == "duckdb":
        import duckdb

        path = Path(duckdb_path) if duckdb_path else Path(_dlt_credentials("duckdb", dataset).database)
        path = path.expanduser().resolve()
        if not path.is_file():
            raise ConfigError(f"no DuckDB database at {path}: run `pendo-elt run` and `pendo-elt models` first")

        def duck_query(sql: str) -> list[dict[str, Any]]:
            with duckdb.connect(str(path), read_only=True) as conn:
                cursor = conn.execute(sql)
                names = [d[0] for d in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return duck_query
    if destination == "postgres":
        import psycopg2

        if postgres_credentials:
            env = _postgres_env_from_url(postgres_credentials)
            params = {"host": env["PENDO_PG_HOST"], "port": int(env["PENDO_PG_PORT"]), "user": env["PENDO_PG_USER"],
                      "password": env["PENDO_PG_PASSWORD"], "dbname": env["PENDO_PG_DATABASE"],
                      "sslmode": env["PENDO_PG_SSLMODE"]}
        else:
            creds = _dlt_credentials("postgres", dataset)
            params = {"host": creds.host, "port": int(creds.port or 5432), "user": creds.username,
                      "password": creds.password or "", "dbname": creds.database}

        def pg_query(sql: str) -> list[dict[str, Any]]:
            with psycopg2.connect(connect_timeout=10, **params) as conn, conn.cursor() as cursor:
                cursor.execute(sql)
                names = [d[0] for d in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return pg_query
    if destination == "snowflake":
        import tempfile

        from pipelines.run import make_pipeline

        def sf_query(sql: str) -> list[dict[str, Any]]:
            with tempfile.TemporaryDirectory(prefix="pendo-report-") as pipelines_dir:
                pipeline = make_pipeline("snowflake", dataset, pipelines_dir)
                with pipeline.sql_client() as client, client.execute_query(sql) as cursor:
                    names = [d[0].lower() for d in cursor.description]
                    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return sf_query
    raise ConfigError(f"unknown destination {destination!r}; choose from duckdb, postgres, snowflake")


@dataclass
class ReportData:
    active_users: list[dict[str, Any]]  # per app and all apps, with app_name and day_status
    features: list[dict[str, Any]]
    pages: list[dict[str, Any]]
    funnel: list[dict[str, Any]]
    nps_overall: list[dict[str, Any]]
    nps_weekly: list[dict[str, Any]]
    retention: list[dict[str, Any]]
    accounts: list[dict[str, Any]]
    scores: ScoreData | None = None


def _load(query: Query, schema: str, destination: str) -> ReportData:
    def run(sql: str) -> list[dict[str, Any]]:
        try:
            return query(sql.format(s=schema))
        except PendoError:
            raise
        except Exception as exc:  # noqa: BLE001 - driver errors differ per destination
            text = " ".join(str(exc).split())[:300]
            raise ReportError(f"cannot read the marts in {destination} schema {schema!r} (run `pendo-elt models` "
                              f"first?): {text}") from None

    usage = """
        select {id} as id, max({name}) as name, sum(num_events) as events, sum(num_minutes) as minutes,
               max(cumulative_visitors) as visitors
        from {{s}}.{table} group by {id} order by sum(num_events) desc, {id} limit {n}"""
    return ReportData(
        active_users=run("select app_scope as app_id, app_name, is_all_apps, date_day, day_status, dau, wau, mau, "
                         "stickiness, mau_window_complete from {s}.active_users order by app_scope, date_day"),
        features=run(usage.format(id="feature_id", name="feature_name", table="feature_adoption", n=TOP_N)),
        pages=run(usage.format(id="page_id", name="page_name", table="page_usage", n=TOP_N)),
        funnel=run("select guide_id, guide_name, step_number, step_count, step_name, seen_visitors, "
                   "advanced_visitors, dismissed_visitors, snoozed_visitors, timed_out_visitors, completed_visitors, "
                   "completion_rate from {s}.guide_funnel order by guide_name, guide_id, step_number"),
        nps_overall=run("select poll_id, guide_id, guide_name, question, responses, promoters, passives, "
                        "detractors, nps, period_start, period_end from {s}.nps where period_type = 'all' "
                        "order by responses desc, poll_id"),
        nps_weekly=run("select poll_id, period_start, responses, nps from {s}.nps where period_type = 'week' "
                       "order by poll_id, period_start"),
        retention=run("select cohort_week, week_number, cohort_visitors, active_visitors, retention_rate "
                      "from {s}.retention order by cohort_week, week_number"),
        accounts=run("select account_id, activity_trend, events_last_7d, events_prior_7d, active_visitors_last_7d, "
                     "events_last_30d, last_active_date from {s}.account_health "
                     "order by events_last_30d desc, account_id limit 15"),
        scores=load_scores(run),
    )


# --- page ---------------------------------------------------------------------------------------------
CSS = """
body{font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;
background:#f8fafc;color:#0f172a}
header{background:#0f172a;color:#f8fafc;padding:20px 32px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#cbd5e1}main{padding:16px 32px;max-width:1200px}
section{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:16px 20px;margin:16px 0}
h2{font-size:17px;margin:0 0 4px}p.note{color:#64748b;margin:0 0 12px;font-size:13px}
.kpis{display:flex;flex-wrap:wrap;gap:12px}.kpi{border:1px solid #e2e8f0;border-radius:8px;padding:10px 14px;
min-width:130px}.kpi b{display:block;font-size:22px}.kpi span{color:#64748b;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
table{border-collapse:collapse;font-size:13px}th,td{padding:4px 8px;text-align:right;border-bottom:1px solid #f1f5f9}
th:first-child,td:first-child{text-align:left}svg{max-width:100%;height:auto;display:block}
svg text{font-size:11px;fill:#334155}svg text.partial{fill:#b45309;font-style:italic}.empty{color:#94a3b8}
.legend{font-size:12px;color:#334155}.swatch{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;
border-radius:2px}
"""


def render(data: ReportData, *, title: str, source: str) -> str:
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    days = sorted({r["date_day"] for r in data.active_users})
    span = f"{days[0]} to {days[-1]}" if days else "no activity loaded"
    partial = partial_days(data)
    if partial:
        span += (f" · last complete day {last_complete_day(data)} · partial day {', '.join(map(str, partial))} "
                 "(not over when loaded)")
    sections = [
        _kpis(data),
        _active_users_section(data),
        *score_sections(data.scores),
        _usage_section(data),
        _funnel_section(data),
        _nps_section(data),
        _retention_section(data),
        _accounts_section(data),
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{_e(title)}</h1><p>{_e(span)} · dates in the subscription time zone · source {_e(source)} · "
        f"generated {generated}</p></header><main>{''.join(sections)}</main></body></html>\n"
    )


def partial_days(data: ReportData) -> list[Any]:
    return sorted({r["date_day"] for r in data.active_users if r.get("day_status") == "partial"})


def last_complete_day(data: ReportData) -> Any:
    complete = [r["date_day"] for r in data.active_users if r.get("day_status") != "partial"]
    return max(complete) if complete else None


def _kpis(data: ReportData) -> str:
    by_app = _by_app(data.active_users)
    cards = []
    for rows in by_app.values():
        complete = [r for r in rows if r.get("day_status") != "partial"]
        if not complete:
            continue
        last, name = complete[-1], rows[0]["app_name"]
        avg_stick = _mean([r["stickiness"] for r in complete if r["stickiness"] is not None
                           and r["mau_window_complete"]])
        cards.append(_kpi(_fmt_int(last["dau"]), f"DAU on {last['date_day']} · {name}"))
        cards.append(_kpi(_fmt_int(last["wau"]), f"WAU · {name}"))
        cards.append(_kpi(_fmt_int(last["mau"]), f"MAU · {name}"))
        cards.append(_kpi(_pct(avg_stick), f"avg stickiness (full windows) · {name}"))
    for poll in data.nps_overall[:2]:
        label = f"NPS · {poll['guide_name'] or poll['poll_id']} · {_fmt_int(poll['responses'])} respondents"
        cards.append(_kpi(f"{float(poll['nps']):+.0f}", label))
    if not cards:
        return _section("Overview", "", "<p class=empty>No data in the marts yet.</p>")
    return _section("Overview", "The last complete day per app (a day still in progress when loaded would "
                    "understate it), all apps together, and NPS over the loaded range.",
                    f"<div class=kpis>{''.join(cards)}</div>")


def _active_users_section(data: ReportData) -> str:
    by_app = _by_app(data.active_users)
    charts = []
    partial = set(partial_days(data))
    for rows in by_app.values():
        series = [(name, PALETTE[i], [(r["date_day"], float(r[key])) for r in rows])
                  for i, (name, key) in enumerate((("DAU", "dau"), ("WAU", "wau"), ("MAU", "mau")))]
        charts.append(f"<div><h3>{_e(rows[0]['app_name'])}</h3>"
                      f"{line_chart(series, y_format=_fmt_int, partial_x=partial)}</div>")
    note = " Hollow points mark a partial day (loaded before it ended)." if partial else ""
    users = _section("Daily, weekly and monthly active users",
                     "Distinct identified visitors active that day, in the trailing 7 days and in the trailing "
                     "30 days, per app and for all apps together (a visitor of two apps counts once)." + note,
                     f"<div class=grid>{''.join(charts)}</div>" if charts else _EMPTY)
    stick_series = [(rows[0]["app_name"], PALETTE[i % len(PALETTE)],
                     [(r["date_day"], float(r["stickiness"])) for r in rows if r["stickiness"] is not None])
                    for i, rows in enumerate(by_app.values())]
    stick = _section("Stickiness (DAU / MAU)",
                     "Share of the month's active visitors who came back that day. Early days have a MAU window "
                     "shorter than 30 days.", line_chart(stick_series, y_format=_pct, y_max=1.0, width=1080, height=260,
                                                        partial_x=partial)
                     if stick_series else _EMPTY)
    return users + stick


def _usage_section(data: ReportData) -> str:
    def bars(rows: list[dict[str, Any]]) -> str:
        items = [(str(r["name"] or r["id"]), float(r["events"] or 0),
                  f"{_fmt_int(r['events'])} events · {_fmt_int(r['visitors'])} visitors") for r in rows]
        return hbar_chart(items) if items else _EMPTY

    return _section(
        "Top features and pages",
        f"The {TOP_N} most used over the loaded range, by events; visitors are distinct visitors who used it.",
        f"<div class=grid><div><h3>Features</h3>{bars(data.features)}</div>"
        f"<div><h3>Pages</h3>{bars(data.pages)}</div></div>",
    )


def _funnel_section(data: ReportData) -> str:
    guides: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in data.funnel:
        guides[r["guide_id"]].append(r)
    blocks = []
    unseen = [rows for rows in guides.values() if not any(r["seen_visitors"] for r in rows)]
    for rows in guides.values():
        if any(rows is u for u in unseen):
            continue
        name = rows[0]["guide_name"] or rows[0]["guide_id"]
        groups = [(f"Step {r['step_number']}", [("seen", float(r["seen_visitors"])),
                                                ("advanced", float(r["advanced_visitors"])),
                                                ("dismissed", float(r["dismissed_visitors"])),
                                                ("snoozed", float(r["snoozed_visitors"]))]) for r in rows]
        rate = rows[0]["completion_rate"]
        blocks.append(f"<div><h3>{_e(name)}</h3><p class=note>{_fmt_int(rows[0]['completed_visitors'])} visitors "
                      f"completed · completion rate {_pct(rate)}</p>{grouped_bar_chart(groups)}</div>")
    hidden = f" {len(unseen)} guide(s) nobody saw are left out." if unseen else ""
    return _section("Guide funnels", "Distinct visitors per step and outcome over the loaded range; completed = "
                    f"advanced past the last step.{hidden}",
                    f"<div class=grid>{''.join(blocks)}</div>" if blocks else _EMPTY)


def _nps_section(data: ReportData) -> str:
    if not data.nps_overall:
        return _section("NPS", "", _EMPTY)
    parts = []
    for poll in data.nps_overall:
        total = float(poll["responses"]) or 1.0
        segments = [(k, float(poll[k]) / total, f"{k}: {_fmt_int(poll[k])}") for k in NPS_COLORS]
        weekly = [(r["period_start"], float(r["nps"])) for r in data.nps_weekly if r["poll_id"] == poll["poll_id"]]
        chart = line_chart([("weekly NPS", PALETTE[0], weekly)], y_min=-100.0, y_max=100.0,
                           y_format=lambda v: f"{v:+.0f}", zero_line=True) if weekly else ""
        name = poll["guide_name"] or f"poll {poll['poll_id']}"
        question = f"“{poll['question']}” · " if poll["question"] else ""
        parts.append(f"<div><h3>{_e(name)}: NPS {float(poll['nps']):+.1f}</h3>"
                     f"<p class=note>{_e(question)}{_fmt_int(poll['responses'])} respondents ({poll['period_start']} "
                     f"to {poll['period_end']})</p>{stacked_bar(segments)}{chart}</div>")
    return _section("NPS", "Promoters answer 9-10, passives 7-8, detractors 0-6; each visitor counts once per "
                    "period with their latest answer.", f"<div class=grid>{''.join(parts)}</div>")


def _retention_section(data: ReportData) -> str:
    if not data.retention:
        return _section("Weekly retention", "", _EMPTY)
    cohorts: dict[Any, dict[int, dict[str, Any]]] = defaultdict(dict)
    for r in data.retention:
        cohorts[r["cohort_week"]][int(r["week_number"])] = r
    weeks = max(int(r["week_number"]) for r in data.retention) + 1
    head = "".join(f"<th>W{w}</th>" for w in range(weeks))
    body = []
    for cohort, cells in cohorts.items():
        size = next(iter(cells.values()))["cohort_visitors"]
        tds = []
        for w in range(weeks):
            cell = cells.get(w)
            if cell is None:
                tds.append("<td></td>")
                continue
            rate = float(cell["retention_rate"] or 0)
            shade = f"rgba(37,99,235,{0.08 + 0.8 * rate:.2f})"
            color = "#fff" if rate > 0.55 else "#0f172a"
            tds.append(f"<td style=\"background:{shade};color:{color}\" title=\"{_fmt_int(cell['active_visitors'])} "
                       f"of {_fmt_int(size)}\">{_pct(rate)}</td>")
        body.append(f"<tr><td>{_e(cohort)}</td><td>{_fmt_int(size)}</td>{''.join(tds)}</tr>")
    table = f"<table><tr><th>Cohort week</th><th>Visitors</th>{head}</tr>{''.join(body)}</table>"
    return _section("Weekly retention", "Visitors by the week of their first activity in the loaded range, and the "
                    "share of them active in each later week.", table)


def _accounts_section(data: ReportData) -> str:
    if not data.accounts:
        return _section("Account health", "", _EMPTY)
    colors = {"growing": "#16a34a", "declining": "#dc2626", "inactive": "#94a3b8", "new": "#2563eb",
              "stable": "#334155"}
    rows = "".join(
        f"<tr><td>{_e(r['account_id'])}</td><td style=\"color:{colors.get(r['activity_trend'], '#334155')}\">"
        f"{_e(r['activity_trend'])}</td><td>{_fmt_int(r['events_last_7d'])}</td>"
        f"<td>{_fmt_int(r['events_prior_7d'])}</td><td>{_fmt_int(r['active_visitors_last_7d'])}</td>"
        f"<td>{_fmt_int(r['events_last_30d'])}</td><td>{_e(r['last_active_date'] or '')}</td></tr>"
        for r in data.accounts)
    table = ("<table><tr><th>Account</th><th>Trend</th><th>Events, last 7d</th><th>Events, prior 7d</th>"
             f"<th>Visitors, last 7d</th><th>Events, last 30d</th><th>Last active</th></tr>{rows}</table>")
    return _section("Account health", "The most active accounts over the last 30 days (custom metadata columns are "
                    "in the account_health mart).", table)


# --- helpers ------------------------------------------------------------------------------------------------


def _section(title: str, note: str, body: str) -> str:
    note_html = f"<p class=note>{_e(note)}</p>" if note else ""
    return f"<section><h2>{_e(title)}</h2>{note_html}{body}</section>"


def _kpi(value: str, label: str) -> str:
    return f"<div class=kpi><b>{_e(value)}</b><span>{_e(label)}</span></div>"


def _by_app(rows: list[dict[str, Any]]) -> dict[Any, list[dict[str, Any]]]:
    """The busiest apps, then all apps together (when there is more than one app)."""
    by_app: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_app[r["app_id"]].append(r)
    apps = [a for a in by_app if not by_app[a][0].get("is_all_apps")]
    busiest = sorted(apps, key=lambda a: -sum(float(r["dau"]) for r in by_app[a]))[:MAX_APPS]
    if len(apps) > 1:
        busiest += [a for a in by_app if by_app[a][0].get("is_all_apps")]
    return {app: sorted(by_app[app], key=lambda r: r["date_day"]) for app in busiest}




def _mean(values: list[Any]) -> float | None:
    return sum(float(v) for v in values) / len(values) if values else None












__all__ = ["write_report", "render", "ReportError", "ReportData"]
