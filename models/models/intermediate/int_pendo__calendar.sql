-- Every calendar day (subscription time zone) from the first to the last day with any activity loaded.
with bounds as (
    select
        min(activity_date) as first_date,
        max(activity_date) as last_date
    from {{ ref('stg_pendo__events') }}
),

integers as (
    {{ pendo_integers(5) }}
)

select
    {{ pendo_add_days('bounds.first_date', 'integers.n') }} as date_day,
    {{ pendo_week_start(pendo_add_days('bounds.first_date', 'integers.n')) }} as week_start,
    {{ pendo_month_start(pendo_add_days('bounds.first_date', 'integers.n')) }} as month_start,
    bounds.first_date as calendar_start,
    bounds.last_date as calendar_end
from bounds
inner join integers
    on integers.n <= {{ pendo_days_between('bounds.first_date', 'bounds.last_date') }}
