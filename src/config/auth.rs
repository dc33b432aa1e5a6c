//! The `server.auth:` section of `mortar.yaml`: the organisation's OpenID
//! provider, for people signing in to the web view (authorization code
//! flow with PKCE) and for bots calling the API with a bearer JWT the
//! provider issued. Without it the API server listens on loopback only.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use super::SecretRef;
use super::duration::duration_text;

/// The algorithms a bearer token may be signed with unless the config
/// narrows them: asymmetric only (a shared-secret HMAC key would let
/// anyone holding the JWKS forge tokens, and `none` is never accepted).
pub const DEFAULT_ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// How people and bots prove who they are.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiAuthConfig {
    /// The OpenID provider's issuer URL (its discovery document lives
    /// under `/.well-known/openid-configuration`).
    pub issuer: Url,
    /// The client people sign in through. Without it only bearer tokens
    /// are accepted and the web view asks for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretRef>,
    /// Scopes asked for at sign-in (default `openid email profile groups`).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The claim listing a person's or bot's groups (default `groups`).
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// A public client the CLI signs in through with the device flow
    /// (`mortar app login`); its ID tokens are accepted as bearer tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli_client_id: Option<String>,
    /// Audiences a bearer token must name one of (default: the client id;
    /// the CLI's client id is always one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// Signature algorithms accepted on bearer tokens.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// How far the IdP's clock may be from ours when checking a token's
    /// expiry and not-before (default `30s`, at most `5m`).
    #[serde(default = "default_clock_skew", with = "duration_text")]
    pub clock_skew: Duration,
    /// How long a sign-in lasts (default `8h`).
    #[serde(default = "default_session_ttl", with = "duration_text")]
    pub session_ttl: Duration,
    /// The URL people's browsers reach the server at, for the sign-in
    /// callback (`{public_url}/auth/callback`) and Secure cookies. Default:
    /// `http://` and `server.listen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<Url>,
}

fn default_scopes() -> Vec<String> {
    ["openid", "email", "profile", "groups"]
        .map(String::from)
        .to_vec()
}

fn default_groups_claim() -> String {
    "groups".into()
}

fn default_algorithms() -> Vec<String> {
    DEFAULT_ALGORITHMS.iter().map(|a| a.to_string()).collect()
}

fn default_clock_skew() -> Duration {
    Duration::from_secs(30)
}

fn default_session_ttl() -> Duration {
    Duration::from_secs(8 * 3600)
}

impl ApiAuthConfig {
    /// The audiences bearer tokens are checked against.
    pub fn accepted_audiences(&self) -> Vec<String> {
        let mut out = if self.audiences.is_empty() {
            self.client_id.iter().cloned().collect()
        } else {
            self.audiences.clone()
        };
        out.extend(self.cli_client_id.iter().cloned());
        out
    }

    pub(super) fn secret_mut(&mut self) -> Option<&mut SecretRef> {
        self.client_secret.as_mut()
    }

    /// Checks what the types cannot: `(field, message)` on failure.
    pub(super) fn check(&self) -> Result<(), (String, String)> {
        let field = |f: &str| format!("server.auth.{f}");
        if !matches!(self.issuer.scheme(), "https" | "http") {
            return Err((field("issuer"), "an http(s) URL".into()));
        }
        if self.issuer.scheme() == "http" && !is_loopback_url(&self.issuer) {
            return Err((
                field("issuer"),
                "must be https (plain http is accepted on loopback only)".into(),
            ));
        }
        if self.cli_client_id.as_deref() == Some("") {
            return Err((field("cli_client_id"), "empty".into()));
        }
        if self.client_id.as_deref() == Some("") {
            return Err((field("client_id"), "empty".into()));
        }
        if self.client_id.is_some() && self.client_secret.is_none() {
            return Err((
                field("client_secret"),
                "required with `client_id` (a file, an env variable or a Secret)".into(),
            ));
        }
        if self.client_id.is_none() && self.client_secret.is_some() {
            return Err((field("client_id"), "required with `client_secret`".into()));
        }
        if self.accepted_audiences().is_empty() {
            return Err((
                field("audiences"),
                "name the audience bearer tokens carry (or set `client_id`)".into(),
            ));
        }
        if self.groups_claim.is_empty() {
            return Err((field("groups_claim"), "empty".into()));
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err((field("scopes"), "must include `openid`".into()));
        }
        if self.algorithms.is_empty() {
            return Err((field("algorithms"), "name at least one".into()));
        }
        for (i, a) in self.algorithms.iter().enumerate() {
            if !DEFAULT_ALGORITHMS.contains(&a.as_str()) {
                return Err((
                    format!("server.auth.algorithms[{i}]"),
                    format!(
                        "`{a}` is not accepted; the asymmetric algorithms are {}",
                        DEFAULT_ALGORITHMS.join(", ")
                    ),
                ));
            }
        }
        if self.clock_skew > Duration::from_secs(300) {
            return Err((field("clock_skew"), "at most 5m".into()));
        }
        if self.session_ttl < Duration::from_secs(60) {
            return Err((field("session_ttl"), "at least 1m".into()));
        }
        if let Some(url) = &self.public_url {
            if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
                return Err((field("public_url"), "an http(s) URL".into()));
            }
            if url.scheme() == "http" && !is_loopback_url(url) {
                return Err((
                    field("public_url"),
                    "must be https (session cookies are Secure beyond loopback)".into(),
                ));
            }
        }
        Ok(())
    }
}

fn is_loopback_url(url: &Url) -> bool {
    url.host_str().is_some_and(super::is_loopback_host)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    fn check(auth: &str) -> Result<(), String> {
        let text = format!("server:\n  listen: 0.0.0.0:8080\n  auth:\n{auth}");
        Config::parse(&text, Path::new("mortar.yaml"))
            .map(|_| ())
            .map_err(|e| crate::error_chain::error_chain(&e))
    }

    #[test]
    fn a_web_client_needs_its_secret_and_defaults_fill_the_rest() {
        let config = Config::parse(
            "server:\n  auth:\n    issuer: https://idp.example.com\n    client_id: mortar\n    client_secret: { env: OIDC_SECRET }\n",
            Path::new("mortar.yaml"),
        )
        .unwrap();
        let auth = config.server.auth.as_ref().unwrap();
        assert_eq!(auth.accepted_audiences(), vec!["mortar"]);
        assert_eq!(auth.groups_claim, "groups");
        assert_eq!(auth.scopes, vec!["openid", "email", "profile", "groups"]);
        assert!(!auth.algorithms.iter().any(|a| a.starts_with("HS")));

        let missing =
            check("    issuer: https://idp.example.com\n    client_id: mortar\n").unwrap_err();
        assert!(missing.contains("server.auth.client_secret"), "{missing}");
    }

    #[test]
    fn refuses_what_would_weaken_verification() {
        let hs = check(
            "    issuer: https://idp.example.com\n    audiences: [mortar]\n    algorithms: [RS256, HS256]\n",
        )
        .unwrap_err();
        assert!(hs.contains("server.auth.algorithms[1]"), "{hs}");
        let none = check(
            "    issuer: https://idp.example.com\n    audiences: [mortar]\n    algorithms: [none]\n",
        )
        .unwrap_err();
        assert!(none.contains("`none` is not accepted"), "{none}");
        let plain =
            check("    issuer: http://idp.example.com\n    audiences: [mortar]\n").unwrap_err();
        assert!(plain.contains("server.auth.issuer"), "{plain}");
        let no_audience = check("    issuer: https://idp.example.com\n").unwrap_err();
        assert!(
            no_audience.contains("server.auth.audiences"),
            "{no_audience}"
        );
        check("    issuer: http://127.0.0.1:5556\n    audiences: [mortar]\n").unwrap();
    }
}
