-- One row per guide step, ordered within its guide by rank (ties broken by the position Pendo lists them in).
{%- set step_names = pendo_column_names(source('pendo', 'guides__steps')) %}
{%- set guide_names = pendo_column_names(source('pendo', 'guides')) %}
with steps as (
    select
        steps.id as step_id,
        coalesce({{ pendo_col(step_names, 'guide_id', 'varchar', 'steps') }}, guides.id) as guide_id,
        {{ pendo_col(step_names, 'name', 'varchar', 'steps') }} as step_name,
        {{ pendo_col(step_names, 'type', 'varchar', 'steps') }} as step_type,
        {{ pendo_col(step_names, 'page_id', 'varchar', 'steps') }} as page_id,
        {{ pendo_col(step_names, 'rank', 'bigint', 'steps') }} as step_rank,
        steps._dlt_list_idx as list_position,
        {{ pendo_col(guide_names, 'last_updated_at', 'timestamptz', 'guides') }} as guide_updated_at,
        {{ pendo_col(guide_names, '_dlt_load_id', 'varchar', 'guides') }} as guide_load_id
    from {{ pendo_source('guides__steps', {'id': 'varchar', 'guide_id': 'varchar', 'name': 'varchar',
                                           'type': 'varchar', 'page_id': 'varchar', 'rank': 'bigint',
                                           '_dlt_list_idx': 'bigint', '_dlt_parent_id': 'varchar'}) }} as steps
    inner join {{ pendo_source('guides', {'id': 'varchar', 'last_updated_at': 'timestamptz', '_dlt_id': 'varchar',
                                          '_dlt_load_id': 'varchar'}) }} as guides
        on steps._dlt_parent_id = guides._dlt_id
),

ranked as (
    select
        steps.*,
        row_number() over (
            partition by step_id order by guide_updated_at desc nulls last, guide_load_id desc nulls last
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
