-- One row per poll response; numeric_response holds NPS-style answers 0..10, NULL for text and choices.
{%- set names = pendo_column_names(source('pendo', 'poll_events')) %}
with source as (
    select
        {{ pendo_surrogate_key(['loaded.visitor_id', 'loaded.guide_id', 'loaded.guide_step_id', 'loaded.poll_id',
                                'loaded.browser_time']) }} as poll_event_key,
        loaded.poll_id,
        loaded.guide_id,
        {{ pendo_col(names, 'guide_step_id', 'varchar', 'loaded') }} as guide_step_id,
        loaded.visitor_id,
        {{ pendo_col(names, 'account_id', 'varchar', 'loaded') }} as account_id,
        {{ pendo_col(names, 'app_id', 'bigint', 'loaded') }} as app_id,
        loaded.browser_time,
        {{ pendo_col(names, 'poll_type', 'varchar', 'loaded') }} as poll_type,
        cast({{ pendo_col(names, 'poll_response', 'varchar', 'loaded') }} as varchar) as poll_response,
        {{ pendo_col(names, '_dlt_load_id', 'varchar', 'loaded') }} as load_id
    from {{ pendo_source('poll_events', {'poll_id': 'varchar', 'guide_id': 'varchar', 'guide_step_id': 'varchar',
                                         'visitor_id': 'varchar', 'account_id': 'varchar', 'app_id': 'bigint',
                                         'browser_time': 'timestamptz', 'poll_type': 'varchar',
                                         'poll_response': 'varchar'}) }} as loaded
    where {{ pendo_not_deleted(names) }}
),

ranked as (
    select
        source.*,
        row_number() over (partition by poll_event_key order by load_id desc nulls last) as row_rank
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
