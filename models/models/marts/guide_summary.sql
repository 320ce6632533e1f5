-- One row per guide (dbt_pendo's pendo__guide): distinct visitors who saw, advanced, dismissed it, completed it
-- (advanced past its last step) or were held back in its control group (guideNotSeen), first/last seen day.
with guide_events as (
    select * from {{ ref('stg_pendo__guide_events') }} where {{ pendo_visitor_filter() }}
),

counted as (
    select
        guide_id,
        min(case when guide_event_type = 'guideSeen' then event_date end) as first_seen_date,
        max(case when guide_event_type = 'guideSeen' then event_date end) as last_seen_date,
        cast(count(distinct case when guide_event_type = 'guideSeen' then visitor_id end) as bigint) as seen_visitors,
        cast(count(case when guide_event_type = 'guideSeen' then 1 end) as bigint) as seen_events,
        cast(count(distinct case when guide_event_type = 'guideAdvanced' then visitor_id end) as bigint) as advanced_visitors,
        cast(count(distinct case when guide_event_type = 'guideDismissed' then visitor_id end) as bigint) as dismissed_visitors,
        cast(count(distinct case when guide_event_type = 'guideNotSeen' then visitor_id end) as bigint) as control_visitors
    from guide_events
    group by guide_id
),

completed as (
    select guide_id, max(completed_visitors) as completed_visitors
    from {{ ref('guide_funnel') }}
    group by guide_id
),

ids as (
    select guide_id from {{ ref('stg_pendo__guides') }}
    union
    select guide_id from counted
)

select
    ids.guide_id,
    guides.name as guide_name,
    guides.app_id,
    apps.app_name,
    guides.state,
    counted.first_seen_date,
    counted.last_seen_date,
    coalesce(counted.seen_visitors, 0) as seen_visitors,
    coalesce(counted.seen_events, 0) as seen_events,
    coalesce(counted.advanced_visitors, 0) as advanced_visitors,
    coalesce(counted.dismissed_visitors, 0) as dismissed_visitors,
    coalesce(completed.completed_visitors, 0) as completed_visitors,
    coalesce(counted.control_visitors, 0) as control_visitors
from ids
left join {{ ref('stg_pendo__guides') }} as guides on guides.guide_id = ids.guide_id
left join counted on counted.guide_id = ids.guide_id
left join completed on completed.guide_id = ids.guide_id
left join {{ ref('int_pendo__apps') }} as apps on apps.app_id = guides.app_id
