-- One row per poll response; numeric_response holds NPS-style answers 0..10, NULL for text and choices.
{%- set names = pendo_column_names(source('pendo', 'poll_events')) %}
with source as (
    select
        source.*,
        {{ pendo_surrogate_key(['visitor_id', 'guide_id', 'guide_step_id', 'poll_id', 'browser_time']) }}
            as poll_event_key
    from {{ source('pendo', 'poll_events') }} as source
    where {{ pendo_not_deleted(names) }}
),

ranked as (
    select
        source.*,
        row_number() over (
            partition by poll_event_key order by {{ pendo_latest_load_first(names, 'poll_event_key') }}
        ) as row_rank
    from source
)

select
    poll_event_key,
    poll_id,
    guide_id,
    guide_step_id,
    visitor_id,
    nullif(account_id, '') as account_id,
    app_id,
    {{ pendo_local_ts('browser_time') }} as responded_at,
    {{ pendo_local_date('browser_time') }} as response_date,
    poll_type,
    poll_response,
    case
        when poll_response in ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10')
            then cast(poll_response as integer)
    end as numeric_response,
    {{ pendo_is_anonymous('visitor_id') }} as is_anonymous
from ranked
where row_rank = 1
