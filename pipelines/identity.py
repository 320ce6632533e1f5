"""Which warehouse a pipeline writes to, and the local working directory that belongs to it alone.

dlt keeps a pipeline's local working state (state, schemas, pending packages, file formats) in
``<pipelines_dir>/<pipeline_name>``, keyed by the name only. The warehouse holds the real state
(``_dlt_pipeline_state``, restored by pipeline name on an empty working dir), so the local copy is a cache of one
warehouse's state, and must never be shared by two: cursors of one DuckDB file moved the other's, and a Postgres
run read the DuckDB run's file formats. dlt's sanctioned way to run one pipeline name against several
configurations is a separate ``pipelines_dir`` per configuration (dlt docs, "Separate working environments with
pipelines_dir"); here that directory is derived from the destination identity, so it cannot be forgotten:

    <pipelines_dir>/<destination>-<sha256 of destination, location, dataset>[:12]/<pipeline_name>/

The name stays ``pendo``, so a dataset loaded before keeps its state: the first run in the new directory restores
it from the warehouse. The location is the absolute DuckDB file (a relative path resolves against the current
directory, as the user typed it, never against where the pipeline was first created), or host:port/database for
Postgres, or account/database for Snowflake. User names and passwords are not part of it and never printed.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sources.pendo.errors import ConfigError

DEFAULT_DUCKDB_FILE = "pendo.duckdb"  # dlt's default is <pipeline name>.duckdb; every pipeline here shares one


@dataclass(frozen=True)
class DestinationIdentity:
    """One warehouse dataset: the destination type, where it is, and the dataset (schema) name."""

    destination: str
    location: str  # absolute DuckDB path | host:port/database | account/database
    dataset: str
    credentials: Any = None  # what to hand to dlt's destination factory; never printed

    @property
    def key(self) -> str:
        text = "\n".join((self.destination, self.location, self.dataset))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def working_root(self, pipelines_dir: str | None) -> Path:
        """The pipelines dir of this warehouse: dlt's working dirs of every pipeline writing it live below."""
        return Path(pipelines_dir or default_pipelines_dir()).expanduser().absolute() / f"{self.destination}-{self.key}"

    @property
    def target(self) -> str:
        """The warehouse in a few words, for progress lines, run summaries and JSON events:
        ``duckdb /abs/pendo.duckdb``, ``postgres db.host:5432/warehouse``. No user name, no password."""
        return f"{self.destination} {self.location}"

    def describe(self) -> str:
        """The warehouse and the dataset, for messages about them (``status``, ``check``, the run's log line, the
        writer lock): ``duckdb file /abs/pendo.duckdb, dataset 'pendo_data'``. No user name, no password."""
        where = f"file {self.location}" if self.destination == "duckdb" else self.location
        return f"{self.destination} {where}, dataset '{self.dataset}'"


def default_pipelines_dir() -> str:
    """dlt's default: ``$DLT_DATA_DIR/pipelines``, else ``/var/dlt/pipelines`` as root, else ``~/.dlt/pipelines``."""
    from dlt.common.pipeline import get_dlt_pipelines_dir

    return get_dlt_pipelines_dir()


def resolve_identity(destination: str, dataset: str, destination_config: dict[str, Any] | None = None,
                     pipeline_name: str = "pendo") -> DestinationIdentity:
    """Resolve the destination's credentials the way dlt will (explicit config first, then env and ``.dlt/``)."""
    import dlt
    from dlt.common.configuration import inject_section
    from dlt.common.configuration.specs.config_section_context import ConfigSectionContext
    from dlt.common.runtime import run_context

    config = dict(destination_config or {})
    if destination == "duckdb" and not config.get("credentials") and not _configured_duckdb():
        config["credentials"] = DEFAULT_DUCKDB_FILE
    try:
        factory = getattr(dlt.destinations, destination)(**config)
        spec = factory.spec()
        spec.dataset_name = dataset
        if destination == "duckdb":  # relative paths: against the current directory (or DLT_LOCAL_DIR)
            spec.local_dir = os.path.abspath(run_context.active().local_dir)
            spec.pipeline_name = pipeline_name
        with inject_section(ConfigSectionContext(pipeline_name=pipeline_name, sections=())):
            credentials = factory.configuration(spec).credentials
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the {destination} destination needs an extra: pip install 'pendo-elt[{destination}]' "
                          f"({exc.name} is missing)") from None
    except Exception as exc:  # noqa: BLE001 - dlt's configuration errors span many types and lines
        raise _unidentified(destination, exc) from None
    if destination == "duckdb":
        database = str(getattr(credentials, "database", "") or "")
        if not database or database.startswith(":") or not os.path.isabs(database):
            raise _unidentified(destination, f"{database or 'no file'} is not a DuckDB file path")
        return DestinationIdentity("duckdb", os.path.normpath(database), dataset, database)
    host, database = getattr(credentials, "host", None), getattr(credentials, "database", None)
    if not host or not database:
        raise _unidentified(destination, "the credentials name no host or no database")
    if destination == "postgres":
        location = f"{str(host).lower()}:{getattr(credentials, 'port', None) or 5432}/{database}"
    else:  # snowflake: host is the account; database names are case-insensitive
        location = f"{str(host).lower()}/{str(database).upper()}"
    return DestinationIdentity(destination, location, dataset, credentials)


def prepare_working_root(identity: DestinationIdentity, pipelines_dir: str | None) -> Path:
    """Create the warehouse's working root and prove it is writable; a ConfigError (exit 2) otherwise."""
    root = identity.working_root(pipelines_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root):
            pass
    except OSError as exc:
        given = pipelines_dir or f"dlt's default {default_pipelines_dir()}"
        raise ConfigError(f"--pipelines-dir {given} is not writable ({exc.strerror or exc}): pass a writable "
                          "--pipelines-dir (or set DLT_DATA_DIR); nothing was loaded") from None
    return root


def identity_of(pipeline: Any) -> DestinationIdentity:
    """The identity of a pipeline made by :func:`pipelines.run.make_pipeline` (its credentials are explicit)."""
    destination = pipeline.destination.destination_name
    params = dict(pipeline.destination.config_params)
    return resolve_identity(destination, pipeline.dataset_name, params, pipeline.pipeline_name)


def _configured_duckdb() -> bool:
    import dlt

    try:
        return dlt.secrets.get("destination.duckdb.credentials") is not None
    except Exception:  # noqa: BLE001 - an unreadable config file is reported by the resolution itself
        return False


def _unidentified(destination: str, reason: object) -> ConfigError:
    text = " ".join(str(reason).split())
    missing = re.findall(r"missing field\(s\): ((?:`\w+`(?:, )?)+)", text)  # dlt's errors go on for many lines
    text = f"missing {missing[-1].replace('`', '')}" if missing else text[:200]
    env = f"DESTINATION__{destination.upper()}__CREDENTIALS"
    return ConfigError(f"cannot tell which {destination} warehouse to load ({text}); set {env} "
                       f"(or [destination.{destination}] credentials in .dlt/secrets.toml); nothing was loaded")


def where(pipeline: Any) -> str:
    """One line for ``run``, ``check`` and ``status``: the warehouse and the local working dir that caches it."""
    return f"{identity_of(pipeline).describe()} (working dir {pipeline.working_dir})"
