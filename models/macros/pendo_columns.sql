{#- Column introspection for the metadata tables, whose columns depend on the subscription. -#}

{% macro pendo_is_timestamptz(data_type) -%}
  {%- set t = (data_type or '') | lower -%}
  {{ return('with time zone' in t or t in ('timestamptz', 'timestamp_tz', 'timestamp_ltz')) }}
{%- endmacro %}

{#- Columns of `relation` whose (lower-cased) name starts with `prefix`, in table order. -#}
{% macro pendo_columns_with_prefix(relation, prefix) -%}
  {%- set found = [] -%}
  {%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
      {%- if (column.name | lower).startswith(prefix) -%}{%- do found.append(column) -%}{%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(found) }}
{%- endmacro %}

{#- `col` or, for a timestamptz, the wall-clock time in the subscription zone; always aliased to its name. -#}
{% macro pendo_select_local(column) -%}
  {%- set quoted = adapter.quote(column.name) -%}
  {%- if pendo_is_timestamptz(column.data_type) -%}
    {{ pendo_local_ts(quoted) }} as {{ quoted }}
  {%- else -%}
    {{ quoted }}
  {%- endif -%}
{%- endmacro %}

{#- Lower-cased column names of a relation (empty while parsing). Loader bookkeeping columns such as
    _dlt_load_id or _pendo_deleted are absent from tables dlt loaded from Arrow, so models ask first. -#}
{% macro pendo_column_names(relation) -%}
  {%- set names = [] -%}
  {%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
      {%- do names.append(column.name | lower) -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(names) }}
{%- endmacro %}

{#- Predicate dropping tombstone rows, when the table has the tombstone column at all. -#}
{% macro pendo_not_deleted(names) -%}
  {%- if '_pendo_deleted' in names -%}coalesce(_pendo_deleted, false) = false{%- else -%}1 = 1{%- endif -%}
{%- endmacro %}

{#- ORDER BY terms putting the latest load first (when dlt recorded one), then `fallback`. -#}
{% macro pendo_latest_load_first(names, fallback) -%}
  {%- if '_dlt_load_id' in names -%}_dlt_load_id desc, {% endif -%}{{ fallback }}
{%- endmacro %}

{#- `column` when the table has it, else a typed NULL (dlt creates a column only once it saw a value). -#}
{% macro pendo_col(names, column, data_type='varchar', qualifier=none) -%}
  {%- if column in names or not execute -%}{% if qualifier %}{{ qualifier }}.{% endif %}{{ column }}
  {%- else -%}cast(null as {{ pendo_type(data_type) }}){%- endif -%}
{%- endmacro %}

{#- The loaded table, or an empty relation with the given columns when the loader never created it
    (a subscription without polls, track events, ...): the models then build, empty. -#}
{% macro pendo_source(table, columns) -%}
  {%- set relation = source('pendo', table) -%}
  {%- if execute and adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
    (select
    {%- for name, data_type in columns.items() %}
      cast(null as {{ pendo_type(data_type) }}) as {{ name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
    where 1 = 0)
  {%- else -%}
    {{ relation }}
  {%- endif -%}
{%- endmacro %}

{% macro pendo_type(data_type) -%}
  {%- if data_type == 'timestamptz' -%}{{ return(adapter.dispatch('pendo_timestamptz_type', 'pendo_elt')()) }}
  {%- else -%}{{ return(data_type) }}{%- endif -%}
{%- endmacro %}

{% macro default__pendo_timestamptz_type() %}{{ return('timestamp with time zone') }}{% endmacro %}
{% macro snowflake__pendo_timestamptz_type() %}{{ return('timestamp_tz') }}{% endmacro %}
