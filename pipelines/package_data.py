"""Files pendo-elt ships besides its code: the dbt project, found in an installed wheel and in a checkout alike.

A wheel installs ``models/`` of the repository as ``pipelines/dbt_project`` (pyproject.toml maps it there, so the
folder is edited in place); a checkout or an editable install reads ``models/`` itself.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sources.pendo.errors import ConfigError

_MARKER = "dbt_project.yml"


def dbt_project_dir() -> Path:
    """The folder holding ``dbt_project.yml``, or a ConfigError saying the installation is incomplete."""
    installed = Path(str(resources.files("pipelines") / "dbt_project"))
    checkout = Path(__file__).resolve().parent.parent / "models"
    for candidate in (installed, checkout):  # installed first: site-packages/models may be another package's
        if (candidate / _MARKER).is_file():
            return candidate
    raise ConfigError(f"the dbt project is missing from this installation (looked in {installed} and {checkout}): "
                      "reinstall pendo-elt from its wheel or run from a checkout")
