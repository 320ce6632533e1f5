{{ config(enabled=pendo_stitch_compat()) }}
-- tap-pendo/Stitch stream accounts: account_id, lastupdated, metadata_<group>__<field>.
{{ pendo_compat_people('accounts', 'account', 'account_id') }}
