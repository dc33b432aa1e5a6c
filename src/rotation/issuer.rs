//! The calls that make, list and revoke a service principal's credentials:
//! OAuth secrets through the service-principal secrets API (the path names
//! the principal's SCIM id), personal access tokens through token
//! management's on-behalf-of tokens. A new value is wrapped in a
//! [`Secret`] the moment it is read from the answer.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::marker::Issuer;
use crate::databricks::kinds::{gone, str_field, take_array};
use crate::databricks::{Client, Error, Secret};

/// The service principal a rotation is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Its SCIM id (the id Mortar's inventory holds).
    pub scim_id: String,
}

/// A credential just made: the value exists only here and at its target.
#[derive(Debug)]
pub struct Issued {
    pub id: String,
    pub value: Secret,
    pub created: Timestamp,
}

/// An id that may go into a path as is.
pub fn path_safe(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn refused(what: &str) -> Error {
    Error::Refused(format!(
        "{what} is not a plain id; it is not put into a path"
    ))
}

fn secrets_path(sp: &Principal) -> Result<String, Error> {
    if !path_safe(&sp.scim_id) {
        return Err(refused("the service principal's id"));
    }
    Ok(format!(
        "/api/2.0/accounts/servicePrincipals/{}/credentials/secrets",
        sp.scim_id
    ))
}

/// The ids of the service principal's live credentials of one kind.
pub async fn list(
    client: &Client,
    issuer: Issuer,
    sp: &Principal,
) -> Result<BTreeSet<String>, Error> {
    match issuer {
        Issuer::OauthSecret => {
            let path = secrets_path(sp)?;
            let mut ids = BTreeSet::new();
            let mut token: Option<String> = None;
            for _ in 0..client.max_pages() {
                let mut query: Vec<(&str, &str)> = vec![("page_size", "1000")];
                if let Some(t) = &token {
                    query.push(("page_token", t));
                }
                let mut resp = client.get(&path, &query).await?;
                token = str_field(&resp, "next_page_token").filter(|t| !t.is_empty());
                ids.extend(
                    take_array(resp.take(), "secrets")
                        .iter()
                        .filter_map(|s| str_field(s, "id")),
                );
                if token.is_none() {
                    break;
                }
            }
            Ok(ids)
        }
        Issuer::Pat => {
            let resp = client.get("/api/2.0/token-management/tokens", &[]).await?;
            Ok(take_array(resp, "token_infos")
                .iter()
                .filter(|t| id_text(t.get("owner_id")).as_deref() == Some(sp.scim_id.as_str()))
                .filter_map(|t| str_field(t, "token_id"))
                .collect())
        }
    }
}

fn id_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The service principal's application id (what an on-behalf-of token names).
async fn application_id(client: &Client, sp: &Principal) -> Result<String, Error> {
    if !path_safe(&sp.scim_id) {
        return Err(refused("the service principal's id"));
    }
    let me = client
        .get(
            &format!("/api/2.0/preview/scim/v2/ServicePrincipals/{}", sp.scim_id),
            &[],
        )
        .await?;
    str_field(&me, "applicationId").ok_or_else(|| Error::Decode {
        method: "GET".into(),
        path: "/api/2.0/preview/scim/v2/ServicePrincipals/{id}".into(),
        message: "no applicationId in the service principal".into(),
    })
}

fn missing(path: &str, field: &str) -> Error {
    Error::Decode {
        method: "POST".into(),
        path: path.into(),
        message: format!("no {field} in the response"),
    }
}

/// Makes a credential living `lifetime`.
pub async fn create(
    client: &Client,
    issuer: Issuer,
    sp: &Principal,
    lifetime: Duration,
    comment: &str,
) -> Result<Issued, Error> {
    match issuer {
        Issuer::OauthSecret => {
            let path = secrets_path(sp)?;
            let resp = client
                .post_create(
                    &path,
                    &json!({"lifetime": format!("{}s", lifetime.as_secs())}),
                )
                .await?;
            let value = str_field(&resp, "secret").map(Secret::new);
            let id = str_field(&resp, "id");
            drop(resp);
            let created = Timestamp::now();
            match (id, value) {
                (Some(id), Some(value)) => Ok(Issued { id, value, created }),
                (None, _) => Err(missing(&path, "id")),
                (Some(_), None) => Err(missing(&path, "secret")),
            }
        }
        Issuer::Pat => {
            let path = "/api/2.0/token-management/on-behalf-of/tokens";
            let application_id = application_id(client, sp).await?;
            let resp = client
                .post_create(
                    path,
                    &json!({
                        "application_id": application_id,
                        "lifetime_seconds": lifetime.as_secs(),
                        "comment": comment,
                    }),
                )
                .await?;
            let value = str_field(&resp, "token_value").map(Secret::new);
            let id = resp
                .get("token_info")
                .and_then(|i| str_field(i, "token_id"));
            drop(resp);
            let created = Timestamp::now();
            match (id, value) {
                (Some(id), Some(value)) => Ok(Issued { id, value, created }),
                (None, _) => Err(missing(path, "token_info.token_id")),
                (Some(_), None) => Err(missing(path, "token_value")),
            }
        }
    }
}

/// Revokes credential `id`; one already gone is not an error.
pub async fn revoke(
    client: &Client,
    issuer: Issuer,
    sp: &Principal,
    id: &str,
) -> Result<(), Error> {
    if !path_safe(id) {
        return Err(refused("the credential's id"));
    }
    let path = match issuer {
        Issuer::OauthSecret => format!("{}/{id}", secrets_path(sp)?),
        Issuer::Pat => format!("/api/2.0/token-management/tokens/{id}"),
    };
    gone(client.delete(&path, &[]).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_go_into_paths() {
        assert!(path_safe("1234"));
        assert!(path_safe("a1b2-c3_d4"));
        assert!(!path_safe(""));
        assert!(!path_safe("../../scim"));
        assert!(!path_safe("1?x=y"));
    }
}
