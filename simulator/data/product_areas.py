"""Product areas (Pendo's ``groups``) and the product area of each page and feature.

Origins (see the README): a page or feature object carries ``group`` as an object
``{id, name, description, color, length, type, items, createdAt, createdByUser, lastUpdatedAt,
lastUpdatedByUser}`` or null [code: Airbyte's Pendo manifest schema; tap-pendo page schema]; the
aggregation source ``groups`` lists them [3p: aggdsl spec sheet]; Fivetran loads them as table ``group``
(id, app_id, name, description, created/updated at and by) and each page and feature row has a
``group_id`` [code: fivetran/dbt_pendo_source ``stg_pendo__group``]. What ``length`` and ``items`` hold is not
documented: here ``length`` counts the pages and features in the area and ``items`` is null [inferred].

Pages get the area of their URL's first path segment; about one page in eight stays unassigned. A feature
takes its page's area, except app-wide features, which stay unassigned [inferred].
"""

from __future__ import annotations

from .entities import COLORS, SECTIONS, Times
from .seeding import pendo_id, rng

AREAS = ("Dashboards", "Reporting", "Administration", "Collaboration", "Billing", "Integrations")
UNASSIGNED_EVERY = 8  # every 8th page has no product area


def _section(page: dict) -> str:
    parts = page["rules"][0]["rule"].split("/")  # "//*/<section>/<sub>" -> ["", "", "*", section, sub]
    return parts[3] if len(parts) > 3 else ""


def assign_product_areas(seed: int, scale: str, data_start: int, anchor: int, users: list[dict],
                         pages: list[dict], features: list[dict]) -> list[dict]:
    """Build the product areas, set ``group`` on ``pages`` and ``features`` in place, return the areas.

    Uses its own random stream: the catalog's other objects are exactly what they were before areas existed.
    """
    r = rng(seed, scale, data_start, anchor, "product_areas")
    t = Times(r, data_start, anchor)
    groups = []
    for i, name in enumerate(AREAS):
        created = t.created()
        groups.append({"id": pendo_id(r), "name": name, "description": f"Everything about {name.lower()}",
                       "color": COLORS[i % len(COLORS)], "type": "", "length": 0, "items": None,
                       "createdAt": created, "createdByUser": r.choice(users),
                       "lastUpdatedAt": t.updated(created), "lastUpdatedByUser": r.choice(users)})
    area_of_page: dict[str, dict | None] = {}
    for i, page in enumerate(pages):
        section = _section(page)
        area = None
        if i % UNASSIGNED_EVERY != UNASSIGNED_EVERY - 1 and section in SECTIONS:
            area = groups[SECTIONS.index(section) % len(groups)]
        area_of_page[page["id"]] = area
    for f in features:
        area_of_page[f["id"]] = None if f.get("appWide") else area_of_page.get(f["pageId"])
    for area in area_of_page.values():
        if area is not None:
            area["length"] += 1
    for obj in (*pages, *features):
        area = area_of_page[obj["id"]]
        obj["group"] = None if area is None else dict(area)
    return groups
