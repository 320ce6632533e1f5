-- One row per poll, with its guide and (when Pendo lists it) the step that shows it. is_nps: the poll type is one
-- of var pendo_nps_poll_types (default NPSRating, the type Pendo gives NPS polls, as in Fivetran's dbt_pendo).
{%- set nps_list = "'" ~ (var('pendo_nps_poll_types', ['NPSRating']) | join("', '")) ~ "'" %}
{%- set poll_names = pendo_column_names(source('pendo', 'guides__polls')) %}
{%- set guide_names = pendo_column_names(source('pendo', 'guides')) %}
with polls as (
    select
        polls.id as poll_id,
        guides.id as guide_id,
        {{ pendo_col(poll_names, 'question', 'varchar', 'polls') }} as question,
        {{ pendo_col(poll_names, 'attributes__type', 'varchar', 'polls') }} as poll_type,
        {{ pendo_col(guide_names, 'last_updated_at', 'timestamptz', 'guides') }} as guide_updated_at,
        {{ pendo_col(guide_names, '_dlt_load_id', 'varchar', 'guides') }} as guide_load_id
    from {{ pendo_source('guides__polls', {'id': 'varchar', 'question': 'varchar', 'attributes__type': 'varchar',
                                           '_dlt_parent_id': 'varchar'}) }} as polls
    inner join {{ pendo_source('guides', {'id': 'varchar', 'last_updated_at': 'timestamptz', '_dlt_id': 'varchar',
                                          '_dlt_load_id': 'varchar'}) }} as guides
        on polls._dlt_parent_id = guides._dlt_id
),

step_polls as (
    select
        poll_ids.value as poll_id,
        min(steps.id) as step_id
    from {{ pendo_source('guides__steps__poll_ids', {'value': 'varchar', '_dlt_parent_id': 'varchar'}) }}
        as poll_ids
    inner join {{ pendo_source('guides__steps', {'id': 'varchar', '_dlt_id': 'varchar'}) }} as steps
        on poll_ids._dlt_parent_id = steps._dlt_id
    group by poll_ids.value
),

ranked as (
    select
        polls.*,
        row_number() over (
            partition by polls.poll_id order by guide_updated_at desc nulls last, guide_load_id desc nulls last
        ) as row_rank
    from polls
)

select
    ranked.poll_id,
    ranked.guide_id,
    step_polls.step_id,
    ranked.question,
    ranked.poll_type,
    coalesce(ranked.poll_type in ({{ nps_list }}), false) as is_nps
from ranked
left join step_polls
    on step_polls.poll_id = ranked.poll_id
where ranked.row_rank = 1
