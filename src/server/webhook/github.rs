//! GitHub webhooks: `X-Hub-Signature-256: sha256=<hex>` (HMAC-SHA256 of the
//! body under the shared secret), `X-GitHub-Event` (`push`; `ping` when the
//! hook is created) and `X-GitHub-Delivery`. The push payload names the
//! repository by its web, HTTPS, SSH and git URLs.

use axum::http::HeaderMap;
use serde::Deserialize;

use super::core::{
    Provider, Push, WebhookError, delivery_id, header, json, verify_prefixed_signature,
};
use crate::databricks::Secret;

pub const SIGNATURE: &str = "x-hub-signature-256";
pub const EVENT: &str = "x-github-event";
pub const DELIVERY: &str = "x-github-delivery";

/// A push payload in GitHub's shape (Gitea and Forgejo send the same).
#[derive(Deserialize)]
pub(super) struct Payload {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(default)]
    after: Option<String>,
    repository: Repository,
}

#[derive(Deserialize)]
struct Repository {
    #[serde(default)]
    html_url: Option<String>,
    #[serde(default)]
    clone_url: Option<String>,
    #[serde(default)]
    ssh_url: Option<String>,
    #[serde(default)]
    git_url: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

/// Authenticates and reads one GitHub delivery.
pub fn parse(headers: &HeaderMap, body: &[u8], secret: &Secret) -> Result<Push, WebhookError> {
    verify_prefixed_signature(headers, SIGNATURE, secret, body)?;
    let event = header(headers, EVENT).unwrap_or_default();
    if event != "push" {
        return Err(WebhookError::NotAPush {
            event: event.chars().take(64).collect(),
        });
    }
    // A hook may be set to send `application/x-www-form-urlencoded`: the
    // signature covers the form, and the JSON is its `payload` field.
    let form = header(headers, "content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let payload: Payload = if form {
        let field = url::form_urlencoded::parse(body)
            .find(|(k, _)| k == "payload")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| WebhookError::Malformed {
                message: "the form has no `payload` field".into(),
            })?;
        json(field.as_bytes())?
    } else {
        json(body)?
    };
    Ok(payload.into_push(Provider::Github, delivery_id(headers, DELIVERY)))
}

impl Payload {
    /// The push it announces, with every URL it gives for the repository.
    pub(super) fn into_push(self, provider: Provider, delivery: Option<String>) -> Push {
        let r = self.repository;
        Push {
            provider,
            repository_urls: [r.html_url, r.clone_url, r.ssh_url, r.git_url, r.url]
                .into_iter()
                .flatten()
                .collect(),
            reference: self.reference,
            after: self.after,
            delivery,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::webhook::core::tests::{headers, sign};

    const SECRET: &str = "github-test-secret-It's a Secret to Everybody";

    /// A push event as GitHub documents it (trimmed to the fields read and a few around them).
    const PUSH: &str = r#"{
      "ref": "refs/heads/main",
      "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
      "after": "59b20b8d5c6ff8d09518454d4dd8b7a30f095ab5",
      "created": false, "deleted": false, "forced": false,
      "repository": {
        "id": 186853002, "name": "platform", "full_name": "acme/platform",
        "private": true,
        "html_url": "https://github.com/acme/platform",
        "url": "https://github.com/acme/platform",
        "git_url": "git://github.com/acme/platform.git",
        "ssh_url": "git@github.com:acme/platform.git",
        "clone_url": "https://github.com/acme/platform.git",
        "default_branch": "main"
      },
      "pusher": { "name": "octocat", "email": "octocat@github.com" },
      "commits": [], "head_commit": null
    }"#;

    fn signed(event: &str, body: &str) -> HeaderMap {
        headers(&[
            (
                SIGNATURE,
                &format!("sha256={}", sign(SECRET, body.as_bytes())),
            ),
            (EVENT, event),
            (DELIVERY, "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        ])
    }

    #[test]
    fn a_signed_push_names_every_repository_url() {
        let push = parse(&signed("push", PUSH), PUSH.as_bytes(), &Secret::new(SECRET))
            .expect("valid push");
        assert_eq!(push.provider, Provider::Github);
        assert_eq!(push.reference, "refs/heads/main");
        assert_eq!(
            push.after.as_deref(),
            Some("59b20b8d5c6ff8d09518454d4dd8b7a30f095ab5")
        );
        assert_eq!(
            push.delivery.as_deref(),
            Some("72d3162e-cc78-11e3-81ab-4c9367dc0958")
        );
        assert_eq!(push.repository_urls.len(), 5);
        assert!(
            push.repository_urls
                .contains(&"git@github.com:acme/platform.git".to_string())
        );
    }

    #[test]
    fn the_documented_example_signature_verifies() {
        // GitHub's docs: secret "It's a Secret to Everybody", body "Hello, World!".
        let h = headers(&[
            (
                SIGNATURE,
                "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            ),
            (EVENT, "push"),
        ]);
        let secret = Secret::new("It's a Secret to Everybody");
        // The signature holds; the body is then not a push payload.
        assert!(matches!(
            parse(&h, b"Hello, World!", &secret),
            Err(WebhookError::Malformed { .. })
        ));
    }

    #[test]
    fn wrong_or_missing_signatures_are_refused_before_the_body_is_read() {
        let secret = Secret::new(SECRET);
        let mut h = signed("push", PUSH);
        let tampered = PUSH.replace("refs/heads/main", "refs/heads/evil");
        assert_eq!(
            parse(&h, tampered.as_bytes(), &secret),
            Err(WebhookError::BadSignature { header: SIGNATURE })
        );
        h.remove(SIGNATURE);
        assert_eq!(
            parse(&h, PUSH.as_bytes(), &secret),
            Err(WebhookError::MissingSignature { header: SIGNATURE })
        );
        // A ping with a bad signature is unauthorized too, not a ping.
        let h = headers(&[(SIGNATURE, "sha256=00"), (EVENT, "ping")]);
        assert!(parse(&h, b"{}", &secret).unwrap_err().is_unauthorized());
    }

    #[test]
    fn a_form_encoded_push_is_read_from_its_payload_field() {
        let form: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", PUSH)
            .finish();
        let mut h = signed("push", &form);
        h.insert(
            "content-type",
            "application/x-www-form-urlencoded".parse().expect("value"),
        );
        let push = parse(&h, form.as_bytes(), &Secret::new(SECRET)).expect("push");
        assert_eq!(push.reference, "refs/heads/main");
        // The signature covers the form as sent, not the JSON inside it.
        let h2 = {
            let mut h2 = signed("push", PUSH);
            h2.insert(
                "content-type",
                "application/x-www-form-urlencoded".parse().expect("value"),
            );
            h2
        };
        assert!(
            parse(&h2, form.as_bytes(), &Secret::new(SECRET))
                .unwrap_err()
                .is_unauthorized()
        );
        let empty = "other=1";
        let mut h3 = signed("push", empty);
        h3.insert(
            "content-type",
            "application/x-www-form-urlencoded".parse().expect("value"),
        );
        assert!(matches!(
            parse(&h3, empty.as_bytes(), &Secret::new(SECRET)),
            Err(WebhookError::Malformed { .. })
        ));
    }

    #[test]
    fn ping_and_other_events_are_not_pushes() {
        let ping = r#"{"zen":"Design for failure.","hook_id":1}"#;
        assert_eq!(
            parse(&signed("ping", ping), ping.as_bytes(), &Secret::new(SECRET)),
            Err(WebhookError::NotAPush {
                event: "ping".into()
            })
        );
        let garbage = "{\"ref\": 1}";
        assert!(matches!(
            parse(
                &signed("push", garbage),
                garbage.as_bytes(),
                &Secret::new(SECRET)
            ),
            Err(WebhookError::Malformed { .. })
        ));
    }
}
