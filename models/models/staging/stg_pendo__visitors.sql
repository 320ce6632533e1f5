{{ pendo_stage_people('visitors', 'visitor_id', [
    "nullif(metadata_auto_accountid, '') as account_id",
    pendo_local_ts('metadata_auto_firstvisit') ~ ' as first_visit_at',
    pendo_local_ts('metadata_auto_lastvisit') ~ ' as last_visit_at',
    pendo_local_ts('metadata_auto_lastupdated') ~ ' as last_updated_at',
]) }}
