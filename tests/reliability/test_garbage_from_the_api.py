"""Garbage from Pendo - a non-JSON body, an HTML error page, a 200 of an unexpected shape - fails the run with one
line naming the endpoint, half-loads nothing, and the next run is exact.

Each case answers every matching request with the same garbage (``times`` large, ``max_attempts`` 2), starting
in the middle of an incremental run (``after``) against a loaded warehouse, so whatever was extracted before the
garbage is at stake too. Runs use a copy of the working directory, so nothing a failed run leaves behind reaches
the next case.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing import SimulatorProcess
from tests.conftest import SIM_NOW
from tests.reliability.harness import AGG, CORE, EXIT_FAILURE, KEY, Workspace, one_error_line

RESOURCES = ",".join(CORE)
JSON = "application/json"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Iterator[Workspace]:
    with SimulatorProcess(scale="tiny", now=SIM_NOW, key=KEY) as sim:
        ws = Workspace(sim, tmp_path_factory.mktemp("garbage"))
        ws.loader().run(list(CORE))
        yield ws


def _garbage(path: str, body: str | None = None, content_type: str = JSON, after: int = 0) -> dict:
    fault = {"kind": "garbage", "path": path, "times": 1000, "after": after}
    return fault | ({"body": body, "content_type": content_type} if body is not None else {})


# name -> (fault, what the error line must say besides the endpoint)
CASES = {
    "aggregation-html-error-page": (_garbage(AGG, after=2), "invalid JSON"),
    "aggregation-plain-text": (_garbage(AGG, "OK", "text/plain", after=2), "invalid JSON"),
    "aggregation-results-is-a-number": (_garbage(AGG, '{"results": 5}', after=2), "'results' is not an array"),
    "aggregation-bare-list": (_garbage(AGG, '[{"visitorId": "v1"}]', after=2), "got array"),
    "aggregation-results-of-numbers": (_garbage(AGG, '{"results": [1, 2, 3]}', after=2), "not an object"),
    "aggregation-without-results": (_garbage(AGG, '{"startTime": 1771390800000}', after=2), "no 'results'"),
    "aggregation-html-with-status-200-mid-stream": (_garbage(AGG, after=5), "invalid JSON"),
    "page-list-is-an-object": (_garbage("/api/v1/page", '{"results": []}'), "expected a JSON array"),
    "page-list-html": (_garbage("/api/v1/page"), "not JSON"),
    "account-schema-html": (_garbage("/api/v1/metadata/schema/account"), "not JSON"),
}
DEFAULT_CASES = ("aggregation-html-error-page", "page-list-is-an-object")


def _run_with_garbage(ws: Workspace, tmp_path: Path, fault: dict) -> tuple:
    pipelines = tmp_path / "pipelines"
    shutil.copytree(ws.pipelines, pipelines)
    before = (ws.snapshot(), ws.stored_state(), ws.completed_loads())
    ws.sim.inject(fault)
    try:
        result = ws.cli("run", "--resources", RESOURCES, pipelines_dir=pipelines, SOURCES__PENDO__MAX_ATTEMPTS="2")
    finally:
        ws.sim.clear_faults()
    after = (ws.snapshot(), ws.stored_state(), ws.completed_loads())
    return result, before, after, pipelines


@pytest.mark.parametrize("case", [pytest.param(c, marks=() if c in DEFAULT_CASES else pytest.mark.slow)
                                  for c in CASES])
def test_garbage_fails_the_run_with_one_line_naming_the_endpoint_and_changes_nothing(
    loaded: Workspace, tmp_path: Path, case: str
) -> None:
    fault, says = CASES[case]
    result, before, after, pipelines = _run_with_garbage(loaded, tmp_path, fault)
    assert result.returncode == EXIT_FAILURE, result.stderr[-2000:]
    line = one_error_line(result)
    assert fault["path"] in line and says in line, line
    assert after == before, "a run that met garbage changed the warehouse"

    rerun = loaded.cli("run", "--resources", RESOURCES, pipelines_dir=pipelines)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    loaded.assert_equals_truth(CORE)


def test_garbage_on_a_middle_visitor_page_loads_no_visitor_then_the_next_run_loads_them_all(ws: Workspace) -> None:
    """Keyset pages 1 and 2 arrived whole; page 3 is garbage: none of the three may reach the warehouse."""
    ws.sim.inject(_garbage(AGG, '{"results": 7}', after=2))
    failed = ws.cli("run", "--resources", "visitors", SOURCES__PENDO__PAGE_SIZE="5", SOURCES__PENDO__MAX_ATTEMPTS="2")
    assert failed.returncode == EXIT_FAILURE
    assert "visitors page 3" in one_error_line(failed)
    assert "visitors" not in ws.tables() and ws.completed_loads() == []
    ws.sim.clear_faults()
    assert ws.cli("run", "--resources", "visitors", SOURCES__PENDO__PAGE_SIZE="5").returncode == 0
    ws.assert_equals_truth(["visitors"])


SCHEMA = "/api/v1/metadata/schema/visitor"


@pytest.mark.parametrize(("path", "body"), [
    pytest.param(SCHEMA, "[]", id="visitor-schema-is-a-list"),
    pytest.param(SCHEMA, '"ok"', id="visitor-schema-is-a-string", marks=pytest.mark.slow),
    pytest.param("/api/v1/page", "[1, 2]", id="page-list-of-numbers", marks=pytest.mark.slow),
])
def test_a_get_body_of_the_wrong_shape_is_an_error_naming_the_endpoint(
    loaded: Workspace, tmp_path: Path, path: str, body: str
) -> None:
    """Finding F7 (fixed in 0274a83): a bare ValueError / a pyarrow error about table pages, no endpoint named."""
    result, before, after, _ = _run_with_garbage(loaded, tmp_path, _garbage(path, body))
    assert after == before
    assert result.returncode == EXIT_FAILURE
    assert path in one_error_line(result)


def test_a_visitor_schema_of_unexpected_shape_is_refused_instead_of_typing_the_warehouse(ws: Workspace) -> None:
    """Finding F8 (fixed in 0274a83): ``{"custom": 5}`` was read as "no fields"; the first load typed the visitors
    table from dlt's guesses (metadata_custom_signup_date BIGINT) and every later run failed for good with
    "Unimplemented type for cast (TIMESTAMP WITH TIME ZONE -> BIGINT)"."""
    ws.sim.inject(_garbage(SCHEMA, '{"custom": 5}'))
    odd = ws.cli("run", "--resources", "visitors", SOURCES__PENDO__MAX_ATTEMPTS="2")
    ws.sim.clear_faults()
    normal = ws.cli("run", "--resources", "visitors")
    assert normal.returncode == 0, normal.stderr.splitlines()[-1]  # the warehouse is not poisoned for good ...
    assert odd.returncode == EXIT_FAILURE and SCHEMA in one_error_line(odd)  # ... because the answer was refused
    ws.assert_equals_truth(["visitors"])
