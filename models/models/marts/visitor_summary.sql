-- One row per visitor (every loaded visitor, plus any seen only in events), over the loaded range to the as-of
-- date: first/last active day, active days, events, minutes, distinct pages viewed / features clicked / guides
-- seen, the latest NPS answer, and the frequency class of the 30 days ending at the last complete day
-- (Pendo's Looker blocks: 13+ active days 'daily', 5-12 'weekly', 1-4 'monthly', 0 'inactive').
with days as (
    select visitor_id, activity_date, sum(num_events) as num_events, sum(num_minutes) as num_minutes
    from {{ ref('int_pendo__visitor_app_days') }}
    group by visitor_id, activity_date
),

bounds as (
    select max(last_complete_date) as last_complete_date from {{ ref('int_pendo__calendar') }}
),

activity as (
    select
        days.visitor_id,
        min(days.activity_date) as first_active_date,
        max(days.activity_date) as last_active_date,
        cast(count(*) as bigint) as active_days,
        cast(sum(days.num_events) as bigint) as num_events,
        cast(sum(days.num_minutes) as bigint) as num_minutes,
        cast(count(case when days.activity_date <= bounds.last_complete_date
                         and days.activity_date > {{ pendo_add_days('bounds.last_complete_date', -30) }}
                    then 1 end) as bigint) as active_days_last_30d
    from days
    cross join bounds
    group by days.visitor_id
),

pages as (
    {{ pendo_distinct_count(ref('stg_pendo__page_events'), 'visitor_id', 'page_id', 'pages_viewed') }}
),

features as (
    {{ pendo_distinct_count(ref('stg_pendo__feature_events'), 'visitor_id', 'feature_id', 'features_clicked') }}
),

guides as (
    {{ pendo_distinct_count(ref('stg_pendo__guide_events'), 'visitor_id', 'guide_id', 'guides_seen',
                            where="guide_event_type = 'guideSeen'") }}
),

people as (
    select visitor_id from {{ ref('stg_pendo__visitors') }} where {{ pendo_visitor_filter() }}
    union
    select visitor_id from activity
)

select
    people.visitor_id,
    visitors.account_id,
    visitors.first_visit_at,
    visitors.last_visit_at,
    activity.first_active_date,
    activity.last_active_date,
    coalesce(activity.active_days, 0) as active_days,
    coalesce(activity.num_events, 0) as num_events,
    coalesce(activity.num_minutes, 0) as num_minutes,
    {{ pendo_ratio('activity.num_minutes', 'activity.active_days') }} as average_daily_minutes,
    coalesce(pages.pages_viewed, 0) as pages_viewed,
    coalesce(features.features_clicked, 0) as features_clicked,
    coalesce(guides.guides_seen, 0) as guides_seen,
    coalesce(activity.active_days_last_30d, 0) as active_days_last_30d,
    case
        when coalesce(activity.active_days_last_30d, 0) >= 13 then 'daily'
        when coalesce(activity.active_days_last_30d, 0) >= 5 then 'weekly'
        when coalesce(activity.active_days_last_30d, 0) >= 1 then 'monthly'
        else 'inactive'
    end as frequency_class_last_30d,
    nps.score as latest_nps_score,
    nps.responded_at as latest_nps_at
from people
left join activity on activity.visitor_id = people.visitor_id
left join {{ ref('stg_pendo__visitors') }} as visitors on visitors.visitor_id = people.visitor_id
left join pages on pages.visitor_id = people.visitor_id
left join features on features.visitor_id = people.visitor_id
left join guides on guides.visitor_id = people.visitor_id
left join {{ ref('nps_latest_visitor') }} as nps on nps.visitor_id = people.visitor_id
