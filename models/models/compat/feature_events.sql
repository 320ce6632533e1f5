{{ config(enabled=pendo_stitch_compat()) }}
-- tap-pendo/Stitch stream feature_events: the loaded table with Stitch's column names and types.
{{ pendo_compat_table('feature_events') }}
