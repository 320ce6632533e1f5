-- One row per account and calendar day, from the account's first active day to the end of the loaded range.
-- Days without activity are present with zeros (is_active = false).
with account_days as (
    select
        account_id,
        activity_date,
        cast(count(distinct visitor_id) as bigint) as active_visitors,
        cast(sum(num_events) as bigint) as num_events,
        cast(sum(num_minutes) as bigint) as num_minutes
    from {{ ref('stg_pendo__events') }}
    where account_id is not null
        and {{ pendo_visitor_filter() }}
    group by account_id, activity_date
),

accounts as (
    select
        account_id,
        min(activity_date) as first_active_date
    from account_days
    group by account_id
)

select
    accounts.account_id,
    calendar.date_day,
    calendar.day_status,
    coalesce(account_days.active_visitors, 0) as active_visitors,
    coalesce(account_days.num_events, 0) as num_events,
    coalesce(account_days.num_minutes, 0) as num_minutes,
    (coalesce(account_days.num_events, 0) > 0) as is_active,
    accounts.first_active_date,
    (calendar.date_day = accounts.first_active_date) as is_first_active_day
from accounts
inner join {{ ref('int_pendo__calendar') }} as calendar
    on calendar.date_day >= accounts.first_active_date
left join account_days
    on account_days.account_id = accounts.account_id
    and account_days.activity_date = calendar.date_day
