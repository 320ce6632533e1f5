-- One row per feature and day it was used: visitors, accounts, events, minutes, first-time vs returning
-- visitors ("first time" = first day in the loaded history the visitor used the feature) and the running
-- count of distinct visitors who have adopted it.
{{ pendo_usage_mart('stg_pendo__feature_events', 'stg_pendo__features', 'feature_id', 'feature_name') }}
