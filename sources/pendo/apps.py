"""The ``apps`` table: each app's id and name (aggregation source ``apps``), so analytics can name apps.

Event rows carry only a numeric ``app_id`` (``-323232`` is a subscription's default app); Pendo's ``apps``
aggregation source lists every app of the subscription with its name. The list is small: replaced on
every run, so a deleted app leaves the table.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt
from dlt.sources import DltResource

from sources.pendo.client import PendoClient
from sources.pendo.config import PendoConfig
from sources.pendo.shaping import shape

APPS_QUERY = {"response": {"mimeType": "application/json"},
              "request": {"requestId": "pendo-elt-apps", "pipeline": [{"source": {"apps": None}}]}}


def apps_resource(client: PendoClient, cfg: PendoConfig) -> DltResource:
    def apps() -> Iterator[list[dict]]:
        with client.aggregate(APPS_QUERY, "apps") as spool:
            rows = [shape(r) for page in spool.pages() for r in page]
        if cfg.app_ids:
            rows = [r for r in rows if r.get("id") in cfg.app_ids]
        yield rows

    return dlt.resource(apps, name="apps", write_disposition="replace", primary_key="id",
                        columns={"id": {"data_type": "bigint", "nullable": False}, "name": {"data_type": "text"}})
