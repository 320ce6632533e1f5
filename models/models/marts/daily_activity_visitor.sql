-- One row per visitor and calendar day, from the visitor's first active day to the end of the loaded range.
-- Days without activity are present with zeros (is_active = false).
with visitor_days as (
    select
        visitor_id,
        activity_date,
        cast(sum(num_events) as bigint) as num_events,
        cast(sum(num_minutes) as bigint) as num_minutes,
        cast(count(*) as bigint) as active_apps,
        max(case when is_anonymous then 1 else 0 end) as is_anonymous
    from {{ ref('int_pendo__visitor_app_days') }}
    group by visitor_id, activity_date
),

visitors as (
    select
        visitor_id,
        min(activity_date) as first_active_date,
        max(is_anonymous) as is_anonymous
    from visitor_days
    group by visitor_id
)

select
    visitors.visitor_id,
    calendar.date_day,
    people.account_id,
    coalesce(visitor_days.num_events, 0) as num_events,
    coalesce(visitor_days.num_minutes, 0) as num_minutes,
    coalesce(visitor_days.active_apps, 0) as active_apps,
    (coalesce(visitor_days.num_events, 0) > 0) as is_active,
    visitors.first_active_date,
    (calendar.date_day = visitors.first_active_date) as is_first_active_day,
    (visitors.is_anonymous = 1) as is_anonymous
from visitors
inner join {{ ref('int_pendo__calendar') }} as calendar
    on calendar.date_day >= visitors.first_active_date
left join visitor_days
    on visitor_days.visitor_id = visitors.visitor_id
    and visitor_days.activity_date = calendar.date_day
left join {{ ref('stg_pendo__visitors') }} as people
    on people.visitor_id = visitors.visitor_id
