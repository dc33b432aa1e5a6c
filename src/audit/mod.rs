//! The audit trail: a hash-chained, append-only JSON-lines log, its sinks and its verifier.
