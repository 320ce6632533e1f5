{{ pendo_stage_entity('features', 'feature_id', {'page_id': 'varchar', 'app_wide': 'boolean',
                                                 'is_core_event': 'boolean', 'group__name': 'varchar',
                                                 'product_area_id': 'varchar'}) }}
