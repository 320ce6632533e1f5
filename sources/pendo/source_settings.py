"""The source's settings and its Pendo client, built one way for the source and for the commands beside it.

``pendo_source`` gets its settings from dlt (``[sources.pendo]`` / ``SOURCES__PENDO__*``, explicit arguments
first) and validates them here; ``pendo-elt verify`` and the deletion reconciliation talk to Pendo outside a run
and resolve the same keys the same way with :func:`configured`, so all three reject a bad value with the same
one line (exit 2) and build the same client (timeouts, attempts, backoff).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import dlt
from dlt.common.configuration.inject import with_config

from sources.pendo.client import PendoClient
from sources.pendo.config import PendoConfig, validate
from sources.pendo.settings import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_PAGE_SIZE,
    DEFAULT_PERIOD,
    DEFAULT_REGION,
    DEFAULT_REQUEST_TIMEOUT_S,
    DEFAULT_RETRY_BACKOFF_S,
    DEFAULT_TIMEZONE,
)

# The settings validate() knows: the source's arguments that are configuration, not run plumbing.
SETTING_NAMES = frozenset(inspect.signature(validate).parameters) - {"now"}


def settings_from(arguments: Mapping[str, Any]) -> PendoConfig:
    """Validate the settings among a source's arguments (the others, such as ``sync_stats``, are not settings)."""
    return validate(**{name: value for name, value in arguments.items() if name in SETTING_NAMES})


def pendo_client(cfg: PendoConfig) -> PendoClient:
    """The HTTP client these settings describe; the caller closes it."""
    return PendoClient(cfg.base_url, cfg.integration_key, timeout=cfg.request_timeout,
                       max_attempts=cfg.max_attempts, backoff_base=cfg.retry_backoff_seconds)


@with_config(sections=("sources", "pendo"))
def configured(
    integration_key: str = dlt.secrets.value,
    region: str = DEFAULT_REGION,
    base_url: str | None = None,
    app_ids: Any = None,
    period: str = DEFAULT_PERIOD,
    subscription_timezone: str = DEFAULT_TIMEZONE,
    include_anonymous_visitors: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT_S,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    retry_backoff_seconds: float = DEFAULT_RETRY_BACKOFF_S,
) -> PendoConfig:
    """The settings a command outside a run reads (explicit arguments win over config and the environment).

    Only these keys are read: the others (dates, lookback, windows, concurrency) steer a run's extraction and keep
    their defaults here, unread and unchecked, so a verify is not refused over a setting it does not use.
    """
    return settings_from(locals())


def configured_from(source_args: Mapping[str, Any]) -> PendoConfig:
    """:func:`configured` with a run's source arguments where given (None: not given, config decides)."""
    accepted = inspect.signature(configured).parameters
    return configured(**{k: v for k, v in source_args.items() if k in accepted and v is not None})
