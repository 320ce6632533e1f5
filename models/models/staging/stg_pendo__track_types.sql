{{ pendo_stage_entity('track_types', 'track_type_id', ['track_type_name', 'is_core_event']) }}
