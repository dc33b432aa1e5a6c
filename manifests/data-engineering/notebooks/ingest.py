# Databricks notebook source
# Ingest yesterday's raw events into the bronze table.
env = dbutils.widgets.get("env")
events = spark.read.format("json").load(f"s3://example-{env}-landing/events/")
events.write.mode("append").saveAsTable("analytics.raw.events")
