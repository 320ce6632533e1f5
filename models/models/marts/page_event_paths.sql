-- One row per page-view rollup, with the visitor's previous page (first-event order).
{{ pendo_event_paths('stg_pendo__page_events', 'stg_pendo__pages', 'page_id', 'page_name') }}
