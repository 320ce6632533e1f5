{{ config(enabled=pendo_stitch_compat()) }}
-- tap-pendo/Stitch stream track_types: the loaded table with Stitch's column names and types.
{{ pendo_compat_table('track_types') }}
