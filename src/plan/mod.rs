//! Normalize, diff and order: desired state and live state in, a typed plan out.
