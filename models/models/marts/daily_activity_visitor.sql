-- One row per visitor and calendar day, from the visitor's first active day to the end of the loaded range.
-- Days without activity are present with zeros (is_active = false). pages_viewed / features_clicked: distinct
-- pages and features used that day (dbt_pendo's visitor daily metrics); day_status from int_pendo__calendar.
with page_days as (
    select visitor_id, activity_date, cast(count(distinct page_id) as bigint) as pages_viewed
    from {{ ref('stg_pendo__page_events') }}
    group by visitor_id, activity_date
),

feature_days as (
    select visitor_id, activity_date, cast(count(distinct feature_id) as bigint) as features_clicked
    from {{ ref('stg_pendo__feature_events') }}
    group by visitor_id, activity_date
),

visitor_days as (
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
    calendar.day_status,
    people.account_id,
    coalesce(visitor_days.num_events, 0) as num_events,
    coalesce(visitor_days.num_minutes, 0) as num_minutes,
    coalesce(visitor_days.active_apps, 0) as active_apps,
    coalesce(page_days.pages_viewed, 0) as pages_viewed,
    coalesce(feature_days.features_clicked, 0) as features_clicked,
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
left join page_days
    on page_days.visitor_id = visitors.visitor_id
    and page_days.activity_date = calendar.date_day
left join feature_days
    on feature_days.visitor_id = visitors.visitor_id
    and feature_days.activity_date = calendar.date_day
