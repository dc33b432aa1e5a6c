//! The Databricks REST client: authentication, retries, rate limits,
//! pagination, typed errors, and one adapter per resource kind.
