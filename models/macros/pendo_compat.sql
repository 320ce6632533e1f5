{#- tap-pendo / Stitch compatibility views (opt-in: var pendo_stitch_compat, `pendo-elt models --stitch-compat`).

    Stitch loaded tap-pendo's streams with nested objects flattened by "__": visitor metadata is
    metadata_<group>__<field> (metadata_auto__lastvisit), the replication key is a top-level `lastupdated`, the
    metadata schema is one wide row in metadata_visitors / metadata_accounts (<group>__<field>__<attribute>),
    app_id is a string and poll_response text. These views give the loaded tables those names, so SQL written
    for a Stitch warehouse runs unchanged against schema <marts>_stitch. -#}

{% macro pendo_stitch_compat() -%}
  {%- set value = var('pendo_stitch_compat', env_var('PENDO_STITCH_COMPAT', 'false')) -%}
  {{ return((value | string | lower) in ('true', '1', 'yes')) }}
{%- endmacro %}

{#- column_name -> (group, field) from the loader's metadata_fields table, for one kind (visitor / account). -#}
{% macro pendo_metadata_field_map(kind) -%}
  {%- set found = {} -%}
  {%- set relation = pendo_loader_relation('metadata_fields') -%}
  {%- if execute and relation is not none -%}
    {%- set rows = run_query("select column_name, " ~ adapter.quote('group') ~ ", field from " ~ relation
                             ~ " where kind = '" ~ kind ~ "'") -%}
    {%- for row in rows -%}{%- do found.update({(row[0] | lower): (row[1], row[2])}) -%}{%- endfor -%}
  {%- endif -%}
  {{ return(found) }}
{%- endmacro %}

{% macro pendo_stitch_name(text) -%}
  {{ return(modules.re.sub('[^a-z0-9_]+', '_', (text | string | lower)).strip('_')) }}
{%- endmacro %}

{#- Visitors / accounts with Stitch's column names. -#}
{% macro pendo_compat_people(table, kind, id_column) -%}
{%- set relation = source('pendo', table) -%}
{%- set fields = pendo_metadata_field_map(kind) -%}
{%- set metadata = pendo_columns_with_prefix(relation, 'metadata_') -%}
{%- set names = pendo_column_names(relation) -%}
select
    {{ id_column }},
    {{ pendo_col(names, 'metadata_auto_lastupdated', 'timestamptz') }} as lastupdated
    {%- for column in metadata %}
    {%- set key = column.name | lower %}
    {%- if key in fields %}
    {%- set stitch = 'metadata_' ~ pendo_stitch_name(fields[key][0]) ~ '__' ~ pendo_stitch_name(fields[key][1]) %}
    {%- else %}
    {%- set stitch = key %}
    {%- endif %},
    {{ adapter.quote(column.name) }} as {{ adapter.quote(stitch) }}
    {%- endfor %}
from {{ relation }}
{%- endmacro %}

{#- metadata_visitors / metadata_accounts: Pendo's metadata schema as one wide row, as tap-pendo emitted it. -#}
{% macro pendo_compat_metadata_schema(kind) -%}
{%- set fields = pendo_metadata_field_map(kind) -%}
{%- set attributes = {'type': 'type', 'display_name': 'display_name', 'element_type': 'element_type',
                      'element_format': 'element_format', 'is_hidden': 'is_hidden', 'is_deleted': 'is_deleted',
                      'is_calculated': 'is_calculated', 'is_per_app': 'is_per_app', 'never_index': 'never_index',
                      'dirty': 'dirty'} -%}
{%- set relation = pendo_loader_relation('metadata_fields') -%}
{%- if fields and relation is not none %}
select
    {%- for key, group_field in fields.items() %}
    {%- set outer_loop = loop %}
    {%- for attribute, column in attributes.items() %}
    {%- set text = column in ('type', 'display_name', 'element_type', 'element_format') %}
    {% if not text %}cast({% endif %}max(case when {{ adapter.quote('group') }} = '{{ group_field[0] }}' and field = '{{ group_field[1] }}'
        then cast({{ column }} as varchar) end){% if not text %} as boolean){% endif %} as {{ adapter.quote(pendo_stitch_name(group_field[0]) ~ '__' ~ pendo_stitch_name(group_field[1]) ~ '__' ~ attribute) }}
    {%- if not (outer_loop.last and loop.last) %},{% endif %}
    {%- endfor %}
    {%- endfor %}
from {{ relation }}
where kind = '{{ kind }}'
{%- else %}
select cast(null as varchar) as no_metadata_schema_loaded where 1 = 0
{%- endif %}
{%- endmacro %}

{#- An event or object table as Stitch had it: loader bookkeeping dropped, app_id as text. -#}
{% macro pendo_compat_table(table, text_app_id=true) -%}
{%- set relation = source('pendo', table) -%}
{%- set loaded = pendo_loader_relation(table) -%}
{%- if loaded is none %}
select cast(null as varchar) as not_loaded where 1 = 0
{%- else %}
{%- set columns = adapter.get_columns_in_relation(relation) if execute else [] %}
{%- set names = columns | map(attribute='name') | map('lower') | list %}
select
    {%- for column in columns if not (column.name | lower).startswith('_dlt_') and (column.name | lower) not in ('_pendo_deleted', 'poll_response__v_text') %}
    {%- set name = column.name | lower %}
    {%- if name == 'app_id' and text_app_id %}
    cast(app_id as varchar) as app_id
    {%- elif name == 'poll_response' and 'poll_response__v_text' in names %}
    coalesce(cast(poll_response as varchar), poll_response__v_text) as poll_response
    {%- else %}
    {{ adapter.quote(column.name) }}
    {%- endif %}{% if not loop.last %},{% endif %}
    {%- endfor %}
from {{ relation }}
{%- if '_pendo_deleted' in names %}
where coalesce(_pendo_deleted, false) = false
{%- endif %}
{%- endif %}
{%- endmacro %}
