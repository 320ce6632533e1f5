-- One row per product area and day it was used: visitors and accounts on its pages or features, page views
-- and minutes, feature clicks, pages and features used, visitors new to the area ("new" = first day in the
-- loaded history the visitor used any page or feature of it) and the running count of its adopters.
-- Pages and features without a product area (Pendo's group) are left out.
with page_usage as (
    {{ pendo_product_area_rows('stg_pendo__page_events', 'stg_pendo__pages', 'page_id',
                               ['num_events', 'num_minutes']) }}
),

feature_usage as (
    {{ pendo_product_area_rows('stg_pendo__feature_events', 'stg_pendo__features', 'feature_id', ['num_events']) }}
),

usage as (
    select product_area_id, activity_date, visitor_id, account_id from page_usage
    union all
    select product_area_id, activity_date, visitor_id, account_id from feature_usage
),

people as (
    select product_area_id, activity_date,
           cast(count(distinct visitor_id) as bigint) as visitors,
           cast(count(distinct account_id) as bigint) as accounts
    from usage
    group by product_area_id, activity_date
),

page_daily as (
    select product_area_id, activity_date,
           cast(count(distinct visitor_id) as bigint) as page_visitors,
           cast(sum(num_events) as bigint) as page_views,
           cast(sum(num_minutes) as bigint) as page_minutes,
           cast(count(distinct page_id) as bigint) as pages_viewed
    from page_usage
    group by product_area_id, activity_date
),

feature_daily as (
    select product_area_id, activity_date,
           cast(count(distinct visitor_id) as bigint) as feature_visitors,
           cast(sum(num_events) as bigint) as feature_clicks,
           cast(count(distinct feature_id) as bigint) as features_used
    from feature_usage
    group by product_area_id, activity_date
),

first_use as (
    select product_area_id, visitor_id, min(activity_date) as first_date
    from usage
    group by product_area_id, visitor_id
),

first_use_daily as (
    select product_area_id, first_date as activity_date, cast(count(*) as bigint) as new_visitors
    from first_use
    group by product_area_id, first_date
)

select
    people.product_area_id,
    areas.product_area_name,
    people.activity_date as date_day,
    people.visitors,
    people.accounts,
    coalesce(page_daily.page_visitors, 0) as page_visitors,
    coalesce(page_daily.page_views, 0) as page_views,
    coalesce(page_daily.page_minutes, 0) as page_minutes,
    coalesce(page_daily.pages_viewed, 0) as pages_viewed,
    coalesce(feature_daily.feature_visitors, 0) as feature_visitors,
    coalesce(feature_daily.feature_clicks, 0) as feature_clicks,
    coalesce(feature_daily.features_used, 0) as features_used,
    coalesce(first_use_daily.new_visitors, 0) as new_visitors,
    cast(sum(coalesce(first_use_daily.new_visitors, 0)) over (
        partition by people.product_area_id order by people.activity_date
        rows between unbounded preceding and current row
    ) as bigint) as cumulative_visitors
from people
left join page_daily
    on page_daily.product_area_id = people.product_area_id and page_daily.activity_date = people.activity_date
left join feature_daily
    on feature_daily.product_area_id = people.product_area_id and feature_daily.activity_date = people.activity_date
left join first_use_daily
    on first_use_daily.product_area_id = people.product_area_id
    and first_use_daily.activity_date = people.activity_date
left join {{ ref('stg_pendo__product_areas') }} as areas
    on areas.product_area_id = people.product_area_id
