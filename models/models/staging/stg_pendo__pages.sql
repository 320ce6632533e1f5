{{ pendo_stage_entity('pages', 'page_id', {'is_core_event': 'boolean', 'is_auto_tagged': 'boolean',
                                           'product_area_id': 'varchar'}) }}
