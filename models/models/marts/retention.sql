-- Weekly cohort retention: visitors grouped by the ISO week (Monday start, subscription time zone) of their first
-- activity in the loaded range; for each later week, how many of them were active and what share that is.
-- Week 0 is the cohort's own week (retention 1.0). Weeks run to the last loaded week; partial weeks count as is.
with active_weeks as (
    select distinct
        visitor_id,
        {{ pendo_week_start('activity_date') }} as week_start
    from {{ ref('int_pendo__visitor_app_days') }}
),

cohorts as (
    select visitor_id, min(week_start) as cohort_week
    from active_weeks
    group by visitor_id
),

cohort_sizes as (
    select cohort_week, count(*) as cohort_visitors
    from cohorts
    group by cohort_week
),

weeks as (
    select distinct week_start from {{ ref('int_pendo__calendar') }}
),

grid as (
    select
        cohort_sizes.cohort_week,
        weeks.week_start,
        cohort_sizes.cohort_visitors
    from cohort_sizes
    inner join weeks
        on weeks.week_start >= cohort_sizes.cohort_week
),

activity as (
    select
        cohorts.cohort_week,
        active_weeks.week_start,
        count(*) as active_visitors
    from cohorts
    inner join active_weeks
        on active_weeks.visitor_id = cohorts.visitor_id
    group by cohorts.cohort_week, active_weeks.week_start
)

select
    grid.cohort_week,
    cast({{ pendo_days_between('grid.cohort_week', 'grid.week_start') }} / 7 as integer) as week_number,
    grid.week_start,
    cast(grid.cohort_visitors as bigint) as cohort_visitors,
    cast(coalesce(activity.active_visitors, 0) as bigint) as active_visitors,
    {{ pendo_ratio('coalesce(activity.active_visitors, 0)', 'grid.cohort_visitors') }} as retention_rate
from grid
left join activity
    on activity.cohort_week = grid.cohort_week
    and activity.week_start = grid.week_start
