{{ pendo_stage_entity('pages', 'page_id', {'is_core_event': 'boolean', 'is_auto_tagged': 'boolean',
                                           'group__name': 'varchar', 'product_area_id': 'varchar'}) }}
