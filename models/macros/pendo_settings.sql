{#- Project settings: each var falls back to an environment variable so a standalone run needs no --vars. -#}

{% macro pendo_tz() -%}
  {%- set tz = var('pendo_timezone', env_var('PENDO_TIMEZONE', 'UTC')) | string -%}
  {%- if "'" in tz or '\\' in tz -%}
    {{ exceptions.raise_compiler_error("pendo_timezone is not a time zone name: " ~ tz) }}
  {%- endif -%}
  {{ return(tz) }}
{%- endmacro %}

{% macro pendo_include_anonymous() -%}
  {%- set value = var('pendo_include_anonymous', env_var('PENDO_INCLUDE_ANONYMOUS', 'false')) -%}
  {{ return((value | string | lower) in ('true', '1', 'yes')) }}
{%- endmacro %}

{#- Predicate keeping the visitors the marts count: identified ones, plus anonymous ones when asked. -#}
{% macro pendo_visitor_filter(alias=none) -%}
  {%- if pendo_include_anonymous() -%}1 = 1{%- else -%}not {% if alias %}{{ alias }}.{% endif %}is_anonymous{%- endif -%}
{%- endmacro %}

{#- Pendo's anonymous visitors carry the _PENDO_T_ prefix. -#}
{% macro pendo_is_anonymous(column) -%}
  (substr({{ column }}, 1, 9) = '_PENDO_T_')
{%- endmacro %}
