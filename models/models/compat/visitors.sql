{{ config(enabled=pendo_stitch_compat()) }}
-- tap-pendo/Stitch stream visitors: visitor_id, lastupdated, metadata_<group>__<field>.
{{ pendo_compat_people('visitors', 'visitor', 'visitor_id') }}
