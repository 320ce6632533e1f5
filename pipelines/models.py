"""``pendo-elt models``: run the dbt project in ``models/`` (staging + marts + tests) on a loaded dataset.

dbt runs as a child process of this interpreter (``dbt build``), configured only through environment
variables and flags: the project's ``profiles.yml`` reads the connection from ``PENDO_*`` variables, so the
same project also runs standalone. dbt's ``target/`` and logs go to a work directory outside the repository
(default ``./.pendo-elt/dbt/<destination>-<dataset>``, git-ignored). A failed build raises
:class:`ModelsError` with one line naming the first failing model or test.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sources.pendo.errors import ConfigError, PendoError

PROJECT_DIR = Path(__file__).resolve().parent.parent / "models"
DESTINATIONS = ("duckdb", "postgres", "snowflake")
ADAPTER_MODULES = {"duckdb": "dbt.adapters.duckdb", "postgres": "dbt.adapters.postgres",
                   "snowflake": "dbt.adapters.snowflake"}
MARTS = ("daily_activity_visitor", "daily_activity_account", "active_users", "feature_adoption", "page_usage",
         "guide_funnel", "nps", "retention", "account_health", "visitor_summary", "account_summary", "page_summary",
         "feature_summary", "guide_summary", "guide_daily_metrics", "visitor_feature", "page_event_paths",
         "feature_event_paths", "poll_responses", "nps_latest_visitor", "nps_latest_account", "visitor_frequency",
         "product_engagement_score", "guide_lift")
COMPAT_SUFFIX = "_stitch"  # --stitch-compat: tap-pendo/Stitch-named views in <target_schema>_stitch
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STAGING_SUFFIX = "_staging"  # dbt's custom schema "staging" lands in <target_schema>_staging
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")  # dlt datasets are lower snake_case
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class ModelsError(PendoError):
    """dbt could not build the models or a data test failed; the message is one line."""


@dataclass
class NodeResult:
    """One model or test of the build, as dbt reported it."""

    name: str
    resource_type: str  # model | test
    status: str  # success | pass | warn | error | fail | skipped
    seconds: float
    message: str = ""


@dataclass
class ModelsResult:
    """What ``dbt build`` did: where the marts are, and every node's status."""

    destination: str
    dataset: str
    target_schema: str  # the marts
    staging_schema: str  # staging views and intermediate tables
    timezone: str
    seconds: float
    nodes: list[NodeResult] = field(default_factory=list)
    work_dir: Path | None = None
    log_path: Path | None = None

    @property
    def models(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.resource_type == "model"]

    @property
    def tests(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.resource_type == "test"]

    @property
    def warnings(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status == "warn"]

    def summary(self) -> str:
        """One line for the CLI."""
        passed = sum(1 for t in self.tests if t.status == "pass")
        warned = f", {len(self.warnings)} warning(s)" if self.warnings else ""
        return (f"built {len(self.models)} models in {self.destination} schema {self.target_schema!r} "
                f"(staging in {self.staging_schema!r}); {passed}/{len(self.tests)} tests passed{warned} "
                f"in {self.seconds:.1f}s")


def default_target_schema(dataset: str) -> str:
    """Where the marts go when no schema is given: next to the loaded dataset."""
    return f"{dataset}_analytics"


def run_models(
    destination: str,
    dataset: str,
    *,
    duckdb_path: str | None = None,
    postgres_credentials: str | None = None,
    timezone: str = "UTC",
    target_schema: str | None = None,
    work_dir: str | Path | None = None,
    include_anonymous: bool = False,
    threads: int = 4,
    as_of_date: str | None = None,
    stitch_compat: bool = False,
) -> ModelsResult:
    """Run ``dbt build`` (models and their tests) on ``dataset`` in ``destination``.

    Args:
        destination: duckdb, postgres or snowflake.
        dataset: the schema pendo-elt loaded (``pendo_data`` by default).
        duckdb_path: the DuckDB file; default: the one ``pendo-elt run`` writes (dlt's configuration).
        postgres_credentials: ``postgresql://user:password@host:port/database``; default: dlt's configuration
            (``DESTINATION__POSTGRES__CREDENTIALS`` or ``.dlt/secrets.toml``).
        timezone: the Pendo subscription's time zone: calendar days and local timestamps follow it.
        target_schema: schema of the marts (default ``<dataset>_analytics``); staging goes to ``<it>_staging``.
        work_dir: dbt's target and logs (default ``./.pendo-elt/dbt/<destination>-<dataset>``).
        include_anonymous: count anonymous (``_PENDO_T_``) visitors in the marts.
        threads: dbt threads.
        as_of_date: YYYY-MM-DD where the marts end (default: the last loaded day).
        stitch_compat: also build the tap-pendo/Stitch compatibility views in ``<target_schema>_stitch``.
    """
    started = time.monotonic()
    if destination not in DESTINATIONS:
        raise ConfigError(f"unknown destination {destination!r}; choose from {', '.join(DESTINATIONS)}")
    _check_identifier("dataset", dataset)
    schema = target_schema or default_target_schema(dataset)
    _check_identifier("target schema", schema)
    _check_timezone(timezone)
    if as_of_date is not None and not _DATE.match(as_of_date):
        raise ConfigError(f"as-of date must be YYYY-MM-DD, got {as_of_date!r}")
    _check_dbt(destination)

    env = _connection_env(destination, dataset, duckdb_path, postgres_credentials)
    workdir = Path(work_dir) if work_dir else Path.cwd() / ".pendo-elt" / "dbt" / f"{destination}-{dataset}"
    target_path, log_path = workdir / "target", workdir / "logs"
    workdir.mkdir(parents=True, exist_ok=True)
    env.update({
        "PENDO_DBT_TARGET": destination,
        "PENDO_DBT_SCHEMA": schema,
        "PENDO_DBT_THREADS": str(max(1, int(threads))),
        "PENDO_DATASET": dataset,
        "PENDO_TIMEZONE": timezone,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",  # no network calls from a run
        "DBT_VERSION_CHECK": "false",
        "DO_NOT_TRACK": "1",
    })
    dbt_vars: dict[str, Any] = {"pendo_schema": dataset, "pendo_timezone": timezone,
                                "pendo_include_anonymous": include_anonymous, "pendo_stitch_compat": stitch_compat}
    if as_of_date:
        dbt_vars["pendo_as_of_date"] = as_of_date
    open_bucket = _open_bucket(destination, dataset, env)
    if open_bucket:
        dbt_vars["pendo_open_bucket"] = open_bucket
    command = [
        sys.executable, "-c", "import sys; from dbt.cli.main import cli; sys.exit(cli())",
        "--no-use-colors", "build",
        "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--target", destination,
        "--target-path", str(target_path), "--log-path", str(log_path), "--vars", json.dumps(dbt_vars),
    ]
    results_file = target_path / "run_results.json"
    results_file.unlink(missing_ok=True)
    try:
        proc = subprocess.run(command, env={**os.environ, **env}, cwd=workdir, capture_output=True, text=True,
                              timeout=3600)
    except subprocess.TimeoutExpired:
        raise ModelsError(f"dbt build on {destination} did not finish within an hour (log: {log_path})") from None
    output = _ANSI.sub("", proc.stdout + proc.stderr)
    (workdir / "dbt-output.txt").write_text(output, encoding="utf-8")
    nodes = _read_results(results_file)
    result = ModelsResult(destination=destination, dataset=dataset, target_schema=schema,
                          staging_schema=schema + STAGING_SUFFIX, timezone=timezone,
                          seconds=time.monotonic() - started, nodes=nodes, work_dir=workdir,
                          log_path=log_path / "dbt.log")
    failed = [n for n in nodes if n.status in ("error", "fail", "runtime error")]
    if proc.returncode != 0 or failed:
        raise ModelsError(_failure_line(destination, failed, output, result.log_path))
    return result


def _open_bucket(destination: str, dataset: str, env: dict[str, str]) -> str | None:
    """The bucket holding Pendo's clock at the last load (pipelines/load_clock.py); None where unknown."""
    from pipelines import load_clock

    if destination == "duckdb":
        return load_clock.duckdb_open_bucket(env["PENDO_DUCKDB_PATH"], dataset)
    if destination == "postgres":
        return load_clock.postgres_open_bucket(env, dataset)
    return None  # Snowflake: the models judge days by the last load time in _dlt_loads


# --- connection ---------------------------------------------------------------------------------------
def _connection_env(destination: str, dataset: str, duckdb_path: str | None,
                    postgres_credentials: str | None) -> dict[str, str]:
    if destination == "duckdb":
        path = Path(duckdb_path) if duckdb_path else Path(_dlt_credentials("duckdb", dataset).database)
        path = path.expanduser().resolve()
        if not path.is_file():
            raise ConfigError(f"no DuckDB database at {path}: load it first with `pendo-elt run` (or pass its path)")
        return {"PENDO_DUCKDB_PATH": str(path)}
    if destination == "postgres":
        if postgres_credentials:
            return _postgres_env_from_url(postgres_credentials)
        creds = _dlt_credentials("postgres", dataset)
        return {"PENDO_PG_HOST": str(creds.host or "localhost"), "PENDO_PG_PORT": str(creds.port or 5432),
                "PENDO_PG_USER": str(creds.username or ""), "PENDO_PG_PASSWORD": str(creds.password or ""),
                "PENDO_PG_DATABASE": str(creds.database or ""),
                "PENDO_PG_SSLMODE": str((getattr(creds, "query", None) or {}).get("sslmode", "prefer"))}
    creds = _dlt_credentials("snowflake", dataset)
    if getattr(creds, "private_key", None) and not getattr(creds, "password", None):
        raise ConfigError("snowflake key-pair credentials are not supported by `pendo-elt models` yet; "
                          "run the dbt project standalone with your own profile")
    return {"PENDO_SF_ACCOUNT": str(creds.host or ""), "PENDO_SF_USER": str(creds.username or ""),
            "PENDO_SF_PASSWORD": str(creds.password or ""), "PENDO_SF_DATABASE": str(creds.database or ""),
            "PENDO_SF_WAREHOUSE": str(getattr(creds, "warehouse", None) or ""),
            "PENDO_SF_ROLE": str(getattr(creds, "role", None) or "")}


def _postgres_env_from_url(url: str) -> dict[str, str]:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
        raise ConfigError("postgres credentials must look like postgresql://user:password@host:5432/database")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return {
        "PENDO_PG_HOST": parts.hostname,
        "PENDO_PG_PORT": str(parts.port or 5432),
        "PENDO_PG_USER": unquote(parts.username or "postgres"),
        "PENDO_PG_PASSWORD": unquote(parts.password or ""),
        "PENDO_PG_DATABASE": unquote(parts.path.lstrip("/")) or "postgres",
        "PENDO_PG_SSLMODE": query.get("sslmode", "prefer"),
    }


def _dlt_credentials(destination: str, dataset: str) -> Any:
    """The credentials `pendo-elt run` would use (dlt config files and environment), or a ConfigError."""
    from pipelines.run import make_pipeline

    with tempfile.TemporaryDirectory(prefix="pendo-models-") as pipelines_dir:
        try:
            pipeline = make_pipeline(destination, dataset, pipelines_dir)
            return pipeline.destination_client().config.credentials
        except PendoError:
            raise
        except Exception as exc:  # noqa: BLE001 - dlt's configuration errors span many types and lines
            first = " ".join(str(exc).split())[:300]
            raise ConfigError(f"cannot resolve {destination} credentials from dlt configuration "
                              f"(DESTINATION__{destination.upper()}__CREDENTIALS or .dlt/secrets.toml): {first}"
                              ) from None


# --- validation -------------------------------------------------------------------------------------------
def _check_identifier(what: str, value: str) -> None:
    if not _IDENTIFIER.match(value or ""):
        raise ConfigError(f"{what} must be a lower-case SQL identifier (a-z, 0-9, _), got {value!r}")


def _check_timezone(timezone: str) -> None:
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {timezone!r}; use an IANA name like America/New_York") from None


def _check_dbt(destination: str) -> None:
    for module in ("dbt.cli.main", ADAPTER_MODULES[destination]):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            package = "dbt-core" if module == "dbt.cli.main" else f"dbt-{destination}"
            raise ConfigError(f"{package} is not installed: pip install 'pendo-elt[models]'"
                              + (" dbt-snowflake" if destination == "snowflake" else ""))


# --- results ----------------------------------------------------------------------------------------------
def _read_results(path: Path) -> list[NodeResult]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    nodes = []
    for item in data.get("results", []):
        unique_id = str(item.get("unique_id", ""))
        kind, _, rest = unique_id.partition(".")
        name = rest.split(".", 1)[1] if "." in rest else rest
        nodes.append(NodeResult(name=name, resource_type=kind, status=str(item.get("status", "")),
                                seconds=float(item.get("execution_time") or 0.0),
                                message=_one_line(str(item.get("message") or ""))))
    return nodes


def _failure_line(destination: str, failed: list[NodeResult], output: str, log_path: Path) -> str:
    if failed:
        first = failed[0]
        more = f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""
        what = "test" if first.resource_type == "test" else first.resource_type
        return (f"dbt build failed on {destination}: {what} {first.name}: {first.message[:300]}{more} "
                f"(log: {log_path})")
    return f"dbt build failed on {destination}: {_error_from_output(output)[:400]} (log: {log_path})"


def _error_from_output(output: str) -> str:
    """dbt's own error when it stopped before running anything (profile, connection, parsing)."""
    lines = [re.sub(r"^\d\d:\d\d:\d\d\s+", "", line).strip() for line in output.splitlines()]
    lines = [line for line in lines if line]
    for i, line in enumerate(lines):
        if re.search(r"error", line, re.IGNORECASE) and not line.startswith("Done."):
            return _one_line(" ".join(lines[i:i + 3]))
    return _one_line(lines[-1]) if lines else "no output"


def _one_line(text: str) -> str:
    return " ".join(text.split())


__all__ = ["run_models", "ModelsResult", "ModelsError", "NodeResult", "default_target_schema", "MARTS",
           "PROJECT_DIR", "COMPAT_SUFFIX"]
