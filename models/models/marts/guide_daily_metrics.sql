-- One row per guide and day it was seen (dbt_pendo's pendo__guide_daily_metrics): distinct visitors who saw it,
-- first-time viewers (first day in the loaded range they saw it) and returning ones, seen events, visitors who
-- advanced or dismissed it that day.
with guide_events as (
    select * from {{ ref('stg_pendo__guide_events') }} where {{ pendo_visitor_filter() }}
),

first_seen as (
    select guide_id, visitor_id, min(event_date) as first_date
    from guide_events
    where guide_event_type = 'guideSeen'
    group by guide_id, visitor_id
),

daily as (
    select
        guide_events.guide_id,
        guide_events.event_date,
        cast(count(distinct case when guide_event_type = 'guideSeen' then guide_events.visitor_id end) as bigint) as seen_visitors,
        cast(count(case when guide_event_type = 'guideSeen' then 1 end) as bigint) as seen_events,
        cast(count(distinct case when guide_event_type = 'guideSeen' and first_seen.first_date = guide_events.event_date
                            then guide_events.visitor_id end) as bigint) as first_time_viewers,
        cast(count(distinct case when guide_event_type = 'guideAdvanced' then guide_events.visitor_id end) as bigint) as advanced_visitors,
        cast(count(distinct case when guide_event_type = 'guideDismissed' then guide_events.visitor_id end) as bigint) as dismissed_visitors
    from guide_events
    left join first_seen
        on first_seen.guide_id = guide_events.guide_id
        and first_seen.visitor_id = guide_events.visitor_id
    group by guide_events.guide_id, guide_events.event_date
)

select
    daily.guide_id,
    guides.name as guide_name,
    daily.event_date as date_day,
    calendar.day_status,
    daily.seen_visitors,
    daily.seen_events,
    daily.first_time_viewers,
    daily.seen_visitors - daily.first_time_viewers as returning_viewers,
    daily.advanced_visitors,
    daily.dismissed_visitors
from daily
left join {{ ref('stg_pendo__guides') }} as guides on guides.guide_id = daily.guide_id
left join {{ ref('int_pendo__calendar') }} as calendar on calendar.date_day = daily.event_date
where daily.seen_visitors > 0
