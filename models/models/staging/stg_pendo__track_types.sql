{{ pendo_stage_entity('track_types', 'track_type_id', {'track_type_name': 'varchar', 'is_core_event': 'boolean'}) }}
