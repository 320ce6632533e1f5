"""Which fingerprints differ between Pendo and the warehouse, and what to re-extract for them (pure logic)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sources.pendo.fingerprints import Fingerprint, Key

# A bucket where more than this share of its entities differ is re-extracted whole: one query for the bucket
# reads about as many rows as the entity-filtered one, and a long filter costs Pendo more to evaluate.
WHOLE_BUCKET_SHARE = 0.5


def differing(pendo: Mapping[Key, Fingerprint], warehouse: Mapping[Key, Fingerprint]) -> set[Key]:
    """Keys whose fingerprints differ, or that exist on one side only."""
    return {key for key in pendo.keys() | warehouse.keys() if pendo.get(key) != warehouse.get(key)}


@dataclass(frozen=True)
class BucketRepair:
    """Re-extract one bucket: every entity (``entities`` None) or only the listed ones."""

    bucket_ms: int
    entities: tuple[str, ...] | None


def plan_repairs(
    keys: Iterable[Key],
    pendo: Mapping[Key, Fingerprint],
    warehouse: Mapping[Key, Fingerprint],
    *,
    by_entity: bool,
    whole_buckets: Iterable[int] = (),
    whole_share: float = WHOLE_BUCKET_SHARE,
) -> list[BucketRepair]:
    """One repair per bucket with a differing key, in bucket order.

    ``by_entity`` False (the ``events`` table, whose merge key is the bucket): always whole buckets. Otherwise
    only the differing entities, unless they are more than ``whole_share`` of the bucket's entities (both
    sides counted) or the bucket is in ``whole_buckets`` (Pendo could not fingerprint it). An empty entity id
    (a row Pendo sent without one) forces the whole bucket: a filter cannot select it.
    """
    per_bucket: dict[int, set[str]] = {}
    for bucket, entity in keys:
        per_bucket.setdefault(bucket, set()).add(entity)
    forced = set(whole_buckets)
    for bucket in forced:
        per_bucket.setdefault(bucket, set())
    all_entities: dict[int, set[str]] = {}
    for bucket, entity in list(pendo) + list(warehouse):
        if bucket in per_bucket:
            all_entities.setdefault(bucket, set()).add(entity)
    repairs = []
    for bucket in sorted(per_bucket):
        changed = per_bucket[bucket]
        known = all_entities.get(bucket, set())
        whole = (not by_entity or bucket in forced or "" in changed
                 or len(changed) > whole_share * max(len(known), 1))
        repairs.append(BucketRepair(bucket, None if whole else tuple(sorted(changed))))
    return repairs
