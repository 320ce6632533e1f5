"""Visitors and accounts: keyset pagination on (lastupdated, id), so ties on the cursor cannot lose rows."""

from __future__ import annotations

from collections.abc import Iterator

from sources.pendo.aggregation import keyset_body, next_after
from sources.pendo.client import PendoClient
from sources.pendo.config import PendoConfig
from sources.pendo.settings import PAGE_ROWS, PEOPLE_CURSOR
from sources.pendo.shaping import MetadataSchema, flatten_metadata


def fetch_people(
    client: PendoClient,
    source: str,
    id_field: str,
    schema: MetadataSchema,
    cfg: PendoConfig,
    lower_bound_ms: int | None,
    state: dict,
) -> Iterator[list[dict]]:
    """Page through every record updated since ``lower_bound_ms``; ties on the cursor cannot lose rows.

    ``state["cursor_ms"]`` is raised to the highest ``lastupdated`` seen, page by page.
    """
    identified_only = source == "visitors" and not cfg.include_anonymous_visitors
    after: tuple[int, str] | None = None
    page_number = 0
    while True:
        page_number += 1
        body = keyset_body(
            source,
            None,
            PEOPLE_CURSOR,
            id_field,
            lower_bound_ms,
            after,
            cfg.page_size,
            identified_only,
        )
        spool = client.aggregate(body, f"{source} page {page_number}")
        count = spool.count
        last_row: dict | None = None
        for page in spool.pages(PAGE_ROWS):
            last_row = page[-1]
            rows = []
            for raw in page:
                cursor = _cursor_ms(raw)
                if cursor is not None and cursor > state.get("cursor_ms", -1):
                    state["cursor_ms"] = cursor
                rows.append(flatten_metadata(raw, id_field, schema))
            yield rows
        if count < cfg.page_size or last_row is None:
            return
        after = next_after(last_row, PEOPLE_CURSOR, id_field)


def _cursor_ms(row: dict) -> int | None:
    value = ((row.get("metadata") or {}).get("auto") or {}).get("lastupdated")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
