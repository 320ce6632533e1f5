-- One row per account with NPS answers: from each of its visitors' latest score (nps_latest_visitor, the account
-- the answer was given under), the count of responding visitors, promoters / passives / detractors, the
-- account's NPS = 100 * (promoters - detractors) / responding visitors, the average score, and its most recent
-- answer.
with latest as (
    select * from {{ ref('nps_latest_visitor') }} where account_id is not null
),

ranked as (
    select
        latest.*,
        row_number() over (partition by account_id order by responded_at desc, visitor_id desc) as answer_rank
    from latest
),

counted as (
    select
        account_id,
        cast(count(*) as bigint) as responding_visitors,
        cast(sum(case when nps_category = 'promoter' then 1 else 0 end) as bigint) as promoters,
        cast(sum(case when nps_category = 'passive' then 1 else 0 end) as bigint) as passives,
        cast(sum(case when nps_category = 'detractor' then 1 else 0 end) as bigint) as detractors,
        avg(cast(score as double precision)) as average_score
    from latest
    group by account_id
)

select
    counted.account_id,
    counted.responding_visitors,
    counted.promoters,
    counted.passives,
    counted.detractors,
    100.0 * {{ pendo_ratio('counted.promoters - counted.detractors', 'counted.responding_visitors') }} as nps,
    counted.average_score,
    ranked.score as latest_score,
    ranked.responded_at as latest_responded_at,
    ranked.visitor_id as latest_visitor_id
from counted
inner join ranked
    on ranked.account_id = counted.account_id
    and ranked.answer_rank = 1
