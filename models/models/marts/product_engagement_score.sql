-- Pendo's Product Engagement Score (PES), per app and for all apps together, as of the last complete day, over a
-- trailing window of var pendo_pes_days (30) days. Definition (Pendo, support.pendo.io article 360054782691
-- "Product Engagement Score"): PES = average of Adoption, Stickiness and Growth, each a percentage.
--   adoption   = average, over visitors active in the window, of the share of the app's Core Events (pages and
--                features flagged is_core_event) they used in the window; an app with no Core Events set uses
--                all its tagged pages and features instead (adoption_basis 'all_tagged', ours, not Pendo's);
--   stickiness = average daily active visitors in the window / visitors active in the window (DAU / MAU);
--   growth     = (new + recovered) / dropped visitors (growth_rate, Pendo's ratio); new = first active in the
--                window, recovered = active in the window and before the prior window but not in the prior
--                window, dropped = active in the prior window but not in this one. For the PES average the ratio
--                is mapped to 0..1 as growth_score = (new + recovered) / (new + recovered + dropped), 0.5 when
--                gains equal losses: Pendo does not publish its mapping, this one is ours.
-- prior_window_loaded is false when the loaded history does not cover the prior window (new is then overcounted).
{%- set days = var('pendo_pes_days', 30) | int %}
with bounds as (
    select
        max(last_complete_date) as as_of_date,
        min(calendar_start) as calendar_start,
        {{ pendo_add_days('max(last_complete_date)', -(days - 1)) }} as window_start,
        {{ pendo_add_days('max(last_complete_date)', -(2 * days - 1)) }} as prior_start,
        {{ pendo_add_days('max(last_complete_date)', -days) }} as prior_end
    from {{ ref('int_pendo__calendar') }}
),

visitor_days as (
    {{ pendo_visitor_days_by_app_scope() }}
),

per_visitor as (
    select
        visitor_days.app_scope,
        visitor_days.visitor_id,
        max(case when activity_date between bounds.window_start and bounds.as_of_date then 1 else 0 end) as in_window,
        max(case when activity_date between bounds.prior_start and bounds.prior_end then 1 else 0 end) as in_prior,
        min(activity_date) as first_date,
        cast(count(case when activity_date between bounds.window_start and bounds.as_of_date then 1 end) as bigint)
            as window_active_days
    from visitor_days
    cross join bounds
    where visitor_days.activity_date <= bounds.as_of_date
    group by visitor_days.app_scope, visitor_days.visitor_id
),

catalog as (
    select 'page' as kind, page_id as core_id, cast(app_id as varchar) as app_scope,
           coalesce(is_core_event, false) as is_core
    from {{ ref('stg_pendo__pages') }}
    union all
    select 'feature', feature_id, cast(app_id as varchar), coalesce(is_core_event, false)
    from {{ ref('stg_pendo__features') }}
),

catalog_scoped as (
    select kind, core_id, app_scope, is_core from catalog
    union all
    select kind, core_id, 'all', is_core from catalog
),

scope_basis as (
    select app_scope, max(case when is_core then 1 else 0 end) as has_core
    from catalog_scoped
    group by app_scope
),

core_scoped as (
    select catalog_scoped.kind, catalog_scoped.core_id, catalog_scoped.app_scope
    from catalog_scoped
    inner join scope_basis on scope_basis.app_scope = catalog_scoped.app_scope
    where catalog_scoped.is_core or scope_basis.has_core = 0
),

core_counts as (
    select app_scope, cast(count(*) as bigint) as core_events from core_scoped group by app_scope
),

core_used as (
    select distinct 'page' as kind, page_id as core_id, visitor_id, activity_date
    from {{ ref('stg_pendo__page_events') }} where {{ pendo_visitor_filter() }}
    union all
    select distinct 'feature', feature_id, visitor_id, activity_date
    from {{ ref('stg_pendo__feature_events') }} where {{ pendo_visitor_filter() }}
),

visitor_adoption as (
    select
        core_scoped.app_scope,
        core_used.visitor_id,
        cast(count(distinct core_used.kind || ':' || core_used.core_id) as bigint) as core_used
    from core_used
    inner join core_scoped
        on core_scoped.kind = core_used.kind
        and core_scoped.core_id = core_used.core_id
    cross join bounds
    where core_used.activity_date between bounds.window_start and bounds.as_of_date
    group by core_scoped.app_scope, core_used.visitor_id
),

scoped as (
    select
        per_visitor.app_scope,
        cast(sum(per_visitor.in_window) as bigint) as active_visitors,
        cast(sum(per_visitor.window_active_days) as bigint) as visitor_days,
        cast(sum(case when per_visitor.in_window = 1 and per_visitor.first_date >= bounds.window_start
                      then 1 else 0 end) as bigint) as new_visitors,
        cast(sum(case when per_visitor.in_window = 1 and per_visitor.in_prior = 0
                       and per_visitor.first_date < bounds.prior_start then 1 else 0 end) as bigint)
            as recovered_visitors,
        cast(sum(case when per_visitor.in_window = 0 and per_visitor.in_prior = 1 then 1 else 0 end) as bigint)
            as dropped_visitors,
        avg(case when per_visitor.in_window = 1
                 then cast(coalesce(visitor_adoption.core_used, 0) as double precision) end) as average_core_used
    from per_visitor
    cross join bounds
    left join visitor_adoption
        on visitor_adoption.app_scope = per_visitor.app_scope
        and visitor_adoption.visitor_id = per_visitor.visitor_id
    group by per_visitor.app_scope
),

measured as (
    select
        scoped.*,
        bounds.as_of_date,
        bounds.window_start,
        (bounds.calendar_start <= bounds.prior_start) as prior_window_loaded,
        {{ pendo_days_between('greatest(bounds.window_start, bounds.calendar_start)', 'bounds.as_of_date') }} + 1
            as window_days,
        coalesce(core_counts.core_events, 0) as core_events,
        case when scope_basis.has_core = 1 then 'core_events' else 'all_tagged' end as adoption_basis,
        {{ pendo_ratio('scoped.average_core_used', 'core_counts.core_events') }} as adoption,
        {{ pendo_ratio('scoped.new_visitors + scoped.recovered_visitors', 'scoped.dropped_visitors') }} as growth_rate,
        {{ pendo_ratio('scoped.new_visitors + scoped.recovered_visitors',
                       'scoped.new_visitors + scoped.recovered_visitors + scoped.dropped_visitors') }} as growth_score
    from scoped
    cross join bounds
    left join core_counts on core_counts.app_scope = scoped.app_scope
    left join scope_basis on scope_basis.app_scope = scoped.app_scope
),

scored as (
    select
        measured.*,
        {{ pendo_ratio(pendo_ratio('visitor_days', 'window_days'), 'active_visitors') }} as stickiness
    from measured
)

select
    scored.app_scope,
    apps.app_id,
    case when scored.app_scope = 'all' then 'All apps' else apps.app_name end as app_name,
    scored.as_of_date,
    scored.window_start,
    cast(scored.window_days as integer) as window_days,
    scored.prior_window_loaded,
    scored.active_visitors,
    scored.core_events,
    scored.adoption_basis,
    scored.adoption,
    scored.stickiness,
    scored.new_visitors,
    scored.recovered_visitors,
    scored.dropped_visitors,
    scored.growth_rate,
    scored.growth_score,
    100.0 * (coalesce(scored.adoption, 0) + coalesce(scored.stickiness, 0) + coalesce(scored.growth_score, 0))
        / nullif((case when scored.adoption is null then 0 else 1 end)
                 + (case when scored.stickiness is null then 0 else 1 end)
                 + (case when scored.growth_score is null then 0 else 1 end), 0) as pes
from scored
left join {{ ref('int_pendo__apps') }} as apps
    on cast(apps.app_id as varchar) = scored.app_scope
