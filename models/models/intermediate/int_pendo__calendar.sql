-- Every calendar day (subscription time zone) from the first day with loaded activity to the as-of date (var
-- pendo_as_of_date, else the last loaded day), with how settled it is (macros/pendo_as_of.sql):
-- day_status 'partial' (the day was not over at the last load), 'unsettled' (over, but the next run may still
-- change it) or 'settled'. last_complete_date is the last day that is not partial: headline numbers use it.
{%- set settle_days = var('pendo_settle_days', 3) | int %}
with bounds as (
    select
        min(activity_date) as first_date,
        {%- if pendo_as_of_var() %}
        cast('{{ pendo_as_of_var() }}' as date) as last_date
        {%- else %}
        max(activity_date) as last_date
        {%- endif %}
    from {{ ref('stg_pendo__events') }}
),

integers as (
    {{ pendo_integers(5) }}
),

clock as (
    {{ pendo_load_clock() }}
),

ledger as (
    {{ pendo_ledger_days() }}
),

days as (
    select
        {{ pendo_add_days('bounds.first_date', 'integers.n') }} as date_day,
        bounds.first_date as calendar_start,
        bounds.last_date as calendar_end
    from bounds
    inner join integers
        on integers.n <= {{ pendo_days_between('bounds.first_date', 'bounds.last_date') }}
),

statused as (
    select
        days.*,
        coalesce(
            ledger.ledger_status,
            case
                when clock.open_date is null then 'settled'
                when days.date_day >= clock.open_date then 'partial'
                when days.date_day >= {{ pendo_add_days('clock.open_date', -settle_days) }} then 'unsettled'
                else 'settled'
            end
        ) as day_status
    from days
    cross join clock
    left join ledger
        on ledger.day_date = days.date_day
)

select
    date_day,
    {{ pendo_week_start('date_day') }} as week_start,
    {{ pendo_month_start('date_day') }} as month_start,
    calendar_start,
    calendar_end,
    day_status,
    (day_status <> 'partial') as is_complete_day,
    max(case when day_status <> 'partial' then date_day end) over () as last_complete_date
from statused
