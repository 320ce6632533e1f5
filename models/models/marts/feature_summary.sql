-- One row per feature (catalog and events): all-time visitors, accounts, events, minutes, first/last day.
{{ pendo_entity_summary('stg_pendo__feature_events', 'stg_pendo__features', 'feature_id', 'feature_name') }}
