-- One row per visitor, app and day with activity: the rollups of that day summed over server, IP and agent.
select
    visitor_id,
    app_id,
    activity_date,
    cast(sum(num_events) as bigint) as num_events,
    cast(sum(num_minutes) as bigint) as num_minutes,
    min(first_event_at) as first_event_at,
    max(last_event_at) as last_event_at,
    is_anonymous
from {{ ref('stg_pendo__events') }}
where {{ pendo_visitor_filter() }}
group by visitor_id, app_id, activity_date, is_anonymous
