-- One row per account, as of the last complete day (a partial last day would read as a drop): activity in the last 7 days against the 7 before, the last
-- 30 days, recency, a trend label, and every custom metadata column of the account (metadata_custom_*).
-- activity_trend: 'inactive' (no events in either week), 'new' (events this week only), 'growing' / 'declining'
-- (events changed by more than pendo_trend_threshold week over week), else 'stable'.
{%- set threshold = var('pendo_trend_threshold') | float %}
{%- set custom_columns = pendo_columns_with_prefix(ref('stg_pendo__accounts'), 'metadata_custom_') %}
with bounds as (
    select
        max(last_complete_date) as as_of_date,
        {{ pendo_add_days('max(last_complete_date)', -6) }} as last_7_start,
        {{ pendo_add_days('max(last_complete_date)', -13) }} as prior_7_start,
        {{ pendo_add_days('max(last_complete_date)', -7) }} as prior_7_end,
        {{ pendo_add_days('max(last_complete_date)', -29) }} as last_30_start
    from {{ ref('int_pendo__calendar') }}
),

events as (
    select account_id, visitor_id, activity_date, num_events, num_minutes
    from {{ ref('stg_pendo__events') }}
    where account_id is not null
        and {{ pendo_visitor_filter() }}
),

activity as (
    select
        events.account_id,
        min(events.activity_date) as first_active_date,
        max(events.activity_date) as last_active_date,
        count(distinct case when events.activity_date >= bounds.last_30_start then events.activity_date end)
            as active_days_last_30d,
        count(distinct case when events.activity_date >= bounds.last_7_start then events.visitor_id end)
            as active_visitors_last_7d,
        count(distinct case when events.activity_date between bounds.prior_7_start and bounds.prior_7_end
            then events.visitor_id end) as active_visitors_prior_7d,
        count(distinct case when events.activity_date >= bounds.last_30_start then events.visitor_id end)
            as active_visitors_last_30d,
        sum(case when events.activity_date >= bounds.last_7_start then events.num_events else 0 end)
            as events_last_7d,
        sum(case when events.activity_date between bounds.prior_7_start and bounds.prior_7_end
            then events.num_events else 0 end) as events_prior_7d,
        sum(case when events.activity_date >= bounds.last_30_start then events.num_events else 0 end)
            as events_last_30d,
        sum(case when events.activity_date >= bounds.last_7_start then events.num_minutes else 0 end)
            as minutes_last_7d,
        sum(case when events.activity_date between bounds.prior_7_start and bounds.prior_7_end
            then events.num_minutes else 0 end) as minutes_prior_7d,
        sum(case when events.activity_date >= bounds.last_30_start then events.num_minutes else 0 end)
            as minutes_last_30d
    from events
    cross join bounds
    where events.activity_date <= bounds.as_of_date
    group by events.account_id
),

all_accounts as (
    select account_id from {{ ref('stg_pendo__accounts') }}
    union
    select account_id from activity
),

measured as (
    select
        all_accounts.account_id,
        bounds.as_of_date,
        activity.first_active_date,
        activity.last_active_date,
        {{ pendo_days_between('activity.last_active_date', 'bounds.as_of_date') }} as days_since_last_active,
        cast(coalesce(activity.active_days_last_30d, 0) as bigint) as active_days_last_30d,
        cast(coalesce(activity.active_visitors_last_7d, 0) as bigint) as active_visitors_last_7d,
        cast(coalesce(activity.active_visitors_prior_7d, 0) as bigint) as active_visitors_prior_7d,
        cast(coalesce(activity.active_visitors_last_30d, 0) as bigint) as active_visitors_last_30d,
        cast(coalesce(activity.events_last_7d, 0) as bigint) as events_last_7d,
        cast(coalesce(activity.events_prior_7d, 0) as bigint) as events_prior_7d,
        cast(coalesce(activity.events_last_30d, 0) as bigint) as events_last_30d,
        cast(coalesce(activity.minutes_last_7d, 0) as bigint) as minutes_last_7d,
        cast(coalesce(activity.minutes_prior_7d, 0) as bigint) as minutes_prior_7d,
        cast(coalesce(activity.minutes_last_30d, 0) as bigint) as minutes_last_30d
    from all_accounts
    cross join bounds
    left join activity
        on activity.account_id = all_accounts.account_id
)

select
    measured.*,
    {{ pendo_ratio('measured.events_last_7d - measured.events_prior_7d', 'measured.events_prior_7d') }}
        as events_trend,
    case
        when measured.events_last_7d = 0 and measured.events_prior_7d = 0 then 'inactive'
        when measured.events_prior_7d = 0 then 'new'
        when measured.events_last_7d > measured.events_prior_7d * {{ 1 + threshold }} then 'growing'
        when measured.events_last_7d < measured.events_prior_7d * {{ 1 - threshold }} then 'declining'
        else 'stable'
    end as activity_trend
    {%- for column in custom_columns %},
    accounts.{{ adapter.quote(column.name) }}
    {%- endfor %}
from measured
left join {{ ref('stg_pendo__accounts') }} as accounts
    on accounts.account_id = measured.account_id
