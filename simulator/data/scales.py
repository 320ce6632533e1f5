"""Size presets: how big the simulated subscription is at each scale."""

from __future__ import annotations

from dataclasses import dataclass

SCALES = ("tiny", "small", "medium", "large", "guide_heavy")


@dataclass(frozen=True, slots=True)
class ScaleSpec:
    """Entity counts plus the knobs that set how many activity rows a day produces."""

    apps: int
    accounts: int
    visitors: int
    anonymous: int
    pages: int
    features: int
    track_types: int
    guides: int
    reports: int
    active_share: float  # mean chance that an existing visitor is active on a given day
    pages_per_hour: float  # mean number of distinct pages a visitor opens in one session hour
    guide_share: float  # chance that a session shows a guide


SPECS: dict[str, ScaleSpec] = {
    "tiny": ScaleSpec(2, 6, 40, 5, 8, 10, 3, 3, 2, 0.40, 2.2, 0.35),
    "small": ScaleSpec(2, 40, 400, 50, 25, 50, 5, 6, 4, 0.50, 3.4, 0.12),
    "medium": ScaleSpec(3, 300, 3000, 300, 60, 120, 10, 12, 6, 0.55, 4.2, 0.06),
    "large": ScaleSpec(3, 1500, 15000, 1500, 120, 250, 15, 20, 8, 0.55, 3.3, 0.03),
    # A subscription that uses guides a lot, like one seen in the field: ~2.8M event rows in 31 days, ~395k of
    # them guide events (ten times large's share), so the benchmark sees single events dominate. This scale: 2.98M
    # event rows in the 31 days before 2026-03-20, 384,676 guide events.
    "guide_heavy": ScaleSpec(3, 2100, 21000, 2100, 120, 250, 15, 20, 8, 0.55, 3.3, 0.29),
}
