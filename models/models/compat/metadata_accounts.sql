{{ config(enabled=pendo_stitch_compat()) }}
-- tap-pendo/Stitch stream metadata_accounts: the account metadata schema as one wide row.
{{ pendo_compat_metadata_schema('account') }}
