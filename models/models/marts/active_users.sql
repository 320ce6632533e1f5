-- DAU, WAU, MAU and stickiness per app and calendar day, plus one row per day for all apps together
-- (app_scope 'all', app_id NULL): distinct visitors across apps, so a visitor of two apps counts once.
-- day_status / is_complete_day say whether the day was over when it was loaded (int_pendo__calendar).
-- WAU/MAU count distinct visitors active in the trailing pendo_wau_days / pendo_mau_days days (today included).
-- Computed without a per-day self join: each active day of a visitor keeps them "in the window" until their
-- next active day or until the window runs out, whichever is first; a running sum of +1/-1 marks counts them.
{%- set wau_days = var('pendo_wau_days') | int %}
{%- set mau_days = var('pendo_mau_days') | int %}
with visitor_days as (
    {{ pendo_visitor_days_by_app_scope() }}
),

sequenced as (
    select
        visitor_id,
        app_scope,
        activity_date,
        lead(activity_date) over (partition by visitor_id, app_scope order by activity_date) as next_active_date
    from visitor_days
),

marks as (
    select app_scope, activity_date as date_day, 1 as dau, 1 as wau_delta, 1 as mau_delta
    from sequenced
    union all
    select
        app_scope,
        case
            when next_active_date is not null
                and next_active_date < {{ pendo_add_days('activity_date', wau_days) }}
                then next_active_date
            else {{ pendo_add_days('activity_date', wau_days) }}
        end,
        0, -1, 0
    from sequenced
    union all
    select
        app_scope,
        case
            when next_active_date is not null
                and next_active_date < {{ pendo_add_days('activity_date', mau_days) }}
                then next_active_date
            else {{ pendo_add_days('activity_date', mau_days) }}
        end,
        0, 0, -1
    from sequenced
),

daily_marks as (
    select
        app_scope,
        date_day,
        cast(sum(dau) as bigint) as dau,
        cast(sum(wau_delta) as bigint) as wau_delta,
        cast(sum(mau_delta) as bigint) as mau_delta
    from marks
    group by app_scope, date_day
),

apps as (
    select distinct app_scope from visitor_days
),

grid as (
    select apps.app_scope, calendar.date_day, calendar.calendar_start, calendar.day_status, calendar.is_complete_day
    from apps
    cross join {{ ref('int_pendo__calendar') }} as calendar
),

counted as (
    select
        grid.app_scope,
        grid.date_day,
        grid.calendar_start,
        grid.day_status,
        grid.is_complete_day,
        cast(coalesce(daily_marks.dau, 0) as bigint) as dau,
        cast(sum(coalesce(daily_marks.wau_delta, 0)) over (
            partition by grid.app_scope order by grid.date_day rows between unbounded preceding and current row
        ) as bigint) as wau,
        cast(sum(coalesce(daily_marks.mau_delta, 0)) over (
            partition by grid.app_scope order by grid.date_day rows between unbounded preceding and current row
        ) as bigint) as mau
    from grid
    left join daily_marks
        on daily_marks.app_scope = grid.app_scope
        and daily_marks.date_day = grid.date_day
)

select
    counted.app_scope,
    apps.app_id,
    case when counted.app_scope = 'all' then 'All apps' else apps.app_name end as app_name,
    (counted.app_scope = 'all') as is_all_apps,
    date_day,
    day_status,
    is_complete_day,
    dau,
    wau,
    mau,
    {{ pendo_ratio('dau', 'mau') }} as stickiness,
    {{ pendo_ratio('dau', 'wau') }} as dau_wau_ratio,
    {{ pendo_ratio('wau', 'mau') }} as wau_mau_ratio,
    (date_day >= {{ pendo_add_days('calendar_start', wau_days - 1) }}) as wau_window_complete,
    (date_day >= {{ pendo_add_days('calendar_start', mau_days - 1) }}) as mau_window_complete
from counted
left join {{ ref('int_pendo__apps') }} as apps
    on cast(apps.app_id as varchar) = counted.app_scope
