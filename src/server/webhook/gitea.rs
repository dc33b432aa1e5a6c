//! Gitea (and Forgejo) webhooks: `X-Gitea-Signature` is the bare hex
//! HMAC-SHA256 of the body, `X-Gitea-Event: push`, `X-Gitea-Delivery`. The
//! payload follows GitHub's shape (`ref`, `after`, `repository.html_url`,
//! `clone_url`, `ssh_url`).

use axum::http::HeaderMap;

use super::core::{Provider, Push, WebhookError, delivery_id, header, json, verify_hmac_hex};
use super::github::Payload;
use crate::databricks::Secret;

pub const SIGNATURE: &str = "x-gitea-signature";
pub const EVENT: &str = "x-gitea-event";
pub const DELIVERY: &str = "x-gitea-delivery";

/// Authenticates and reads one Gitea delivery.
pub fn parse(headers: &HeaderMap, body: &[u8], secret: &Secret) -> Result<Push, WebhookError> {
    let signature = header(headers, SIGNATURE)
        .filter(|s| !s.is_empty())
        .ok_or(WebhookError::MissingSignature { header: SIGNATURE })?;
    verify_hmac_hex(secret, body, signature, SIGNATURE)?;
    // Gitea also sends the Gogs header; either names the event.
    let event = header(headers, EVENT)
        .or_else(|| header(headers, "x-gogs-event"))
        .unwrap_or_default();
    if event != "push" {
        return Err(WebhookError::NotAPush {
            event: event.chars().take(64).collect(),
        });
    }
    let payload: Payload = json(body)?;
    Ok(payload.into_push(Provider::Gitea, delivery_id(headers, DELIVERY)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::webhook::core::tests::{headers, sign};

    const SECRET: &str = "gitea-test-secret-91c2";

    /// A push event as Gitea sends it (trimmed).
    const PUSH: &str = r#"{
      "ref": "refs/heads/main",
      "before": "28e1879d029cb852e4844d9c718537df08844e03",
      "after": "bffeb74224043ba2feb48d137756c8a9331c449a",
      "compare_url": "https://gitea.example.com/acme/platform/compare/28e1879...bffeb74",
      "commits": [],
      "repository": {
        "id": 140, "name": "platform", "full_name": "acme/platform",
        "html_url": "https://gitea.example.com/acme/platform",
        "ssh_url": "git@gitea.example.com:acme/platform.git",
        "clone_url": "https://gitea.example.com/acme/platform.git",
        "default_branch": "main"
      },
      "pusher": { "login": "gitea" }
    }"#;

    #[test]
    fn a_signed_push_is_read() {
        let h = headers(&[
            (SIGNATURE, &sign(SECRET, PUSH.as_bytes())),
            (EVENT, "push"),
            (DELIVERY, "9a7b3c1e-2f4d-4c8b-a1e3-5d6f7a8b9c0d"),
        ]);
        let push = parse(&h, PUSH.as_bytes(), &Secret::new(SECRET)).expect("push");
        assert_eq!(push.provider, Provider::Gitea);
        assert_eq!(push.reference, "refs/heads/main");
        assert_eq!(
            push.after.as_deref(),
            Some("bffeb74224043ba2feb48d137756c8a9331c449a")
        );
        assert_eq!(push.repository_urls.len(), 3);
        assert!(push.delivery.is_some());
    }

    #[test]
    fn the_signature_is_bare_hex_over_the_exact_body() {
        let secret = Secret::new(SECRET);
        let prefixed = format!("sha256={}", sign(SECRET, PUSH.as_bytes()));
        let h = headers(&[(SIGNATURE, &prefixed), (EVENT, "push")]);
        assert!(
            parse(&h, PUSH.as_bytes(), &secret)
                .unwrap_err()
                .is_unauthorized()
        );
        let h = headers(&[(SIGNATURE, &sign(SECRET, PUSH.as_bytes())), (EVENT, "push")]);
        let reformatted = PUSH.replace('\n', "");
        assert!(
            parse(&h, reformatted.as_bytes(), &secret)
                .unwrap_err()
                .is_unauthorized()
        );
        let h = headers(&[(EVENT, "push")]);
        assert_eq!(
            parse(&h, PUSH.as_bytes(), &secret),
            Err(WebhookError::MissingSignature { header: SIGNATURE })
        );
        let h = headers(&[(SIGNATURE, &sign(SECRET, b"{}")), (EVENT, "create")]);
        assert!(matches!(
            parse(&h, b"{}", &secret),
            Err(WebhookError::NotAPush { .. })
        ));
    }
}
