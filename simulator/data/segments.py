"""Saved segments, as ``GET /api/v1/segment`` lists them.

Origins (see the README): the endpoint is named in the Pendo Engage API collection's generated docs and
Estuary ships it as a snapshot resource (estuary/connectors PR #3215; ``segments`` is not an aggregation
source) [3p/code]. No public source shows the object's shape, so it is modelled on the other Pendo objects:
``id``, ``name``, ``description``, ``createdAt``/``createdByUser``, ``lastUpdatedAt``/``lastUpdatedByUser``,
``rootVersionId``/``stableVersionId``, ``shared``, ``dirty`` and the segment's rule as an aggregation
``pipeline``, like a guide's ``audience`` [inferred].
"""

from __future__ import annotations

from .entities import Times
from .seeding import pendo_id, rng

COUNT = {"tiny": 3, "small": 5, "medium": 8, "large": 12}
RULES = (
    ("Admins", 'metadata.custom.role == "admin"'),
    ("Active last 7 days", "metadata.auto.lastvisit >= now() - 7 * 24 * 60 * 60 * 1000"),
    ("Enterprise accounts", 'metadata.custom.plan == "enterprise"'),
    ("New this month", "metadata.auto.firstvisit >= now() - 30 * 24 * 60 * 60 * 1000"),
    ('Beta "early" users ✓', "metadata.custom.beta == true"),
)


def build_segments(seed: int, scale: str, data_start: int, anchor: int, users: list[dict]) -> list[dict]:
    r = rng(seed, scale, data_start, anchor, "segments")
    t = Times(r, data_start, anchor)
    segments = []
    for i in range(COUNT.get(scale, 5)):
        name, rule = RULES[i % len(RULES)]
        created = t.created()
        updated = t.updated(created)
        segments.append({
            "id": pendo_id(r), "name": name + ("" if i < len(RULES) else f" {i // len(RULES) + 1}"),
            "description": "", "createdAt": created, "createdByUser": r.choice(users), "lastUpdatedAt": updated,
            "lastUpdatedByUser": r.choice(users), "rootVersionId": pendo_id(r), "stableVersionId": pendo_id(r),
            "shared": i % 2 == 0, "dirty": False,
            "pipeline": [{"source": {"visitors": None}}, {"identified": "visitorId"}, {"filter": rule},
                         {"select": {"visitorId": "visitorId"}}],
        })
    return segments
