"""HTTP server of the Pendo simulator: the Engage API on /api/v1 and a control surface on /_sim.

Stdlib ``ThreadingHTTPServer`` with HTTP/1.1 keep-alive: no framework is needed for a dozen routes,
and owning the socket lets faults cut a body after N bytes exactly as a broken proxy would.

Control calls change the state under ``SimulatorState.lock``; an API request only takes a snapshot
under it and computes and sends its answer without it, so requests overlap and every answer reflects
exactly one state.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import islice
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from simulator import extra_routes
from simulator.aggregation import run_aggregation
from simulator.data import Dataset
from simulator.errors import AggregationError, MemoryLimitExceeded
from simulator.expressions import EvalContext
from simulator.faults import Fault, FaultQueue, FaultSpecError

API = "/api/v1"
LIST_ENDPOINTS = {"page": "page", "feature": "feature", "guide": "guide", "tracktype": "tracktype", "report": "report"}
DEFAULT_MAX_ROWS = 500_000
SERIALIZE_BATCH = 2048  # rows per orjson call: one call per row costs ~4x more, all rows at once holds them all


@dataclass
class SimulatorState:
    """Everything a running simulator holds; shared by the handler threads."""

    dataset: Dataset
    integration_key: str = field(default_factory=lambda: secrets.token_hex(16))
    read_only_key: str | None = None  # valid, without "Allow Write Access": /token/verify only, aggregations 403
    max_rows: int = DEFAULT_MAX_ROWS
    faults: FaultQueue = field(default_factory=FaultQueue)
    requests: Counter = field(default_factory=Counter)
    lock: threading.RLock = field(default_factory=threading.RLock)
    path_prefix: str = ""  # serve the API under this path only (a proxy or custom domain: /pendo/api/v1/...)

    def snapshot(self) -> tuple[Dataset, int]:
        """The dataset and row ceiling one request is answered from (take it under ``lock``)."""
        return self.dataset.snapshot(), self.max_rows

    def info(self) -> dict:
        ds = self.dataset
        return {
            "now_ms": ds.now_ms,
            "lag_ms": ds.lag_ms,
            "cutoff_ms": ds.cutoff_ms,
            "tz": ds.tz,
            "app_ids": ds.app_ids,
            "default_app_id": ds.default_app_id,
            "history_start_ms": ds.history_start_ms(),
            "max_rows": self.max_rows,
            "path_prefix": self.path_prefix,
        }


class _Reply(Exception):
    """Raised by a route to answer immediately with a status and body."""

    def __init__(self, status: int, body: bytes | str = b"", content_type: str = "text/plain") -> None:
        super().__init__(status)
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.content_type = content_type


class PendoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PendoSimulator/1.0"
    disable_nagle_algorithm = True  # headers and body go out in two writes: without this, each waits ~40 ms
    state: SimulatorState  # set on the subclass made by make_server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: tests and the demo read stdout

    # --- dispatch -------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        body = self._read_body()
        try:
            if path.startswith("/_sim/"):
                self._send_json(200, self._control(method, path, query, body))
                return
            prefix = self.state.path_prefix
            if prefix:
                if not path.startswith(prefix + "/"):
                    raise _Reply(404, "not found")
                path = path[len(prefix) :]
            if not path.startswith(API + "/"):
                raise _Reply(404, "not found")
            with self.state.lock:
                self.state.requests[f"{method} {_route_name(path)}"] += 1
            fault = self.state.faults.take(path, body)
            if fault is not None and self._apply_fault_before(fault):
                return
            key = self.headers.get("x-pendo-integration-key")
            if key != self.state.integration_key and (key is None or key != self.state.read_only_key):
                raise _Reply(403)  # Pendo answers a bad, missing or wrong-region key with an empty 403
            if key != self.state.integration_key and method == "POST":
                raise _Reply(403)  # the aggregation endpoint needs a key with "Allow Write Access"
            status, payload = self._api(method, path[len(API) :], query, body,
                                        write_access=key == self.state.integration_key)
            if fault is not None and fault.kind == "malform" and status == 200:
                payload = fault.malform(payload)
            self._send_bytes(status, payload, "application/json", fault)
        except _Reply as reply:
            self._send_bytes(reply.status, reply.body, reply.content_type)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _read_body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    # --- Pendo API ------------------------------------------------------------------------------
    def _api(self, method: str, route: str, query: dict, body: bytes, *, write_access: bool = True
             ) -> tuple[int, bytes]:
        parts = [unquote(p) for p in route.strip("/").split("/")]
        with self.state.lock:
            ds, max_rows = self.state.snapshot()
        if method == "GET" and parts == ["token", "verify"]:
            return 200, orjson.dumps({"valid": True, "writeAccess": write_access})
        if method == "GET" and len(parts) == 1 and parts[0] in LIST_ENDPOINTS:
            return 200, orjson.dumps(_list(ds, parts[0], query))
        if method == "GET" and len(parts) == 3 and parts[:2] == ["metadata", "schema"]:
            if parts[2] not in ("visitor", "account"):
                raise _Reply(404, "not found")
            return 200, orjson.dumps(ds.metadata_schema(parts[2]))
        if method == "GET" and len(parts) == 2 and parts[0] in ("visitor", "account"):
            found = ds.visitor(parts[1]) if parts[0] == "visitor" else ds.account(parts[1])
            if found is None:
                raise _Reply(404, f"{parts[0]} not found")
            return 200, orjson.dumps(found)
        if method == "GET" and len(parts) == 3 and parts[0] == "visitor" and parts[2] == "history":
            return 200, orjson.dumps(_history(ds, parts[1], query))
        if method == "POST" and parts == ["aggregation"]:
            return 200, _aggregation(ds, max_rows, body)
        try:
            extra = extra_routes.api(ds, method, parts)
        except extra_routes.NotFound as exc:
            raise _Reply(404, str(exc)) from None
        if extra is not None:
            return 200, orjson.dumps(extra)
        raise _Reply(404, "not found")

    # --- control surface ------------------------------------------------------------------------
    def _control(self, method: str, path: str, query: dict, body: bytes) -> dict | list:
        state = self.state
        ds = state.dataset
        try:
            payload = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            raise _Reply(400, "control body must be JSON") from None
        route = path[len("/_sim/") :].strip("/")
        if route.startswith("truth/") and method == "GET":
            with state.lock:
                ds = state.dataset.snapshot()
            return _truth(ds, route[len("truth/") :], query)
        with state.lock:
            if route == "info" and method == "GET":
                return state.info()
            if route == "clock" and method == "POST":
                if "now_ms" in payload:
                    ds.set_now(int(payload["now_ms"]))
                else:
                    ms = int(payload.get("advance_ms", 0)) + int(float(payload.get("advance_hours", 0)) * 3_600_000)
                    ms += int(float(payload.get("advance_days", 0)) * 86_400_000)
                    ds.advance(ms)
                return state.info()
            if route == "retag" and method == "POST":
                ds.retag(payload["day"], payload.get("source", "pageEvents"))
                return {"retagged": payload["day"], "source": payload.get("source", "pageEvents")}
            if route in REWRITE_ROUTES and method == "POST":
                return _rewrite(ds, route, payload)
            if route == "metadata-field" and method == "POST":
                ds.add_metadata_field(payload["kind"], payload["name"], payload["type"])
                return {"added": payload}
            if route == "faults":
                if method == "POST":
                    try:
                        state.faults.add(payload.get("faults", [payload] if payload else []))
                    except (FaultSpecError, TypeError) as exc:
                        raise _Reply(400, str(exc)) from None
                elif method == "DELETE":
                    state.faults.clear()
                return {"pending": state.faults.pending(), "injected": state.faults.injected}
            if route == "config" and method == "POST":
                if "max_rows" in payload:
                    state.max_rows = int(payload["max_rows"])
                if "lag_ms" in payload:
                    ds.lag_ms = int(payload["lag_ms"])
                if "path_prefix" in payload:
                    state.path_prefix = str(payload["path_prefix"]).rstrip("/")
                return state.info()
            if route == "requests":
                if method == "DELETE":
                    state.requests.clear()
                return dict(state.requests)
        raise _Reply(404, f"unknown control route {method} {path}")

    # --- faults and sending ---------------------------------------------------------------------
    def _apply_fault_before(self, fault: Fault) -> bool:
        """Apply a fault that replaces the answer; True when the request is fully handled."""
        if fault.kind == "delay":
            time.sleep(fault.seconds)
            return False
        if fault.kind == "status":
            headers = {"Retry-After": _retry_after(fault.retry_after)} if fault.retry_after is not None else {}
            reason = fault.body or ("Too Many Requests" if fault.status == 429 else "")
            self._send_bytes(fault.status, reason.encode(), "text/plain", headers=headers)
            return True
        if fault.kind == "garbage":
            self._send_bytes(fault.status, fault.body.encode(), fault.content_type)
            return True
        return False  # cut and truncate act on the real body

    def _send_json(self, status: int, payload: object) -> None:
        self._send_bytes(status, orjson.dumps(payload), "application/json")

    def _send_bytes(
        self,
        status: int,
        body: bytes,
        content_type: str,
        fault: Fault | None = None,
        headers: dict | None = None,
    ) -> None:
        declared = len(body)
        if fault is not None and fault.kind == "truncate":
            body = body[: fault.after_bytes]
            declared = len(body)
        elif fault is not None and fault.kind == "cut":
            body = body[: fault.after_bytes]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(declared))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if fault is not None and fault.kind == "cut":
            self.send_header("Connection", "close")
        self.end_headers()
        if fault is not None and fault.kind == "drip":
            _drip(self.wfile, body, fault.bytes_per_second)
            return
        self.wfile.write(body)
        self.wfile.flush()
        if fault is not None and fault.kind == "cut":
            self.close_connection = True


def _drip(out, body: bytes, bytes_per_second: float) -> None:  # noqa: ANN001 - the handler's wfile
    """Send ``body`` at ``bytes_per_second``, ten writes a second; a client that closed ends it (BrokenPipe)."""
    step = max(1, int(bytes_per_second / 10))
    for start in range(0, len(body), step):
        out.write(body[start : start + step])
        out.flush()
        time.sleep(step / bytes_per_second)


def _list(ds: Dataset, kind: str, query: dict) -> list[dict]:
    rows = ds.entities(kind)
    if query.get("expand") != "*":
        rows = [r for r in rows if r.get("appId", ds.default_app_id) == ds.default_app_id]
    if query.get("id"):
        wanted = set(query["id"].split(","))
        rows = [r for r in rows if r.get("id") in wanted]
    return rows


def _history(ds: Dataset, visitor_id: str, query: dict) -> list[dict]:
    try:
        start = int(query.get("starttime", ""))
    except ValueError:
        raise _Reply(400, "starttime must be epoch milliseconds") from None
    if ds.visitor(visitor_id) is None:
        raise _Reply(404, "visitor not found")
    return ds.visitor_history(visitor_id, start)


def _aggregation(ds: Dataset, max_rows: int, body: bytes) -> bytes:
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _Reply(400, "Invalid JSON body") from None
    if not isinstance(request, dict):
        raise _Reply(400, "Invalid aggregation request: body must be a JSON object")
    ctx = EvalContext(now_ms=ds.now_ms, tz=ds.tz)
    try:
        result = run_aggregation(request, ds, ctx, max_rows)
        return _serialize(result.start_time, result.rows)
    except MemoryLimitExceeded as exc:
        raise _Reply(400, str(exc) or "Query exceeded memory limit") from None
    except AggregationError as exc:
        raise _Reply(400, str(exc)) from None


def _serialize(start_time: int | None, rows: Iterator[dict]) -> bytes:
    """The answer body, serialized a batch of rows at a time: the working set is bytes plus one batch
    of dicts, and the ceiling bounds it. Byte for byte what one ``orjson.dumps`` of the whole answer gives."""
    chunks = [b'{"startTime":', orjson.dumps(start_time), b',"results":[']
    while batch := list(islice(rows, SERIALIZE_BATCH)):
        if len(chunks) > 3:
            chunks.append(b",")
        chunks.append(orjson.dumps(batch)[1:-1])
    chunks.append(b"]}")
    return b"".join(chunks)


def _truth(ds: Dataset, table: str, query: dict) -> list[dict]:
    try:
        extra = extra_routes.truth(ds, table, query)
    except (extra_routes.NotFound, KeyError, ValueError) as exc:
        raise _Reply(400, f"bad truth request: {exc}") from None
    if extra is not None:
        return extra
    kwargs: dict = {"period": query.get("period", "day")}
    for key in ("start_ms", "end_ms"):
        if query.get(key):
            kwargs[key] = int(query[key])
    if query.get("app_ids"):
        kwargs["app_ids"] = [int(a) for a in query["app_ids"].split(",")]
    if "include_anonymous" in query:
        kwargs["include_anonymous"] = query["include_anonymous"].lower() in ("1", "true", "yes")
    try:
        return ds.truth(table, **kwargs)
    except (KeyError, ValueError) as exc:
        raise _Reply(400, f"bad truth request: {exc}") from None


REWRITE_ROUTES = ("late", "rule-edit", "delete-visitor", "delete-account")


def _rewrite(ds: Dataset, route: str, payload: dict) -> dict:
    """The control calls that rewrite the past (see simulator/data/rewrite_calls.py)."""
    try:
        if route == "late":
            return ds.late(payload["day"], int(payload.get("visitors", 20)))
        if route == "rule-edit":
            return ds.rule_edit(payload["kind"], payload.get("id"))
        if route == "delete-visitor":
            return ds.delete_visitor(payload["visitor_id"])
        return ds.delete_account(payload["account_id"])
    except KeyError as exc:
        raise _Reply(400, f"/_sim/{route} needs {exc}") from None
    except (TypeError, ValueError) as exc:
        raise _Reply(400, f"/_sim/{route}: {exc}") from None


def _retry_after(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def _route_name(path: str) -> str:
    """Collapse ids out of a path so the request log counts routes, not visitors."""
    parts = path[len(API) :].strip("/").split("/")
    if parts and parts[0] in ("visitor", "account") and len(parts) >= 2:
        parts[1] = "{id}"
    return "/" + "/".join(parts)


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: SimulatorState, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("BoundPendoHandler", (PendoHandler,), {"state": state})
        super().__init__((host, port), handler)
        self.state = state

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def serve_in_thread(state: SimulatorState, port: int = 0) -> tuple[SimulatorServer, threading.Thread]:
    """Start a simulator on 127.0.0.1 in a daemon thread (for in-process tests and the demo)."""
    server = SimulatorServer(state, port=port)
    thread = threading.Thread(target=server.serve_forever, name="pendo-simulator", daemon=True)
    thread.start()
    return server, thread
