"""Single-event sources: guideEvents and pollEvents.

A session may show one public guide of its app; the visitor then walks a plausible funnel (seen,
maybe a poll answer or a click, then advanced / dismissed / snoozed / timed out per step). A visitor in
the control group of a guide that has one gets ``guideNotSeen`` and nothing else. Events stay inside the
local day they were generated for, so a day can be rebuilt on its own.
"""

from __future__ import annotations

import random
import zlib

from .guides import CHOICES, CONTROL_SHARE, YES_NO, GuideSpec
from .sessions import Session
from .vocab import FREE_TEXT

NPS_WEIGHTS = (2, 1, 1, 2, 2, 4, 5, 8, 14, 14, 12)


def poll_answer(r: random.Random, poll_type: str) -> object:
    """Numbers for NPSRating (0..10), NumberScale (1..5) and PositiveNegative (1 / 0); free text is a string;
    MultipleChoice and YesNo answers are the chosen response id (a string such as "2")."""
    if poll_type == "NPSRating":
        return r.choices(range(11), weights=NPS_WEIGHTS)[0]
    if poll_type == "NumberScale":
        return r.choices(range(1, 6), weights=(1, 2, 3, 5, 4))[0]
    if poll_type == "PositiveNegative":
        return 1 if r.random() < 0.7 else 0
    if poll_type == "FreeForm":
        return r.choice(FREE_TEXT)
    if poll_type == "YesNo":
        return r.choice(list(YES_NO))
    return r.choice(list(CHOICES))


def in_control_group(visitor_id: str) -> bool:
    """Stable per visitor, so a visitor in the control group never sees the guide on any day."""
    return zlib.crc32(visitor_id.encode("utf-8")) % CONTROL_SHARE == 0


def day_guide_events(r: random.Random, sessions: list[Session], guides_by_app: dict[int, list[GuideSpec]],
                     share: float, day_end: int) -> tuple[list[dict], list[dict]]:
    guide_rows: list[dict] = []
    poll_rows: list[dict] = []
    for s in sessions:
        guides = guides_by_app.get(s.app)
        if not guides or r.random() >= share:
            continue
        g = r.choice(guides)
        _, a, b = s.spans[0]
        lang, country, region = s.person.locale
        base = {"accountId": s.account, "appId": s.app, "country": country, "guideId": g.id,
                "language": lang, "region": region, "remoteIp": s.ip, "serverName": s.server,
                "url": g.url, "userAgent": s.ua, "visitorId": s.person.id}
        walk_guide(r, g, base, a + int(r.random() * (b - a)), day_end, guide_rows, poll_rows)
    guide_rows.sort(key=lambda e: e["browserTime"])
    poll_rows.sort(key=lambda e: e["browserTime"])
    return guide_rows, poll_rows


def walk_guide(r: random.Random, g: GuideSpec, base: dict, t: int, day_end: int, guide_rows: list[dict],
               poll_rows: list[dict]) -> None:
    """One visitor's pass through one guide, starting at t: events appended to the two lists."""

    def emit(kind: str, step_id: str, at: int, **extra: object) -> None:
        guide_rows.append(base | {"browserTime": at, "destinationStepId": None,
                                  "eventId": f"{r.getrandbits(64):016x}", "guideSeenReason": None,
                                  "guideStepId": step_id, "guideTimestamp": at,
                                  "loadTime": 150 + int(r.random() * 900), "type": kind} | extra)

    if g.has_control_group and in_control_group(str(base["visitorId"])):
        if t < day_end:
            emit("guideNotSeen", g.steps[0].id, t, guideSeenReason="control")
        return
    for idx, step in enumerate(g.steps):
        if t >= day_end:
            return
        emit("guideSeen", step.id, t, guideSeenReason="auto" if idx == 0 else "continue")
        t += 2_000 + int(r.random() * 40_000)
        for poll in step.polls:
            if r.random() < 0.85 and t < day_end:
                poll_rows.append(base | {"browserTime": t, "guideStepId": step.id, "guideTimestamp": t,
                                         "pollId": poll.id, "pollResponse": poll_answer(r, poll.type),
                                         "pollType": poll.type, "type": "pollResponse"})
                t += 1_000 + int(r.random() * 20_000)
        if r.random() < 0.1 and t < day_end:
            emit("guideActivity", step.id, t)
            t += 500 + int(r.random() * 5_000)
        if t >= day_end:
            return
        x = r.random()
        if idx + 1 < len(g.steps) and x < 0.65:
            emit("guideAdvanced", step.id, t, destinationStepId=g.steps[idx + 1].id)
            t += 300 + int(r.random() * 2_000)
            continue
        if idx + 1 == len(g.steps) and x < 0.75:
            emit("guideAdvanced", step.id, t)  # advancing past the last step completes the guide
        elif x < 0.85:
            emit("guideDismissed", step.id, t)
        elif x < 0.93:
            emit("guideSnoozed", step.id, t)
        else:
            emit("guideTimeout", step.id, t)
        return
