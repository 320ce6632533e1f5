"""The simulator's HTTP surface behaves as Pendo's Engage API does (pendo-api.md §1-§3)."""

from __future__ import annotations

import socket

import orjson
import pytest
import requests

from simulator.testing import SimulatorProcess


def test_first_output_line_gives_base_url_and_key(shared_sim: SimulatorProcess) -> None:
    assert shared_sim.base_url.startswith("http://127.0.0.1:")
    assert len(shared_sim.integration_key) >= 16


def test_token_verify_accepts_the_key(shared_sim: SimulatorProcess) -> None:
    response = shared_sim.api("GET", "token/verify")
    assert response.status_code == 200
    assert response.json() == {"valid": True, "writeAccess": True}


@pytest.mark.parametrize("key", ["", "wrong-key"])
def test_a_wrong_or_missing_key_gets_403_with_an_empty_body(shared_sim: SimulatorProcess, key: str) -> None:
    for path in ("token/verify", "page", "metadata/schema/visitor"):
        response = shared_sim.api("GET", path, key=key)
        assert response.status_code == 403
        assert response.content == b""
    response = shared_sim.aggregate([{"source": {"apps": None}}], key=key)
    assert response.status_code == 403 and response.content == b""


@pytest.mark.parametrize("endpoint", ["page", "feature", "guide", "tracktype", "report"])
def test_lists_are_bare_arrays_and_expand_star_returns_every_app(shared_sim: SimulatorProcess, endpoint: str) -> None:
    info = shared_sim.info()
    everything = shared_sim.api("GET", endpoint, params={"expand": "*"}).json()
    default_only = shared_sim.api("GET", endpoint).json()
    assert isinstance(everything, list) and everything
    assert all(isinstance(item["id"], str) for item in everything)
    if endpoint != "report":
        assert {item["appId"] for item in everything} <= set(info["app_ids"])
        assert {item.get("appId") for item in default_only} == {info["default_app_id"]}
        assert len(default_only) < len(everything)
        assert all(isinstance(item["lastUpdatedAt"], int) for item in everything)


def test_lists_filter_by_comma_separated_ids(shared_sim: SimulatorProcess) -> None:
    pages = shared_sim.api("GET", "page", params={"expand": "*"}).json()
    wanted = [pages[0]["id"], pages[-1]["id"]]
    found = shared_sim.api("GET", "page", params={"expand": "*", "id": ",".join(wanted)}).json()
    assert sorted(p["id"] for p in found) == sorted(wanted)


def test_guides_carry_steps_and_one_nps_poll(shared_sim: SimulatorProcess) -> None:
    guides = shared_sim.api("GET", "guide", params={"expand": "*"}).json()
    assert all(g["steps"] and all(s["guideId"] == g["id"] for s in g["steps"]) for g in guides)
    polls = [p for g in guides for p in g.get("polls") or []]
    assert sum(1 for p in polls if p["attributes"]["type"] == "NPSRating") == 1


def test_metadata_schema_has_a_custom_field_of_every_pendo_type(shared_sim: SimulatorProcess) -> None:
    for kind in ("visitor", "account"):
        schema = shared_sim.api("GET", f"metadata/schema/{kind}").json()
        assert {"auto", "agent", "custom"} <= set(schema)
        types = {field["Type"] for field in schema["custom"].values()}
        assert {"string", "integer", "float", "boolean", "time", "list"} <= types


def test_single_visitor_and_account_or_404(shared_sim: SimulatorProcess) -> None:
    visitors = shared_sim.truth("visitors")
    tricky = next(v for v in visitors if '"' in v["visitorId"])
    found = shared_sim.api("GET", "visitor/" + requests.utils.quote(tricky["visitorId"], safe=""))
    assert found.status_code == 200 and found.json()["id"] == tricky["visitorId"]
    assert shared_sim.api("GET", "visitor/nobody-has-this-id").status_code == 404
    account = shared_sim.truth("accounts")[0]["accountId"]
    assert shared_sim.api("GET", "account/" + requests.utils.quote(account, safe="")).status_code == 200
    assert shared_sim.api("GET", "account/no-such-account").status_code == 404


def test_visitor_history_answers_a_day_of_items(shared_sim: SimulatorProcess) -> None:
    visitor = next(v for v in shared_sim.truth("visitors") if not v["visitorId"].startswith("_PENDO_T_"))
    start = shared_sim.info()["history_start_ms"]
    response = shared_sim.api("GET", f"visitor/{requests.utils.quote(visitor['visitorId'], safe='')}/history",
                              params={"starttime": start})
    assert response.status_code == 200 and isinstance(response.json(), list)
    assert shared_sim.api("GET", "visitor/x/history", params={"starttime": "yesterday"}).status_code in (400, 404)


def test_aggregation_answers_start_time_and_results(shared_sim: SimulatorProcess) -> None:
    info = shared_sim.info()
    response = shared_sim.aggregate([
        {"source": {"pageEvents": {"appId": 'expandAppIds("*")'},
                    "timeSeries": {"period": "dayRange", "first": info["history_start_ms"], "count": 3}}},
    ])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"startTime", "results"}
    assert body["startTime"] == info["history_start_ms"]
    assert body["results"] and all("day" in row and "pageId" in row for row in body["results"])


def test_aggregation_rows_equal_the_ground_truth(shared_sim: SimulatorProcess) -> None:
    info = shared_sim.info()
    start = info["history_start_ms"]
    end = start + 3 * 86_400_000
    body = shared_sim.aggregate([
        {"source": {"featureEvents": {"appId": 'expandAppIds("*")'},
                    "timeSeries": {"period": "dayRange", "first": start, "count": 3}}},
    ]).json()
    truth = shared_sim.truth("feature_events", period="day", start_ms=start, end_ms=end)
    key = lambda r: orjson.dumps(r, option=orjson.OPT_SORT_KEYS)  # noqa: E731
    assert sorted(map(key, body["results"])) == sorted(map(key, truth))


@pytest.mark.parametrize(
    ("pipeline", "reason"),
    [
        ([{"filter": "true"}], "source"),
        ([{"source": {"pageEvents": None}}], "timeSeries"),
        ([{"source": {"visitors": None}}, {"filter": "visitorId == "}], "parse"),
        ([{"source": {"nonsense": None}}], "nonsense"),
        ([{"source": {"visitors": None}}, {"frobnicate": 1}], "frobnicate"),
    ],
)
def test_bad_pipelines_get_400_with_a_plain_text_reason(
    shared_sim: SimulatorProcess, pipeline: list, reason: str
) -> None:
    response = shared_sim.aggregate(pipeline)
    assert response.status_code == 400
    assert reason.lower() in response.text.lower()


def test_a_non_json_body_gets_400(shared_sim: SimulatorProcess) -> None:
    response = shared_sim.api("POST", "aggregation", data=b"{not json")
    assert response.status_code == 400


def test_results_beyond_the_row_ceiling_exceed_the_memory_limit(make_sim) -> None:
    sim = make_sim(max_rows=50)
    info = sim.info()
    response = sim.aggregate([
        {"source": {"pageEvents": None, "timeSeries": {"period": "dayRange", "first": info["history_start_ms"],
                                                       "count": 30}}, }
    ])
    assert response.status_code == 400
    assert "Query exceeded memory limit" in response.text


def _free_port_is_loopback(url: str) -> bool:
    host = url.split("//")[1].split(":")[0]
    return socket.inet_aton(host)[0] == 127


def test_simulator_listens_on_loopback_only(shared_sim: SimulatorProcess) -> None:
    assert _free_port_is_loopback(shared_sim.base_url)
