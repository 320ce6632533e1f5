"""The integration key stays secret: never in output, logs, errors, traces, ``status``, or any file the tool writes;
it only ever travels over https (or to a loopback host); the secrets file is git-ignored.

The key is the distinctive :data:`~tests.reliability.harness.KEY`; every check is a plain substring search, so a
leak in any encoding we did not think of would still need to contain it verbatim to be caught - the DuckDB file is
therefore also searched through SQL (its pages may be compressed) and dlt's compressed state is decoded.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from tests.reliability.conftest import TwiceLoaded
from tests.reliability.harness import AGG, CORE, DATASET, EXIT_FAILURE, EXIT_USAGE, KEY, Workspace, one_error_line

REPO = Path(__file__).resolve().parents[2]


def files_containing_the_key(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes())


def warehouse_values_containing_the_key(ws: Workspace) -> list[str]:
    """Every text and JSON column of every table in every schema of the DuckDB file, and dlt's decoded state."""
    found = []
    with duckdb.connect(str(ws.db), read_only=True) as con:
        columns = con.sql("SELECT table_schema, table_name, column_name FROM information_schema.columns "
                          "WHERE data_type IN ('VARCHAR', 'JSON')").fetchall()
        for schema, table, column in columns:
            sql = f'SELECT COUNT(*) FROM "{schema}"."{table}" WHERE CAST("{column}" AS VARCHAR) LIKE $pattern'
            if con.execute(sql, {"pattern": f"%{KEY}%"}).fetchone()[0]:
                found.append(f"{schema}.{table}.{column}")
    if KEY in repr(ws.stored_state()):
        found.append(f"{DATASET}._dlt_pipeline_state (decoded)")
    return found


def test_no_command_prints_the_key(twice_loaded: TwiceLoaded) -> None:
    ws = twice_loaded.ws
    for args in (("status",), ("check",), ("backfill", "--start", "2026-03-10", "--end", "2026-03-12",
                                           "--resources", "page_events")):
        result = ws.cli(*args)
        assert result.returncode == 0, result.stderr[-2000:]
    assert len(ws.outputs) >= 10
    assert not [o for o in ws.outputs if KEY in o]


def test_retries_and_failures_never_print_the_key(ws: Workspace) -> None:
    ws.sim.inject({"kind": "status", "status": 503, "times": 2, "path": AGG},
                  {"kind": "status", "status": 429, "retry_after": 0, "times": 1000, "path": AGG, "after": 3})
    failed = ws.cli("run", "--resources", "pages,page_events", SOURCES__PENDO__MAX_ATTEMPTS="2")
    assert failed.returncode == EXIT_FAILURE and "retry" in failed.stderr  # retries were logged ...
    assert KEY not in failed.stdout + failed.stderr  # ... without the key
    assert not files_containing_the_key(ws.dir)


def test_no_file_the_tool_writes_holds_the_key(twice_loaded: TwiceLoaded) -> None:
    ws = twice_loaded.ws
    assert (ws.working_dir / "trace.pickle").exists()
    assert not files_containing_the_key(ws.pipelines), "the key is in the working directory"
    assert KEY.encode() not in ws.db.read_bytes(), "the key is in the DuckDB file"
    assert not warehouse_values_containing_the_key(ws), "the key is stored in the warehouse"


def test_the_dlt_trace_of_an_in_process_run_holds_no_key(ws: Workspace) -> None:
    """``Loader`` passes the key as an argument, not through dlt's config: it must not reach the trace either."""
    load = ws.loader()
    load.run(["pages", "visitors"])
    trace = load.pipeline().last_trace
    assert trace is not None
    assert KEY not in repr(trace) and KEY not in repr(trace.asdict())
    assert KEY.encode() not in (ws.working_dir / "trace.pickle").read_bytes()


@pytest.mark.parametrize("base_url", [
    "http://app.pendo.io", "http://127.0.0.1@attacker.example",
    *(pytest.param(u, marks=pytest.mark.slow) for u in ("http://10.0.0.8:8080", "http://localhost.example.com:8080",
                                                         "http://0.0.0.0:8080")),
])
def test_a_non_loopback_http_base_url_is_refused_before_the_key_is_sent(ws: Workspace, base_url: str) -> None:
    result = ws.cli("check", SOURCES__PENDO__BASE_URL=base_url)
    assert result.returncode == EXIT_USAGE
    line = one_error_line(result)
    assert "https" in line and "sources.pendo.base_url" in line


def test_a_loopback_http_base_url_is_accepted(ws: Workspace) -> None:
    localhost = ws.sim.base_url.replace("127.0.0.1", "localhost")
    assert ws.cli("check", SOURCES__PENDO__BASE_URL=localhost).returncode == 0


def test_the_secrets_file_is_git_ignored_and_never_tracked() -> None:
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30)

    assert git("check-ignore", "-q", ".dlt/secrets.toml").returncode == 0
    assert git("check-ignore", "-q", "pendo.duckdb").returncode == 0  # the warehouse holds customer data
    assert ".dlt/secrets.toml" not in git("ls-files", ".dlt").stdout.split()
    assert git("check-ignore", "-q", ".dlt/secrets.toml.example").returncode == 1  # the template is committed


# --- leaks this suite found (all fixed in 0274a83; these are their regression tests) -------------------------------
ECHO = f"400 Bad Request. Request headers: x-pendo-integration-key: {KEY}; accept: application/json"


def test_an_error_body_echoing_the_key_leaves_no_copy_on_disk(ws: Workspace) -> None:
    """Finding F9 (fixed in 0274a83): stderr was masked, but dlt pickled the exception into trace.pickle."""
    ws.sim.inject({"kind": "status", "status": 400, "body": ECHO, "times": 10, "path": AGG})
    failed = ws.cli("run", "--resources", "pages,page_events")
    assert failed.returncode == EXIT_FAILURE
    assert KEY not in failed.stdout + failed.stderr
    assert not files_containing_the_key(ws.dir)


def test_debug_output_masks_the_key_too(ws: Workspace) -> None:
    """Finding F10 (fixed in 0274a83): ``--debug`` printed the traceback with print_exc(), unmasked."""
    ws.sim.inject({"kind": "status", "status": 400, "body": ECHO, "times": 10, "path": AGG})
    failed = ws.cli("--debug", "run", "--resources", "page_events", check_leak=False)
    assert failed.returncode == EXIT_FAILURE and "Traceback" in failed.stderr
    assert KEY not in failed.stdout + failed.stderr


def test_a_key_with_a_line_break_is_refused_as_a_setting_without_echoing_it(ws: Workspace) -> None:
    """Finding F11 (fixed in 0274a83): requests' InvalidHeader error held repr(key) - escaped, so the mask missed
    it - on stderr and in trace.pickle."""
    wrapped = KEY[:16] + "\n" + KEY[16:]
    result = ws.cli("run", "--resources", "pages", SOURCES__PENDO__INTEGRATION_KEY=wrapped, check_leak=False)
    assert KEY[:16] not in result.stdout + result.stderr
    assert not files_containing_the_key(ws.dir) and KEY[:16].encode() not in b"".join(
        p.read_bytes() for p in ws.dir.rglob("*") if p.is_file())
    assert result.returncode == EXIT_USAGE and "sources.pendo.integration_key" in one_error_line(result)


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).seen.append(dict(self.headers))
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def redirect_to_another_host() -> Iterator[tuple[str, list[dict]]]:
    """A Pendo host that answers 307 to another host (localhost:<other port>), which records what it receives."""
    _Recorder.seen = []
    recorder = _serve(_Recorder)
    target = f"http://localhost:{recorder.server_address[1]}"

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(307)
            self.send_header("Location", target + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    redirector = _serve(Redirect)
    yield f"http://127.0.0.1:{redirector.server_address[1]}", _Recorder.seen
    for server in (redirector, recorder):
        server.shutdown()
        server.server_close()


def test_a_redirect_to_another_host_never_carries_the_key(ws: Workspace, redirect_to_another_host) -> None:
    """Finding F12 (fixed in 0274a83): requests re-sent the custom key header to the redirect target (it strips
    only Authorization), so a 30x from a Pendo host or proxy handed the key to another host, over http too."""
    base_url, seen = redirect_to_another_host
    ws.cli("check", SOURCES__PENDO__BASE_URL=base_url, SOURCES__PENDO__MAX_ATTEMPTS="1")
    ws.cli("run", "--resources", ",".join(CORE[:2]), SOURCES__PENDO__BASE_URL=base_url,
           SOURCES__PENDO__MAX_ATTEMPTS="1")
    assert not [h for h in seen if KEY in h.values()], "the key was sent to the redirect target"
