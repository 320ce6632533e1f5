{#- All-time summary of one kind of tagged thing (page, feature), as dbt_pendo's pendo__page / pendo__feature:
    every object of the catalog plus any id seen only in events, over the loaded range to the as-of date. -#}
{% macro pendo_entity_summary(events_model, catalog_model, id_column, name_alias) -%}
with usage as (
    select *
    from {{ ref(events_model) }}
    where {{ pendo_visitor_filter() }}
),

activity as (
    select
        {{ id_column }},
        max(app_id) as event_app_id,
        min(activity_date) as first_used_date,
        max(activity_date) as last_used_date,
        cast(count(distinct activity_date) as bigint) as active_days,
{{ pendo_usage_totals() }}
    from usage
    group by {{ id_column }}
),

ids as (
    select {{ id_column }} from {{ ref(catalog_model) }}
    union
    select {{ id_column }} from activity
)

select
    ids.{{ id_column }},
    catalog.name as {{ name_alias }},
    coalesce(catalog.app_id, activity.event_app_id) as app_id,
    apps.app_name,
    catalog.group__name as product_area,
    coalesce(catalog.is_core_event, false) as is_core_event,
    catalog.created_at,
    activity.first_used_date,
    activity.last_used_date,
    coalesce(activity.active_days, 0) as active_days,
    coalesce(activity.visitors, 0) as visitors,
    coalesce(activity.accounts, 0) as accounts,
    coalesce(activity.num_events, 0) as num_events,
    coalesce(activity.num_minutes, 0) as num_minutes
from ids
left join {{ ref(catalog_model) }} as catalog on catalog.{{ id_column }} = ids.{{ id_column }}
left join activity on activity.{{ id_column }} = ids.{{ id_column }}
left join {{ ref('int_pendo__apps') }} as apps on apps.app_id = coalesce(catalog.app_id, activity.event_app_id)
{%- endmacro %}

{#- Rollup rows of one kind (page, feature) with the visitor's previous one (paths, as dbt_pendo's
    pendo__page_event / pendo__feature_event): the visitor's rollup rows in order of first event time. -#}
{% macro pendo_event_paths(events_model, catalog_model, id_column, name_alias) -%}
with usage as (
    select usage.*, catalog.name as {{ name_alias }}
    from {{ ref(events_model) }} as usage
    left join {{ ref(catalog_model) }} as catalog on catalog.{{ id_column }} = usage.{{ id_column }}
    where {{ pendo_visitor_filter('usage') }}
)

select
    event_row_key,
    visitor_id,
    account_id,
    app_id,
    {{ id_column }},
    {{ name_alias }},
    activity_date,
    first_event_at,
    last_event_at,
    num_events,
    num_minutes,
    lag({{ id_column }}) over (partition by visitor_id order by first_event_at, last_event_at, event_row_key)
        as previous_{{ id_column }},
    lag({{ name_alias }}) over (partition by visitor_id order by first_event_at, last_event_at, event_row_key)
        as previous_{{ name_alias }}
from usage
{%- endmacro %}
