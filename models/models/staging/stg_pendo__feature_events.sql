{{ pendo_stage_rollup('feature_events', 'feature_id') }}
