-- NPS per NumberScale poll and period: period_type 'week' (ISO weeks), 'month', or 'all' (the loaded range).
-- As Pendo does, a visitor counts once per poll and period, with their latest answer in it.
-- Promoters answer 9-10, passives 7-8, detractors 0-6; nps = % promoters - % detractors (-100..100).
with responses as (
    select
        poll_events.poll_event_key,
        polls.poll_id,
        polls.guide_id,
        poll_events.visitor_id,
        poll_events.responded_at,
        poll_events.response_date,
        poll_events.numeric_response as score
    from {{ ref('stg_pendo__poll_events') }} as poll_events
    inner join {{ ref('stg_pendo__polls') }} as polls
        on polls.poll_id = poll_events.poll_id
    where polls.is_nps
        and poll_events.numeric_response is not null
        and {{ pendo_visitor_filter('poll_events') }}
),

range_bounds as (
    select
        coalesce(min(calendar_start), (select min(response_date) from responses)) as range_start,
        coalesce(max(calendar_end), (select max(response_date) from responses)) as range_end
    from {{ ref('int_pendo__calendar') }}
),

periods as (
    select
        'week' as period_type,
        {{ pendo_week_start('response_date') }} as period_start,
        {{ pendo_add_days(pendo_week_start('response_date'), 6) }} as period_end,
        responses.*
    from responses
    union all
    select
        'month',
        {{ pendo_month_start('response_date') }},
        {{ pendo_add_days('cast(' ~ dbt.dateadd('month', 1, pendo_month_start('response_date')) ~ ' as date)', -1) }},
        responses.*
    from responses
    union all
    select
        'all',
        range_bounds.range_start,
        range_bounds.range_end,
        responses.*
    from responses
    cross join range_bounds
),

latest as (
    select
        periods.*,
        row_number() over (
            partition by period_type, poll_id, period_start, visitor_id
            order by responded_at desc, poll_event_key desc
        ) as answer_rank,
        count(*) over (partition by period_type, poll_id, period_start) as all_answers
    from periods
),

counted as (
    select
        period_type,
        poll_id,
        guide_id,
        period_start,
        period_end,
        max(all_answers) as total_answers,
        count(*) as responses,
        sum(case when score >= 9 then 1 else 0 end) as promoters,
        sum(case when score between 7 and 8 then 1 else 0 end) as passives,
        sum(case when score <= 6 then 1 else 0 end) as detractors,
        avg(cast(score as double precision)) as average_score
    from latest
    where answer_rank = 1
    group by period_type, poll_id, guide_id, period_start, period_end
)

select
    counted.period_type,
    counted.poll_id,
    counted.guide_id,
    guides.name as guide_name,
    polls.question,
    counted.period_start,
    counted.period_end,
    cast(responses as bigint) as responses,
    cast(total_answers as bigint) as total_answers,
    cast(promoters as bigint) as promoters,
    cast(passives as bigint) as passives,
    cast(detractors as bigint) as detractors,
    {{ pendo_ratio('promoters', 'responses') }} as promoter_share,
    {{ pendo_ratio('passives', 'responses') }} as passive_share,
    {{ pendo_ratio('detractors', 'responses') }} as detractor_share,
    100.0 * {{ pendo_ratio('promoters - detractors', 'responses') }} as nps,
    average_score
from counted
left join {{ ref('stg_pendo__polls') }} as polls
    on polls.poll_id = counted.poll_id
left join {{ ref('stg_pendo__guides') }} as guides
    on guides.guide_id = counted.guide_id
