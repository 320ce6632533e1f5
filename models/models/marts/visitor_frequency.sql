-- One row per visitor and calendar month they were active: active days (all apps together) and the frequency
-- class of Pendo's Looker blocks (pendo-io/pendo-Looker-Usage): 13 or more active days 'daily', 5-12 'weekly',
-- fewer 'monthly'. month_is_complete is false for a month that runs past the last complete day or starts
-- before the loaded range.
with active as (
    select distinct visitor_id, activity_date
    from {{ ref('int_pendo__visitor_app_days') }}
),

bounds as (
    select min(calendar_start) as calendar_start, max(last_complete_date) as last_complete_date
    from {{ ref('int_pendo__calendar') }}
),

monthly as (
    select
        visitor_id,
        {{ pendo_month_start('activity_date') }} as month_start,
        cast(count(*) as bigint) as active_days
    from active
    group by visitor_id, {{ pendo_month_start('activity_date') }}
)

select
    monthly.visitor_id,
    monthly.month_start,
    monthly.active_days,
    case
        when monthly.active_days >= 13 then 'daily'
        when monthly.active_days >= 5 then 'weekly'
        else 'monthly'
    end as frequency_class,
    (monthly.month_start >= bounds.calendar_start
        and {{ pendo_add_days('cast(' ~ dbt.dateadd('month', 1, 'monthly.month_start') ~ ' as date)', -1) }}
            <= bounds.last_complete_date) as month_is_complete
from monthly
cross join bounds
