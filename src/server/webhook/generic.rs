//! Webhooks from any sender (a CI job, a script, a Git server without a
//! native integration): `X-Mortar-Signature: sha256=<hex>` (HMAC-SHA256 of
//! the body), `X-Mortar-Delivery`, and the body
//! `{"repository": URL, "ref": "refs/heads/main", "after": SHA}`.

use axum::http::HeaderMap;
use serde::Deserialize;

use super::core::{Provider, Push, WebhookError, delivery_id, json, verify_prefixed_signature};
use crate::databricks::Secret;

pub const SIGNATURE: &str = "x-mortar-signature";
pub const DELIVERY: &str = "x-mortar-delivery";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    repository: String,
    #[serde(rename = "ref")]
    reference: String,
    #[serde(default)]
    after: Option<String>,
}

/// Authenticates and reads one generic delivery.
pub fn parse(headers: &HeaderMap, body: &[u8], secret: &Secret) -> Result<Push, WebhookError> {
    verify_prefixed_signature(headers, SIGNATURE, secret, body)?;
    let payload: Payload = json(body)?;
    if payload.repository.trim().is_empty() || payload.reference.trim().is_empty() {
        return Err(WebhookError::Malformed {
            message: "`repository` and `ref` must not be empty".into(),
        });
    }
    Ok(Push {
        provider: Provider::Generic,
        repository_urls: vec![payload.repository],
        reference: payload.reference,
        after: payload.after,
        delivery: delivery_id(headers, DELIVERY),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::webhook::core::tests::{headers, sign};

    const SECRET: &str = "generic-test-secret-0d9e";

    #[test]
    fn a_signed_body_is_a_push() {
        let body = r#"{"repository":"https://git.example.com/acme/platform.git","ref":"refs/heads/main","after":"3f786850e387550fdab836ed7e6dc881de23001b"}"#;
        let h = headers(&[
            (
                SIGNATURE,
                &format!("sha256={}", sign(SECRET, body.as_bytes())),
            ),
            (DELIVERY, "ci-run-4711"),
        ]);
        let push = parse(&h, body.as_bytes(), &Secret::new(SECRET)).expect("push");
        assert_eq!(push.provider, Provider::Generic);
        assert_eq!(
            push.repository_urls,
            vec!["https://git.example.com/acme/platform.git".to_string()]
        );
        assert_eq!(push.reference, "refs/heads/main");
        assert_eq!(push.delivery.as_deref(), Some("ci-run-4711"));
    }

    #[test]
    fn unsigned_or_unexpected_bodies_are_refused() {
        let secret = Secret::new(SECRET);
        let body = r#"{"repository":"r","ref":"refs/heads/main"}"#;
        assert!(
            parse(&HeaderMap::new(), body.as_bytes(), &secret)
                .unwrap_err()
                .is_unauthorized()
        );
        for bad in [
            r#"{"repository":"r"}"#,
            r#"{"repository":"","ref":"main"}"#,
            r#"{"repository":"r","ref":"main","extra":1}"#,
            "not json",
        ] {
            let h = headers(&[(
                SIGNATURE,
                &format!("sha256={}", sign(SECRET, bad.as_bytes())),
            )]);
            assert!(
                matches!(
                    parse(&h, bad.as_bytes(), &secret),
                    Err(WebhookError::Malformed { .. })
                ),
                "{bad}"
            );
        }
    }
}
