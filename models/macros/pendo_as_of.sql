{#- Where the marts end and how settled each day is. Never current_date: the same load gives the same marts.

    As-of date: var pendo_as_of_date (YYYY-MM-DD) or the last loaded day bucket.
    Day status ('partial' / 'unsettled' / 'settled'):
      1. the loader's bucket ledger `_pendo_buckets` (table_name = 'events'), where it has a say: a bucket verified
         final -> settled; a bucket extracted before it ended -> partial;
      2. otherwise the open day: var pendo_open_bucket, the bucket holding Pendo's clock at the last load (the
         runner reads it from the loader's state), else the day of the last successful load in `_dlt_loads`:
         that day and later are partial, the var pendo_settle_days (default 3, the loader's lookback) days before
         it unsettled (the next run re-extracts them; late data can still change them), older days settled.
    The ledger's extracted_at is the loading machine's clock, so the open day comes from Pendo's clock. -#}

{% macro pendo_as_of_var() -%}
  {%- set value = var('pendo_as_of_date', env_var('PENDO_AS_OF_DATE', '')) | string -%}
  {%- if value and not modules.re.match('^\d{4}-\d{2}-\d{2}$', value) -%}
    {{ exceptions.raise_compiler_error("pendo_as_of_date must be YYYY-MM-DD, got " ~ value) }}
  {%- endif -%}
  {{ return(value) }}
{%- endmacro %}

{#- Predicate keeping rows up to the as-of date (1 = 1 when no date was passed: the last loaded day ends them). -#}
{% macro pendo_as_of_filter(date_expr) -%}
  {%- set value = pendo_as_of_var() -%}
  {%- if value -%}{{ date_expr }} <= cast('{{ value }}' as date){%- else -%}1 = 1{%- endif -%}
{%- endmacro %}

{% macro pendo_loader_relation(identifier) -%}
  {%- set schema = var('pendo_schema', env_var('PENDO_DATASET', 'pendo_data')) -%}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {{ return(adapter.get_relation(database=target.database, schema=schema, identifier=identifier)) }}
{%- endmacro %}

{#- One row: open_date (first local day not over at the last load) and has_ledger. -#}
{% macro pendo_load_clock() -%}
  {%- set open_bucket = var('pendo_open_bucket', env_var('PENDO_OPEN_BUCKET', '')) | string -%}
  {%- set loads = pendo_loader_relation('_dlt_loads') -%}
  {%- if open_bucket -%}
    {%- if not modules.re.match('^[0-9T:.+\-Z ]+$', open_bucket) -%}
      {{ exceptions.raise_compiler_error("pendo_open_bucket must be an ISO timestamp, got " ~ open_bucket) }}
    {%- endif -%}
    select {{ pendo_local_date("cast('" ~ open_bucket ~ "' as " ~ pendo_type('timestamptz') ~ ")") }} as open_date
  {%- elif loads is not none -%}
    select {{ pendo_local_date('max(inserted_at)') }} as open_date from {{ loads }} where status = 0
  {%- else -%}
    select cast(null as date) as open_date
  {%- endif -%}
{%- endmacro %}

{#- Rows (day_date, ledger_status) from the bucket ledger, or none when the loader keeps no ledger. -#}
{% macro pendo_ledger_days() -%}
  {%- set ledger = pendo_loader_relation('_pendo_buckets') -%}
  {%- if ledger is none -%}
    select cast(null as date) as day_date, cast(null as varchar) as ledger_status where 1 = 0
  {%- else -%}
    select
        {{ pendo_local_date('bucket') }} as day_date,
        case
            when min(case when final then 1 else 0 end) = 1 then 'settled'
            when max(extracted_at) < {{ dbt.dateadd('day', 1, 'min(bucket)') }} then 'partial'
        end as ledger_status
    from {{ ledger }}
    where table_name = 'events'
    group by {{ pendo_local_date('bucket') }}
  {%- endif -%}
{%- endmacro %}
