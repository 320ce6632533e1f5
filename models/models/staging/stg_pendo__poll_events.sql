-- One row per poll response. poll_response is the answer as text (numbers as their text, choice ids, free text);
-- response_score the number where Pendo sent one (NPSRating 0..10, NumberScale, PositiveNegative), loaded by the
-- extractor as poll_response_score. Datasets loaded before that typed poll_response by its first value: their
-- text answers sit in poll_response__v_text and are read from there, numbers are parsed back from the text.
{%- set names = pendo_column_names(source('pendo', 'poll_events')) %}
{%- set numeric_types = var('pendo_numeric_poll_types', ['NPSRating', 'NumberScale', 'PositiveNegative']) %}
{%- set numeric_list = "'" ~ (numeric_types | join("', '")) ~ "'" %}
with source as (
    select
        {{ pendo_surrogate_key(['loaded.visitor_id', 'loaded.guide_id', 'loaded.guide_step_id', 'loaded.poll_id',
                                'loaded.browser_time']) }} as poll_event_key,
        loaded.poll_id,
        loaded.guide_id,
        {{ pendo_col(names, 'guide_step_id', 'varchar', 'loaded') }} as guide_step_id,
        loaded.visitor_id,
        {{ pendo_col(names, 'account_id', 'varchar', 'loaded') }} as account_id,
        {{ pendo_col(names, 'app_id', 'bigint', 'loaded') }} as app_id,
        loaded.browser_time,
        {{ pendo_col(names, 'poll_type', 'varchar', 'loaded') }} as poll_type,
        coalesce(
            cast({{ pendo_col(names, 'poll_response', 'varchar', 'loaded') }} as varchar),
            {{ pendo_col(names, 'poll_response__v_text', 'varchar', 'loaded') }}
        ) as poll_response,
        {%- if 'poll_response_score' in names %}
        cast(loaded.poll_response_score as double precision) as loaded_score,
        {%- else %}
        cast(null as double precision) as loaded_score,
        {%- endif %}
        {{ pendo_col(names, '_dlt_load_id', 'varchar', 'loaded') }} as load_id
    from {{ pendo_source('poll_events', {'poll_id': 'varchar', 'guide_id': 'varchar', 'guide_step_id': 'varchar',
                                         'visitor_id': 'varchar', 'account_id': 'varchar', 'app_id': 'bigint',
                                         'browser_time': 'timestamptz', 'poll_type': 'varchar',
                                         'poll_response': 'varchar'}) }} as loaded
    where {{ pendo_not_deleted(names) }}
),

ranked as (
    select
        source.*,
        row_number() over (partition by poll_event_key order by load_id desc nulls last) as row_rank
    from source
),

typed as (
    select
        ranked.*,
        polls.poll_type as catalog_poll_type
    from ranked
    left join {{ ref('stg_pendo__polls') }} as polls
        on polls.poll_id = ranked.poll_id
    where ranked.row_rank = 1
        and {{ pendo_as_of_filter(pendo_local_date('ranked.browser_time')) }}
),

scored as (
    select
        typed.*,
        coalesce(catalog_poll_type, poll_type) as resolved_poll_type,
        coalesce(
            loaded_score,
            case
                when coalesce(catalog_poll_type, poll_type) in ({{ numeric_list }})
                    and poll_response in ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10')
                    then cast(poll_response as double precision)
            end
        ) as response_score
    from typed
)

select
    poll_event_key,
    poll_id,
    guide_id,
    guide_step_id,
    visitor_id,
    nullif(account_id, '') as account_id,
    app_id,
    {{ pendo_local_ts('browser_time') }} as responded_at,
    {{ pendo_local_date('browser_time') }} as response_date,
    resolved_poll_type as poll_type,
    poll_response,
    response_score,
    case
        when response_score between 0 and 10 and response_score = floor(response_score)
            then cast(response_score as integer)
    end as numeric_response,
    {{ pendo_is_anonymous('visitor_id') }} as is_anonymous
from scored
