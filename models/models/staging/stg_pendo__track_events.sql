{{ pendo_stage_rollup('track_events', 'track_type_id') }}
