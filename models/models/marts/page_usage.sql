-- One row per page and day it was viewed: visitors, accounts, events, minutes, first-time vs returning
-- visitors ("first time" = first day in the loaded history the visitor viewed the page) and the running
-- count of distinct visitors who have viewed it.
{{ pendo_usage_mart('stg_pendo__page_events', 'stg_pendo__pages', 'page_id', 'page_name') }}
