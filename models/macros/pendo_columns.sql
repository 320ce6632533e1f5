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
