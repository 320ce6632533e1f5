{#- The few expressions that differ between DuckDB, Postgres and Snowflake. -#}

{#- A timestamptz as the wall-clock timestamp (no zone) in the subscription time zone. -#}
{% macro pendo_local_ts(expr) -%}
  {{ return(adapter.dispatch('pendo_local_ts', 'pendo_elt')(expr)) }}
{%- endmacro %}

{% macro default__pendo_local_ts(expr) -%}
  ({{ expr }} at time zone '{{ pendo_tz() }}')
{%- endmacro %}

{% macro snowflake__pendo_local_ts(expr) -%}
  convert_timezone('{{ pendo_tz() }}', {{ expr }})::timestamp_ntz
{%- endmacro %}

{#- The calendar date of a timestamptz in the subscription time zone. -#}
{% macro pendo_local_date(expr) -%}
  cast({{ pendo_local_ts(expr) }} as date)
{%- endmacro %}

{#- date + n days, as a date (n may be negative or a column). -#}
{% macro pendo_add_days(date_expr, days) -%}
  cast({{ dbt.dateadd('day', days, date_expr) }} as date)
{%- endmacro %}

{#- Whole days from `first` to `second` (second - first). -#}
{% macro pendo_days_between(first, second) -%}
  {{ dbt.datediff(first, second, 'day') }}
{%- endmacro %}

{#- Monday of the ISO week of a date, and first day of its month. -#}
{% macro pendo_week_start(date_expr) -%}
  cast(date_trunc('week', cast({{ date_expr }} as timestamp)) as date)
{%- endmacro %}

{% macro pendo_month_start(date_expr) -%}
  cast(date_trunc('month', cast({{ date_expr }} as timestamp)) as date)
{%- endmacro %}

{#- num / den as a double, NULL where the denominator is 0 or NULL. -#}
{% macro pendo_ratio(num, den) -%}
  (case when ({{ den }}) is null or ({{ den }}) = 0 then null
        else cast({{ num }} as double precision) / ({{ den }}) end)
{%- endmacro %}

{#- A stable key for a row: md5 over the columns, NULL-safe. -#}
{% macro pendo_surrogate_key(columns) -%}
  md5(
  {%- for column in columns %}
    coalesce(cast({{ column }} as varchar), '<null>'){% if not loop.last %} || '|' ||{% endif %}
  {%- endfor %}
  )
{%- endmacro %}

{#- Integers 0 .. 10^digits - 1, portable (no generate_series): drives the calendar. -#}
{% macro pendo_integers(digits=5) -%}
  with pendo_digits as (
    select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
  )
  select
    {%- for i in range(digits) %}
    {% if not loop.first %}+ {% endif %}d{{ i }}.d * {{ 10 ** i }}
    {%- endfor %} as n
  from
    {%- for i in range(digits) %}
    {% if not loop.first %}cross join {% endif %}pendo_digits as d{{ i }}
    {%- endfor %}
{%- endmacro %}
