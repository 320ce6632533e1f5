{{ config(enabled=pendo_stitch_compat()) }}
-- tap-pendo/Stitch stream metadata_visitors: the visitor metadata schema as one wide row.
{{ pendo_compat_metadata_schema('visitor') }}
