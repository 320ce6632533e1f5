{{ pendo_stage_entity('guides', 'guide_id', ['state', 'launch_method', 'is_multi_step',
                                             pendo_local_ts('published_at') ~ ' as published_at']) }}
