-- One row per answer option of a choice poll (MultipleChoice, YesNo): Pendo lists them in idResponses
-- ({"0": "Every day", ...}), which dlt flattens into one id_responses__<id> column per option id.
{%- set relation = source('pendo', 'guides__polls') %}
{%- set columns = pendo_columns_with_prefix(relation, 'id_responses__') if pendo_loader_relation('guides__polls') is not none else [] %}
{%- if columns %}
{%- for column in columns %}
{%- set raw = column.name[14:] %}
{%- set choice_id = raw[1:] if (raw.startswith('_') and raw[1:2].isdigit()) else raw %}
select distinct
    polls.id as poll_id,
    cast('{{ choice_id }}' as varchar) as choice_id,
    cast(polls.{{ adapter.quote(column.name) }} as varchar) as choice_label
from {{ relation }} as polls
where polls.{{ adapter.quote(column.name) }} is not null
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{%- else %}
select cast(null as varchar) as poll_id, cast(null as varchar) as choice_id, cast(null as varchar) as choice_label
where 1 = 0
{%- endif %}
