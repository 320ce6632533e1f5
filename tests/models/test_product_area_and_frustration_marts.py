"""product_area_usage and frustration equal numbers computed in plain Python from the simulator's ground truth.

The expected values restate the marts' documentation (models/README.md) over ``sim.truth`` rows (camelCase, as
Pendo serves them): a page's or feature's product area is its ``group.id``; anonymous visitors are left out;
an account of "" is no account. Nothing here reads the staging models or shares code with dbt.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from tests.models.conftest import Built
from tests.models.truth import Truth

ANON = "_PENDO_T_"
SIGNALS = ("rageClickCount", "deadClickCount", "errorClickCount", "uTurnCount")


def _identified(rows: list[dict]) -> list[dict]:
    return [r for r in rows if not str(r["visitorId"]).startswith(ANON)]


def _area_of(objects: list[dict]) -> dict[str, str | None]:
    return {o["id"]: (o.get("group") or {}).get("id") for o in objects}


def expected_product_area_usage(t: Truth) -> dict[tuple[str, date], dict]:
    page_area, feature_area = _area_of(t.pages), _area_of(t.features)
    names = {g["id"]: g["name"] for o in (*t.pages, *t.features) if (g := o.get("group"))}
    cells: dict[tuple[str, date], dict] = defaultdict(lambda: {
        "visitors": set(), "accounts": set(), "page_visitors": set(), "page_views": 0, "page_minutes": 0,
        "pages": set(), "feature_visitors": set(), "feature_clicks": 0, "features": set()})
    first: dict[tuple[str, str], date] = {}
    for kind, rows, area_of, id_field in (("page", t.page_events, page_area, "pageId"),
                                          ("feature", t.feature_events, feature_area, "featureId")):
        for r in _identified(rows):
            area = area_of.get(r[id_field])
            if area is None:
                continue
            d = t.day(r["day"])
            cell = cells[(area, d)]
            cell["visitors"].add(r["visitorId"])
            if r.get("accountId"):
                cell["accounts"].add(r["accountId"])
            cell[f"{kind}_visitors"].add(r["visitorId"])
            cell[f"{kind}s"].add(r[id_field])
            if kind == "page":
                cell["page_views"] += r["numEvents"]
                cell["page_minutes"] += r["numMinutes"]
            else:
                cell["feature_clicks"] += r["numEvents"]
            key = (area, r["visitorId"])
            first[key] = min(first.get(key, d), d)
    out = {}
    for (area, d), c in cells.items():
        new = sum(1 for (a, _), f in first.items() if a == area and f == d)
        out[(area, d)] = {
            "product_area_name": names[area], "visitors": len(c["visitors"]), "accounts": len(c["accounts"]),
            "page_visitors": len(c["page_visitors"]), "page_views": c["page_views"],
            "page_minutes": c["page_minutes"], "pages_viewed": len(c["pages"]),
            "feature_visitors": len(c["feature_visitors"]), "feature_clicks": c["feature_clicks"],
            "features_used": len(c["features"]), "new_visitors": new,
            "cumulative_visitors": sum(1 for (a, _), f in first.items() if a == area and f <= d)}
    return out


def expected_frustration(t: Truth) -> dict[tuple[str, str, date], dict]:
    cells: dict[tuple[str, str, date], dict] = {}
    for kind, rows, objects, id_field in (("page", t.page_events, t.pages, "pageId"),
                                          ("feature", t.feature_events, t.features, "featureId")):
        by_id = {o["id"]: o for o in objects}
        for r in _identified(rows):
            key = (kind, r[id_field], t.day(r["day"]))
            obj = by_id.get(r[id_field], {})
            cell = cells.setdefault(key, {"item_name": obj.get("name"),
                                          "product_area_id": (obj.get("group") or {}).get("id"),
                                          "visitors": set(), "num_events": 0, "frustrated": set(),
                                          **{s: 0 for s in SIGNALS}})
            cell["visitors"].add(r["visitorId"])
            cell["num_events"] += r["numEvents"]
            for s in SIGNALS:
                cell[s] += r[s]
            if any(r[s] for s in SIGNALS):
                cell["frustrated"].add(r["visitorId"])
    return {key: {"item_name": c["item_name"], "product_area_id": c["product_area_id"],
                  "visitors": len(c["visitors"]), "num_events": c["num_events"], "rage_clicks": c["rageClickCount"],
                  "dead_clicks": c["deadClickCount"], "error_clicks": c["errorClickCount"],
                  "u_turns": c["uTurnCount"], "frustrated_visitors": len(c["frustrated"])}
            for key, c in cells.items()}


def test_product_area_usage(built: Built, truth: Truth) -> None:
    expected = expected_product_area_usage(truth)
    assert expected and len({area for area, _ in expected}) > 1
    got = {(r["product_area_id"], r["date_day"]): {k: r[k] for k in next(iter(expected.values()))}
           for r in built.rows("product_area_usage")}
    assert got == expected


def test_frustration_per_page_and_feature(built: Built, truth: Truth) -> None:
    expected = expected_frustration(truth)
    assert any(v["rage_clicks"] for v in expected.values()) and {k[0] for k in expected} == {"page", "feature"}
    got = {(r["item_type"], r["item_id"], r["date_day"]): {k: r[k] for k in next(iter(expected.values()))}
           for r in built.rows("frustration")}
    assert got == expected


def test_staged_rollups_keep_every_tab(built: Built, truth: Truth) -> None:
    """tabId splits Pendo's rows: staging must keep each row (its identity includes the tab), not one per context."""
    rows = built.rows("stg_pendo__page_events")
    assert len(rows) == len(truth.page_events)
    assert sum(r["rage_click_count"] for r in rows) == sum(r["rageClickCount"] for r in truth.page_events)
