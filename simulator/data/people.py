"""Visitors and accounts: who exists, when each record changes, and how each one behaves.

A person is a fixed list of update times (creation first) reaching from well before the served
history to 90 days past the initial clock. The record served at time T is the version of its latest
update <= T, so moving the clock forward reveals new people and new versions. A bulk import gives
many people one identical update time, which is what keyset paginators must survive.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate
from math import log

from .clock import DAY_MS, HOUR_MS
from .scales import ScaleSpec
from .seeding import rng
from .vocab import COMPANY_A, COMPANY_B, FIRST, LAST, LOCALES, USER_AGENTS, ip_address

TRICKY_VISITORS = ('vis "quoted" 7', "back\\slash", "über-ünïcödé", "日本-ユーザー", "first last (sales)")
TRICKY_ACCOUNTS = ('Acme "Quoted" Inc', "acct\\back slash", "Zürich Ünïcödé GmbH", "株式会社テスト")
ANON_PREFIX = "_PENDO_T_"
FUTURE_MS = 90 * DAY_MS


@dataclass(slots=True)
class Person:
    """One visitor or account; everything a served version needs that never changes."""

    id: str
    anonymous: bool
    donotprocess: bool
    updates: list[int]  # sorted; updates[0] is when the record first exists
    account_ids: tuple[str, ...]  # visitors: their accounts ("" never appears); accounts: ()
    app_ids: tuple[int, ...]
    devices: tuple[tuple[str, str], ...]  # (userAgent, remoteIp)
    propensity: float  # chance of being active on a given day
    name: str
    email: str
    locale: tuple[str, str, str]  # (language, country, region)
    base: int  # 64 random bits the custom metadata derives from

    @property
    def created(self) -> int:
        return self.updates[0]

    def version_at(self, t: int) -> int:
        """Index of the version served at time t, or -1 when the record does not exist yet."""
        return bisect_right(self.updates, t) - 1


@dataclass(slots=True)
class People:
    accounts: list[Person]
    visitors: list[Person]  # identified first, then anonymous
    by_id: dict[tuple[str, str], Person]  # ("visitor"|"account", id)
    bulk_visitor_ms: int
    bulk_account_ms: int


def update_times(r: random.Random, created: int, data_start: int, until: int, mean_gap: float) -> list[int]:
    """Creation, one update somewhere before the served history, then a Poisson stream of updates.

    Older updates would never be served (only the latest one <= the clock is), so they are skipped.
    """
    out = [created]
    if created < data_start - 1:
        out.append(r.randrange(created + 1, data_start))
    t = max(created, data_start)
    while True:
        t += int(-log(1.0 - r.random()) * mean_gap) + 1
        if t >= until:
            return out
        out.append(t)


def creation_time(r: random.Random, data_start: int, anchor: int, before: float = 0.95,
                  max_age_days: int = 365) -> int:
    """Most people predate the served history; a few join during it or in the week after ``anchor``
    (few enough that daily activity grows by only some percent over the history)."""
    if r.random() < before:
        return data_start - r.randrange(DAY_MS, max_age_days * DAY_MS)
    return r.randrange(data_start, anchor + 8 * DAY_MS)


def join_bulk(p: Person, bulk: int, anchor: int) -> None:
    """Make p part of the bulk import: its update at ``bulk`` stays its latest until 3 days past ``anchor``."""
    p.updates = sorted({u for u in p.updates if u < bulk or u > anchor + 3 * DAY_MS} | {bulk})


def build_accounts(r: random.Random, spec: ScaleSpec, data_start: int, anchor: int,
                   bulk: int) -> list[Person]:
    out = []
    for i in range(spec.accounts):
        company = f"{r.choice(COMPANY_A)} {r.choice(COMPANY_B)}"
        if i < len(TRICKY_ACCOUNTS):
            aid, created = TRICKY_ACCOUNTS[i], data_start - r.randrange(30 * DAY_MS, 300 * DAY_MS)
        else:
            aid = f"{company.lower().replace(' ', '-')}-{i:05d}" if i % 2 else f"acct-{i * 37 + 1000:06d}"
            created = creation_time(r, data_start, anchor)
        domain = company.lower().replace(" ", "") + ".example"
        updates = update_times(r, created, data_start, anchor + FUTURE_MS, 12 * DAY_MS)
        out.append(Person(aid, False, False, updates, (), (), (), 0.0, company, f"billing@{domain}",
                          r.choice(LOCALES), r.getrandbits(64)))
    pick_bulk(r, out, bulk, anchor, max(2, math.ceil(0.2 * len(out))))
    return out


def pick_bulk(r: random.Random, people: list[Person], bulk: int, anchor: int, n: int) -> None:
    candidates = [p for p in people if p.created < bulk - HOUR_MS]
    for p in r.sample(candidates, min(n, len(candidates))):
        join_bulk(p, bulk, anchor)


def devices(r: random.Random) -> tuple[tuple[str, str], ...]:
    first = (r.choice(USER_AGENTS)[0], ip_address(r))
    out = [first]
    for _ in range(r.choices((0, 1, 2), (6, 3, 1))[0]):
        # half of the extra devices are the same browser from another network: rows then differ
        # only in remoteIp
        ua = first[0] if r.random() < 0.5 else r.choice(USER_AGENTS)[0]
        out.append((ua, ip_address(r)))
    return tuple(out)


def build_visitors(r: random.Random, spec: ScaleSpec, accounts: list[Person], app_ids: list[int],
                   data_start: int, anchor: int, bulk: int) -> list[Person]:
    cum = list(accumulate(1.0 / (i + 1) ** 0.7 for i in range(len(accounts))))
    out = []
    for i in range(spec.visitors):
        first, last = r.choice(FIRST), r.choice(LAST)
        accs = r.choices(accounts, cum_weights=cum, k=2 if r.random() < 0.1 else 1)
        accs = list({a.id: a for a in accs}.values())
        tricky = i < len(TRICKY_VISITORS)
        if tricky:
            vid = TRICKY_VISITORS[i]
            accs = [accounts[i % min(len(TRICKY_ACCOUNTS), len(accounts))]]
            created = data_start - r.randrange(10 * DAY_MS, 200 * DAY_MS)
        else:
            vid = (f"{first.lower()}.{last.lower().replace(chr(39), '')}{i}@{accs[0].email.split('@')[1]}"
                   if i % 5 < 2 else str(100_000 + i * 7) if i % 5 < 4 else f"usr_{i:05x}{r.getrandbits(24):06x}")
            created = creation_time(r, data_start, anchor)
        created = max(created, max(a.created for a in accs) + r.randrange(60_000, 2 * DAY_MS))
        apps = [app_ids[0] if r.random() < 0.75 else r.choice(app_ids)]
        if r.random() < 0.3:
            apps = list(dict.fromkeys(apps + [r.choice(app_ids)]))
        propensity = min(1.0, spec.active_share / 0.4 * r.betavariate(2, 3)) if not tricky else 0.9
        email = f"{first.lower()}.{i}@{accs[0].email.split('@')[1]}"
        updates = update_times(r, created, data_start, anchor + FUTURE_MS, 10 * DAY_MS)
        out.append(Person(vid, False, not tricky and r.random() < 0.03, updates, tuple(a.id for a in accs),
                          tuple(apps), devices(r), propensity, f"{first} {last}", email, r.choice(LOCALES),
                          r.getrandbits(64)))
    if not any(p.donotprocess for p in out):
        out[-1].donotprocess = True
    pick_bulk(r, out, bulk, anchor, max(16, math.ceil(0.25 * len(out))))
    for _ in range(spec.anonymous):
        created = creation_time(r, data_start, anchor, 0.8, 60)
        out.append(Person(f"{ANON_PREFIX}{r.getrandbits(60):015x}", True, False,
                          update_times(r, created, data_start, anchor + FUTURE_MS, 20 * DAY_MS), (),
                          (app_ids[0],), devices(r)[:1], 0.5 * spec.active_share, "", "", r.choice(LOCALES),
                          r.getrandbits(64)))
    return out


def build_people(seed: int, scale: str, spec: ScaleSpec, app_ids: list[int], data_start: int,
                 anchor: int) -> People:
    """``anchor`` is the start of the initial local day: everything is placed relative to it and to
    ``data_start`` (the first served day), so a restart later the same day rebuilds the same people."""
    r = rng(seed, scale, data_start, anchor, "people")
    span = anchor - data_start
    bulk_acc = data_start + span // 4 - (data_start + span // 4) % 60_000
    bulk_vis = data_start + span * 2 // 5 - (data_start + span * 2 // 5) % 60_000
    accounts = build_accounts(r, spec, data_start, anchor, bulk_acc)
    visitors = build_visitors(r, spec, accounts, app_ids, data_start, anchor, bulk_vis)
    by_id = {("account", p.id): p for p in accounts} | {("visitor", p.id): p for p in visitors}
    return People(accounts, visitors, by_id, bulk_vis, bulk_acc)
