-- Frustration per page and per feature and day: rage, dead and error clicks and U-turns summed from the rollups,
-- with the visitors who met any of them. The counters are NULL where Pendo sent none (a subscription
-- without frustration metrics), never a made-up 0.
with signals as (
    select 'page' as item_type, stg.page_id as item_id, pages.name as item_name, pages.product_area_id,
           stg.activity_date, stg.visitor_id, stg.is_anonymous, stg.num_events,
           stg.rage_click_count, stg.dead_click_count, stg.error_click_count, stg.u_turn_count
    from {{ ref('stg_pendo__page_events') }} as stg
    left join {{ ref('stg_pendo__pages') }} as pages on pages.page_id = stg.page_id
    union all
    select 'feature' as item_type, stg.feature_id as item_id, features.name as item_name,
           features.product_area_id, stg.activity_date, stg.visitor_id, stg.is_anonymous, stg.num_events,
           stg.rage_click_count, stg.dead_click_count, stg.error_click_count, stg.u_turn_count
    from {{ ref('stg_pendo__feature_events') }} as stg
    left join {{ ref('stg_pendo__features') }} as features on features.feature_id = stg.feature_id
),

kept as (
    select *
    from signals
    where {{ pendo_visitor_filter() }}
)

select
    item_type,
    item_id,
    item_name,
    product_area_id,
    activity_date as date_day,
    cast(count(distinct visitor_id) as bigint) as visitors,
    cast(sum(num_events) as bigint) as num_events,
    cast(sum(rage_click_count) as bigint) as rage_clicks,
    cast(sum(dead_click_count) as bigint) as dead_clicks,
    cast(sum(error_click_count) as bigint) as error_clicks,
    cast(sum(u_turn_count) as bigint) as u_turns,
    cast(count(distinct case
        when coalesce(rage_click_count, 0) + coalesce(dead_click_count, 0) + coalesce(error_click_count, 0)
             + coalesce(u_turn_count, 0) > 0 then visitor_id end) as bigint) as frustrated_visitors
from kept
group by item_type, item_id, item_name, product_area_id, activity_date
