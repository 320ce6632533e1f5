"""Constants of the Pendo source: hosts, resources, defaults. No logic lives here."""

from __future__ import annotations

REGION_HOSTS: dict[str, str] = {
    "us": "https://app.pendo.io",
    "eu": "https://app.eu.pendo.io",
    "us1": "https://us1.app.pendo.io",
    "jpn": "https://app.jpn.pendo.io",
    "au": "https://app.au.pendo.io",
}
DEFAULT_REGION = "us"

PERIODS = ("day", "hour")
DEFAULT_PERIOD = "day"
DEFAULT_LOOKBACK_DAYS = 0          # a blanket re-read; settle_days repairs only what changed
DEFAULT_SETTLE_DAYS = 10          # Pendo's Data Sync re-sends each day ~9 days later as "finalized"
DEFAULT_START_DAYS_AGO = 30
DEFAULT_TIMEZONE = "UTC"
DEFAULT_WINDOW_DAYS = 1          # one aggregation per day: what Pendo itself recommends for ETL
DEFAULT_CONCURRENCY = 2         # windows in flight at once: Pendo's rate limits are undocumented, stay polite
DEFAULT_WORKER_PROCESS = False  # opt-in: on this 2-core machine the worker gained no wall time and cost ~150 MB
WORKER_MIN_WINDOWS = 8           # ...when the first event table to fetch has this many windows (else threads)
DEFAULT_PAGE_SIZE = 10_000       # visitors/accounts rows per keyset page
DEFAULT_REQUEST_TIMEOUT_S = 300.0  # Pendo lets one aggregation run for up to 5 minutes
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_RETRY_BACKOFF_S = 1.0      # base of the exponential backoff between attempts
MIN_SPLIT_MS = 3_600_000         # windows are split down to one hour, then we give up
PAGE_ROWS = 10_000               # rows per page handed to dlt (and read back from a spool)

ANONYMOUS_PREFIX = "_PENDO_T_"
STATE_VERSION = 1

# Object lists served by GET /api/v1/<endpoint>?expand=* (table name -> endpoint).
ENTITY_ENDPOINTS: dict[str, str] = {
    "pages": "page",
    "features": "feature",
    "guides": "guide",
    "track_types": "tracktype",
    "reports": "report",
}

# Rollup event tables (table name -> aggregation source, entity id column).
ROLLUP_SOURCES: dict[str, str] = {
    "events": "events",
    "page_events": "pageEvents",
    "feature_events": "featureEvents",
    "track_events": "trackEvents",
}
# Entity id of each event table (Pendo field, warehouse column): with the bucket, the unit that one repair
# replaces. ``events`` has none: its buckets are replaced whole.
ENTITY_FIELDS: dict[str, tuple[str, str]] = {
    "page_events": ("pageId", "page_id"),
    "feature_events": ("featureId", "feature_id"),
    "track_events": ("trackTypeId", "track_type_id"),
    "guide_events": ("guideId", "guide_id"),
    "poll_events": ("pollId", "poll_id"),
}
# Single-event tables, selected by browserTime.
SINGLE_EVENT_SOURCES: dict[str, str] = {
    "guide_events": "guideEvents",
    "poll_events": "pollEvents",
}
# People tables: table -> (aggregation source, id field, id column).
PEOPLE_SOURCES: dict[str, tuple[str, str, str]] = {
    "visitors": ("visitors", "visitorId", "visitor_id"),
    "accounts": ("accounts", "accountId", "account_id"),
}
PEOPLE_CURSOR = "metadata.auto.lastupdated"
LASTUPDATED_COLUMN = "metadata_auto_lastupdated"  # PEOPLE_CURSOR as a warehouse column

# Beyond tap-pendo's streams (sources/pendo/extra_resources.py, seen_state.py): segments and product areas are
# replaced every run; report_results only requests the reports named in report_ids; guides_seen/polls_seen merge.
EXTRA_RESOURCES: tuple[str, ...] = ("segments", "product_areas", "report_results", "guides_seen", "polls_seen")
PRODUCT_AREA_TABLES = ("pages", "features")  # get a product_area_id column
# Raw events (table -> aggregation source): opt-in, event-level rows are far more than the rollups.
RAW_EVENT_SOURCES: dict[str, str] = {"single_events": "singleEvents"}

DEFAULT_RESOURCES: tuple[str, ...] = (
    *ENTITY_ENDPOINTS, "apps", "metadata_fields", *PEOPLE_SOURCES, *ROLLUP_SOURCES, *SINGLE_EVENT_SOURCES,
    *EXTRA_RESOURCES,
)
OPTIONAL_RESOURCES: tuple[str, ...] = ("visitor_history", *RAW_EVENT_SOURCES)
ALL_RESOURCES: tuple[str, ...] = DEFAULT_RESOURCES + OPTIONAL_RESOURCES

# Internal column marking a bucket tombstone: deletes a re-extracted bucket's old rows, never stored.
TOMBSTONE_COLUMN = "_pendo_deleted"
