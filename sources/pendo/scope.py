"""What a resource was loaded with, so a configuration that widens it reloads the history it adds.

Cursors only move forward: widening ``app_ids`` (one app to all, or more apps) or turning
``include_anonymous_visitors`` on used to load the new rows only from the cursor on, so the history before it
lacked them for good (issue 13 item 3). Each resource now records, in its own dlt state (committed with its rows),
the scope its rows cover; when the configured scope is wider, that run ignores the cursor and reloads the
resource's whole history (event buckets are replaced, visitors upserted, so nothing is doubled). A run killed
before its load commits leaves the old scope recorded, so the next run reloads again.

Narrowing cannot be undone by a load: the rows outside the new scope stay, and one warning line says which and
how to remove them. A resource added to an existing dataset has no cursor and loads from the dataset's first
day (recorded in the source state at the first run), not from a later default ``start_date``; an explicit
``start_date`` is honoured.
"""

from __future__ import annotations

import logging

import dlt
import pendulum

from sources.pendo.config import PendoConfig
from sources.pendo.settings import ROLLUP_SOURCES, SINGLE_EVENT_SOURCES

logger = logging.getLogger("pendo_elt")

APP_SCOPED = (*ROLLUP_SOURCES, *SINGLE_EVENT_SOURCES)  # entity lists are app-scoped too, but replaced every run
VISITOR_SCOPED = ("visitors", "visitor_history")
ALL_APPS = "*"


def scope_of(cfg: PendoConfig, table: str) -> dict:
    """The settings that decide which rows of ``table`` Pendo serves."""
    scope: dict = {}
    if table in APP_SCOPED:
        scope["app_ids"] = sorted(cfg.app_ids) if cfg.app_ids else ALL_APPS
    if table in VISITOR_SCOPED:
        scope["include_anonymous_visitors"] = cfg.include_anonymous_visitors
    return scope


def _apps(value: object) -> str:
    return "all apps" if value == ALL_APPS else f"apps {', '.join(str(a) for a in value)}"  # type: ignore[union-attr]


def changes(stored: dict, current: dict) -> tuple[list[str], list[str]]:
    """(what the current scope adds, what it leaves out) relative to the stored one, as phrases."""
    wider: list[str] = []
    narrower: list[str] = []
    if "app_ids" in stored and "app_ids" in current and stored["app_ids"] != current["app_ids"]:
        before, after = stored["app_ids"], current["app_ids"]
        if after == ALL_APPS or (before != ALL_APPS and set(after) - set(before)):
            wider.append(f"sources.pendo.app_ids widened from {_apps(before)} to {_apps(after)}")
        if before == ALL_APPS or set(before) - set(after if after != ALL_APPS else before):
            narrower.append(f"sources.pendo.app_ids narrowed from {_apps(before)} to {_apps(after)}")
    key = "include_anonymous_visitors"
    if key in stored and key in current and stored[key] != current[key]:
        (wider if current[key] else narrower).append(f"sources.pendo.{key} turned {'on' if current[key] else 'off'}")
    return wider, narrower


class ScopeGuard:
    """One per source instance: decides which resources reload and says each change once per run."""

    def __init__(self, cfg: PendoConfig) -> None:
        self.cfg = cfg
        self._said: set[str] = set()

    def reload(self, table: str, state: dict, cursor_key: str) -> bool:
        """True when ``table`` must ignore its cursor this run; records the current scope in ``state``."""
        current = scope_of(self.cfg, table)
        stored = state.get("scope")
        state["scope"] = current
        if self.cfg.backfill or cursor_key not in state or stored is None:
            # a first load reads everything anyway; a resource loaded before scopes were recorded is taken as is
            return False
        wider, narrower = changes(stored, current)
        for change in narrower:
            left = ("rows of the other apps already loaded stay in the event tables' buckets this run does not "
                    "re-extract" if "app_ids" in change else "anonymous visitors already loaded stay in visitors")
            self._say(change, f"{change}: {left}; run 'pendo-elt run --full-refresh' to remove them")
        for change in wider:
            self._say(change, f"{change}: this run reloads the whole history of the tables it affects")
        return bool(wider)

    def _say(self, key: str, message: str) -> None:
        if key not in self._said:
            self._said.add(key)
            logger.warning(message)


def history_start(start: pendulum.DateTime, *, explicit: bool) -> pendulum.DateTime:
    """Where a resource without a cursor starts: the dataset's first day, so one added later loads its history.

    Only for the default ``start_date`` (30 days before now, moving on every day); a ``start_date`` the user set is
    where they asked it to start (``visitor_history`` costs a request per visitor per day).
    """
    source_state = dlt.current.source_state()
    recorded = source_state.get("history_start")
    first = min(start, pendulum.parse(recorded)) if recorded else start
    source_state["history_start"] = first.to_iso8601_string()
    return start if explicit else first  # type: ignore[return-value]
