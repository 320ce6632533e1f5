"""Who was active on a local day, when, and from which browser, network and server.

Sessions are the revision-independent skeleton of a day: page, feature, track and guide activity
are all drawn on top of them, so re-tagging pages re-rolls page rows while sessions (and with them
the (visitor, account, app, server, remoteIp, userAgent) contexts of ``events``) stay put.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

from .people import Person
from .vocab import ip_address

MINUTE_MS = 60_000
MIRROR_SHARE = 0.15  # active visitor-days that repeat a page from a second context


@dataclass(slots=True)
class Session:
    person: Person
    account: str  # "" for anonymous visitors
    app: int
    server: str
    ip: str
    ua: str
    spans: tuple[tuple[int, int, int], ...]  # (hour start, first activity, last activity), one per hour
    mirror_of: int  # index of the session this one repeats from another context, or -1


def hour_weights(hours_of_day: list[int]) -> list[float]:
    """Business-hours heavy, but no hour is empty: the night still has some traffic."""
    curve = [0.3, 0.25, 0.2, 0.2, 0.25, 0.35, 0.6, 1.0, 1.6, 2.2, 2.4, 2.3, 2.0, 2.2, 2.4, 2.3, 2.0,
             1.6, 1.2, 1.0, 0.9, 0.7, 0.5, 0.4]
    return list(accumulate(curve[h] for h in hours_of_day))


def window(rand: Callable[[], float], start: int, end: int) -> tuple[int, int, int]:
    """An active window inside one hour [start, end)."""
    first = start + int(rand() * (end - start - MINUTE_MS))
    last = min(end - 1, first + MINUTE_MS + int(rand() * min(40 * MINUTE_MS, end - first)))
    return start, first, last


def day_sessions(r: random.Random, pool: list[Person], hours: tuple[int, ...], day_end: int,
                 hours_of_day: list[int], servers: dict[int, tuple[str, ...]]) -> list[Session]:
    """Sessions of every visitor in ``pool`` (those existing before the day starts) for one day."""
    cum = hour_weights(hours_of_day)
    total = cum[-1]
    ends = hours[1:] + (day_end,)
    n_hours = len(hours)
    day_factor = 0.96 + 0.08 * r.random()
    out: list[Session] = []
    rand = r.random
    for p in pool:
        if rand() >= p.propensity * day_factor:
            continue
        x = rand()
        n = 1 + (x < 0.3) + (x < 0.08)
        used: set[int] = set()
        first_index = len(out)
        for _ in range(n):
            idx = bisect(cum, rand() * total)
            if idx in used:
                continue
            span_idx = [idx]
            if rand() < 0.2 and idx + 1 < n_hours and idx + 1 not in used:
                span_idx.append(idx + 1)
            used.update(span_idx)
            app = p.app_ids[int(rand() * len(p.app_ids))]
            ua, ip = p.devices[int(rand() * len(p.devices))]
            srv = servers[app]
            server = srv[0] if len(srv) == 1 or rand() < 0.85 else srv[int(rand() * len(srv))]
            account = p.account_ids[int(rand() * len(p.account_ids))] if p.account_ids else ""
            out.append(Session(p, account, app, server, ip, ua,
                               tuple(window(rand, hours[i], ends[i]) for i in span_idx), -1))
        if len(out) > first_index and rand() < MIRROR_SHARE:
            mirror = mirror_session(r, out[first_index], first_index, used, hours, ends, servers)
            if mirror is not None:
                out.append(mirror)
    return out


def mirror_session(r: random.Random, s: Session, index: int, used: set[int], hours: tuple[int, ...],
                   ends: tuple[int, ...], servers: dict[int, tuple[str, ...]]) -> Session | None:
    """The same visitor, account and app as ``s`` in another hour, from a context that differs from
    ``s`` only in server, remoteIp or userAgent; the page generator makes it repeat a page of ``s``."""
    free = [i for i in range(len(hours)) if i not in used]
    if not free:
        return None
    idx = r.choice(free)
    used.add(idx)
    others = [d for d in s.person.devices if d != (s.ua, s.ip)]
    ua, ip = r.choice(others) if others else (s.ua, s.ip)
    srv = [x for x in servers[s.app] if x != s.server]
    server = r.choice(srv) if srv and r.random() < 0.5 else s.server
    if (ua, ip, server) == (s.ua, s.ip, s.server):
        ip = ip_address(r)
    return Session(s.person, s.account, s.app, server, ip, ua, (window(r.random, hours[idx], ends[idx]),), index)
