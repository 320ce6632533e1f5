"""``GET /visitor/{id}/history``: one visitor's visible activity for about a day, oldest first.

Item types: ``view`` (page), ``click`` (feature), ``track`` (track event) and the guide event
types (``guideSeen``, ...). Each visible hour row becomes one item spanning its first/last time.
"""

from __future__ import annotations

from .activity import Activity
from .catalog import Catalog
from .clock import DAY_MS
from .rollups import ROLLUPS
from .vocab import PARSED_UA

ITEM_TYPE = {"pageEvents": "view", "featureEvents": "click", "trackEvents": "track"}


def visitor_history(activity: Activity, catalog: Catalog, feature_page: dict[str, str], visitor_id: str,
                    start_ms: int, cutoff: int) -> list[dict]:
    end = min(start_ms + DAY_MS, cutoff)
    items: list[dict] = []
    for day, _ in activity.served_days(start_ms, end, cutoff):
        for source in ROLLUPS:
            for row in activity.by_visitor(source, day).get(visitor_id, ()):
                _, _, _, app, ent, server, _, ua, first, last, _, nm = row[:12]  # then tab and frustration
                if not (start_ms <= first < end and last < cutoff):
                    continue
                page_id = ent if source == "pageEvents" else feature_page.get(ent, "")
                url = catalog.page_url.get(page_id, f"https://{server}/")
                item = {"type": ITEM_TYPE[source], "ts": first, "lastTs": last, "duration": nm * 60_000,
                        "appId": app, "uri": url, "untaggedUrl": url, "parsedUserAgent": dict(PARSED_UA[ua]),
                        "pageId": page_id if source != "trackEvents" else None,
                        "featureId": ent if source == "featureEvents" else None,
                        "trackTypeId": ent if source == "trackEvents" else None,
                        "guideId": None, "guideStepId": None}
                items.append(item)
        for e in activity.by_visitor("guideEvents", day).get(visitor_id, ()):
            if start_ms <= e["browserTime"] < end:
                items.append({"type": e["type"], "ts": e["browserTime"], "lastTs": e["browserTime"],
                              "duration": 0, "appId": e["appId"], "uri": e["url"], "untaggedUrl": e["url"],
                              "parsedUserAgent": dict(PARSED_UA[e["userAgent"]]), "pageId": None,
                              "featureId": None, "trackTypeId": None, "guideId": e["guideId"],
                              "guideStepId": e["guideStepId"]})
    items.sort(key=lambda i: (i["ts"], i["type"]))
    return items
