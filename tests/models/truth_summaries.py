"""Ground truth for the dbt_pendo-style marts: summaries, daily metrics, paths, poll answers, latest NPS.

Like truth.py: plain Python over the simulator's raw rows, definitions restated from models/README.md.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from tests.models.truth import Truth, account_of, identified

NPS_TYPES = {"NPSRating"}
NUMERIC_TYPES = {"NPSRating", "NumberScale", "PositiveNegative"}


def app_names(t: Truth) -> dict[int, str]:
    return {a["id"]: a["name"] for a in t.apps}


def polls(t: Truth) -> dict[str, dict]:
    return {p["id"]: {**p, "guideId": g["id"]} for g in t.guides for p in g.get("polls", [])}


def visitor_day_usage(t: Truth) -> dict[tuple, tuple]:
    """(visitor, day) -> (distinct pages viewed, distinct features clicked)."""
    pages: dict[tuple, set] = defaultdict(set)
    features: dict[tuple, set] = defaultdict(set)
    for r in identified(t.page_events):
        pages[(r["visitorId"], t.day(r["day"]))].add(r["pageId"])
    for r in identified(t.feature_events):
        features[(r["visitorId"], t.day(r["day"]))].add(r["featureId"])
    return {k: (len(pages.get(k, ())), len(features.get(k, ()))) for k in set(pages) | set(features)}


def usage_shares(t: Truth, rows: list[dict], id_field: str) -> dict[tuple, tuple]:
    """(id, day) -> (events / all events of that kind in the app that day, visitors / app's active visitors)."""
    events: dict[tuple, int] = defaultdict(int)
    app_of: dict[str, int] = {}
    visitors: dict[tuple, set] = defaultdict(set)
    for r in identified(rows):
        d = t.day(r["day"])
        events[(r[id_field], d)] += r["numEvents"]
        app_of[r[id_field]] = max(app_of.get(r[id_field], r["appId"]), r["appId"])
        visitors[(r[id_field], d)].add(r["visitorId"])
    app_events: dict[tuple, int] = defaultdict(int)
    for (thing, d), n in events.items():
        app_events[(app_of[thing], d)] += n
    active: dict[tuple, set] = defaultdict(set)
    for r in identified(t.events):
        active[(r["appId"], t.day(r["day"]))].add(r["visitorId"])
    out = {}
    for (thing, d), n in events.items():
        app = app_of[thing]
        total = app_events[(app, d)]
        dau = len(active.get((app, d), ()))
        out[(thing, d)] = (n / total if total else None, len(visitors[(thing, d)]) / dau if dau else None)
    return out


def entity_summary(t: Truth, rows: list[dict], id_field: str, catalog: list[dict]) -> dict[str, dict]:
    """id -> all-time usage: first/last day, active days, visitors, accounts, events, minutes."""
    acc: dict[str, dict] = {e["id"]: {"days": set(), "visitors": set(), "accounts": set(), "events": 0,
                                      "minutes": 0} for e in catalog}
    for r in identified(rows):
        a = acc.setdefault(r[id_field], {"days": set(), "visitors": set(), "accounts": set(), "events": 0,
                                         "minutes": 0})
        a["days"].add(t.day(r["day"]))
        a["visitors"].add(r["visitorId"])
        if account_of(r):
            a["accounts"].add(account_of(r))
        a["events"] += r["numEvents"]
        a["minutes"] += r["numMinutes"]
    return {k: {"first_used_date": min(a["days"], default=None), "last_used_date": max(a["days"], default=None),
                "active_days": len(a["days"]), "visitors": len(a["visitors"]), "accounts": len(a["accounts"]),
                "num_events": a["events"], "num_minutes": a["minutes"]} for k, a in acc.items()}


def visitor_feature(t: Truth) -> dict[tuple, tuple]:
    """(visitor, feature) -> (first day, last day, active days, events, minutes)."""
    acc: dict[tuple, list] = defaultdict(lambda: [set(), 0, 0])
    for r in identified(t.feature_events):
        a = acc[(r["visitorId"], r["featureId"])]
        a[0].add(t.day(r["day"]))
        a[1] += r["numEvents"]
        a[2] += r["numMinutes"]
    return {k: (min(v[0]), max(v[0]), len(v[0]), v[1], v[2]) for k, v in acc.items()}


def visitor_summary(t: Truth) -> dict[str, dict]:
    """visitor -> active days, events, minutes, distinct pages / features / guides, frequency class (30 days)."""
    days: dict[str, set] = defaultdict(set)
    events: dict[str, int] = defaultdict(int)
    minutes: dict[str, int] = defaultdict(int)
    for r in identified(t.events):
        days[r["visitorId"]].add(t.day(r["day"]))
        events[r["visitorId"]] += r["numEvents"]
        minutes[r["visitorId"]] += r["numMinutes"]
    pages: dict[str, set] = defaultdict(set)
    features: dict[str, set] = defaultdict(set)
    guides: dict[str, set] = defaultdict(set)
    for r in identified(t.page_events):
        pages[r["visitorId"]].add(r["pageId"])
    for r in identified(t.feature_events):
        features[r["visitorId"]].add(r["featureId"])
    for r in identified(t.guide_events):
        if r["type"] == "guideSeen":
            guides[r["visitorId"]].add(r["guideId"])
    end = t.last_complete_day
    latest = nps_latest_visitor(t)
    out = {}
    for visitor in {v["visitorId"] for v in identified(t.visitors)} | set(days):
        recent = sum(1 for d in days.get(visitor, ()) if end - timedelta(days=30) < d <= end)
        cls = "daily" if recent >= 13 else "weekly" if recent >= 5 else "monthly" if recent >= 1 else "inactive"
        out[visitor] = {"active_days": len(days.get(visitor, ())), "num_events": events.get(visitor, 0),
                        "num_minutes": minutes.get(visitor, 0), "pages_viewed": len(pages.get(visitor, ())),
                        "features_clicked": len(features.get(visitor, ())), "guides_seen": len(guides.get(visitor, ())),
                        "active_days_last_30d": recent, "frequency_class_last_30d": cls,
                        "latest_nps_score": latest.get(visitor, {}).get("score")}
    return out


def account_summary(t: Truth) -> dict[str, dict]:
    """account -> active days, active visitors, events, minutes, distinct pages / features, NPS of visitors."""
    acc: dict[str, dict] = {a["accountId"]: {"days": set(), "visitors": set(), "events": 0, "minutes": 0,
                                             "pages": set(), "features": set()} for a in t.accounts}
    for r in identified(t.events):
        if account_of(r):
            a = acc.setdefault(account_of(r), {"days": set(), "visitors": set(), "events": 0, "minutes": 0,
                                               "pages": set(), "features": set()})
            a["days"].add(t.day(r["day"]))
            a["visitors"].add(r["visitorId"])
            a["events"] += r["numEvents"]
            a["minutes"] += r["numMinutes"]
    for rows, key, field in ((t.page_events, "pages", "pageId"), (t.feature_events, "features", "featureId")):
        for r in identified(rows):
            if account_of(r):
                acc.setdefault(account_of(r), {"days": set(), "visitors": set(), "events": 0, "minutes": 0,
                                               "pages": set(), "features": set()})[key].add(r[field])
    nps = nps_latest_account(t)
    return {k: {"active_days": len(a["days"]), "active_visitors": len(a["visitors"]), "num_events": a["events"],
                "num_minutes": a["minutes"], "pages_viewed": len(a["pages"]), "features_clicked": len(a["features"]),
                "nps_responding_visitors": nps.get(k, {}).get("responding_visitors", 0),
                "account_nps": nps.get(k, {}).get("nps")} for k, a in acc.items()}


def guide_summary(t: Truth) -> dict[str, dict]:
    """guide -> distinct seen / advanced / dismissed / control visitors and seen events."""
    sets: dict[tuple, set] = defaultdict(set)
    seen_events: dict[str, int] = defaultdict(int)
    for r in identified(t.guide_events):
        sets[(r["guideId"], r["type"])].add(r["visitorId"])
        if r["type"] == "guideSeen":
            seen_events[r["guideId"]] += 1
    return {g["id"]: {"seen_visitors": len(sets[(g["id"], "guideSeen")]), "seen_events": seen_events[g["id"]],
                      "advanced_visitors": len(sets[(g["id"], "guideAdvanced")]),
                      "dismissed_visitors": len(sets[(g["id"], "guideDismissed")]),
                      "control_visitors": len(sets[(g["id"], "guideNotSeen")])} for g in t.guides}


def guide_daily_metrics(t: Truth) -> dict[tuple, tuple]:
    """(guide, day) -> (seen visitors, seen events, first-time viewers, returning, advanced, dismissed)."""
    first: dict[tuple, date] = {}
    for r in identified(t.guide_events):
        if r["type"] == "guideSeen":
            key = (r["guideId"], r["visitorId"])
            first[key] = min(first.get(key, t.day(r["browserTime"])), t.day(r["browserTime"]))
    cells: dict[tuple, dict] = defaultdict(lambda: {"seen": set(), "events": 0, "adv": set(), "dis": set()})
    for r in identified(t.guide_events):
        c = cells[(r["guideId"], t.day(r["browserTime"]))]
        if r["type"] == "guideSeen":
            c["seen"].add(r["visitorId"])
            c["events"] += 1
        elif r["type"] == "guideAdvanced":
            c["adv"].add(r["visitorId"])
        elif r["type"] == "guideDismissed":
            c["dis"].add(r["visitorId"])
    out = {}
    for (guide, d), c in cells.items():
        if not c["seen"]:
            continue
        new = sum(1 for v in c["seen"] if first[(guide, v)] == d)
        out[(guide, d)] = (len(c["seen"]), c["events"], new, len(c["seen"]) - new, len(c["adv"]), len(c["dis"]))
    return out


def previous_in_path(t: Truth, rows: list[dict], id_field: str) -> dict[tuple, str | None]:
    """(visitor, first time ms, id) -> the visitor's previous row's id, for rows whose order is unambiguous
    (their first event time, and their predecessor's, unique within the visitor)."""
    by_visitor: dict[str, list] = defaultdict(list)
    for r in identified(rows):
        by_visitor[r["visitorId"]].append(r)
    out = {}
    for visitor, items in by_visitor.items():
        items.sort(key=lambda r: r["firstTime"])
        times = [r["firstTime"] for r in items]
        for i, r in enumerate(items):
            if times.count(r["firstTime"]) > 1 or (i > 0 and times.count(times[i - 1]) > 1):
                continue
            out[(visitor, r["firstTime"], r[id_field])] = items[i - 1][id_field] if i else None
    return out


def poll_answers(t: Truth) -> dict[tuple, dict]:
    """(visitor, poll, browser time ms) -> answer text, score, choice label, poll type."""
    catalog = polls(t)
    out = {}
    for r in identified(t.poll_events):
        poll = catalog.get(r["pollId"], {})
        kind = poll.get("attributes", {}).get("type") or r.get("pollType")
        raw = r["pollResponse"]
        number = isinstance(raw, int | float) and not isinstance(raw, bool)
        text = str(raw) if not isinstance(raw, str) else raw
        out[(r["visitorId"], r["pollId"], r["browserTime"])] = {
            "poll_type": kind, "poll_response": text, "response_score": float(raw) if number else None,
            "choice_label": (poll.get("idResponses") or {}).get(text), "is_nps": kind in NPS_TYPES}
    return out


def nps_latest_visitor(t: Truth) -> dict[str, dict]:
    """visitor -> latest NPS score, its category and the latest FreeForm answer of that guide since."""
    catalog = polls(t)
    answers = [r for r in identified(t.poll_events)]
    latest: dict[str, dict] = {}
    for r in answers:
        if catalog.get(r["pollId"], {}).get("attributes", {}).get("type") not in NPS_TYPES:
            continue
        if r["visitorId"] not in latest or r["browserTime"] > latest[r["visitorId"]]["browserTime"]:
            latest[r["visitorId"]] = r
    out = {}
    for visitor, r in latest.items():
        texts = [x for x in answers if x["visitorId"] == visitor and x["guideId"] == r["guideId"]
                 and catalog.get(x["pollId"], {}).get("attributes", {}).get("type") == "FreeForm"
                 and x["browserTime"] >= r["browserTime"]]
        follow = max(texts, key=lambda x: x["browserTime"])["pollResponse"] if texts else None
        score = int(r["pollResponse"])
        out[visitor] = {"score": score, "account_id": account_of(r), "follow_up_text": follow,
                        "nps_category": "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"}
    return out


def nps_latest_account(t: Truth) -> dict[str, dict]:
    """account -> responding visitors, promoters, passives, detractors, NPS, from visitors' latest scores."""
    out: dict[str, dict] = {}
    for v in nps_latest_visitor(t).values():
        if not v["account_id"]:
            continue
        a = out.setdefault(v["account_id"], {"responding_visitors": 0, "promoter": 0, "passive": 0, "detractor": 0})
        a["responding_visitors"] += 1
        a[v["nps_category"]] += 1
    for a in out.values():
        a["nps"] = 100.0 * (a["promoter"] - a["detractor"]) / a["responding_visitors"]
    return out
