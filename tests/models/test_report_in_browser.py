"""The report opened in headless Chromium: the rendered page names the apps, marks the partial day and shows the
sections for Pendo's scores (checked on the page's text, not its pixels)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.report import write_report
from tests.models import truth as T
from tests.models import truth_summaries as S
from tests.models.chromium import chromium, rendered, visible_text
from tests.models.conftest import Scenario
from tests.models.test_report import REPORT_SECTIONS


def test_rendered_report_names_apps_marks_the_partial_day_and_shows_the_scores(scenario: Scenario,
                                                                              tmp_path: Path) -> None:
    if chromium() is None:
        pytest.fail("chromium is not installed: `make test` installs Debian's chromium package")
    built = scenario.built["duckdb"]
    truth: T.Truth = scenario.truth
    page = write_report("duckdb", built.result.dataset, tmp_path / "report.html", duckdb_path=str(built.duckdb_path))
    shot = tmp_path / "report.png"
    text = visible_text(rendered(page, screenshot=shot))
    assert shot.is_file() and shot.stat().st_size > 10_000, "Chromium drew the page"
    for title in REPORT_SECTIONS:
        assert title in text, title
    for name in S.app_names(truth).values():
        assert name in text, name
    assert "All apps" in text
    assert f"partial day {truth.open_day}" in text, "the header names the partial day"
    assert "partial day" in text.replace(f"partial day {truth.open_day}", ""), "the charts label it"
    assert f"last complete day {truth.last_complete_day}" in text
    assert "App -323232" not in text, "apps are named, not numbered"
