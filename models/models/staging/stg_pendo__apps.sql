-- One row per app: its id and name (the loader's `apps` table; empty when it was not loaded). Apps that only
-- appear in events get a row in the marts through app_name's fallback 'App <id>'.
{%- set names = pendo_column_names(source('pendo', 'apps')) %}
with ranked as (
    select
        loaded.id as app_id,
        {{ pendo_col(names, 'name', 'varchar', 'loaded') }} as app_name,
        row_number() over (
            partition by loaded.id order by {{ pendo_latest_load_first(names, 'loaded.id') }}
        ) as row_rank
    from {{ pendo_source('apps', {'id': 'bigint', 'name': 'varchar'}) }} as loaded
)

select app_id, app_name
from ranked
where row_rank = 1
