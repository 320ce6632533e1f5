"""Serving from cached days and outside the server lock changes no byte of any answer: concurrent
requests get what sequential ones get, and a control change is seen by the very next answer."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
import requests

from simulator.data import Dataset
from simulator.data.activity import Activity
from simulator.server import SERIALIZE_BATCH, SimulatorState, _serialize, serve_in_thread
from simulator.testing import SimulatorProcess

NOW = int(datetime(2026, 3, 20, 15, 30, tzinfo=UTC).timestamp() * 1000)
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
SOURCES = ("pageEvents", "featureEvents", "trackEvents", "events", "guideEvents", "pollEvents")


def body(source: str, period: str, first: int, count: int, params: dict | None = None) -> bytes:
    spec = {source: params or {"appId": 'expandAppIds("*")'},
            "timeSeries": {"period": f"{period}Range", "first": first, "count": count}}
    return orjson.dumps({"response": {"mimeType": "application/json"}, "request": {"pipeline": [{"source": spec}]}})


def post(http: requests.Session, sim: SimulatorProcess, payload: bytes) -> bytes:
    response = http.post(f"{sim.base_url}/api/v1/aggregation", data=payload, timeout=60,
                         headers={"x-pendo-integration-key": sim.integration_key, "content-type": "application/json"})
    assert response.status_code == 200, response.content[:200]
    return response.content


def requests_of(sim: SimulatorProcess) -> list[bytes]:
    """Every one-day window of every event source, some hour windows, people and an entity filter."""
    info = sim.info()
    start, days = info["history_start_ms"], (info["now_ms"] - info["history_start_ms"]) // DAY_MS + 1
    out = [body(s, "day", start + d * DAY_MS, 1) for s in SOURCES for d in range(days)]
    out += [body(s, "hour", info["now_ms"] - 30 * HOUR_MS, 30) for s in SOURCES[:4]]
    out.append(orjson.dumps({"response": {"mimeType": "application/json"},
                             "request": {"pipeline": [{"source": {"visitors": None}}]}}))
    return out


def test_batched_serialization_is_byte_identical_to_one_dump() -> None:
    for n in (0, 1, SERIALIZE_BATCH, SERIALIZE_BATCH + 1, 3 * SERIALIZE_BATCH - 1):
        rows = [{"visitorId": f"v\u00fc{i}", "n": i, "parameters": {}, "x": None} for i in range(n)]
        assert _serialize(17, iter(rows)) == orjson.dumps({"startTime": 17, "results": rows})
    assert _serialize(None, iter([])) == b'{"startTime":null,"results":[]}'


def test_concurrent_answers_are_byte_identical_to_sequential_uncached_ones(make_sim) -> None:
    reference = make_sim(scale="small", history_days=6, cache_mb=0)  # regenerates every answer
    subject = make_sim(scale="small", history_days=6)
    bodies = requests_of(reference)
    with requests.Session() as http:
        expected = [post(http, reference, b) for b in bodies]
    got: dict[int, list[bytes]] = {}

    def client(n: int) -> None:
        order = list(range(len(bodies)))
        random.Random(n).shuffle(order)  # clients ask for the same days at different moments
        with requests.Session() as http:
            answers = {i: post(http, subject, bodies[i]) for i in order}
        got[n] = [answers[i] for i in range(len(bodies))]

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(got) == [0, 1, 2, 3]
    assert all(answers == expected for answers in got.values())


def test_a_control_change_after_a_cached_answer_changes_the_next_answer(make_sim) -> None:
    sim = make_sim()
    info = sim.info()
    today, day_5 = info["now_ms"] - info["now_ms"] % DAY_MS, info["history_start_ms"] + 5 * DAY_MS
    with requests.Session() as http:
        def read(payload: bytes) -> list[dict]:
            first, again = post(http, sim, payload), post(http, sim, payload)  # the second is served from cache
            assert first == again
            return orjson.loads(first)["results"]

        def truth(table: str, first: int) -> list[dict]:
            return sim.truth(table, start_ms=first, end_ms=first + DAY_MS)

        before = read(body("events", "day", day_5, 1))
        sim.retag(_day_name(day_5 + 12 * HOUR_MS))
        after = read(body("events", "day", day_5, 1))
        assert after != before and after == truth("events", day_5)

        now_rows = read(body("pageEvents", "hour", today, 24))
        sim.advance(hours=3)
        later = read(body("pageEvents", "hour", today, 24))
        assert len(later) > len(now_rows) and later == sim.truth("page_events", period="hour", start_ms=today,
                                                                   end_ms=today + DAY_MS)
        sim.configure(lag_ms=0)
        assert len(read(body("pageEvents", "hour", today, 24))) > len(later)

        visitor = before[0]["visitorId"]
        assert "tier" not in sim.api("GET", f"visitor/{visitor}").json()["metadata"].get("custom", {})
        sim.add_metadata_field("visitor", "tier", "string")
        assert "tier" in sim.api("GET", f"visitor/{visitor}").json()["metadata"]["custom"]

        sim.configure(max_rows=1)
        response = http.post(f"{sim.base_url}/api/v1/aggregation", data=body("events", "day", day_5, 1),
                             headers={"x-pendo-integration-key": sim.integration_key}, timeout=60)
        assert response.status_code == 400 and b"memory limit" in response.content


def _day_name(ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ms / 1000))


def test_an_answer_in_flight_ignores_control_calls_and_does_not_block_them(monkeypatch) -> None:
    """A request paused halfway through its rows: clock, retag and config calls complete meanwhile
    (the lock is not held while answering), and the answer still reflects only the state it began in."""
    state = SimulatorState(dataset=Dataset(seed=1, scale="tiny", now_ms=NOW))
    server, _ = serve_in_thread(state)
    sim = SimulatorProcess()  # only its HTTP helpers: the server runs in this process
    sim.base_url, sim.integration_key = server.base_url, state.integration_key
    paused, release = threading.Event(), threading.Event()
    original = Activity.rollup_rows

    def pausing(self: Activity, *args: object) -> Iterator[dict]:
        for n, row in enumerate(original(self, *args)):  # type: ignore[arg-type]
            if n == 1 and not release.is_set():
                paused.set()
                release.wait(10)
            yield row

    try:
        info = sim.info()
        yesterday = info["now_ms"] - 24 * HOUR_MS
        query = body("pageEvents", "day", yesterday, 2)  # yesterday, then today
        with requests.Session() as http:
            expected = post(http, sim, query)
            monkeypatch.setattr(Activity, "rollup_rows", pausing)
            answer: list[bytes] = []
            request = threading.Thread(target=lambda: answer.append(post(requests.Session(), sim, query)), daemon=True)
            request.start()
            assert paused.wait(10)
            for route, payload in [("retag", {"day": _day_name(info["now_ms"])}), ("clock", {"advance_hours": 2}),
                                   ("config", {"lag_ms": 0})]:  # a short timeout: they must not wait for the answer
                http.post(f"{sim.base_url}/_sim/{route}", json=payload, timeout=3).raise_for_status()
            release.set()
            request.join(10)
            assert answer == [expected]
            after = orjson.loads(post(http, sim, query))["results"]
            assert after != orjson.loads(expected)["results"]
            assert after == sim.truth("page_events", start_ms=orjson.loads(expected)["startTime"],
                                      end_ms=sim.info()["now_ms"])
    finally:
        release.set()
        server.shutdown()
        server.server_close()
