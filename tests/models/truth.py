"""What each mart must hold, computed in plain Python from the simulator's ground truth (raw Pendo rows).

Nothing here reads the warehouse or shares code with the dbt project: the definitions are restated from the
marts' documentation (models/README.md) and applied to ``sim.truth(...)`` rows, in camelCase as Pendo serves
them, with epoch-millisecond times turned into calendar days of the subscription's time zone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

ANON_PREFIX = "_PENDO_T_"
WAU_DAYS, MAU_DAYS = 7, 30
SETTLE_DAYS = 3  # models var pendo_settle_days: the loader's default lookback
TREND_THRESHOLD = Fraction(1, 10)
EVENT_TYPES = {"guideSeen": "seen", "guideAdvanced": "advanced", "guideDismissed": "dismissed",
               "guideSnoozed": "snoozed", "guideTimeout": "timed_out"}


@dataclass
class Truth:
    """Raw ground-truth rows of one simulator, plus its time zone."""

    tz: str
    events: list[dict]  # all visitors, anonymous included (the calendar spans every loaded day)
    page_events: list[dict]
    feature_events: list[dict]
    guide_events: list[dict]
    poll_events: list[dict]
    guides: list[dict]
    accounts: list[dict]
    features: list[dict] = field(default_factory=list)
    pages: list[dict] = field(default_factory=list)
    visitors: list[dict] = field(default_factory=list)
    apps: list[dict] = field(default_factory=list)
    now_ms: int = 0  # Pendo's clock when the fixture loaded (the simulator's clock is fixed)

    @classmethod
    def fetch(cls, sim: Any) -> Truth:
        return cls(
            tz=sim.info()["tz"],
            events=sim.truth("events"),
            page_events=sim.truth("page_events"),
            feature_events=sim.truth("feature_events"),
            guide_events=sim.truth("guide_events"),
            poll_events=sim.truth("poll_events"),
            guides=sim.truth("guides"),
            accounts=sim.truth("accounts"),
            features=sim.truth("features"),
            pages=sim.truth("pages"),
            visitors=sim.truth("visitors"),
            apps=_apps(sim),
            now_ms=sim.info()["now_ms"],
        )

    # --- time ---------------------------------------------------------------------------------------------
    def local(self, ms: int) -> datetime:
        """Wall-clock time in the subscription zone, without zone (what staging models hold)."""
        return datetime.fromtimestamp(ms / 1000, ZoneInfo(self.tz)).replace(tzinfo=None)

    def day(self, ms: int) -> date:
        return self.local(ms).date()

    @property
    def calendar(self) -> list[date]:
        days = {self.day(r["day"]) for r in self.events}
        first, last = min(days), max(days)
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    # --- how settled each day is ----------------------------------------------------------------------------
    @property
    def open_day(self) -> date:
        """The local day that held Pendo's clock at the load: it was not over, so it is partial."""
        return self.day(self.now_ms)

    def day_status(self, d: date) -> str:
        if d >= self.open_day:
            return "partial"
        return "unsettled" if d >= self.open_day - timedelta(days=SETTLE_DAYS) else "settled"

    @property
    def last_complete_day(self) -> date:
        return max(d for d in self.calendar if self.day_status(d) != "partial")


def _apps(sim: Any) -> list[dict]:
    """The apps list as the API serves it (aggregation source apps): the simulator's truth for app names."""
    return sim.aggregate([{"source": {"apps": None}}]).json()["results"]


def identified(rows: list[dict]) -> list[dict]:
    return [r for r in rows if not str(r["visitorId"]).startswith(ANON_PREFIX)]


def account_of(row: dict) -> str | None:
    return row.get("accountId") or None


def week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    nxt = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


# --- marts -------------------------------------------------------------------------------------------------
def daily_activity_visitor(t: Truth) -> dict[tuple, tuple]:
    """(visitor, day) -> (events, minutes, active apps, is_active), zero-filled from the first active day."""
    days: dict[tuple, list] = defaultdict(lambda: [0, 0, set()])
    for r in identified(t.events):
        cell = days[(r["visitorId"], t.day(r["day"]))]
        cell[0] += r["numEvents"]
        cell[1] += r["numMinutes"]
        cell[2].add(r["appId"])
    first: dict[str, date] = {}
    for visitor, d in days:
        first[visitor] = min(first.get(visitor, d), d)
    out = {}
    for visitor, start in first.items():
        for d in t.calendar:
            if d >= start:
                events, minutes, apps = days.get((visitor, d), [0, 0, set()])
                out[(visitor, d)] = (events, minutes, len(apps), events > 0)
    return out


def daily_activity_account(t: Truth) -> dict[tuple, tuple]:
    """(account, day) -> (active visitors, events, minutes, is_active), zero-filled from the first active day."""
    days: dict[tuple, list] = defaultdict(lambda: [set(), 0, 0])
    for r in identified(t.events):
        if account_of(r):
            cell = days[(account_of(r), t.day(r["day"]))]
            cell[0].add(r["visitorId"])
            cell[1] += r["numEvents"]
            cell[2] += r["numMinutes"]
    first: dict[str, date] = {}
    for account, d in days:
        first[account] = min(first.get(account, d), d)
    out = {}
    for account, start in first.items():
        for d in t.calendar:
            if d >= start:
                visitors, events, minutes = days.get((account, d), [set(), 0, 0])
                out[(account, d)] = (len(visitors), events, minutes, events > 0)
    return out


def active_users(t: Truth) -> dict[tuple, tuple]:
    """(app, day) -> (DAU, WAU, MAU) by brute force over trailing windows of distinct visitors."""
    active: dict[int, dict[date, set]] = defaultdict(lambda: defaultdict(set))
    for r in identified(t.events):
        active[r["appId"]][t.day(r["day"])].add(r["visitorId"])

    def window(app: int, d: date, n: int) -> int:
        seen: set = set()
        for i in range(n):
            seen |= active[app].get(d - timedelta(days=i), set())
        return len(seen)

    return {(app, d): (len(active[app].get(d, set())), window(app, d, WAU_DAYS), window(app, d, MAU_DAYS))
            for app in list(active) for d in t.calendar}


def usage(t: Truth, rows: list[dict], id_field: str) -> dict[tuple, tuple]:
    """(id, day) -> (visitors, accounts, events, minutes, first-time visitors, returning, cumulative visitors)."""
    cells: dict[tuple, list] = defaultdict(lambda: [set(), set(), 0, 0])
    first: dict[tuple, date] = {}
    for r in identified(rows):
        d = t.day(r["day"])
        cell = cells[(r[id_field], d)]
        cell[0].add(r["visitorId"])
        if account_of(r):
            cell[1].add(account_of(r))
        cell[2] += r["numEvents"]
        cell[3] += r["numMinutes"]
        key = (r[id_field], r["visitorId"])
        first[key] = min(first.get(key, d), d)
    out = {}
    for (thing, d), (visitors, accounts, events, minutes) in cells.items():
        new = sum(1 for (x, _), f in first.items() if x == thing and f == d)
        cumulative = sum(1 for (x, _), f in first.items() if x == thing and f <= d)
        out[(thing, d)] = (len(visitors), len(accounts), events, minutes, new, len(visitors) - new, cumulative)
    return out


def guide_funnel(t: Truth) -> dict[tuple, dict]:
    """(guide, step id) -> distinct visitors per outcome, completions and rates."""
    outcome: dict[tuple, set] = defaultdict(set)
    seen_events: dict[str, int] = defaultdict(int)
    for r in identified(t.guide_events):
        kind = EVENT_TYPES.get(r["type"])
        if kind:
            outcome[(r["guideId"], r["guideStepId"], kind)].add(r["visitorId"])
        if r["type"] == "guideSeen":
            seen_events[r["guideStepId"]] += 1
    out = {}
    for guide in t.guides:
        steps = [s["id"] for _, _, s in sorted((s["rank"], i, s) for i, s in enumerate(guide["steps"]))]
        if not steps:
            continue
        completed = len(outcome[(guide["id"], steps[-1], "advanced")])
        first_seen = len(outcome[(guide["id"], steps[0], "seen")])
        for number, step in enumerate(steps, start=1):
            counts = {k: len(outcome[(guide["id"], step, k)]) for k in EVENT_TYPES.values()}
            seen = counts["seen"]
            out[(guide["id"], step)] = {
                "step_number": number, "step_count": len(steps), **counts, "seen_events": seen_events[step],
                "completed": completed,
                "reach_rate": seen / first_seen if first_seen else None,
                "advance_rate": counts["advanced"] / seen if seen else None,
                "dismiss_rate": counts["dismissed"] / seen if seen else None,
                "completion_rate": completed / first_seen if first_seen else None,
            }
    return out


def nps(t: Truth) -> dict[tuple, dict]:
    """(period type, poll, period start) -> responses (latest per visitor), promoters, passives, detractors, NPS."""
    nps_polls = {p["id"] for g in t.guides for p in g.get("polls", [])
                 if p.get("attributes", {}).get("type") == "NPSRating"}
    calendar = t.calendar
    latest: dict[tuple, tuple] = {}
    answers: dict[tuple, int] = defaultdict(int)
    for r in identified(t.poll_events):
        if r["pollId"] not in nps_polls or str(r["pollResponse"]) not in {str(i) for i in range(11)}:
            continue
        d = t.day(r["browserTime"])
        for period, start, end in (("week", week_start(d), week_start(d) + timedelta(days=6)),
                                   ("month", month_start(d), month_end(d)),
                                   ("all", calendar[0], calendar[-1])):
            key = (period, r["pollId"], start)
            answers[key] += 1
            previous = latest.get((key, r["visitorId"]))
            if previous is None or r["browserTime"] > previous[0]:
                latest[(key, r["visitorId"])] = (r["browserTime"], int(r["pollResponse"]), end)
    out: dict[tuple, dict] = {}
    for (key, _visitor), (_, score, end) in latest.items():
        cell = out.setdefault(key, {"period_end": end, "responses": 0, "promoters": 0, "passives": 0,
                                    "detractors": 0, "total_answers": answers[key]})
        cell["responses"] += 1
        cell["promoters" if score >= 9 else "passives" if score >= 7 else "detractors"] += 1
    for cell in out.values():
        cell["nps"] = 100.0 * (cell["promoters"] - cell["detractors"]) / cell["responses"]
    return out


def retention(t: Truth) -> dict[tuple, tuple]:
    """(cohort week, week number) -> (cohort size, active visitors)."""
    weeks: dict[str, set] = defaultdict(set)
    for r in identified(t.events):
        weeks[r["visitorId"]].add(week_start(t.day(r["day"])))
    cohorts: dict[date, set] = defaultdict(set)
    for visitor, active in weeks.items():
        cohorts[min(active)].add(visitor)
    calendar_weeks = sorted({week_start(d) for d in t.calendar})
    out = {}
    for cohort, members in cohorts.items():
        for w in calendar_weeks:
            if w >= cohort:
                active = sum(1 for v in members if w in weeks[v])
                out[(cohort, (w - cohort).days // 7)] = (len(members), active)
    return out


def account_health(t: Truth) -> dict[str, dict]:
    """account -> activity windows as of the last complete day, trend label, and custom metadata."""
    as_of = t.last_complete_day
    last7 = (as_of - timedelta(days=6), as_of)
    prior7 = (as_of - timedelta(days=13), as_of - timedelta(days=7))
    last30 = (as_of - timedelta(days=29), as_of)

    def within(d: date, span: tuple[date, date]) -> bool:
        return span[0] <= d <= span[1]

    acc: dict[str, dict] = {}
    for r in identified(t.events):
        account = account_of(r)
        d = t.day(r["day"])
        if not account or d > as_of:
            continue
        a = acc.setdefault(account, {"days": set(), "v7": set(), "vp7": set(), "e7": 0, "ep7": 0, "e30": 0,
                                     "m7": 0})
        a["days"].add(d)
        if within(d, last7):
            a["v7"].add(r["visitorId"])
            a["e7"] += r["numEvents"]
            a["m7"] += r["numMinutes"]
        if within(d, prior7):
            a["vp7"].add(r["visitorId"])
            a["ep7"] += r["numEvents"]
        if within(d, last30):
            a["e30"] += r["numEvents"]
    out = {}
    metadata = {a["accountId"]: a.get("metadata", {}).get("custom", {}) for a in t.accounts}
    for account in set(metadata) | set(acc):
        a = acc.get(account, {"days": set(), "v7": set(), "vp7": set(), "e7": 0, "ep7": 0, "e30": 0, "m7": 0})
        e7, ep7 = a["e7"], a["ep7"]
        if e7 == 0 and ep7 == 0:
            trend = "inactive"
        elif ep7 == 0:
            trend = "new"
        elif e7 > ep7 * (1 + TREND_THRESHOLD):
            trend = "growing"
        elif e7 < ep7 * (1 - TREND_THRESHOLD):
            trend = "declining"
        else:
            trend = "stable"
        out[account] = {
            "as_of_date": as_of, "last_active_date": max(a["days"]) if a["days"] else None,
            "active_visitors_last_7d": len(a["v7"]), "active_visitors_prior_7d": len(a["vp7"]),
            "events_last_7d": e7, "events_prior_7d": ep7, "events_last_30d": a["e30"], "minutes_last_7d": a["m7"],
            "active_days_last_30d": sum(1 for d in a["days"] if within(d, last30)),
            "activity_trend": trend, "custom": metadata.get(account, {}),
        }
    return out
