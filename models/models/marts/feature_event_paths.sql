-- One row per feature-click rollup, with the visitor's previous feature (first-event order).
{{ pendo_event_paths('stg_pendo__feature_events', 'stg_pendo__features', 'feature_id', 'feature_name') }}
