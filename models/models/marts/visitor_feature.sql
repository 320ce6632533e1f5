-- One row per visitor and feature they clicked (dbt_pendo's pendo__visitor_feature): first/last day, active
-- days, events and minutes over the loaded range to the as-of date.
select
    usage.visitor_id,
    usage.feature_id,
    max(features.name) as feature_name,
    min(usage.activity_date) as first_clicked_date,
    max(usage.activity_date) as last_clicked_date,
    cast(count(distinct usage.activity_date) as bigint) as active_days,
    cast(sum(usage.num_events) as bigint) as num_events,
    cast(sum(usage.num_minutes) as bigint) as num_minutes
from {{ ref('stg_pendo__feature_events') }} as usage
left join {{ ref('stg_pendo__features') }} as features on features.feature_id = usage.feature_id
where {{ pendo_visitor_filter('usage') }}
group by usage.visitor_id, usage.feature_id
