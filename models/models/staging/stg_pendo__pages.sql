{{ pendo_stage_entity('pages', 'page_id', ['is_core_event', 'is_auto_tagged']) }}
