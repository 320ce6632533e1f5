-- One row per account (every loaded account, plus any seen only in events), over the loaded range to the as-of
-- date: first/last active day, active days, distinct visitors, events, minutes, distinct pages and features
-- used, and the account's NPS from its visitors' latest answers (nps_latest_account).
with events as (
    select account_id, visitor_id, activity_date, num_events, num_minutes
    from {{ ref('stg_pendo__events') }}
    where account_id is not null and {{ pendo_visitor_filter() }}
),

activity as (
    select
        account_id,
        min(activity_date) as first_active_date,
        max(activity_date) as last_active_date,
        cast(count(distinct activity_date) as bigint) as active_days,
        cast(count(distinct visitor_id) as bigint) as active_visitors,
        cast(sum(num_events) as bigint) as num_events,
        cast(sum(num_minutes) as bigint) as num_minutes
    from events
    group by account_id
),

pages as (
    {{ pendo_distinct_count(ref('stg_pendo__page_events'), 'account_id', 'page_id', 'pages_viewed',
                            where='account_id is not null and ' ~ pendo_visitor_filter()) }}
),

features as (
    {{ pendo_distinct_count(ref('stg_pendo__feature_events'), 'account_id', 'feature_id', 'features_clicked',
                            where='account_id is not null and ' ~ pendo_visitor_filter()) }}
),

all_accounts as (
    select account_id from {{ ref('stg_pendo__accounts') }}
    union
    select account_id from activity
)

select
    all_accounts.account_id,
    accounts.first_visit_at,
    accounts.last_visit_at,
    activity.first_active_date,
    activity.last_active_date,
    coalesce(activity.active_days, 0) as active_days,
    coalesce(activity.active_visitors, 0) as active_visitors,
    coalesce(activity.num_events, 0) as num_events,
    coalesce(activity.num_minutes, 0) as num_minutes,
    coalesce(pages.pages_viewed, 0) as pages_viewed,
    coalesce(features.features_clicked, 0) as features_clicked,
    coalesce(nps.responding_visitors, 0) as nps_responding_visitors,
    nps.average_score as average_latest_nps_score,
    nps.nps as account_nps
from all_accounts
left join activity on activity.account_id = all_accounts.account_id
left join {{ ref('stg_pendo__accounts') }} as accounts on accounts.account_id = all_accounts.account_id
left join pages on pages.account_id = all_accounts.account_id
left join features on features.account_id = all_accounts.account_id
left join {{ ref('nps_latest_account') }} as nps on nps.account_id = all_accounts.account_id
