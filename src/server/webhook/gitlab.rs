//! GitLab webhooks: the shared token in `X-Gitlab-Token` (GitLab signs
//! nothing), `X-Gitlab-Event: Push Hook` (or `Tag Push Hook`) and
//! `X-Gitlab-Event-UUID`. The payload names the project by its web, HTTP
//! and SSH URLs, in `project` and again in the older `repository`.

use axum::http::HeaderMap;
use serde::Deserialize;

use super::core::{Provider, Push, WebhookError, delivery_id, header, json, verify_token};
use crate::databricks::Secret;

pub const TOKEN: &str = "x-gitlab-token";
pub const EVENT: &str = "x-gitlab-event";
pub const DELIVERY: &str = "x-gitlab-event-uuid";

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    project: Option<Urls>,
    #[serde(default)]
    repository: Option<Urls>,
}

#[derive(Deserialize)]
struct Urls {
    #[serde(default)]
    web_url: Option<String>,
    #[serde(default)]
    git_http_url: Option<String>,
    #[serde(default)]
    git_ssh_url: Option<String>,
    #[serde(default)]
    http_url: Option<String>,
    #[serde(default)]
    ssh_url: Option<String>,
    #[serde(default)]
    homepage: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

/// Authenticates and reads one GitLab delivery.
pub fn parse(headers: &HeaderMap, body: &[u8], token: &Secret) -> Result<Push, WebhookError> {
    verify_token(headers, TOKEN, token)?;
    let event = header(headers, EVENT).unwrap_or_default();
    if !matches!(event, "Push Hook" | "Tag Push Hook") {
        return Err(WebhookError::NotAPush {
            event: event.chars().take(64).collect(),
        });
    }
    let payload: Payload = json(body)?;
    let mut repository_urls: Vec<String> = Vec::new();
    for u in [payload.project, payload.repository].into_iter().flatten() {
        for url in [
            u.web_url,
            u.git_http_url,
            u.git_ssh_url,
            u.http_url,
            u.ssh_url,
            u.homepage,
            u.url,
        ]
        .into_iter()
        .flatten()
        {
            if !repository_urls.contains(&url) {
                repository_urls.push(url);
            }
        }
    }
    if repository_urls.is_empty() {
        return Err(WebhookError::Malformed {
            message: "no `project` or `repository` URL".into(),
        });
    }
    Ok(Push {
        provider: Provider::Gitlab,
        repository_urls,
        reference: payload.reference,
        after: payload.after,
        delivery: delivery_id(headers, DELIVERY),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::webhook::core::tests::headers;

    const TOKEN_VALUE: &str = "gitlab-test-token-7f3a";

    /// A push event as GitLab documents it (trimmed).
    const PUSH: &str = r#"{
      "object_kind": "push", "event_name": "push",
      "before": "95790bf891e76fee5e1747ab589903a6a1f80f22",
      "after": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
      "ref": "refs/heads/main", "ref_protected": true,
      "checkout_sha": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
      "user_id": 4, "user_name": "John Smith", "project_id": 15,
      "project": {
        "id": 15, "name": "Platform", "path_with_namespace": "acme/platform",
        "web_url": "https://gitlab.example.com/acme/platform",
        "git_ssh_url": "git@gitlab.example.com:acme/platform.git",
        "git_http_url": "https://gitlab.example.com/acme/platform.git",
        "default_branch": "main",
        "homepage": "https://gitlab.example.com/acme/platform",
        "url": "git@gitlab.example.com:acme/platform.git",
        "ssh_url": "git@gitlab.example.com:acme/platform.git",
        "http_url": "https://gitlab.example.com/acme/platform.git"
      },
      "repository": {
        "name": "Platform", "url": "git@gitlab.example.com:acme/platform.git",
        "homepage": "https://gitlab.example.com/acme/platform",
        "git_http_url": "https://gitlab.example.com/acme/platform.git",
        "git_ssh_url": "git@gitlab.example.com:acme/platform.git"
      },
      "commits": [], "total_commits_count": 0
    }"#;

    #[test]
    fn a_push_with_the_right_token_is_read() {
        let h = headers(&[
            (TOKEN, TOKEN_VALUE),
            (EVENT, "Push Hook"),
            (DELIVERY, "1ae1d2c9-4e39-4b6c-9e2a-0b1e2f3a4b5c"),
        ]);
        let push = parse(&h, PUSH.as_bytes(), &Secret::new(TOKEN_VALUE)).expect("push");
        assert_eq!(push.provider, Provider::Gitlab);
        assert_eq!(push.reference, "refs/heads/main");
        assert_eq!(
            push.after.as_deref(),
            Some("da1560886d4f094c3e6c9ef40349f7d38b5d27d7")
        );
        assert_eq!(
            push.delivery.as_deref(),
            Some("1ae1d2c9-4e39-4b6c-9e2a-0b1e2f3a4b5c")
        );
        // Duplicates across `project` and `repository` are listed once.
        assert_eq!(push.repository_urls.len(), 3, "{:?}", push.repository_urls);
    }

    #[test]
    fn a_wrong_or_missing_token_is_unauthorized() {
        let secret = Secret::new(TOKEN_VALUE);
        let h = headers(&[(TOKEN, "guess"), (EVENT, "Push Hook")]);
        assert_eq!(
            parse(&h, PUSH.as_bytes(), &secret),
            Err(WebhookError::BadSignature { header: TOKEN })
        );
        let h = headers(&[(EVENT, "Push Hook")]);
        assert_eq!(
            parse(&h, PUSH.as_bytes(), &secret),
            Err(WebhookError::MissingSignature { header: TOKEN })
        );
    }

    #[test]
    fn tag_pushes_count_and_other_events_do_not() {
        let secret = Secret::new(TOKEN_VALUE);
        let tag = PUSH.replace("refs/heads/main", "refs/tags/v1.0.0");
        let h = headers(&[(TOKEN, TOKEN_VALUE), (EVENT, "Tag Push Hook")]);
        assert_eq!(
            parse(&h, tag.as_bytes(), &secret)
                .expect("tag push")
                .reference,
            "refs/tags/v1.0.0"
        );
        let h = headers(&[(TOKEN, TOKEN_VALUE), (EVENT, "Merge Request Hook")]);
        assert!(matches!(
            parse(&h, PUSH.as_bytes(), &secret),
            Err(WebhookError::NotAPush { .. })
        ));
        let h = headers(&[(TOKEN, TOKEN_VALUE), (EVENT, "Push Hook")]);
        assert!(matches!(
            parse(&h, br#"{"ref":"refs/heads/main"}"#, &secret),
            Err(WebhookError::Malformed { .. })
        ));
    }
}
