//! Credential rotation as manifests declare it: a `ServicePrincipal` may
//! carry `credentials:` beside `spec`, asking the controller to keep one
//! live credential for it, replaced every `rotate_every`, delivered to a
//! secret scope or a Kubernetes Secret, the old one revoked `overlap`
//! after its successor was delivered.
//!
//! ```yaml
//! credentials:
//!   type: oauth-secret              # or pat (an on-behalf-of token)
//!   rotate_every: 30d
//!   overlap: 1d
//!   deliver_to:
//!     secret_scope: { scope: etl, key: runner-client-secret }
//!     # or kubernetes_secret: { name: runner-credentials, key: client-secret }
//! ```

use std::time::Duration;

use serde::Serialize;

use super::diag::{At, Diagnostics};
use super::fields::Fields;
use super::resource::{Origin, ResourceKey};
use super::yaml::Node;

/// The key beside `spec` that asks for rotation.
pub const CREDENTIALS: &str = "credentials";

/// Which credential a service principal is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialType {
    /// A service-principal OAuth secret (client credentials).
    OauthSecret,
    /// A personal access token made on the service principal's behalf.
    Pat,
}

impl CredentialType {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialType::OauthSecret => "oauth-secret",
            CredentialType::Pat => "pat",
        }
    }
}

/// Where a new credential's value is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// A key of a Databricks secret scope, in the service principal's workspace.
    SecretScope { scope: String, key: String },
    /// A key of a Kubernetes Secret in the controller's namespace.
    KubernetesSecret { name: String, key: String },
}

impl Delivery {
    /// `secret scope etl/key` or `Kubernetes Secret name/key`, for messages.
    pub fn describe(&self) -> String {
        match self {
            Delivery::SecretScope { scope, key } => format!("secret scope {scope}/{key}"),
            Delivery::KubernetesSecret { name, key } => format!("Kubernetes Secret {name}/{key}"),
        }
    }
}

/// One service principal's rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialRotation {
    /// The service principal.
    pub key: ResourceKey,
    pub credential: CredentialType,
    #[serde(with = "crate::config::duration::duration_text")]
    pub rotate_every: Duration,
    #[serde(with = "crate::config::duration::duration_text")]
    pub overlap: Duration,
    pub deliver_to: Delivery,
    pub origin: Origin,
}

/// Parses `30d`, `12h`, `90m`: days count 24 hours.
pub fn parse_period(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if let Some(days) = trimmed.strip_suffix('d')
        && let Ok(n) = days.trim().parse::<u64>()
    {
        return match n {
            0 => Err(format!("`{text}`: the duration must be positive")),
            n => Ok(Duration::from_secs(n * 86_400)),
        };
    }
    crate::config::duration::parse_duration(trimmed)
}

/// Reads `credentials:` (variables already substituted).
pub fn read(
    diags: &mut Diagnostics,
    file: &str,
    node: &Node,
    key: &ResourceKey,
    origin: &Origin,
) -> Option<CredentialRotation> {
    let f = Fields::open(
        diags,
        file,
        node,
        CREDENTIALS,
        &["type", "rotate_every", "overlap", "deliver_to"],
    )?;
    let at = |field: &str| {
        let (line, column) = f.at(field);
        (line, column, format!("{CREDENTIALS}.{field}"))
    };
    let credential = match f.string(diags, "type", true)?.as_str() {
        "oauth-secret" => CredentialType::OauthSecret,
        "pat" => CredentialType::Pat,
        other => {
            let (line, column, field) = at("type");
            diags.error(
                At::new(file, line, column, &field),
                format!("unknown credential type `{other}`; expected oauth-secret or pat"),
            );
            return None;
        }
    };
    let mut period = |name: &str, required: bool| -> Option<Duration> {
        let text = f.string(diags, name, required)?;
        match parse_period(&text) {
            Ok(d) => Some(d),
            Err(e) => {
                let (line, column, field) = at(name);
                diags.error(At::new(file, line, column, &field), e);
                None
            }
        }
    };
    let rotate_every = period("rotate_every", true)?;
    let overlap = period("overlap", false).unwrap_or(Duration::from_secs(86_400));
    if overlap >= rotate_every {
        let (line, column, field) = at("overlap");
        diags.error(
            At::new(file, line, column, &field),
            "the overlap must be shorter than rotate_every: the old credential is revoked before the next rotation",
        );
        return None;
    }
    let deliver_to = read_delivery(diags, file, &f)?;
    Some(CredentialRotation {
        key: key.clone(),
        credential,
        rotate_every,
        overlap,
        deliver_to,
        origin: origin.clone(),
    })
}

fn read_delivery(diags: &mut Diagnostics, file: &str, f: &Fields<'_>) -> Option<Delivery> {
    let Some(entry) = f.entry("deliver_to") else {
        let (line, column) = f.at("deliver_to");
        diags.error(
            At::new(file, line, column, &format!("{CREDENTIALS}.deliver_to")),
            "missing `deliver_to`: { secret_scope: { scope, key } } or { kubernetes_secret: { name, key } }",
        );
        return None;
    };
    let path = format!("{CREDENTIALS}.deliver_to");
    let d = Fields::open(
        diags,
        file,
        &entry.value,
        &path,
        &["secret_scope", "kubernetes_secret"],
    )?;
    let target = |diags: &mut Diagnostics, name: &str, fields: [&str; 2]| {
        let e = d.entry(name)?;
        let t = Fields::open(diags, file, &e.value, &format!("{path}.{name}"), &fields)?;
        Some((
            t.string(diags, fields[0], true)?,
            t.string(diags, fields[1], true)?,
        ))
    };
    match (d.entry("secret_scope"), d.entry("kubernetes_secret")) {
        (Some(_), None) => target(diags, "secret_scope", ["scope", "key"])
            .map(|(scope, key)| Delivery::SecretScope { scope, key }),
        (None, Some(_)) => target(diags, "kubernetes_secret", ["name", "key"])
            .map(|(name, key)| Delivery::KubernetesSecret { name, key }),
        _ => {
            diags.error(
                At::new(file, entry.value.line, entry.value.column, &path),
                "give exactly one of `secret_scope` and `kubernetes_secret`",
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_days_hours_and_minutes() {
        assert_eq!(parse_period("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_period("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_period("90m"), Ok(Duration::from_secs(90 * 60)));
        assert!(parse_period("0d").is_err());
        assert!(parse_period("soon").is_err());
    }
}
