"""Stable per-unit random streams.

Every unit of work (a day of page events, one visitor version, ...) gets its own generator seeded
from a hash of its name, so any unit can be rebuilt on demand, in any order, without building the
others. Python's built-in ``hash`` is salted per process, hence blake2b.
"""

from __future__ import annotations

import hashlib
import random


def seed_of(*parts: object) -> int:
    """A 64-bit seed that depends only on the repr of ``parts``."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rng(*parts: object) -> random.Random:
    """A generator private to the unit of work named by ``parts``."""
    return random.Random(seed_of(*parts))


_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def pendo_id(r: random.Random, length: int = 27) -> str:
    """An id shaped like Pendo's URL-safe base64 object ids (e.g. ``bO3SFSRpO8QkKTYBbpVDFAuB-aA``)."""
    return "".join(r.choices(_ID_ALPHABET, k=length))
