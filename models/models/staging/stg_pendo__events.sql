{{ pendo_stage_rollup('events') }}
