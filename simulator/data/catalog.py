"""Assembles every tagged object of the subscription into one immutable catalog."""

from __future__ import annotations

from dataclasses import dataclass, field

from .entities import (
    APP_SERVERS,
    USERS,
    AppKinds,
    Times,
    build_apps,
    build_features,
    build_pages,
    build_reports,
    build_track_types,
    kinds_by_app,
    user_object,
)
from .guides import GuideSpec, build_guides
from .product_areas import assign_product_areas
from .scales import ScaleSpec
from .seeding import rng
from .segments import build_segments


@dataclass(slots=True)
class Catalog:
    apps: list[dict]
    pages: list[dict]
    features: list[dict]
    track_types: list[dict]
    guides: list[dict]
    reports: list[dict]
    servers: dict[int, tuple[str, ...]]
    pages_by_app: dict[int, AppKinds]
    features_by_app: dict[int, AppKinds]
    tracks_by_app: dict[int, AppKinds]
    guides_by_app: dict[int, list[GuideSpec]]  # public guides only: the ones visitors can see
    page_url: dict[str, str]  # page id -> a URL its rule matches
    page_params: frozenset[str]  # pages whose rows carry a "parameters" object
    track_props: dict[str, dict]
    groups: list[dict] = field(default_factory=list)  # product areas (Pendo's "groups")
    segments: list[dict] = field(default_factory=list)

    def kind(self, kind: str) -> list[dict]:
        return {"page": self.pages, "feature": self.features, "guide": self.guides,
                "tracktype": self.track_types, "report": self.reports}[kind]


def build_catalog(seed: int, scale: str, spec: ScaleSpec, data_start: int, anchor: int) -> Catalog:
    r = rng(seed, scale, data_start, anchor, "catalog")
    t = Times(r, data_start, anchor)
    users = [user_object(r, n, data_start) for n in range(len(USERS))]
    apps = build_apps(r, spec.apps)
    app_ids = [a["id"] for a in apps]
    servers = {app_id: APP_SERVERS[i] for i, app_id in enumerate(app_ids)}
    pages, page_url = build_pages(r, t, users, apps, spec.pages, servers)
    features = build_features(r, t, users, apps, spec.features, pages)
    track_types, track_props = build_track_types(r, t, users, apps, spec.track_types)
    pages_of_app: dict[int, list[dict]] = {}
    for p in pages:
        pages_of_app.setdefault(p["appId"], []).append(p)
    guides, guides_by_app = build_guides(r, t, users, app_ids, pages_of_app, page_url, spec.guides)
    reports = build_reports(r, t, users, spec.reports)
    # Own random streams, so every object above is exactly what it was before areas and segments existed.
    groups = assign_product_areas(seed, scale, data_start, anchor, users, pages, features)
    segments = build_segments(seed, scale, data_start, anchor, users)
    return Catalog(
        apps=apps, pages=pages, features=features, track_types=track_types, guides=guides, reports=reports,
        servers=servers, pages_by_app=kinds_by_app(pages), features_by_app=kinds_by_app(features),
        tracks_by_app=kinds_by_app(track_types), guides_by_app=guides_by_app, page_url=page_url,
        page_params=frozenset(p["id"] for i, p in enumerate(pages) if i % 3 == 1),
        track_props=track_props, groups=groups, segments=segments,
    )
