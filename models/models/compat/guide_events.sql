{{ config(enabled=pendo_stitch_compat()) }}
-- tap-pendo/Stitch stream guide_events: the loaded table with Stitch's column names and types.
{{ pendo_compat_table('guide_events') }}
