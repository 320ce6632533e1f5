"""Visitor and account metadata: the schema and each served version of a record.

Values derive from a person's fixed random bits plus a hash of (person, version), so a version is
rebuilt in microseconds without a random generator and never depends on which other records were
built first. Groups and keys come out in alphabetical order, as Pendo's JSON does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .clock import DAY_MS
from .people import Person
from .seeding import seed_of
from .vocab import PARSED_UA, PLANS, REGIONS, ROLES, TAGS

TYPES = ("string", "integer", "float", "boolean", "time", "list")
KINDS = ("visitor", "account")
_AGENT = {"email": "string", "ipaddress": "string", "language": "string", "name": "string"}
FIELDS: dict[str, dict[str, dict[str, str]]] = {
    "visitor": {
        "auto": {"accountid": "string", "accountids": "list", "firstvisit": "time", "id": "string",
                 "idhash": "integer", "lastbrowsername": "string", "lastoperatingsystem": "string",
                 "lastservername": "string", "lastupdated": "time", "lastuseragent": "string",
                 "lastvisit": "time"},
        "agent": _AGENT,
        "custom": {"beta_user": "boolean", "logins": "integer", "role": "string", "score": "float",
                   "signup_date": "time", "tags": "list"},
        "pendo": {"donotprocess": "boolean"},
    },
    "account": {
        "auto": {"firstvisit": "time", "id": "string", "idhash": "integer", "lastupdated": "time",
                 "lastvisit": "time"},
        "agent": _AGENT,
        "custom": {"arr": "float", "is_trial": "boolean", "plan": "string", "regions": "list",
                   "renewal_date": "time", "seats": "integer"},
        "pendo": {"donotprocess": "boolean"},
    },
}
DISPLAY = {"id": "ID", "idhash": "ID Hash", "accountid": "Account ID", "accountids": "Account IDs",
           "firstvisit": "First Visit", "lastvisit": "Last Visit", "lastupdated": "Last Updated",
           "lastbrowsername": "Last Browser Name", "lastoperatingsystem": "Last Operating System",
           "lastservername": "Last Server Name", "lastuseragent": "Last User Agent",
           "ipaddress": "IP Address", "donotprocess": "Do Not Process", "arr": "ARR"}


@dataclass(frozen=True, slots=True)
class AddedField:
    """A custom field created at run time; every identified record has a value from ``at_ms`` on."""

    kind: str
    name: str
    type: str
    at_ms: int


def descriptor(name: str, type_: str) -> dict:
    return {"Type": type_, "DisplayName": DISPLAY.get(name, name.replace("_", " ").title()),
            "ElementType": "string" if type_ == "list" else "", "ElementFormat": "", "Dirty": False,
            "isHidden": False, "isDeleted": False, "isCalculated": False, "isPerApp": False,
            "isPromoted": False, "neverIndex": False}


def schema(kind: str, added: list[AddedField]) -> dict:
    groups = {g: dict(fields) for g, fields in FIELDS[kind].items()}
    for f in added:
        groups["custom"][f.name] = f.type
    return {g: {n: descriptor(n, t) for n, t in sorted(fields.items())} for g, fields in groups.items()}


def idhash(value: str) -> int:
    return seed_of("idhash", value) & 0xFFFFFFFF


@dataclass(slots=True)
class MetadataMaker:
    seed: int
    scale: str
    servers: dict[int, tuple[str, ...]]
    added: dict[str, list[AddedField]] = field(default_factory=lambda: {k: [] for k in KINDS})

    def record(self, kind: str, p: Person, cutoff: int) -> dict | None:
        """``{"id", "metadata"}`` as served when data up to ``cutoff`` is processed; None before creation."""
        v = p.version_at(cutoff)
        if v < 0:
            return None
        return {"id": p.id, "metadata": self.metadata(kind, p, v)}

    def metadata(self, kind: str, p: Person, v: int) -> dict:
        ts = p.updates[v]
        h = seed_of(self.seed, self.scale, kind, p.id, v)
        if kind == "visitor":
            ua, ip = p.devices[(h >> 24) % len(p.devices)]
            servers = self.servers[p.app_ids[0]]
            auto = {"firstvisit": p.created, "id": p.id, "idhash": idhash(p.id),
                    "lastbrowsername": PARSED_UA[ua]["name"], "lastoperatingsystem": PARSED_UA[ua]["os"],
                    "lastservername": servers[(h >> 28) % len(servers)], "lastupdated": ts,
                    "lastuseragent": ua, "lastvisit": ts}
            if p.anonymous:
                return {"auto": auto}
            auto |= {"accountid": p.account_ids[0], "accountids": list(p.account_ids)}
            custom = self._visitor_custom(p, v, h)
        else:
            ip = f"198.51.{p.base % 256}.{(p.base >> 8) % 254 + 1}"
            auto = {"firstvisit": p.created, "id": p.id, "idhash": idhash(p.id), "lastupdated": ts,
                    "lastvisit": ts}
            custom = self._account_custom(p, v, h)
        for f in self.added[kind]:
            custom[f.name] = added_value(self.seed, f, p)
            auto["lastupdated"] = max(auto["lastupdated"], f.at_ms)
        agent = {"email": p.email, "ipaddress": ip, "language": p.locale[0], "name": p.name}
        return {"agent": agent, "auto": dict(sorted(auto.items())), "custom": dict(sorted(custom.items())),
                "pendo": {"donotprocess": p.donotprocess}}

    @staticmethod
    def _visitor_custom(p: Person, v: int, h: int) -> dict:
        b = p.base
        role = ROLES[(h >> 16) % len(ROLES)] if (h >> 13) & 7 == 0 else ROLES[b % len(ROLES)]
        tags = [t for j, t in enumerate(TAGS) if (b >> (40 + j)) & 3 == 0]
        if (h >> 20) & 3 == 0:
            tags = [t for t in tags if t != "churn-risk"] if "churn-risk" in tags else tags + ["churn-risk"]
        return {"beta_user": bool((b >> 30) & 1) != (v >= 3 and bool((b >> 31) & 1)),
                "logins": (b >> 8) % 200 + 7 * v + (h & 7),
                "role": role, "score": round((b >> 16) % 7000 / 100 + (h >> 3) % 3000 / 100, 2),
                "signup_date": p.created - (b >> 34) % (30 * DAY_MS), "tags": tags}

    @staticmethod
    def _account_custom(p: Person, v: int, h: int) -> dict:
        b = p.base
        plan = min(len(PLANS) - 1, b % len(PLANS) + v // 4)
        seats = 5 + (b >> 8) % 200 + 2 * v
        regions = [r for j, r in enumerate(REGIONS) if (b >> (12 + j)) & 1] or [REGIONS[b % len(REGIONS)]]
        return {"arr": round(seats * (120.0, 300.0, 600.0, 1200.0)[plan] + (h >> 4) % 100 / 100, 2),
                "is_trial": plan == 0 and v < 2, "plan": PLANS[plan], "regions": regions,
                "renewal_date": p.created + 365 * DAY_MS * (1 + v // 6), "seats": seats}


def added_value(seed: int, f: AddedField, p: Person) -> object:
    h = seed_of(seed, f.kind, "field", f.name, p.id)
    return {"string": lambda: f"{f.name}-{h % 1000}", "integer": lambda: h % 10_000,
            "float": lambda: round(h % 1_000_000 / 100, 2), "boolean": lambda: bool(h & 1),
            "time": lambda: p.created - h % (365 * DAY_MS),
            "list": lambda: list(dict.fromkeys([TAGS[h % 6], TAGS[(h >> 8) % 6]]))}[f.type]()
