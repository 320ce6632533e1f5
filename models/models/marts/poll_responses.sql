-- One row per poll answer, every poll type: the answer as text (free text, choice ids, numbers as text), its
-- score where the poll is numeric, the chosen option's label for choice polls, and the poll's question.
select
    answers.poll_event_key,
    answers.poll_id,
    answers.guide_id,
    guides.name as guide_name,
    polls.question,
    answers.poll_type,
    coalesce(polls.is_nps, false) as is_nps,
    answers.visitor_id,
    answers.account_id,
    answers.app_id,
    answers.responded_at,
    answers.response_date,
    answers.poll_response,
    answers.response_score,
    choices.choice_label
from {{ ref('stg_pendo__poll_events') }} as answers
left join {{ ref('stg_pendo__polls') }} as polls on polls.poll_id = answers.poll_id
left join {{ ref('stg_pendo__guides') }} as guides on guides.guide_id = answers.guide_id
left join {{ ref('stg_pendo__poll_choices') }} as choices
    on choices.poll_id = answers.poll_id
    and choices.choice_id = answers.poll_response
where {{ pendo_visitor_filter('answers') }}
