//! `Secret`: a string that never shows itself in logs, errors or `Debug`,
//! and whose value is registered with the [`super::redact`] redactor so a
//! server echoing it back cannot put it into an error either.

use std::fmt;

/// A credential (token, client secret, JWT). `Debug` and `Display` print
/// `***`; only [`Secret::expose`] gives the value, at the point of use.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A long-lived secret (a PAT, a client secret, a secret-scope value);
    /// registered with the redactor.
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        super::redact::register(&value);
        Secret(value)
    }

    /// A secret replaced regularly (an access token, a JWT); registered with
    /// the redactor among the recent rotating values.
    pub fn rotating(value: impl Into<String>) -> Secret {
        let value = value.into();
        super::redact::register_rotating(&value);
        Secret(value)
    }

    /// The value, for putting on the wire. Never log what this returns.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let s = Secret::new("dapi-very-secret");
        assert_eq!(format!("{s}"), "***");
        assert!(!format!("{s:?}").contains("very-secret"));
        assert!(!format!("{:?}", Some(&s)).contains("very-secret"));
        assert_eq!(s.expose(), "dapi-very-secret");
        assert_eq!(
            crate::databricks::redact::redact("echo dapi-very-secret"),
            "echo ***"
        );
    }
}
