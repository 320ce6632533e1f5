-- One row per guide event; an event loaded twice is kept once (latest load).
{%- set names = pendo_column_names(source('pendo', 'guide_events')) %}
with source as (
    select
        source.*,
        coalesce(
            event_id,
            {{ pendo_surrogate_key(['visitor_id', 'guide_id', 'guide_step_id', 'type', 'browser_time']) }}
        ) as guide_event_key
    from {{ source('pendo', 'guide_events') }} as source
    where {{ pendo_not_deleted(names) }}
),

ranked as (
    select
        source.*,
        row_number() over (
            partition by guide_event_key order by {{ pendo_latest_load_first(names, 'guide_event_key') }}
        ) as row_rank
    from source
)

select
    guide_event_key,
    type as guide_event_type,
    guide_id,
    guide_step_id,
    destination_step_id,
    visitor_id,
    nullif(account_id, '') as account_id,
    app_id,
    {{ pendo_local_ts('browser_time') }} as occurred_at,
    {{ pendo_local_date('browser_time') }} as event_date,
    guide_seen_reason,
    url,
    country,
    region,
    language,
    {{ pendo_is_anonymous('visitor_id') }} as is_anonymous
from ranked
where row_rank = 1
