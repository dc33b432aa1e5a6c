//! The Databricks SDK environment variables (`DATABRICKS_HOST`,
//! `DATABRICKS_TOKEN`, …), which describe one workspace when the config
//! file names none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{
    AuthConfig, Config, ConfigError, LimitsConfig, RetryConfig, SecretRef, ValueRef,
    WorkspaceConfig,
};

/// The name given to the workspace described by `DATABRICKS_*` variables.
pub const ENV_WORKSPACE: &str = "default";

impl Config {
    /// The configured workspaces, or the one the `DATABRICKS_*` environment
    /// variables describe (named [`ENV_WORKSPACE`]) when the file names none.
    pub fn workspaces_or_env(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<BTreeMap<String, WorkspaceConfig>, ConfigError> {
        if !self.workspaces.is_empty() {
            return Ok(self.workspaces.clone());
        }
        let ws = workspace_from_env(env)?;
        Ok(BTreeMap::from([(ENV_WORKSPACE.to_string(), ws)]))
    }
}

/// The workspace described by the Databricks SDK environment variables:
/// `DATABRICKS_HOST` plus one of `DATABRICKS_TOKEN`,
/// `DATABRICKS_CLIENT_ID`+`DATABRICKS_CLIENT_SECRET`, or
/// `DATABRICKS_OIDC_TOKEN_FILEPATH` (with `DATABRICKS_CLIENT_ID` for a
/// service principal's federation policy). `DATABRICKS_AUTH_TYPE` picks one
/// when several are set.
pub fn workspace_from_env(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<WorkspaceConfig, ConfigError> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let Some(host) = get("DATABRICKS_HOST") else {
        return Err(ConfigError::Env(
            "no workspace configured: pass --config FILE with a `workspaces:` section, or set DATABRICKS_HOST and credentials (DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET or DATABRICKS_OIDC_TOKEN_FILEPATH)".into(),
        ));
    };
    let host = if host.contains("://") {
        host
    } else {
        format!("https://{host}")
    };
    let token_file =
        get("DATABRICKS_OIDC_TOKEN_FILEPATH").or_else(|| get("DATABRICKS_OIDC_TOKEN_FILE"));
    let client_id = get("DATABRICKS_CLIENT_ID");
    let pat = get("DATABRICKS_TOKEN").map(|_| AuthConfig::Pat {
        token: SecretRef::Env("DATABRICKS_TOKEN".into()),
    });
    let m2m = match (&client_id, get("DATABRICKS_CLIENT_SECRET")) {
        (Some(id), Some(_)) => Some(AuthConfig::OauthM2m {
            client_id: ValueRef::Literal(id.clone()),
            client_secret: SecretRef::Env("DATABRICKS_CLIENT_SECRET".into()),
        }),
        _ => None,
    };
    let oidc = token_file.map(|path| AuthConfig::OidcFederation {
        client_id: client_id.clone().map(ValueRef::Literal),
        token_file: Some(PathBuf::from(path)),
        idp: None,
    });
    let auth = match get("DATABRICKS_AUTH_TYPE").as_deref() {
        Some("pat") => pat,
        Some("oauth-m2m") => m2m,
        Some("file-oidc") | Some("oidc-federation") => oidc,
        Some(other) => {
            return Err(ConfigError::Env(format!(
                "DATABRICKS_AUTH_TYPE={other} is not supported; use pat, oauth-m2m or file-oidc"
            )));
        }
        None => {
            let found: Vec<AuthConfig> = [pat, m2m, oidc].into_iter().flatten().collect();
            if found.len() > 1 {
                let names: Vec<&str> = found.iter().map(AuthConfig::method).collect();
                return Err(ConfigError::Env(format!(
                    "more than one authentication method configured ({}); set DATABRICKS_AUTH_TYPE to pick one",
                    names.join(" and ")
                )));
            }
            found.into_iter().next()
        }
    };
    let Some(auth) = auth else {
        return Err(ConfigError::Env(
            "DATABRICKS_HOST is set but no credentials are: set DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET, or DATABRICKS_OIDC_TOKEN_FILEPATH".into(),
        ));
    };
    let ws = WorkspaceConfig {
        host,
        auth,
        allow_insecure_http: false,
        limits: LimitsConfig::default(),
        retry: RetryConfig::default(),
    };
    let config = Config {
        workspaces: BTreeMap::from([(ENV_WORKSPACE.to_string(), ws.clone())]),
        ..Config::default()
    };
    config
        .validate(Path::new("environment"))
        .map_err(|err| ConfigError::Env(err.to_string()))?;
    Ok(ws)
}
