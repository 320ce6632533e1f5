"""Every bad setting is refused before any request, with one line naming the key."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

from sources.pendo.config import validate, validate_resources
from sources.pendo.errors import ConfigError

GOOD: dict[str, Any] = dict(
    integration_key="test-key-k",
    region="us",
    base_url=None,
    app_ids=None,
    start_date="2026-01-01",
    end_date=None,
    period="day",
    lookback_days=3,
    subscription_timezone="UTC",
    include_anonymous_visitors=False,
    window_days=1,
    concurrency=2,
    page_size=1000,
    request_timeout=300,
    max_attempts=6,
)
NOW = pendulum.datetime(2026, 3, 1, tz="UTC")


def _validate(**changes: Any):
    return validate(**{**GOOD, **changes}, now=NOW)


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"integration_key": ""}, "integration_key"),
        ({"integration_key": None}, "integration_key"),
        ({"region": "mars"}, "region"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"base_url": "http://pendo.example.com"}, "base_url"),
        ({"period": "week"}, "period"),
        ({"subscription_timezone": "Mars/Olympus"}, "subscription_timezone"),
        ({"start_date": "2026-13-01"}, "start_date"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"start_date": "2027-01-01"}, "start_date"),
        ({"end_date": "2025-12-01"}, "end_date"),
        ({"start_date": None, "end_date": "2026-02-01"}, "end_date"),
        ({"lookback_days": -1}, "lookback_days"),
        ({"lookback_days": "three"}, "lookback_days"),
        ({"window_days": 0}, "window_days"),
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 50}, "concurrency"),
        ({"page_size": 0}, "page_size"),
        ({"app_ids": "abc"}, "app_ids"),
        ({"include_anonymous_visitors": "maybe"}, "include_anonymous_visitors"),
    ],
)
def test_bad_values_name_their_key_and_env_var(changes: dict, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _validate(**changes)
    message = str(caught.value)
    assert f"sources.pendo.{key}" in message and f"SOURCES__PENDO__{key.upper()}" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us", "https://app.pendo.io"),
        ("eu", "https://app.eu.pendo.io"),
        ("us1", "https://us1.app.pendo.io"),
        ("jpn", "https://app.jpn.pendo.io"),
        ("au", "https://app.au.pendo.io"),
        ("EU", "https://app.eu.pendo.io"),
    ],
)
def test_regions_pick_their_hosts(region: str, host: str) -> None:
    assert _validate(region=region).base_url == host


def test_base_url_overrides_region_and_loopback_may_be_http() -> None:
    assert _validate(region="eu", base_url="http://127.0.0.1:8080/").base_url == "http://127.0.0.1:8080"
    assert _validate(base_url="https://acme.pendo.example").base_url == "https://acme.pendo.example"


def test_start_date_is_a_day_in_the_subscription_time_zone() -> None:
    cfg = _validate(subscription_timezone="America/New_York", start_date="2026-01-10")
    assert cfg.start_date == pendulum.datetime(2026, 1, 10, 5, tz="UTC")


def test_app_ids_accept_lists_and_comma_strings() -> None:
    assert _validate(app_ids=[-323232, 5]).app_ids == (-323232, 5)
    assert _validate(app_ids="-323232, 5").app_ids == (-323232, 5)
    assert _validate(app_ids="*").app_ids is None


def test_a_closed_range_is_a_backfill() -> None:
    assert _validate(end_date="2026-02-01").backfill
    assert not _validate().backfill


def test_unknown_resources_are_named() -> None:
    with pytest.raises(ConfigError, match="pagez"):
        validate_resources(["pages", "pagez"])
