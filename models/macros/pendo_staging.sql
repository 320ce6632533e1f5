{#- Staging of the four rollup tables (events, page_events, feature_events, track_events).

    One row per Pendo rollup: visitor, account, app, day bucket, server, remote IP, user agent (and the
    page/feature/track type). A row loaded twice (an overlapping standalone load) is kept once, from the
    latest load. Tombstones (_pendo_deleted) are never data. Times are wall-clock in the subscription zone. -#}
{% macro pendo_stage_rollup(table, entity_column=none, extra_columns=[]) -%}
{%- set names = pendo_column_names(source('pendo', table)) -%}
{#- Tables loaded with period = "hour" have an `hour` bucket instead of `day`; both roll up to local days. -#}
{%- set bucket = 'hour' if ('hour' in names and 'day' not in names) else 'day' -%}
{#- tab_id (and the recording ids) split Pendo's rows like server or user agent do: part of a row's identity. -#}
{%- set identity = ['visitor_id', 'account_id', 'app_id', 'bucket_start', 'server', 'remote_ip', 'user_agent',
                    'tab_id', 'recording_id'] -%}
{#- Frustration counters Pendo sends on page/feature/all-events rollups; NULL where a table has none. -#}
{%- set signals = ['rage_click_count', 'dead_click_count', 'error_click_count', 'u_turn_count'] -%}
{%- if entity_column %}{% set identity = identity + [entity_column] %}{% endif -%}
{%- set empty = {'visitor_id': 'varchar', 'account_id': 'varchar', 'app_id': 'bigint', 'day': 'timestamptz',
                 'server': 'varchar', 'remote_ip': 'varchar', 'user_agent': 'varchar', 'num_events': 'bigint',
                 'num_minutes': 'bigint', 'first_time': 'timestamptz', 'last_time': 'timestamptz'} -%}
{%- if entity_column %}{% do empty.update({entity_column: 'varchar'}) %}{% endif -%}
with source as (
    select
        visitor_id,
        {{ pendo_col(names, 'account_id') }} as account_id,
        app_id,
        {{ bucket }} as bucket_start,
        {{ pendo_col(names, 'server') }} as server,
        {{ pendo_col(names, 'remote_ip') }} as remote_ip,
        {{ pendo_col(names, 'user_agent') }} as user_agent,
        {{ pendo_col(names, 'tab_id') }} as tab_id,
        {{ pendo_col(names, 'recording_id') }} as recording_id,
        {%- for column in signals %}
        {{ pendo_col(names, column, 'bigint') }} as {{ column }},
        {%- endfor %}
        {%- if entity_column %}
        {{ entity_column }},
        {%- endif %}
        {%- for column in extra_columns %}
        {{ pendo_col(names, column) }} as {{ column }},
        {%- endfor %}
        {{ pendo_col(names, 'first_time', 'timestamptz') }} as first_time,
        {{ pendo_col(names, 'last_time', 'timestamptz') }} as last_time,
        num_events,
        {{ pendo_col(names, 'num_minutes', 'bigint') }} as num_minutes
        {%- if '_dlt_load_id' in names %},
        _dlt_load_id
        {%- endif %}
    from {{ pendo_source(table, empty) }} as loaded
    where {{ pendo_not_deleted(names) }}
),

keyed as (
    select
        {{ pendo_surrogate_key(identity) }} as event_row_key,
        source.*
    from source
),

ranked as (
    select
        keyed.*,
        row_number() over (
            partition by event_row_key order by {{ pendo_latest_load_first(names, 'event_row_key') }}
        ) as row_rank
    from keyed
)

select
    event_row_key,
    visitor_id,
    nullif(account_id, '') as account_id,
    app_id,
    {%- if entity_column %}
    {{ entity_column }},
    {%- endif %}
    {{ pendo_local_date('bucket_start') }} as activity_date,
    {{ pendo_local_ts('bucket_start') }} as bucket_started_at,
    {{ pendo_local_ts('first_time') }} as first_event_at,
    {{ pendo_local_ts('last_time') }} as last_event_at,
    cast(num_events as bigint) as num_events,
    cast(coalesce(num_minutes, 0) as bigint) as num_minutes,
    server,
    remote_ip,
    user_agent,
    tab_id,
    recording_id,
    {%- for column in signals %}
    cast({{ column }} as bigint) as {{ column }},
    {%- endfor %}
    {%- for column in extra_columns %}
    {{ column }},
    {%- endfor %}
    {{ pendo_is_anonymous('visitor_id') }} as is_anonymous
from ranked
where row_rank = 1
    and {{ pendo_as_of_filter(pendo_local_date('bucket_start')) }}
{%- endmacro %}

{#- Staging of an object list (pages, features, track types, guides): the latest version of each id. -#}
{% macro pendo_stage_entity(table, id_alias, extra_columns={}) -%}
{%- set names = pendo_column_names(source('pendo', table)) -%}
{%- set empty = {'id': 'varchar', 'app_id': 'bigint', 'name': 'varchar', 'kind': 'varchar',
                 'created_at': 'timestamptz', 'last_updated_at': 'timestamptz'} -%}
{%- do empty.update(extra_columns) -%}
with ranked as (
    select
        loaded.*,
        row_number() over (
            partition by id order by {{ pendo_latest_load_first(names, pendo_col(names, 'last_updated_at', 'timestamptz')
                                                               ~ ' desc nulls last') }}
        ) as row_rank
    from {{ pendo_source(table, empty) }} as loaded
)

select
    id as {{ id_alias }},
    app_id,
    {{ pendo_col(names, 'name') }} as name,
    {{ pendo_col(names, 'kind') }} as kind,
    {%- for column, data_type in extra_columns.items() %}
    {%- if data_type == 'timestamptz' %}
    {{ pendo_local_ts(pendo_col(names, column, data_type)) }} as {{ column }},
    {%- else %}
    {{ pendo_col(names, column, data_type) }} as {{ column }},
    {%- endif %}
    {%- endfor %}
    {{ pendo_local_ts(pendo_col(names, 'created_at', 'timestamptz')) }} as created_at,
    {{ pendo_local_ts(pendo_col(names, 'last_updated_at', 'timestamptz')) }} as last_updated_at
from ranked
where row_rank = 1
{%- endmacro %}

{#- Visitors and accounts: the latest state per id, every metadata column typed as loaded (times local). -#}
{% macro pendo_stage_people(table, id_column, extra_select=[]) -%}
{%- set relation = source('pendo', table) -%}
{%- set metadata = pendo_columns_with_prefix(relation, 'metadata_') -%}
{%- set names = pendo_column_names(relation) -%}
{%- set has_lastupdated = 'metadata_auto_lastupdated' in names or not execute -%}
with ranked as (
    select
        source.*,
        row_number() over (
            partition by {{ id_column }}
            order by {% if has_lastupdated %}metadata_auto_lastupdated desc nulls last, {% endif -%}
                {{ pendo_latest_load_first(names, id_column) }}
        ) as row_rank
    from {{ relation }} as source
)

select
    {{ id_column }},
    {%- for expression in extra_select %}
    {{ expression }},
    {%- endfor %}
    {{ pendo_is_anonymous(id_column) }} as is_anonymous
    {%- for column in metadata %},
    {{ pendo_select_local(column) }}
    {%- endfor %}
from ranked
where row_rank = 1
{%- endmacro %}

{#- A usage mart per day for one kind of tagged thing (feature, page): one row per id and day with usage.
    Shares of the day (as dbt_pendo's daily metrics): share_of_day_events = this thing's events / all events of
    this kind in its app that day; share_of_day_visitors = its visitors / the app's active visitors that day. -#}
{% macro pendo_usage_mart(events_model, catalog_model, id_column, name_alias) -%}
with usage as (
    select *
    from {{ ref(events_model) }}
    where {{ pendo_visitor_filter() }}
),

daily as (
    select
        {{ id_column }},
        activity_date,
        max(app_id) as event_app_id,
{{ pendo_usage_totals() }}
    from usage
    group by {{ id_column }}, activity_date
),

app_day_visitors as (
    select app_id, activity_date, cast(count(distinct visitor_id) as bigint) as app_visitors
    from {{ ref('int_pendo__visitor_app_days') }}
    group by app_id, activity_date
),

first_use as (
    select {{ id_column }}, visitor_id, min(activity_date) as first_date
    from usage
    group by {{ id_column }}, visitor_id
),

first_use_daily as (
    select {{ id_column }}, first_date as activity_date, cast(count(*) as bigint) as first_time_visitors
    from first_use
    group by {{ id_column }}, first_date
)

select
    daily.{{ id_column }},
    catalog.name as {{ name_alias }},
    coalesce(catalog.app_id, daily.event_app_id) as app_id,
    apps.app_name,
    daily.activity_date as date_day,
    calendar.day_status,
    calendar.is_complete_day,
    daily.visitors,
    daily.accounts,
    daily.num_events,
    daily.num_minutes,
    coalesce(first_use_daily.first_time_visitors, 0) as first_time_visitors,
    daily.visitors - coalesce(first_use_daily.first_time_visitors, 0) as returning_visitors,
    cast(sum(coalesce(first_use_daily.first_time_visitors, 0)) over (
        partition by daily.{{ id_column }} order by daily.activity_date
        rows between unbounded preceding and current row
    ) as bigint) as cumulative_visitors,
    {{ pendo_ratio('daily.num_events', 'sum(daily.num_events) over (partition by daily.event_app_id, daily.activity_date)') }}
        as share_of_day_events,
    {{ pendo_ratio('daily.visitors', 'app_day_visitors.app_visitors') }} as share_of_day_visitors
from daily
left join first_use_daily
    on first_use_daily.{{ id_column }} = daily.{{ id_column }}
    and first_use_daily.activity_date = daily.activity_date
left join {{ ref(catalog_model) }} as catalog
    on catalog.{{ id_column }} = daily.{{ id_column }}
left join app_day_visitors
    on app_day_visitors.app_id = daily.event_app_id
    and app_day_visitors.activity_date = daily.activity_date
left join {{ ref('int_pendo__apps') }} as apps
    on apps.app_id = coalesce(catalog.app_id, daily.event_app_id)
left join {{ ref('int_pendo__calendar') }} as calendar
    on calendar.date_day = daily.activity_date
{%- endmacro %}
