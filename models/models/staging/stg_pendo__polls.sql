-- One row per poll, with its guide and (when Pendo lists it) the step that shows it.
with polls as (
    select
        polls.id as poll_id,
        guides.id as guide_id,
        polls.question,
        polls.attributes__type as poll_type,
        guides.last_updated_at,
        guides._dlt_load_id
    from {{ source('pendo', 'guides__polls') }} as polls
    inner join {{ source('pendo', 'guides') }} as guides
        on polls._dlt_parent_id = guides._dlt_id
),

step_polls as (
    select
        poll_ids.value as poll_id,
        min(steps.id) as step_id
    from {{ source('pendo', 'guides__steps__poll_ids') }} as poll_ids
    inner join {{ source('pendo', 'guides__steps') }} as steps
        on poll_ids._dlt_parent_id = steps._dlt_id
    group by poll_ids.value
),

ranked as (
    select
        polls.*,
        row_number() over (
            partition by polls.poll_id order by last_updated_at desc nulls last, _dlt_load_id desc
        ) as row_rank
    from polls
)

select
    ranked.poll_id,
    ranked.guide_id,
    step_polls.step_id,
    ranked.question,
    ranked.poll_type,
    (ranked.poll_type = 'NumberScale') as is_nps
from ranked
left join step_polls
    on step_polls.poll_id = ranked.poll_id
where ranked.row_rank = 1
