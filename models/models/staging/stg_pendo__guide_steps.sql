-- One row per guide step, ordered within its guide by rank (ties broken by the position Pendo lists them in).
with steps as (
    select
        steps.id as step_id,
        coalesce(steps.guide_id, guides.id) as guide_id,
        steps.name as step_name,
        steps.type as step_type,
        steps.page_id,
        steps.rank as step_rank,
        steps._dlt_list_idx as list_position,
        guides.last_updated_at,
        guides._dlt_load_id
    from {{ source('pendo', 'guides__steps') }} as steps
    inner join {{ source('pendo', 'guides') }} as guides
        on steps._dlt_parent_id = guides._dlt_id
),

ranked as (
    select
        steps.*,
        row_number() over (
            partition by step_id order by last_updated_at desc nulls last, _dlt_load_id desc
        ) as row_rank
    from steps
),

latest as (
    select * from ranked where row_rank = 1
)

select
    step_id,
    guide_id,
    step_name,
    step_type,
    page_id,
    step_rank,
    cast(row_number() over (partition by guide_id order by step_rank, list_position, step_id) as integer)
        as step_number,
    cast(count(*) over (partition by guide_id) as integer) as step_count
from latest
