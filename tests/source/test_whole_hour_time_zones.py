"""Pendo supports only whole-hour subscription time zones: the others are refused by validate, naming the offset."""

from __future__ import annotations

import pendulum
import pytest

from sources.pendo.config import validate
from sources.pendo.errors import ConfigError
from sources.pendo.timezones import check_whole_hour_zone, describe_offset

NOW = pendulum.datetime(2026, 3, 1, tz="UTC")


def settings(tz: str, start_date: str | None = None) -> dict:
    return dict(integration_key="test-key-k", region="us", base_url=None, app_ids=None, start_date=start_date,
                end_date=None,
                period="day", lookback_days=3, subscription_timezone=tz, include_anonymous_visitors=False,
                window_days=1, concurrency=2, page_size=100, request_timeout=10, max_attempts=1, now=NOW)


@pytest.mark.parametrize(("tz", "offset"), [
    ("Asia/Kolkata", "UTC+05:30"),
    ("Asia/Kathmandu", "UTC+05:45"),
    ("Australia/Lord_Howe", "UTC+10:30"),  # +11:00 in its summer (now), +10:30 from April: found ahead
    ("Australia/Adelaide", "UTC+10:30"),
    ("America/St_Johns", "UTC-03:30"),
    ("Asia/Tehran", "UTC+03:30"),
    ("Pacific/Chatham", "UTC+13:45"),
    ("Pacific/Marquesas", "UTC-09:30"),
])
def test_a_zone_that_is_ever_off_the_whole_hour_is_refused_naming_the_key_and_the_offset(tz: str, offset: str) -> None:
    with pytest.raises(ConfigError) as refused:
        validate(**settings(tz))
    message = str(refused.value)
    assert message.startswith("sources.pendo.subscription_timezone (env SOURCES__PENDO__SUBSCRIPTION_TIMEZONE) is ")
    assert tz in message and offset in message and "whole-hour" in message and "\n" not in message


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Europe/London", "Europe/Berlin", "Asia/Tokyo",
                                "Australia/Sydney", "Pacific/Apia", "America/Caracas", "Asia/Singapore",
                                "Africa/Monrovia"])
def test_whole_hour_zones_are_accepted(tz: str) -> None:
    assert validate(**settings(tz)).timezone == tz


def test_a_zone_that_was_off_the_whole_hour_only_before_the_first_day_loaded_is_accepted() -> None:
    """Caracas was UTC-04:30 from 2007 to 2016-05-01: data from 2016-05-01 on is fine, an earlier start is not."""
    assert validate(**settings("America/Caracas", "2016-05-02")).timezone == "America/Caracas"
    with pytest.raises(ConfigError, match=r"UTC-04:30 on 2015-01-01"):
        validate(**settings("America/Caracas", "2015-01-01"))


def test_the_check_covers_future_years_and_names_the_first_bad_day() -> None:
    assert check_whole_hour_zone("Australia/Lord_Howe", pendulum.datetime(2026, 1, 1)).count("2026-04-0") == 1
    assert check_whole_hour_zone("America/New_York", pendulum.datetime(2000, 1, 1)) is None
    assert describe_offset(pendulum.duration(hours=-4, minutes=-30)) == "UTC-04:30"
    assert describe_offset(pendulum.duration(minutes=-44, seconds=-30)) == "UTC-00:44:30"
