{{ pendo_stage_entity('guides', 'guide_id', {'state': 'varchar', 'launch_method': 'varchar',
                                             'is_multi_step': 'boolean', 'published_at': 'timestamptz'}) }}
