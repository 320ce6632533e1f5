-- One row per product area (Pendo's "groups"): the latest load of each id.
{%- set names = pendo_column_names(source('pendo', 'product_areas')) %}
with ranked as (
    select
        loaded.*,
        row_number() over (
            partition by id order by {{ pendo_latest_load_first(names, 'id') }}
        ) as row_rank
    from {{ pendo_source('product_areas', {'id': 'varchar', 'name': 'varchar', 'description': 'varchar',
                                           'created_at': 'timestamptz', 'last_updated_at': 'timestamptz'}) }}
        as loaded
)

select
    id as product_area_id,
    {{ pendo_col(names, 'name') }} as product_area_name,
    {{ pendo_col(names, 'description') }} as description,
    {{ pendo_local_ts(pendo_col(names, 'created_at', 'timestamptz')) }} as created_at,
    {{ pendo_local_ts(pendo_col(names, 'last_updated_at', 'timestamptz')) }} as last_updated_at
from ranked
where row_rank = 1
