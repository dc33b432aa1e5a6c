//! Bitbucket Server / Data Center webhooks: `X-Hub-Signature: sha256=<hex>`
//! (HMAC-SHA256 of the body), `X-Event-Key: repo:refs_changed` for a push
//! (`diagnostics:ping` when the hook is tested) and `X-Request-Id`. One
//! delivery may change several references: each becomes a [`Push`].

use axum::http::HeaderMap;
use serde::Deserialize;

use super::core::{
    Provider, Push, WebhookError, delivery_id, header, json, verify_prefixed_signature,
};
use crate::databricks::Secret;

pub const SIGNATURE: &str = "x-hub-signature";
pub const EVENT: &str = "x-event-key";
pub const DELIVERY: &str = "x-request-id";

#[derive(Deserialize)]
struct Payload {
    repository: Repository,
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Repository {
    #[serde(default)]
    links: Links,
}

#[derive(Deserialize, Default)]
struct Links {
    #[serde(default)]
    clone: Vec<Link>,
    #[serde(rename = "self", default)]
    this: Vec<Link>,
}

#[derive(Deserialize)]
struct Link {
    href: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Change {
    #[serde(default)]
    ref_id: Option<String>,
    #[serde(rename = "ref", default)]
    reference: Option<Ref>,
    #[serde(default)]
    to_hash: Option<String>,
}

#[derive(Deserialize)]
struct Ref {
    id: String,
}

/// Authenticates and reads one Bitbucket delivery: one push per changed reference.
pub fn parse(headers: &HeaderMap, body: &[u8], secret: &Secret) -> Result<Vec<Push>, WebhookError> {
    verify_prefixed_signature(headers, SIGNATURE, secret, body)?;
    let event = header(headers, EVENT).unwrap_or_default();
    if event != "repo:refs_changed" {
        return Err(WebhookError::NotAPush {
            event: event.chars().take(64).collect(),
        });
    }
    let payload: Payload = json(body)?;
    let links = payload.repository.links;
    let repository_urls: Vec<String> = links
        .clone
        .into_iter()
        .chain(links.this)
        .map(|l| l.href)
        .collect();
    let delivery = delivery_id(headers, DELIVERY);
    let pushes: Vec<Push> = payload
        .changes
        .into_iter()
        .filter_map(|c| {
            let reference = c.ref_id.or(c.reference.map(|r| r.id))?;
            Some(Push {
                provider: Provider::Bitbucket,
                repository_urls: repository_urls.clone(),
                reference,
                after: c.to_hash,
                delivery: delivery.clone(),
            })
        })
        .collect();
    if pushes.is_empty() {
        return Err(WebhookError::Malformed {
            message: "`changes` names no reference".into(),
        });
    }
    Ok(pushes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::webhook::core::tests::{headers, sign};

    const SECRET: &str = "bitbucket-test-secret-55ab";

    /// `repo:refs_changed` as Bitbucket Data Center documents it (trimmed).
    const PUSH: &str = r#"{
      "eventKey": "repo:refs_changed",
      "date": "2017-09-19T09:45:32+1000",
      "actor": { "name": "admin", "emailAddress": "admin@example.com", "id": 1 },
      "repository": {
        "slug": "platform", "id": 84, "name": "platform", "scmId": "git",
        "project": { "key": "ACME", "id": 84, "name": "acme" },
        "links": {
          "clone": [
            { "href": "ssh://git@bitbucket.example.com:7999/acme/platform.git", "name": "ssh" },
            { "href": "https://bitbucket.example.com/scm/acme/platform.git", "name": "http" }
          ],
          "self": [ { "href": "https://bitbucket.example.com/projects/ACME/repos/platform/browse" } ]
        }
      },
      "changes": [
        {
          "ref": { "id": "refs/heads/feature", "displayId": "feature", "type": "BRANCH" },
          "refId": "refs/heads/feature",
          "fromHash": "ecddabb624f6f5ba43816f5926e580a5f680a932",
          "toHash": "178864a7d521b6f5e720b386b2c2b0ef8563e0dc",
          "type": "UPDATE"
        },
        {
          "ref": { "id": "refs/heads/main", "displayId": "main", "type": "BRANCH" },
          "refId": "refs/heads/main",
          "fromHash": "0000000000000000000000000000000000000000",
          "toHash": "a00945762949b7787ecabc388c0e20b1b85f0b3c",
          "type": "ADD"
        }
      ]
    }"#;

    fn signed(event: &str, body: &str) -> HeaderMap {
        headers(&[
            (
                SIGNATURE,
                &format!("sha256={}", sign(SECRET, body.as_bytes())),
            ),
            (EVENT, event),
            (DELIVERY, "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
        ])
    }

    #[test]
    fn each_changed_reference_is_a_push() {
        let pushes = parse(
            &signed("repo:refs_changed", PUSH),
            PUSH.as_bytes(),
            &Secret::new(SECRET),
        )
        .expect("pushes");
        assert_eq!(pushes.len(), 2);
        assert_eq!(pushes[1].reference, "refs/heads/main");
        assert_eq!(
            pushes[1].after.as_deref(),
            Some("a00945762949b7787ecabc388c0e20b1b85f0b3c")
        );
        assert_eq!(pushes[0].repository_urls.len(), 3);
        assert_eq!(
            pushes[0].delivery.as_deref(),
            Some("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
        );
    }

    #[test]
    fn signature_event_and_shape_are_checked() {
        let secret = Secret::new(SECRET);
        let mut h = signed("repo:refs_changed", PUSH);
        h.insert(SIGNATURE, "sha256=deadbeef".parse().expect("value"));
        assert_eq!(
            parse(&h, PUSH.as_bytes(), &secret),
            Err(WebhookError::BadSignature { header: SIGNATURE })
        );
        let ping = "{\"test\": true}";
        assert_eq!(
            parse(&signed("diagnostics:ping", ping), ping.as_bytes(), &secret),
            Err(WebhookError::NotAPush {
                event: "diagnostics:ping".into()
            })
        );
        let empty = r#"{"repository": {}, "changes": []}"#;
        assert!(matches!(
            parse(
                &signed("repo:refs_changed", empty),
                empty.as_bytes(),
                &secret
            ),
            Err(WebhookError::Malformed { .. })
        ));
    }
}
