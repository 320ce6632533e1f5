"""Run the simulator as a child process and drive its control surface over HTTP.

Used by the test suite and by ``pendo-elt demo``: each user starts its own simulator on a free loopback
port and stops exactly the process it started, by its pid.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import requests

START_TIMEOUT_S = 60.0


class SimulatorStartError(RuntimeError):
    """The simulator process did not print its address in time."""


@dataclass
class SimulatorProcess:
    """A simulator child process. Use as a context manager, or call ``start()`` and ``stop()``."""

    seed: int = 1
    scale: str = "tiny"
    tz: str = "America/New_York"
    now: str | None = "2026-03-20T15:30:00Z"
    lag_minutes: int = 60
    history_days: int = 30
    max_rows: int | None = None
    key: str | None = None
    cache_mb: float | None = None  # None: the simulator's default budget for generated days
    read_only_key: str | None = None  # a second key without "Allow Write Access"

    def __post_init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.base_url = ""
        self.integration_key = ""
        self._http = requests.Session()

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> SimulatorProcess:
        cmd = [
            sys.executable, "-m", "simulator", "--port", "0", "--seed", str(self.seed), "--scale", self.scale,
            "--tz", self.tz, "--lag-minutes", str(self.lag_minutes), "--history-days", str(self.history_days),
        ]
        if self.now:
            cmd += ["--now", self.now]
        if self.max_rows is not None:
            cmd += ["--max-rows", str(self.max_rows)]
        if self.key:
            cmd += ["--key", self.key]
        if self.cache_mb is not None:
            cmd += ["--cache-mb", str(self.cache_mb)]
        if self.read_only_key:
            cmd += ["--read-only-key", self.read_only_key]
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self._first_line()
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
        self.base_url, self.integration_key = fields["base_url"], fields["integration_key"]
        return self

    def _first_line(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if selector.select(timeout=0.2):
                line = self.process.stdout.readline()
                if line.startswith("base_url="):
                    return line.strip()
            if self.process.poll() is not None:
                err = self.process.stderr.read() if self.process.stderr else ""
                raise SimulatorStartError(f"simulator exited with {self.process.returncode}: {err.strip()}")
        self.stop()
        raise SimulatorStartError(f"simulator did not start within {START_TIMEOUT_S:.0f}s")

    def stop(self) -> None:
        """Stop the process this object started (by pid), escalating to SIGKILL."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._http.close()

    # --- control surface ------------------------------------------------------------------------
    def control(self, method: str, route: str, payload: Any = None, **params: Any) -> Any:
        response = self._http.request(method, f"{self.base_url}/_sim/{route}", json=payload, params=params, timeout=120)
        response.raise_for_status()
        return response.json()

    def info(self) -> dict:
        return self.control("GET", "info")

    def advance(self, *, hours: float = 0, days: float = 0) -> dict:
        return self.control("POST", "clock", {"advance_hours": hours, "advance_days": days})

    def retag(self, day: str, source: str = "pageEvents") -> dict:
        return self.control("POST", "retag", {"day": day, "source": source})

    def late(self, day: str, visitors: int = 20) -> dict:
        """Late activity for a local day of the served history, visible from now on: ``{"day", "rows"}``."""
        return self.control("POST", "late", {"day": day, "visitors": visitors})

    def rule_edit(self, kind: str, id: str | None = None) -> dict:  # noqa: A002 - the route's field name
        """Reprocess a page's/feature's/tracktype's lifetime: ``{"kind", "id", "moved_to", "days_changed"}``."""
        return self.control("POST", "rule-edit", {"kind": kind, "id": id})

    def delete_visitor(self, visitor_id: str) -> dict:
        return self.control("POST", "delete-visitor", {"visitor_id": visitor_id})

    def delete_account(self, account_id: str) -> dict:
        return self.control("POST", "delete-account", {"account_id": account_id})

    def add_metadata_field(self, kind: str, name: str, type_: str) -> dict:
        return self.control("POST", "metadata-field", {"kind": kind, "name": name, "type": type_})

    def inject(self, *faults: dict) -> dict:
        return self.control("POST", "faults", {"faults": list(faults)})

    def clear_faults(self) -> dict:
        return self.control("DELETE", "faults")

    def configure(self, **settings: Any) -> dict:
        return self.control("POST", "config", settings)

    def request_counts(self) -> dict:
        return self.control("GET", "requests")

    def truth(self, table: str, **params: Any) -> list[dict]:
        if "app_ids" in params and params["app_ids"] is not None:
            params["app_ids"] = ",".join(str(a) for a in params["app_ids"])
        return self.control("GET", f"truth/{table}", **{k: v for k, v in params.items() if v is not None})

    # --- the Pendo API as a client sees it --------------------------------------------------------
    def api(self, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"x-pendo-integration-key": self.integration_key if key is None else key,
                   "content-type": "application/json"}
        kwargs.setdefault("timeout", 120)
        return self._http.request(method, f"{self.base_url}/api/v1/{path.lstrip('/')}", headers=headers, **kwargs)

    def aggregate(self, pipeline: list[dict], **kwargs: Any) -> requests.Response:
        body = {"response": {"mimeType": "application/json"}, "request": {"pipeline": pipeline}}
        return self.api("POST", "aggregation", json=body, **kwargs)
