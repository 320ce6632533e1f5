"""README's configuration table stays true: every setting of the source is there, with its env var and default."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from pipelines.deletions import DEFAULT_RECONCILE_DELETIONS_HOURS, SETTING
from sources.pendo import pendo_source
from sources.pendo.config import PendoConfig, validate
from sources.pendo.source_settings import SETTING_NAMES, configured

README = Path(__file__).resolve().parents[2] / "README.md"
# Arguments the runner passes, not settings a user configures.
RUN_PLUMBING = {"backfill_progress", "warehouse", "sync_stats", "verify_range"}


def _documented() -> dict[str, tuple[str, str]]:
    """key -> (env var, default) from README's table of ``[sources.pendo]`` keys."""
    rows = re.findall(r"^\| `(\w+)` \| `(SOURCES__PENDO__\w+)` \| ([^|]+) \|", README.read_text(), re.MULTILINE)
    return {key: (env, default.strip()) for key, env, default in rows}


def _source_defaults() -> dict[str, object]:
    parameters = inspect.signature(pendo_source).parameters
    return {name: p.default for name, p in parameters.items() if name not in RUN_PLUMBING}


def test_every_setting_is_documented_with_its_env_var() -> None:
    documented = _documented()
    for key in [*_source_defaults(), SETTING]:
        assert key in documented, f"README's configuration table lacks {key}"
        assert documented[key][0] == f"SOURCES__PENDO__{key.upper()}", key


@pytest.mark.parametrize("key", sorted(SETTING_NAMES - {"integration_key"}))
def test_validate_and_the_source_share_each_default(key: str) -> None:
    """A setting validate() fills in when left out has the default the source declares (one declaration)."""
    assert inspect.signature(validate).parameters[key].default == _source_defaults()[key]


def test_commands_outside_a_run_read_the_source_defaults() -> None:
    """verify and the deletion reconciliation resolve their settings with the defaults a run has."""
    for key, parameter in inspect.signature(configured).parameters.items():
        if key != "integration_key":
            assert parameter.default == _source_defaults()[key], key


def test_documented_defaults_are_the_declared_ones() -> None:
    documented = _documented()
    declared = {**_source_defaults(), SETTING: DEFAULT_RECONCILE_DELETIONS_HOURS}
    for key, default in declared.items():
        if default is None or not isinstance(default, str | int | float | bool):
            continue  # none, "all apps", "30 days before Pendo's now": said in words
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        assert documented[key][1].strip("`") in (shown, f"{default:g}" if not isinstance(default, str | bool)
                                                 else shown), (key, documented[key][1], default)


def test_the_config_has_a_field_for_every_setting() -> None:
    """Each validated setting reaches PendoConfig (region becomes base_url; the zone is kept as ``timezone``)."""
    fields = set(PendoConfig.__dataclass_fields__)
    assert SETTING_NAMES - {"region", "subscription_timezone"} <= fields and {"base_url", "timezone"} <= fields
