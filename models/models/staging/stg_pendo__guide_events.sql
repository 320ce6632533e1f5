-- One row per guide event; an event loaded twice is kept once (latest load).
{%- set names = pendo_column_names(source('pendo', 'guide_events')) %}
{%- set optional = ['destination_step_id', 'guide_seen_reason', 'url', 'country', 'region', 'language'] %}
with source as (
    select
        coalesce(
            {{ pendo_col(names, 'event_id', 'varchar', 'loaded') }},
            {{ pendo_surrogate_key(['loaded.visitor_id', 'loaded.guide_id', 'loaded.guide_step_id', 'loaded.type',
                                    'loaded.browser_time']) }}
        ) as guide_event_key,
        loaded.type as guide_event_type,
        loaded.guide_id,
        loaded.guide_step_id,
        loaded.visitor_id,
        {{ pendo_col(names, 'account_id', 'varchar', 'loaded') }} as account_id,
        {{ pendo_col(names, 'app_id', 'bigint', 'loaded') }} as app_id,
        loaded.browser_time,
        {%- for column in optional %}
        {{ pendo_col(names, column, 'varchar', 'loaded') }} as {{ column }},
        {%- endfor %}
        {{ pendo_col(names, '_dlt_load_id', 'varchar', 'loaded') }} as load_id
    from {{ pendo_source('guide_events', {'event_id': 'varchar', 'type': 'varchar', 'guide_id': 'varchar',
                                          'guide_step_id': 'varchar', 'visitor_id': 'varchar',
                                          'account_id': 'varchar', 'app_id': 'bigint',
                                          'browser_time': 'timestamptz'}) }} as loaded
    where {{ pendo_not_deleted(names) }}
),

ranked as (
    select
        source.*,
        row_number() over (partition by guide_event_key order by load_id desc nulls last) as row_rank
    from source
)

select
    guide_event_key,
    guide_event_type,
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
    and {{ pendo_as_of_filter(pendo_local_date('browser_time')) }}
