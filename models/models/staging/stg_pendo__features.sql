{{ pendo_stage_entity('features', 'feature_id', ['page_id', 'app_wide', 'is_core_event']) }}
