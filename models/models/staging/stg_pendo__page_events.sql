{{ pendo_stage_rollup('page_events', 'page_id') }}
