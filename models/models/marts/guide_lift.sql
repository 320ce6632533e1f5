-- Guide control-group lift, for every guide with a control group (visitors Pendo held back: guideNotSeen).
-- Treatment = visitors who saw the guide, control = visitors held back and never shown it; exposure = their first
-- such event. Goal = viewing the page of the guide's first step in the var pendo_lift_days (7) days after the
-- exposure day. Only exposures whose whole follow-up window ended by the last complete day count.
-- absolute_lift = treatment_rate - control_rate; relative_lift = treatment_rate / control_rate - 1.
{%- set days = var('pendo_lift_days', 7) | int %}
with guide_events as (
    select * from {{ ref('stg_pendo__guide_events') }} where {{ pendo_visitor_filter() }}
),

exposures as (
    select
        guide_id,
        visitor_id,
        min(case when guide_event_type = 'guideSeen' then event_date end) as seen_date,
        min(case when guide_event_type = 'guideNotSeen' then event_date end) as not_seen_date
    from guide_events
    where guide_event_type in ('guideSeen', 'guideNotSeen')
    group by guide_id, visitor_id
),

control_guides as (
    select distinct guide_id from exposures where not_seen_date is not null
),

goals as (
    select guide_id, page_id as goal_page_id from {{ ref('stg_pendo__guide_steps') }} where step_number = 1
),

bounds as (
    select max(last_complete_date) as last_complete_date from {{ ref('int_pendo__calendar') }}
),

grouped as (
    select
        exposures.guide_id,
        exposures.visitor_id,
        case when exposures.seen_date is not null then 'treatment' else 'control' end as exposure_group,
        coalesce(exposures.seen_date, exposures.not_seen_date) as exposure_date
    from exposures
    inner join control_guides on control_guides.guide_id = exposures.guide_id
    cross join bounds
    where coalesce(exposures.seen_date, exposures.not_seen_date)
        <= {{ pendo_add_days('bounds.last_complete_date', -days) }}
),

converted as (
    select
        grouped.guide_id,
        grouped.visitor_id,
        grouped.exposure_group,
        max(case when views.visitor_id is not null then 1 else 0 end) as converted
    from grouped
    left join goals on goals.guide_id = grouped.guide_id
    left join {{ ref('stg_pendo__page_events') }} as views
        on views.visitor_id = grouped.visitor_id
        and views.page_id = goals.goal_page_id
        and views.activity_date > grouped.exposure_date
        and views.activity_date <= {{ pendo_add_days('grouped.exposure_date', days) }}
    group by grouped.guide_id, grouped.visitor_id, grouped.exposure_group
),

counted as (
    select
        control_guides.guide_id,
        cast(count(case when exposure_group = 'treatment' then 1 end) as bigint) as treatment_visitors,
        cast(coalesce(sum(case when exposure_group = 'treatment' then converted end), 0) as bigint) as treatment_converted,
        cast(count(case when exposure_group = 'control' then 1 end) as bigint) as control_visitors,
        cast(coalesce(sum(case when exposure_group = 'control' then converted end), 0) as bigint) as control_converted
    from control_guides
    left join converted on converted.guide_id = control_guides.guide_id
    group by control_guides.guide_id
),

rated as (
    select
        counted.*,
        {{ pendo_ratio('treatment_converted', 'treatment_visitors') }} as treatment_rate,
        {{ pendo_ratio('control_converted', 'control_visitors') }} as control_rate
    from counted
)

select
    rated.guide_id,
    guides.name as guide_name,
    goals.goal_page_id,
    {{ days }} as outcome_days,
    rated.treatment_visitors,
    rated.treatment_converted,
    rated.treatment_rate,
    rated.control_visitors,
    rated.control_converted,
    rated.control_rate,
    rated.treatment_rate - rated.control_rate as absolute_lift,
    {{ pendo_ratio('rated.treatment_rate', 'rated.control_rate') }} - 1 as relative_lift
from rated
left join {{ ref('stg_pendo__guides') }} as guides on guides.guide_id = rated.guide_id
left join goals on goals.guide_id = rated.guide_id
