-- The latest answer per visitor and poll (Pendo's pollsSeenEver); numeric_response holds 0..10 answers.
{%- set names = pendo_column_names(source('pendo', 'polls_seen')) %}
with ranked as (
    select
        loaded.*,
        row_number() over (
            partition by visitor_id, poll_id order by {{ pendo_latest_load_first(names, 'visitor_id') }}
        ) as row_rank
    from {{ pendo_source('polls_seen', {'visitor_id': 'varchar', 'poll_id': 'varchar', 'guide_id': 'varchar',
                                        'account_id': 'varchar', 'app_id': 'bigint', 'time': 'timestamptz',
                                        'response': 'varchar'}) }} as loaded
)

select
    visitor_id,
    poll_id,
    {{ pendo_col(names, 'guide_id') }} as guide_id,
    nullif({{ pendo_col(names, 'account_id') }}, '') as account_id,
    {{ pendo_col(names, 'app_id', 'bigint') }} as app_id,
    {{ pendo_local_ts(pendo_col(names, 'time', 'timestamptz')) }} as responded_at,
    cast({{ pendo_col(names, 'response') }} as varchar) as response,
    case
        when cast({{ pendo_col(names, 'response') }} as varchar) in ('0', '1', '2', '3', '4', '5', '6', '7', '8',
                                                                      '9', '10')
            then cast({{ pendo_col(names, 'response') }} as integer)
    end as numeric_response,
    {{ pendo_is_anonymous('visitor_id') }} as is_anonymous
from ranked
where row_rank = 1
