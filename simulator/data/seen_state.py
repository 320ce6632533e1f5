"""Guide and poll state per visitor: the aggregation sources guidesSeen(Ever) and pollsSeen(Ever).

Both are folded from the visible guide and poll events, so they always agree with guide_events/poll_events.

Origins (see the README):
- ``guidesSeen`` rows carry ``visitorId, guideId, guideStepId, firstSeenAt, lastSeenAt, lastAdvancedAutoAt,
  lastDismissedAutoAt, lastTimeoutAt, seenCount, lastState`` [3p: aggdsl spec sheet]. The grain here is one
  row per visitor and guide (``guideStepId`` is the step of the visitor's latest guide event); ``seenCount``
  counts guideSeen events; ``lastState`` is the latest of seen/advanced/dismissed/snoozed/timeout;
  ``lastAdvancedAutoAt`` / ``lastDismissedAutoAt`` are the latest advance / dismissal [inferred]. ``appId``
  is added so the source honours ``appId`` like every other source [inferred].
- ``pollsSeen`` rows carry ``visitorId, accountId, guideId, pollId, time, response``: Pendo's own NPS example
  selects ``time`` and ``response`` (pendo-io/pendo-ETL-API-calls) [code]; one row per visitor and poll with
  the latest answer [inferred from "Ever"].
- ``...Ever`` is lifetime state and needs no timeSeries (Pendo's NPS example runs ``pollsSeenEver`` without
  one) [code]; the plain source folds only the events inside its timeSeries [3p].
"""

from __future__ import annotations

from collections.abc import Iterable

GUIDE_SOURCES = ("guidesSeen", "guidesSeenEver")
POLL_SOURCES = ("pollsSeen", "pollsSeenEver")
SEEN_SOURCES = frozenset(GUIDE_SOURCES + POLL_SOURCES)
LIFETIME_SOURCES = frozenset({"guidesSeenEver", "pollsSeenEver"})
STATE_OF = {"guideSeen": "active", "guideAdvanced": "advanced", "guideDismissed": "dismissed",
            "guideSnoozed": "snoozed", "guideTimeout": "timeout"}


def guides_seen(events: Iterable[dict]) -> list[dict]:
    """Fold guide events (in browserTime order) into one row per (visitor, guide) that was seen."""
    state: dict[tuple[str, str], dict] = {}
    for e in events:
        key = (e["visitorId"], e["guideId"])
        row = state.get(key)
        if row is None:
            row = state[key] = {"visitorId": e["visitorId"], "appId": e["appId"], "guideId": e["guideId"],
                                "guideStepId": None, "firstSeenAt": None, "lastSeenAt": None,
                                "lastAdvancedAutoAt": None, "lastDismissedAutoAt": None, "lastTimeoutAt": None,
                                "seenCount": 0, "lastState": None}
        at, kind = e["browserTime"], e["type"]
        row["guideStepId"] = e["guideStepId"]
        if kind == "guideSeen":
            row["seenCount"] += 1
            row["firstSeenAt"] = at if row["firstSeenAt"] is None else row["firstSeenAt"]
            row["lastSeenAt"] = at
        elif kind == "guideAdvanced":
            row["lastAdvancedAutoAt"] = at
        elif kind == "guideDismissed":
            row["lastDismissedAutoAt"] = at
        elif kind == "guideTimeout":
            row["lastTimeoutAt"] = at
        if kind in STATE_OF:
            row["lastState"] = STATE_OF[kind]
    return [state[k] for k in sorted(state) if state[k]["seenCount"] > 0]


def polls_seen(events: Iterable[dict]) -> list[dict]:
    """The latest answer per (visitor, poll), from poll events in browserTime order."""
    latest: dict[tuple[str, str], dict] = {}
    for e in events:
        latest[(e["visitorId"], e["pollId"])] = {
            "visitorId": e["visitorId"], "accountId": e["accountId"], "appId": e["appId"], "guideId": e["guideId"],
            "guideStepId": e["guideStepId"], "pollId": e["pollId"], "time": e["browserTime"],
            "response": e["pollResponse"]}
    return [latest[k] for k in sorted(latest)]


def seen_rows(source: str, guide_events: Iterable[dict], poll_events: Iterable[dict]) -> list[dict]:
    return guides_seen(guide_events) if source in GUIDE_SOURCES else polls_seen(poll_events)
