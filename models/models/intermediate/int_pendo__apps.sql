-- One row per app with activity or listed in the `apps` table: its name, or 'App <id>' when Pendo gave none.
with ids as (
    select distinct app_id from {{ ref('stg_pendo__events') }}
    union
    select app_id from {{ ref('stg_pendo__apps') }}
)

select
    ids.app_id,
    coalesce(apps.app_name, 'App ' || cast(ids.app_id as varchar)) as app_name
from ids
left join {{ ref('stg_pendo__apps') }} as apps
    on apps.app_id = ids.app_id
where ids.app_id is not null
