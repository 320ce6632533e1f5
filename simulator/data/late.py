"""Late activity: sessions Pendo processes days after they happened (tabs left open, offline devices,
mobile queues), so a past day's buckets grow long after the day ended.

A batch is what one ``/_sim/late`` call adds to one local day: ``visitors`` extra sessions of
identified visitors who existed before that day. The visitors and the hours are chosen when the call
is made and recorded in the batch, so the rows a batch produces depend on the batch alone and can be
rebuilt at any time, in any order, like every other generated day.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .guides import GuideSpec
from .people import Person
from .sessions import Session, window

# A batch must bring rows of every event source, however small it is: every late session has rows of
# each rollup source and shows a guide, a guide with polls where its app has one.
LATE_SHARE = 1.0


@dataclass(frozen=True, slots=True)
class LateBatch:
    day: str
    index: int  # 0 for the day's first batch, 1 for the next...
    visitor_ids: tuple[str, ...]
    n_hours: int  # its sessions use the day's first n_hours local hours (the ones over before the call's cutoff)


def choose_visitors(r: random.Random, pool: list[Person], deleted: frozenset[str], day_start: int,
                    n: int) -> tuple[str, ...]:
    """``n`` identified, tracked, undeleted visitors who existed before the day (all of them if fewer)."""
    eligible = [p.id for p in pool if not p.anonymous and p.created < day_start and p.id not in deleted]
    return tuple(r.sample(eligible, min(n, len(eligible))))


def usable_hours(hours: tuple[int, ...], day_end: int, cutoff: int) -> int:
    """How many of the day's hours ended before ``cutoff``, so that a batch is visible as soon as it
    arrives; a day whose first hour is not over yet gets every hour (its rows appear as the clock moves)."""
    ends = hours[1:] + (day_end,)
    return sum(1 for e in ends if e <= cutoff) or len(hours)


def late_sessions(r: random.Random, batch: LateBatch, people: dict[tuple[str, str], Person],
                  hours: tuple[int, ...], day_end: int, servers: dict[int, tuple[str, ...]]) -> list[Session]:
    """One session per chosen visitor in one or two consecutive usable hours, drawn like ``day_sessions``."""
    ends = hours[1:] + (day_end,)
    n = batch.n_hours
    out: list[Session] = []
    for vid in batch.visitor_ids:
        p = people[("visitor", vid)]
        idx = int(r.random() * n)
        span_idx = [idx] + ([idx + 1] if r.random() < 0.2 and idx + 1 < n else [])
        app = p.app_ids[int(r.random() * len(p.app_ids))]
        ua, ip = p.devices[int(r.random() * len(p.devices))]
        srv = servers[app]
        server = srv[0] if len(srv) == 1 or r.random() < 0.85 else srv[int(r.random() * len(srv))]
        account = p.account_ids[int(r.random() * len(p.account_ids))] if p.account_ids else ""
        out.append(Session(p, account, app, server, ip, ua,
                           tuple(window(r.random, hours[i], ends[i]) for i in span_idx), -1))
    return out


def poll_guides_first(guides_by_app: dict[int, list[GuideSpec]]) -> dict[int, list[GuideSpec]]:
    """Per app, the guides a late session shows: those with a poll, or all of them if none has one."""
    return {app: [g for g in guides if any(step.polls for step in g.steps)] or guides
            for app, guides in guides_by_app.items()}
