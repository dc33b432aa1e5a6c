-- Databricks notebook source
-- Curate raw events into daily aggregates.
CREATE OR REPLACE TABLE analytics.curated.daily_events AS
SELECT date(event_time) AS day, event_type, count(*) AS events
FROM analytics.raw.events
GROUP BY 1, 2;
