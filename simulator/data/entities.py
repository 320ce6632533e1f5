"""The tagged objects of the subscription: apps, pages, features, track types and reports.

Objects carry the full Pendo shapes (camelCase, epoch-ms ints) because extractors load them as-is.
They are built once per Dataset and never change afterwards. Creation times predate the served
history; about 10% of objects were last edited inside it, and a bulk edit gives about 30% of them
one identical ``lastUpdatedAt`` (so keyset paginators on lastUpdatedAt meet ties).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import accumulate

from .clock import DAY_MS
from .seeding import pendo_id

DEFAULT_APP_ID = -323232
APP_NAMES = ("Acme Web", "Acme Admin Console", "Acme Mobile", "Acme Partner Portal")
APP_SERVERS = (
    ("app.acme-analytics.com", "eu.acme-analytics.com"),
    ("admin.acme-analytics.com",),
    ("m.acme-analytics.com", "mobile-api.acme-analytics.com"),
    ("partners.acme-analytics.com",),
)
SECTIONS = ("dashboard", "reports", "settings", "projects", "inbox", "analytics", "billing", "admin",
            "integrations", "help", "profile", "team", "search", "calendar", "files", "tasks")
SUBPAGES = ("", "overview", "list", "detail", "edit", "new", "history", "export")
ELEMENTS = ("button#save", "a.nav-link", "button.export", "input#search", "div.card > button",
            "li.menu-item", "button[data-action='share']", "span.toggle", "a#upgrade", "button.filter")
TRACK_NAMES = ("Report Exported", "Invite Sent", "Plan Upgraded", "File Uploaded", "Comment Posted",
               "Integration Connected", "Dashboard Shared", "Search Performed", "Task Completed",
               "Project Created", "API Key Rotated", "Seat Added", "Alert Configured", "Import Finished",
               "Survey Submitted", "Workflow Published")
COLORS = ("gray", "blue", "green", "orange", "purple", "red")
USERS = (("alice", "Alice", "Nguyen"), ("bob", "Bob", "O'Brien"), ("chloe", "Chloé", "Dubois"),
         ("dmitri", "Dmitri", "Ivanov"))


@dataclass(slots=True)
class AppKinds:
    """Per-app lists used by the activity generator: ids with cumulative popularity weights."""

    ids: list[str] = field(default_factory=list)
    cum: list[float] = field(default_factory=list)

    def finish(self) -> None:
        self.cum = list(accumulate(1.0 / (i + 1) ** 0.9 for i in range(len(self.ids))))


class Times:
    """Where entity timestamps fall relative to the first served day."""

    def __init__(self, r: random.Random, data_start: int, anchor: int) -> None:
        self.r = r
        self.data_start = data_start
        self.anchor = anchor  # start of the initial local day: no object changes after it
        self.bulk = data_start + min(3 * DAY_MS, (anchor - data_start) // 2) + 7 * 3_600_000

    def created(self) -> int:
        return self.data_start - self.r.randrange(7 * DAY_MS, 400 * DAY_MS)

    def updated(self, created: int) -> int:
        x = self.r.random()
        if x < 0.3:
            return max(created, self.bulk)
        if x < 0.4:
            return self.r.randrange(self.data_start, self.anchor)
        return self.r.randrange(created, self.data_start)


def user_object(r: random.Random, n: int, last_login: int) -> dict:
    handle, first, last = USERS[n % len(USERS)]
    return {"id": str(4_503_599_627_370_496 + n * 7919), "username": f"{handle}@acme-analytics.com",
            "first": first, "last": last, "role": 8, "userType": "", "hasLoggedIn": True,
            "lastLogin": last_login - r.randrange(DAY_MS), "deletedAt": None, "visitorIds": []}


def build_apps(r: random.Random, n: int) -> list[dict]:
    ids = [DEFAULT_APP_ID] + [r.randrange(4_000_000_000_000_000, 6_999_999_999_999_999) for _ in range(n - 1)]
    return [{"id": app_id, "name": APP_NAMES[i]} for i, app_id in enumerate(ids)]


def common_fields(r: random.Random, t: Times, users: list[dict], kind: str, name: str, app_id: int) -> dict:
    """The fields every tagged object shares, in one place so pages/features/track types agree."""
    created = t.created()
    updated = t.updated(created)
    return {"id": pendo_id(r), "appId": app_id, "name": name, "color": r.choice(COLORS), "kind": kind,
            "group": None, "dirty": False, "createdAt": created, "createdByUser": r.choice(users),
            "lastUpdatedAt": updated, "lastUpdatedByUser": r.choice(users),
            "rootVersionId": pendo_id(r), "stableVersionId": pendo_id(r) + "-" + str(updated),
            "isCoreEvent": r.random() < 0.15, "validThrough": t.anchor,
            "dailyMergeFirst": created, "dailyRollupFirst": created}


def spread(n: int, apps: list[dict]) -> list[int]:
    """App of each of n objects: every app gets some, the default app the most."""
    ids = [a["id"] for a in apps]
    return [ids[0] if i % (len(ids) + 1) in (0, len(ids)) else ids[i % (len(ids) + 1)] for i in range(n)]


def build_pages(r: random.Random, t: Times, users: list[dict], apps: list[dict], n: int,
                servers: dict[int, tuple[str, ...]]) -> tuple[list[dict], dict[str, str]]:
    paths = [f"/{s}/{sub}".rstrip("/") for sub in SUBPAGES for s in SECTIONS]
    pages, urls = [], {}
    for i, app_id in enumerate(spread(n, apps)):
        path = paths[i % len(paths)] + ("" if i < len(paths) else f"/v{i // len(paths)}")
        title = path.strip("/").replace("/", " - ").title()
        name = 'Settings "Billing" — Übersicht' if i == 3 else title
        page = common_fields(r, t, users, "Page", name, app_id)
        host = servers[app_id][0]
        page["rules"] = [{"rule": f"//*{path}", "designerHint": f"https://{host}{path}",
                          "parsedRule": f"^https?://[^/]*{path}/?(?:;|\\?|#|$)"}]
        page.update({"rulesjson": "", "isAutoTagged": False, "suggestedName": title, "excludeRules": [],
                     "isSuggested": False})
        urls[page["id"]] = f"https://{host}{path}"
        pages.append(page)
    return pages, urls


def build_features(r: random.Random, t: Times, users: list[dict], apps: list[dict], n: int,
                   pages: list[dict]) -> list[dict]:
    by_app: dict[int, list[dict]] = {}
    for p in pages:
        by_app.setdefault(p["appId"], []).append(p)
    features = []
    for i, app_id in enumerate(spread(n, apps)):
        page = r.choice(by_app[app_id])
        element = ELEMENTS[i % len(ELEMENTS)]
        name = f"{page['name']} | {element.split('#')[-1].split('.')[-1]} {i}"
        f = common_fields(r, t, users, "Feature", name, app_id)
        f.update({"pageId": page["id"], "appWide": i % 9 == 8, "elementPathRules": [element],
                  "elementInitialTag": element.split("#")[0].split(".")[0].split("[")[0],
                  "elementSelectionType": "css", "eventPropertyConfigurations": [],
                  "createdDesignerVersion": "2.190.0", "suggestedMatch": "", "isSuggested": False})
        features.append(f)
    return features


def build_track_types(r: random.Random, t: Times, users: list[dict], apps: list[dict],
                      n: int) -> tuple[list[dict], dict[str, dict]]:
    tracks, props = [], {}
    for i, app_id in enumerate(spread(n, apps)):
        event = TRACK_NAMES[i % len(TRACK_NAMES)] + ("" if i < len(TRACK_NAMES) else f" {i}")
        tt = common_fields(r, t, users, "TrackType", event, app_id)
        names = ["source", "plan"] if i % 2 else ["source"]
        tt.update({"trackTypeName": event, "trackTypeRules": [event], "rules": [],
                   "eventPropertyNameList": names})
        tracks.append(tt)
        props[tt["id"]] = {"source": "web"} if len(names) == 1 else {"source": "api", "plan": "pro"}
    return tracks, props


def build_reports(r: random.Random, t: Times, users: list[dict], n: int) -> list[dict]:
    reports = []
    for i in range(n):
        created = t.created()
        updated = t.updated(created)
        pipeline = [{"source": {"visitors": None}}, {"identified": "visitorId"},
                    {"select": {"visitorId": "visitorId", "lastvisit": "metadata.auto.lastvisit"}}]
        fields = [{"type": "string", "title": "Visitor ID", "field": "visitorId"},
                  {"type": "time", "title": "Last visit", "field": "lastvisit"}]
        level = "account" if i % 2 else "visitor"
        if i % 2:  # every other report is an account list: report results have each report's own columns
            pipeline = [{"source": {"accounts": None}},
                        {"select": {"accountId": "accountId", "accountName": "metadata.agent.name",
                                    "firstvisit": "metadata.auto.firstvisit"}}]
            fields = [{"type": "string", "title": "Account ID", "field": "accountId"},
                      {"type": "string", "title": "Account name", "field": "accountName"},
                      {"type": "time", "title": "First visit", "field": "firstvisit"}]
        reports.append({
            "id": pendo_id(r), "name": f"Saved report {i + 1}" + (' "weekly" ✓' if i == 1 else ""),
            "kind": level, "type": "Aggregation", "level": level, "scope": "global",
            "share": "subscription" if i % 2 else "private", "shared": bool(i % 2), "target": level,
            "createdAt": created, "lastUpdatedAt": updated, "lastRunAt": updated, "lastSuccessRunAt": updated,
            "lastSuccessRunObj": "", "createdByUser": r.choice(users), "lastUpdatedByUser": r.choice(users),
            "ownedByUser": r.choice(users), "rootVersionId": pendo_id(r), "stableVersionId": pendo_id(r),
            "aggregation": {"fields": fields, "pipeline": pipeline},
            "definition": {"timeSeries": {"period": "dayRange", "count": -30}, "segments": [],
                           "sources": [f"{level}s"], "generator": f"{level}List", "config": {},
                           "query_builder": {}},
        })
    return reports


def kinds_by_app(objects: list[dict]) -> dict[int, AppKinds]:
    out: dict[int, AppKinds] = {}
    for o in objects:
        out.setdefault(o["appId"], AppKinds()).ids.append(o["id"])
    for k in out.values():
        k.finish()
    return out
