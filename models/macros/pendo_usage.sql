{#- Pieces the usage marts share, so one measure means the same in each of them. -#}

{#- The usage totals of a group of rollup rows (a thing's day, a thing's whole history): distinct visitors and
    accounts, events and minutes. -#}
{% macro pendo_usage_totals() -%}
        cast(count(distinct visitor_id) as bigint) as visitors,
        cast(count(distinct account_id) as bigint) as accounts,
        cast(sum(num_events) as bigint) as num_events,
        cast(sum(num_minutes) as bigint) as num_minutes
{%- endmacro %}

{#- How many distinct `counted` each `by` has in `relation` (pages a visitor viewed, features an account used). -#}
{% macro pendo_distinct_count(relation, by, counted, alias, where=none) -%}
    select {{ by }}, cast(count(distinct {{ counted }}) as bigint) as {{ alias }}
    from {{ relation }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
    group by {{ by }}
{%- endmacro %}

{#- Every active day of every visitor per app (app_scope = the app id as text) and once more for all apps together
    (app_scope 'all'), so a visitor of two apps counts once in 'all'. -#}
{% macro pendo_visitor_days_by_app_scope() -%}
    select distinct visitor_id, cast(app_id as varchar) as app_scope, activity_date
    from {{ ref('int_pendo__visitor_app_days') }}
    union all
    select distinct visitor_id, 'all' as app_scope, activity_date
    from {{ ref('int_pendo__visitor_app_days') }}
{%- endmacro %}

{#- Rollup rows of one kind of tagged thing (page, feature) on things that belong to a product area, with the
    area's id: `columns` are the rollup columns kept besides area, day, visitor, account and the thing's id. -#}
{% macro pendo_product_area_rows(events_model, catalog_model, id_column, columns) -%}
    select events.product_area_id, events.activity_date, events.visitor_id, events.account_id,
           events.{{ id_column }}{% for column in columns %}, events.{{ column }}{% endfor %}
    from (
        select stg.*, catalog.product_area_id
        from {{ ref(events_model) }} as stg
        inner join {{ ref(catalog_model) }} as catalog on catalog.{{ id_column }} = stg.{{ id_column }}
    ) as events
    where events.product_area_id is not null and {{ pendo_visitor_filter('events') }}
{%- endmacro %}
