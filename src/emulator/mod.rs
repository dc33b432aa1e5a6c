//! A fake Databricks workspace that speaks the same REST API as the real one.
//! It keeps its own model of the API and shares no types with the client.
