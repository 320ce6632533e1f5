-- One row per guide step: distinct visitors who saw, advanced, dismissed, snoozed or timed out on the step,
-- over the loaded range. completed_visitors (the same on every step of a guide) are visitors who advanced
-- past the guide's last step. Rates are shares of the step's seen visitors, except reach and completion,
-- which are shares of the guide's first-step seen visitors.
with guide_events as (
    select *
    from {{ ref('stg_pendo__guide_events') }}
    where {{ pendo_visitor_filter() }}
),

steps as (
    select * from {{ ref('stg_pendo__guide_steps') }}
),

step_counts as (
    select
        guide_id,
        guide_step_id,
        cast(count(distinct case when guide_event_type = 'guideSeen' then visitor_id end) as bigint) as seen_visitors,
        cast(count(case when guide_event_type = 'guideSeen' then 1 end) as bigint) as seen_events,
        cast(count(distinct case when guide_event_type = 'guideAdvanced' then visitor_id end) as bigint) as advanced_visitors,
        cast(count(distinct case when guide_event_type = 'guideDismissed' then visitor_id end) as bigint) as dismissed_visitors,
        cast(count(distinct case when guide_event_type = 'guideSnoozed' then visitor_id end) as bigint) as snoozed_visitors,
        cast(count(distinct case when guide_event_type = 'guideTimeout' then visitor_id end) as bigint) as timed_out_visitors
    from guide_events
    group by guide_id, guide_step_id
),

completions as (
    select
        steps.guide_id,
        cast(count(distinct guide_events.visitor_id) as bigint) as completed_visitors
    from steps
    inner join guide_events
        on guide_events.guide_step_id = steps.step_id
        and guide_events.guide_id = steps.guide_id
        and guide_events.guide_event_type = 'guideAdvanced'
    where steps.step_number = steps.step_count
    group by steps.guide_id
),

funnel as (
    select
        steps.guide_id,
        steps.step_id,
        steps.step_number,
        steps.step_count,
        steps.step_name,
        coalesce(step_counts.seen_visitors, 0) as seen_visitors,
        coalesce(step_counts.seen_events, 0) as seen_events,
        coalesce(step_counts.advanced_visitors, 0) as advanced_visitors,
        coalesce(step_counts.dismissed_visitors, 0) as dismissed_visitors,
        coalesce(step_counts.snoozed_visitors, 0) as snoozed_visitors,
        coalesce(step_counts.timed_out_visitors, 0) as timed_out_visitors,
        coalesce(completions.completed_visitors, 0) as completed_visitors
    from steps
    left join step_counts
        on step_counts.guide_step_id = steps.step_id
        and step_counts.guide_id = steps.guide_id
    left join completions
        on completions.guide_id = steps.guide_id
),

with_first as (
    select
        funnel.*,
        max(case when step_number = 1 then seen_visitors end) over (partition by guide_id) as first_step_seen
    from funnel
)

select
    with_first.guide_id,
    guides.name as guide_name,
    guides.app_id,
    with_first.step_id,
    with_first.step_number,
    with_first.step_count,
    with_first.step_name,
    (with_first.step_number = with_first.step_count) as is_last_step,
    with_first.seen_visitors,
    with_first.seen_events,
    with_first.advanced_visitors,
    with_first.dismissed_visitors,
    with_first.snoozed_visitors,
    with_first.timed_out_visitors,
    with_first.completed_visitors,
    {{ pendo_ratio('with_first.seen_visitors', 'with_first.first_step_seen') }} as reach_rate,
    {{ pendo_ratio('with_first.advanced_visitors', 'with_first.seen_visitors') }} as advance_rate,
    {{ pendo_ratio('with_first.dismissed_visitors', 'with_first.seen_visitors') }} as dismiss_rate,
    {{ pendo_ratio('with_first.snoozed_visitors', 'with_first.seen_visitors') }} as snooze_rate,
    {{ pendo_ratio('with_first.completed_visitors', 'with_first.first_step_seen') }} as completion_rate
from with_first
left join {{ ref('stg_pendo__guides') }} as guides
    on guides.guide_id = with_first.guide_id
