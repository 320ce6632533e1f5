{{ config(enabled=pendo_stitch_compat()) }}
-- tap-pendo/Stitch stream features: the loaded table with Stitch's column names and types.
{{ pendo_compat_table('features') }}
