//! One way to show an error with its causes: `outer: inner: cause`, for
//! logs, messages and audit records.

/// An error and its sources as one line, `outer: inner: cause`.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(source) = next {
        out.push_str(": ");
        out.push_str(&source.to_string());
        next = source.source();
    }
    out
}
