"""Checking a key and region without loading anything (``pendo-elt check``)."""

from __future__ import annotations

import dlt
import pendulum
from dlt.common.configuration.inject import with_config

from sources.pendo.aggregation import envelope
from sources.pendo.client import PendoClient
from sources.pendo.config import check_integration_key, resolve_base_url
from sources.pendo.errors import PendoAuthError, PendoError
from sources.pendo.settings import DEFAULT_REGION


@with_config(sections=("sources", "pendo"))
def verify_access(
    integration_key: str = dlt.secrets.value,
    region: str = DEFAULT_REGION,
    base_url: str | None = None,
    request_timeout: float = 30.0,
    max_attempts: int = 2,
) -> dict:
    """Call ``/api/v1/token/verify`` (Pendo answers 403 for a wrong key and for a key of another region), then run
    one tiny aggregation: the event tables, visitors and accounts all need it, and it needs a key with
    "Allow Write Access" (AppFlow, Workato and Hevo document it), which ``/token/verify`` alone does not prove.
    """
    check_integration_key(integration_key)
    url = resolve_base_url(region, base_url)
    client = PendoClient(url, integration_key.strip(), timeout=float(request_timeout), max_attempts=int(max_attempts),
                         backoff_base=0.5)
    try:
        answer = client.get_json("/token/verify")
        if not isinstance(answer, dict) or not answer.get("valid"):
            raise PendoAuthError(f"{url}/api/v1/token/verify says the integration key is not valid")
        _check_aggregation(client, url, bool(answer.get("writeAccess")))
    finally:
        client.close()
    return {"base_url": url, "write_access": bool(answer.get("writeAccess"))}


def _check_aggregation(client: PendoClient, url: str, write_access: bool) -> None:
    body = envelope([{"source": {"apps": None}}, {"limit": 1}], "pendo-elt:check")
    try:
        client.aggregate(body, "check").close()
    except PendoAuthError:
        said = "read-only" if not write_access else "valid"
        raise PendoAuthError(
            f"the integration key is {said} but {url}/api/v1/aggregation refused it (HTTP 403): the aggregation "
            "endpoint needs an integration key with \"Allow Write Access\"; tick it in Pendo (Settings > "
            "Integrations > Integration Keys) or create a key with it, and set sources.pendo.integration_key"
        ) from None


@with_config(sections=("sources", "pendo"))
def pendo_clock(
    integration_key: str | None = dlt.secrets.value,
    region: str = DEFAULT_REGION,
    base_url: str | None = None,
) -> pendulum.DateTime | None:
    """Pendo's "now" (what it can have processed is measured from it), or None when it cannot be asked."""
    from sources.pendo.event_state import PendoClock  # the clock the runs use, so status and runs agree

    try:
        check_integration_key(integration_key)
        client = PendoClient(resolve_base_url(region, base_url), str(integration_key).strip(), timeout=10.0,
                             max_attempts=1, backoff_base=0.5)
    except PendoError:
        return None
    try:
        clock = PendoClock(client)
        now = clock.now()
        return None if clock.guessed else now
    except PendoError:
        return None
    finally:
        client.close()


@with_config(sections=("sources", "pendo"))
def configured_secret(integration_key: str | None = dlt.secrets.value) -> str | None:
    """The key as configured, only so the CLI can mask it in any output; None when not set."""
    return integration_key if isinstance(integration_key, str) else None


@with_config(sections=("sources", "pendo"))
def configured_timezone(subscription_timezone: str = "UTC") -> str:
    """The subscription time zone as configured (the models build local calendars in it)."""
    return subscription_timezone


__all__ = ["verify_access", "pendo_clock", "configured_secret", "configured_timezone", "PendoError"]
