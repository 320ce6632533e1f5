-- One row per page (catalog and events): all-time visitors, accounts, events, minutes, first/last day.
{{ pendo_entity_summary('stg_pendo__page_events', 'stg_pendo__pages', 'page_id', 'page_name') }}
