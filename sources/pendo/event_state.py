"""What every event resource of a run shares: Pendo's clock, the event state and range, backfill progress."""

from __future__ import annotations

import logging

import dlt
import pendulum

from sources.pendo.client import PendoClient
from sources.pendo.config import PendoConfig
from sources.pendo.errors import ConfigError, PendoRequestError
from sources.pendo.scope import history_start
from sources.pendo.settings import DEFAULT_START_DAYS_AGO
from sources.pendo.windows import incremental_start

logger = logging.getLogger("pendo_elt")


class PendoClock:
    """Pendo's idea of "now", asked once per run: windows end at the server's clock, not a skewed local one."""

    def __init__(self, client: PendoClient) -> None:
        self._client = client
        self._now: pendulum.DateTime | None = None
        self.guessed = False  # True when Pendo's clock was unknowable: cursors must not move on a guess

    def now(self) -> pendulum.DateTime:
        if self._now is None:
            body = {"response": {"mimeType": "application/json"}, "request": {"requestId": "pendo-elt-clock",
                    "pipeline": [{"source": {"apps": None}}, {"limit": 1}, {"select": {"now": "now()"}}]}}
            try:
                with self._client.aggregate(body, "server clock") as spool:
                    rows = [r for page in spool.pages() for r in page]
                self._now = pendulum.from_timestamp(int(rows[0]["now"]) / 1000)
            except (PendoRequestError, IndexError, KeyError, TypeError, ValueError):
                # Pendo refused or could not answer this query: its clock is unknowable, ours is all there is.
                # Any other failure (outage, auth) ends the run: a guessed clock could move cursors past data.
                logger.warning("Pendo did not report its clock; windows end at this machine's clock and event "
                               "cursors stay where they are")
                self._now = pendulum.now("UTC")
                self.guessed = True
        return self._now


def record_backfill_chunk(progress: dict) -> None:
    """Mark a backfill chunk done in source state; it is committed with the chunk's rows or not at all."""
    backfills = dlt.current.source_state().setdefault("backfills", {})
    entry = backfills.get(progress["key"])
    if entry is None or progress.get("fresh"):
        entry = backfills[progress["key"]] = {"done": [], "total": progress["total"]}
    if progress["chunk"] not in entry["done"]:
        entry["done"].append(progress["chunk"])


def event_state(cfg: PendoConfig) -> dict:
    """Resource state (empty for a backfill), after refusing a period change: both cannot share a table."""
    source_state = dlt.current.source_state()
    stored = source_state.get("period", cfg.period)
    if stored != cfg.period:
        raise ConfigError(
            f"sources.pendo.period is {cfg.period!r} but this dataset was loaded with {stored!r}; "
            "run with --full-refresh to reload everything with the new period"
        )
    if cfg.backfill:
        return {}
    source_state["period"] = cfg.period
    return dlt.current.resource_state()


def event_range(cfg: PendoConfig, state: dict, now: pendulum.DateTime) -> tuple[pendulum.DateTime, pendulum.DateTime]:
    start_date = cfg.start_date or now.subtract(days=DEFAULT_START_DAYS_AGO)
    if cfg.backfill:
        assert cfg.end_date is not None
        return start_date, min(cfg.end_date, now)
    # a resource added to an existing dataset loads its history
    start_date = history_start(start_date, explicit=cfg.start_date is not None)
    cursor = pendulum.parse(state["cursor"]) if "cursor" in state else None
    return incremental_start(cursor, start_date, cfg.lookback_days, cfg.period, cfg.timezone), now
