"""Ground truth for Pendo's scores: Looker frequency classes, the Product Engagement Score, guide lift, and the
all-apps active users. Plain Python over the simulator's raw rows, definitions restated from models/README.md."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from tests.models.truth import MAU_DAYS, WAU_DAYS, Truth, identified, month_end, month_start

PES_DAYS, LIFT_DAYS = 30, 7


def all_apps_active_users(t: Truth) -> dict[date, tuple]:
    """day -> (DAU, WAU, MAU) of distinct visitors across every app."""
    active: dict[date, set] = defaultdict(set)
    for r in identified(t.events):
        active[t.day(r["day"])].add(r["visitorId"])

    def window(d: date, n: int) -> int:
        return len(set().union(*(active.get(d - timedelta(days=i), set()) for i in range(n))))

    return {d: (len(active.get(d, set())), window(d, WAU_DAYS), window(d, MAU_DAYS)) for d in t.calendar}


def visitor_frequency(t: Truth) -> dict[tuple, tuple]:
    """(visitor, month start) -> (active days, class, month complete)."""
    days: dict[tuple, set] = defaultdict(set)
    for r in identified(t.events):
        d = t.day(r["day"])
        days[(r["visitorId"], month_start(d))].add(d)
    out = {}
    for (visitor, month), active in days.items():
        n = len(active)
        cls = "daily" if n >= 13 else "weekly" if n >= 5 else "monthly"
        complete = month >= t.calendar[0] and month_end(month) <= t.last_complete_day
        out[(visitor, month)] = (n, cls, complete)
    return out


def product_engagement_score(t: Truth) -> dict[str, dict]:
    """app scope ('all' or the app id as text) -> adoption, stickiness, growth parts and PES."""
    as_of = t.last_complete_day
    start = as_of - timedelta(days=PES_DAYS - 1)
    prior_start, prior_end = as_of - timedelta(days=2 * PES_DAYS - 1), as_of - timedelta(days=PES_DAYS)
    days: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for r in identified(t.events):
        d = t.day(r["day"])
        if d <= as_of:
            for scope in (str(r["appId"]), "all"):
                days[scope][r["visitorId"]].add(d)
    catalog = [("page", p) for p in t.pages] + [("feature", f) for f in t.features]
    used: dict[str, set] = defaultdict(set)
    for kind, rows, field in (("page", t.page_events, "pageId"), ("feature", t.feature_events, "featureId")):
        for r in identified(rows):
            if start <= t.day(r["day"]) <= as_of:
                used[r["visitorId"]].add((kind, r[field]))
    window_days = (as_of - max(start, t.calendar[0])).days + 1
    out = {}
    for scope, visitors in days.items():
        objects = {(k, o["id"]) for k, o in catalog if scope == "all" or str(o["appId"]) == scope}
        core = {(k, o["id"]) for k, o in catalog if o.get("isCoreEvent") and (k, o["id"]) in objects}
        basis = core or objects
        active = [v for v, ds in visitors.items() if any(start <= d <= as_of for d in ds)]
        visitor_days = sum(sum(1 for d in visitors[v] if start <= d <= as_of) for v in active)
        new = sum(1 for v in active if min(visitors[v]) >= start)
        recovered = sum(1 for v in active if min(visitors[v]) < prior_start
                        and not any(prior_start <= d <= prior_end for d in visitors[v]))
        dropped = sum(1 for v, ds in visitors.items() if v not in active and any(prior_start <= d <= prior_end
                                                                                    for d in ds))
        adoption = (sum(len(used[v] & basis) for v in active) / len(active) / len(basis)) if active and basis else None
        stickiness = visitor_days / window_days / len(active) if active else None
        gains = new + recovered
        growth_score = gains / (gains + dropped) if gains + dropped else None
        parts = [p for p in (adoption, stickiness, growth_score) if p is not None]
        out[scope] = {"active_visitors": len(active), "core_events": len(basis),
                      "adoption_basis": "core_events" if core else "all_tagged", "adoption": adoption,
                      "stickiness": stickiness, "new_visitors": new, "recovered_visitors": recovered,
                      "dropped_visitors": dropped, "growth_score": growth_score,
                      "growth_rate": gains / dropped if dropped else None,
                      "pes": 100.0 * sum(parts) / len(parts) if parts else None, "as_of_date": as_of}
    return out


def guide_lift(t: Truth) -> dict[str, dict]:
    """guide with a control group -> treatment / control sizes and goal conversions (guide page in 7 days)."""
    seen: dict[tuple, date] = {}
    not_seen: dict[tuple, date] = {}
    for r in identified(t.guide_events):
        target = seen if r["type"] == "guideSeen" else not_seen if r["type"] == "guideNotSeen" else None
        if target is not None:
            key = (r["guideId"], r["visitorId"])
            target[key] = min(target.get(key, t.day(r["browserTime"])), t.day(r["browserTime"]))
    goal = {g["id"]: sorted(g["steps"], key=lambda s: s["rank"])[0]["pageId"] for g in t.guides if g["steps"]}
    views: dict[tuple, set] = defaultdict(set)
    for r in identified(t.page_events):
        views[(r["visitorId"], r["pageId"])].add(t.day(r["day"]))
    cutoff = t.last_complete_day - timedelta(days=LIFT_DAYS)
    out = {}
    for guide in {g for g, _ in not_seen}:
        counts = {"treatment": [0, 0], "control": [0, 0]}
        for (g, visitor) in set(seen) | set(not_seen):
            if g != guide:
                continue
            group = "treatment" if (g, visitor) in seen else "control"
            exposure = seen.get((g, visitor)) or not_seen[(g, visitor)]
            if exposure > cutoff:
                continue
            hit = any(exposure < d <= exposure + timedelta(days=LIFT_DAYS) for d in views[(visitor, goal[g])])
            counts[group][0] += 1
            counts[group][1] += int(hit)
        out[guide] = {"treatment_visitors": counts["treatment"][0], "treatment_converted": counts["treatment"][1],
                      "control_visitors": counts["control"][0], "control_converted": counts["control"][1]}
    return out
