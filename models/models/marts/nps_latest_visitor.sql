-- One row per visitor who answered an NPS poll: their latest score (any NPS poll), its category, and their
-- free-text follow-up: the latest FreeForm answer they gave in the same guide at or after that score
-- (Pendo's NPS is a score poll and a text poll shown together).
with scores as (
    select
        answers.*,
        row_number() over (partition by visitor_id order by responded_at desc, poll_event_key desc) as answer_rank
    from {{ ref('poll_responses') }} as answers
    where is_nps and response_score between 0 and 10
),

latest as (
    select * from scores where answer_rank = 1
),

follow_ups as (
    select
        latest.visitor_id,
        texts.poll_response as follow_up_text,
        row_number() over (
            partition by latest.visitor_id order by texts.responded_at desc, texts.poll_event_key desc
        ) as text_rank
    from latest
    inner join {{ ref('poll_responses') }} as texts
        on texts.visitor_id = latest.visitor_id
        and texts.guide_id = latest.guide_id
        and texts.poll_type = 'FreeForm'
        and texts.responded_at >= latest.responded_at
)

select
    latest.visitor_id,
    latest.account_id,
    latest.poll_id,
    latest.guide_id,
    latest.responded_at,
    latest.response_date,
    cast(latest.response_score as integer) as score,
    case
        when latest.response_score >= 9 then 'promoter'
        when latest.response_score >= 7 then 'passive'
        else 'detractor'
    end as nps_category,
    follow_ups.follow_up_text
from latest
left join follow_ups
    on follow_ups.visitor_id = latest.visitor_id
    and follow_ups.text_rank = 1
