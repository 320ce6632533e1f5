"""Validated source configuration: every bad value is rejected before any request, naming its key."""

from __future__ import annotations

import ipaddress
import zoneinfo
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pendulum

from sources.pendo.errors import ConfigError
from sources.pendo.settings import (
    ALL_RESOURCES,
    DEFAULT_CONCURRENCY,
    DEFAULT_LOOKBACK_DAYS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_PAGE_SIZE,
    DEFAULT_PERIOD,
    DEFAULT_REGION,
    DEFAULT_REQUEST_TIMEOUT_S,
    DEFAULT_RETRY_BACKOFF_S,
    DEFAULT_SETTLE_DAYS,
    DEFAULT_START_DAYS_AGO,
    DEFAULT_TIMEZONE,
    DEFAULT_WINDOW_DAYS,
    DEFAULT_WORKER_PROCESS,
    PERIODS,
    REGION_HOSTS,
)
from sources.pendo.timezones import check_whole_hour_zone


@dataclass(frozen=True)
class PendoConfig:
    """The source's settings after validation; built once per run by :func:`validate`."""

    integration_key: str
    base_url: str
    app_ids: tuple[int, ...] | None
    start_date: pendulum.DateTime | None  # None: 30 days before Pendo's now
    end_date: pendulum.DateTime | None
    period: str
    lookback_days: int
    settle_days: int
    timezone: str
    include_anonymous_visitors: bool
    window_days: int
    concurrency: int
    page_size: int
    request_timeout: float
    max_attempts: int
    retry_backoff_seconds: float = DEFAULT_RETRY_BACKOFF_S
    worker_process: bool = False  # fetch, parse and convert event windows in a worker process (issue 15)

    @property
    def backfill(self) -> bool:
        """A closed range was asked for: extract it and leave the incremental cursors alone."""
        return self.end_date is not None


MIN_KEY_LENGTH = 8  # Pendo's keys are UUIDs (36 characters); see check_integration_key


def _key(name: str) -> str:
    return f"sources.pendo.{name} (env SOURCES__PENDO__{name.upper()})"


# The key .dlt/secrets.toml.example ships with: a copied example must not send it to Pendo (a 403 naming "the key
# is wrong, or of another region" would send the user looking in the wrong place).
PLACEHOLDER_KEY = "00000000-0000-0000-0000-000000000000"


def check_integration_key(integration_key: Any) -> None:
    """Present, not the example's placeholder, and one printable token; the message never repeats the key."""
    if not isinstance(integration_key, str) or not integration_key.strip():
        raise ConfigError(f"{_key('integration_key')} is missing: put it in .dlt/secrets.toml or the environment")
    key = integration_key.strip()
    if key == PLACEHOLDER_KEY:
        raise ConfigError(f"{_key('integration_key')} is still the placeholder of .dlt/secrets.toml.example: "
                          "replace it with your key (Pendo: Settings > Integrations > Integration Keys)")
    if any(ch.isspace() or not ch.isprintable() for ch in key):
        raise ConfigError(f"{_key('integration_key')} contains spaces, line breaks or control characters "
                          "(a wrapped paste?); copy the key again as one line")
    if not key.isascii():  # HTTP headers are Latin-1: requests would fail with UnicodeEncodeError at the first call
        raise ConfigError(f"{_key('integration_key')} contains a non-ASCII character (a curly quote or dash from "
                          "a document?); Pendo keys are ASCII: copy the key again from Pendo")
    if len(key) < MIN_KEY_LENGTH:
        # A real key is a 36-character UUID. A short one ("pendo") would also be masked in every output line that
        # contains the word, mangling them: refuse it before anything is sent or printed.
        raise ConfigError(f"{_key('integration_key')} is {len(key)} characters long; a Pendo integration key has "
                          f"at least {MIN_KEY_LENGTH} (Settings > Integrations > Integration Keys)")


def resolve_base_url(region: str | None, base_url: str | None) -> str:
    if base_url:
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{_key('base_url')} must be an http(s) URL like https://app.pendo.io, got {base_url!r}")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ConfigError(
                f"{_key('base_url')} must use https for a non-loopback host (the integration key would travel in "
                f"clear text): {base_url!r}"
            )
        # A proxy or custom domain may serve Pendo under a path (https://proxy.example.com/pendo): keep it, and drop
        # an /api/v1 the user pasted too, since the client adds it.
        prefix = parts.path.rstrip("/")
        prefix = prefix[: -len("/api/v1")] if prefix.endswith("/api/v1") else prefix
        return f"{parts.scheme}://{parts.netloc}{prefix}"
    region_name = (region or DEFAULT_REGION).strip().lower()
    if region_name not in REGION_HOSTS:
        raise ConfigError(f"{_key('region')} must be one of {', '.join(REGION_HOSTS)}, got {region!r}")
    return REGION_HOSTS[region_name]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_date(name: str, value: Any, tz: str = "UTC") -> pendulum.DateTime | None:
    """Dates are YYYY-MM-DD, meaning that day in the subscription's zone (or a full ISO timestamp)."""
    if value is None or value == "":
        return None
    try:
        parsed = pendulum.parse(str(value), tz=tz, strict=True)
    except (ValueError, pendulum.parsing.exceptions.ParserError):
        raise ConfigError(f"{_key(name)} must be a date as YYYY-MM-DD, got {value!r}") from None
    if not isinstance(parsed, pendulum.DateTime):
        parsed = pendulum.datetime(parsed.year, parsed.month, parsed.day, tz=tz)
    return parsed.in_timezone("UTC")


def _int(name: str, value: Any, minimum: int, maximum: int) -> int:
    try:
        number = int(value)
        if isinstance(value, float | str) and float(value) != number:
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(f"{_key(name)} must be a whole number, got {value!r}") from None
    if not minimum <= number <= maximum:
        raise ConfigError(f"{_key(name)} must be between {minimum} and {maximum}, got {number}")
    return number


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ConfigError(f"{_key(name)} must be true or false, got {value!r}")


def _app_ids(value: Any) -> tuple[int, ...] | None:
    if value is None or value == "" or value == "*" or value == []:
        return None
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        items = [items]
    try:
        return tuple(int(str(item).strip()) for item in items)
    except ValueError:
        raise ConfigError(f"{_key('app_ids')} must be a list of numeric Pendo app ids, got {value!r}") from None


def validate_resources(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    unknown = [n for n in names if n not in ALL_RESOURCES]
    if unknown:
        raise ConfigError(f"unknown resource(s) {', '.join(unknown)}; choose from {', '.join(ALL_RESOURCES)}")
    return tuple(dict.fromkeys(names))


def validate(
    *,
    integration_key: Any,
    region: Any = DEFAULT_REGION,
    base_url: Any = None,
    app_ids: Any = None,
    start_date: Any = None,
    end_date: Any = None,
    period: Any = DEFAULT_PERIOD,
    lookback_days: Any = DEFAULT_LOOKBACK_DAYS,
    settle_days: Any = DEFAULT_SETTLE_DAYS,
    subscription_timezone: Any = DEFAULT_TIMEZONE,
    include_anonymous_visitors: Any = False,
    window_days: Any = DEFAULT_WINDOW_DAYS,
    concurrency: Any = DEFAULT_CONCURRENCY,
    page_size: Any = DEFAULT_PAGE_SIZE,
    request_timeout: Any = DEFAULT_REQUEST_TIMEOUT_S,
    max_attempts: Any = DEFAULT_MAX_ATTEMPTS,
    retry_backoff_seconds: Any = DEFAULT_RETRY_BACKOFF_S,
    worker_process: Any = DEFAULT_WORKER_PROCESS,
    now: pendulum.DateTime | None = None,
) -> PendoConfig:
    """Check and convert the source's settings; a setting left out takes its default (sources/pendo/settings.py).

    Types are converted here too, not only by dlt: dlt coerces what comes from config files and the environment,
    but callers in Python (the runner's explicit arguments, bench, tests) hand values straight in.
    """
    check_integration_key(integration_key)
    if period not in PERIODS:
        raise ConfigError(f"{_key('period')} must be one of {', '.join(PERIODS)}, got {period!r}")
    try:
        zoneinfo.ZoneInfo(str(subscription_timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{_key('subscription_timezone')} must be an IANA zone like America/New_York, got {subscription_timezone!r}"
        ) from None
    now = now or pendulum.now("UTC")
    start = parse_date("start_date", start_date, str(subscription_timezone))
    end = parse_date("end_date", end_date, str(subscription_timezone))
    if start is not None and start > now:
        raise ConfigError(f"{_key('start_date')} {start.to_date_string()} is in the future")
    whole_hours = check_whole_hour_zone(str(subscription_timezone), start or now.subtract(days=DEFAULT_START_DAYS_AGO))
    if whole_hours:
        raise ConfigError(f"{_key('subscription_timezone')} {whole_hours}")
    if end is not None and start is None:
        raise ConfigError(f"{_key('end_date')} needs a start_date: a backfill is a closed range")
    if end is not None and start is not None and end <= start:
        raise ConfigError(
            f"{_key('end_date')} {end.to_date_string()} must be after start_date {start.to_date_string()}"
        )
    timeout = float(request_timeout)
    if timeout <= 0:
        raise ConfigError(f"{_key('request_timeout')} must be positive, got {request_timeout!r}")
    backoff = float(retry_backoff_seconds)
    if not 0 <= backoff <= 300 or backoff != backoff:
        raise ConfigError(f"{_key('retry_backoff_seconds')} must be between 0 and 300 seconds, got "
                          f"{retry_backoff_seconds!r}")
    return PendoConfig(
        integration_key=integration_key.strip(),
        base_url=resolve_base_url(region, base_url),
        app_ids=_app_ids(app_ids),
        start_date=start,
        end_date=end,
        period=period,
        lookback_days=_int("lookback_days", lookback_days, 0, 180),
        settle_days=_int("settle_days", settle_days, 0, 180),
        timezone=str(subscription_timezone),
        include_anonymous_visitors=_bool("include_anonymous_visitors", include_anonymous_visitors),
        window_days=_int("window_days", window_days, 1, 31),
        concurrency=_int("concurrency", concurrency, 1, 8),
        page_size=_int("page_size", page_size, 1, 1_000_000),
        request_timeout=timeout,
        max_attempts=_int("max_attempts", max_attempts, 1, 20),
        retry_backoff_seconds=backoff,
        worker_process=_bool("worker_process", worker_process),
    )
