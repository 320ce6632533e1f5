-- Lifetime guide state per visitor and guide (Pendo's guidesSeenEver), times in the subscription zone.
{%- set names = pendo_column_names(source('pendo', 'guides_seen')) %}
with ranked as (
    select
        loaded.*,
        row_number() over (
            partition by visitor_id, guide_id order by {{ pendo_latest_load_first(names, 'visitor_id') }}
        ) as row_rank
    from {{ pendo_source('guides_seen', {'visitor_id': 'varchar', 'guide_id': 'varchar',
                                         'guide_step_id': 'varchar', 'app_id': 'bigint',
                                         'first_seen_at': 'timestamptz', 'last_seen_at': 'timestamptz',
                                         'last_advanced_auto_at': 'timestamptz',
                                         'last_dismissed_auto_at': 'timestamptz',
                                         'last_timeout_at': 'timestamptz', 'seen_count': 'bigint',
                                         'last_state': 'varchar'}) }} as loaded
)

select
    visitor_id,
    guide_id,
    {{ pendo_col(names, 'guide_step_id') }} as guide_step_id,
    {{ pendo_col(names, 'app_id', 'bigint') }} as app_id,
    {{ pendo_local_ts(pendo_col(names, 'first_seen_at', 'timestamptz')) }} as first_seen_at,
    {{ pendo_local_ts(pendo_col(names, 'last_seen_at', 'timestamptz')) }} as last_seen_at,
    {{ pendo_local_ts(pendo_col(names, 'last_advanced_auto_at', 'timestamptz')) }} as last_advanced_at,
    {{ pendo_local_ts(pendo_col(names, 'last_dismissed_auto_at', 'timestamptz')) }} as last_dismissed_at,
    {{ pendo_local_ts(pendo_col(names, 'last_timeout_at', 'timestamptz')) }} as last_timeout_at,
    cast({{ pendo_col(names, 'seen_count', 'bigint') }} as bigint) as seen_count,
    {{ pendo_col(names, 'last_state') }} as last_state,
    {{ pendo_is_anonymous('visitor_id') }} as is_anonymous
from ranked
where row_rank = 1
