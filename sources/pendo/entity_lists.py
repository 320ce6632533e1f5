"""Entity lists (pages, features, guides, ...) and the metadata schemas: one GET each, no pagination in Pendo."""

from __future__ import annotations

from sources.pendo.client import PendoClient
from sources.pendo.errors import PendoResponseError
from sources.pendo.shaping import MetadataSchema, shape


def fetch_entities(client: PendoClient, endpoint: str, app_ids: tuple[int, ...] | None) -> list[dict]:
    """One GET for all apps (``expand=*``); lists have no pagination in Pendo."""
    rows = client.get_json(f"/{endpoint}", params={"expand": "*"})
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise PendoResponseError(f"GET /api/v1/{endpoint} answered an unexpected body (expected a JSON array of "
                                 "objects); nothing was loaded")
    if app_ids:
        wanted = set(app_ids)
        rows = [r for r in rows if "appId" not in r or r["appId"] in wanted]
    return [shape(r) for r in rows]


def fetch_metadata_schema(client: PendoClient, kind: str) -> MetadataSchema:
    try:
        return MetadataSchema.from_api(kind, client.get_json(f"/metadata/schema/{kind}"))
    except ValueError as exc:
        raise PendoResponseError(f"GET /api/v1/metadata/schema/{kind} answered an unexpected shape ({exc}); "
                                 "nothing was loaded") from None
