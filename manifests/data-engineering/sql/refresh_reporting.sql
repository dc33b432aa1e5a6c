-- Refresh the reporting view over the curated aggregates.
CREATE OR REPLACE VIEW analytics.curated.daily_events_reporting AS
SELECT day, event_type, events FROM analytics.curated.daily_events WHERE day >= current_date() - 90;
