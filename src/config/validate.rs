//! Checks on a parsed `mortar.yaml` that its types cannot express (URLs,
//! names, one JWT source, limits, sections), each naming the file and the
//! field; and making relative paths relative to the config file.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::{
    AuditSinkConfig, AuthConfig, Config, ConfigError, EndpointKey, GitSourceConfig, GitTransport,
    SecretRef, ValueRef, check_notification_url, parse_duration,
};

impl Config {
    /// Makes relative credential file paths relative to `dir` (the config
    /// file's directory) rather than to the working directory.
    pub fn resolve_paths(&mut self, dir: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        };
        let fix_ref = |r: &mut SecretRef| {
            if let SecretRef::File(p) = r {
                fix(p);
            }
        };
        let fix_value = |v: &mut ValueRef| {
            if let ValueRef::Ref(SecretRef::File(p)) = v {
                fix(p);
            }
        };
        if let Some(source) = &mut self.source {
            if let Some(d) = &mut source.dir {
                fix(d);
            }
            if let Some(g) = &mut source.git {
                if g.transport() == GitTransport::Local && Path::new(&g.repo).is_relative() {
                    g.repo = dir.join(&g.repo).to_string_lossy().into_owned();
                }
                if let Some(auth) = &mut g.auth {
                    if let Some(v) = &mut auth.username {
                        fix_value(v);
                    }
                    if let Some(r) = &mut auth.password {
                        fix_ref(r);
                    }
                    for p in [&mut auth.ssh_key, &mut auth.known_hosts]
                        .into_iter()
                        .flatten()
                    {
                        fix(p);
                    }
                }
                if let Some(verify) = &mut g.verify {
                    for p in [&mut verify.ssh_allowed_signers, &mut verify.openpgp_keys]
                        .into_iter()
                        .flatten()
                    {
                        fix(p);
                    }
                }
            }
        }
        fix(&mut self.state.dir);
        self.resolve_secret_paths(dir);
        self.server.resolve_paths(dir);
        self.resolve_notification_paths(dir);
        if let Some(f) = &mut self.audit.file {
            fix(f);
        }
        for sink in &mut self.audit.sinks {
            match sink {
                AuditSinkConfig::File(p) => fix(p),
                AuditSinkConfig::Webhook(hook) => {
                    if let ValueRef::Ref(r) = &mut hook.url {
                        fix_ref(r);
                    }
                    fix_ref(&mut hook.secret);
                }
                AuditSinkConfig::Stderr | AuditSinkConfig::Stdout => {}
            }
        }
        for ws in self.workspaces.values_mut() {
            match &mut ws.auth {
                AuthConfig::Pat { token } => fix_ref(token),
                AuthConfig::OauthM2m {
                    client_id,
                    client_secret,
                } => {
                    fix_value(client_id);
                    fix_ref(client_secret);
                }
                AuthConfig::OidcFederation {
                    client_id,
                    token_file,
                    idp,
                } => {
                    if let Some(id) = client_id {
                        fix_value(id);
                    }
                    if let Some(p) = token_file {
                        fix(p);
                    }
                    if let Some(idp) = idp {
                        fix_value(&mut idp.client_id);
                        fix_ref(&mut idp.client_secret);
                    }
                }
            }
        }
    }

    /// Checks what the types alone cannot: URLs, names, one JWT source, limits.
    pub fn validate(&self, file: &Path) -> Result<(), ConfigError> {
        let invalid = |field: String, message: String| ConfigError::Invalid {
            file: file.to_path_buf(),
            field,
            message,
        };
        self.validate_sections(file)?;
        self.validate_secrets()
            .map_err(|(field, message)| invalid(field, message))?;
        self.controller
            .check()
            .map_err(|(field, message)| invalid(field, message))?;
        self.server
            .check()
            .map_err(|(field, message)| invalid(field, message))?;
        self.validate_notifications()
            .map_err(|(field, message)| invalid(field, message))?;
        self.validate_kubernetes()
            .map_err(|(field, message)| invalid(field, message))?;
        for (name, ws) in &self.workspaces {
            let at = format!("workspaces.{name}");
            if !valid_name(name) {
                return Err(invalid(
                    at,
                    "workspace names use letters, digits, `-`, `_` and `.`".into(),
                ));
            }
            check_url(&ws.host, ws.allow_insecure_http, false)
                .map_err(|m| invalid(format!("{at}.host"), m))?;
            match &ws.auth {
                AuthConfig::Pat { token } => {
                    check_ref(token, &format!("{at}.auth.token")).map_err(|(f, m)| invalid(f, m))?
                }
                AuthConfig::OauthM2m {
                    client_id,
                    client_secret,
                } => {
                    check_value(client_id, &format!("{at}.auth.client_id"))
                        .map_err(|(f, m)| invalid(f, m))?;
                    check_ref(client_secret, &format!("{at}.auth.client_secret"))
                        .map_err(|(f, m)| invalid(f, m))?;
                }
                AuthConfig::OidcFederation {
                    client_id,
                    token_file,
                    idp,
                } => {
                    if let Some(id) = client_id {
                        check_value(id, &format!("{at}.auth.client_id"))
                            .map_err(|(f, m)| invalid(f, m))?;
                    }
                    match (token_file, idp) {
                        (Some(_), Some(_)) => {
                            return Err(invalid(
                                format!("{at}.auth"),
                                "give either `token_file` or `idp`, not both".into(),
                            ));
                        }
                        (None, None) => {
                            return Err(invalid(
                                format!("{at}.auth"),
                                "oidc-federation needs `token_file` (a JWT on disk) or `idp` (an OpenID provider to get one from)".into(),
                            ));
                        }
                        (Some(path), None) if path.as_os_str().is_empty() => {
                            return Err(invalid(
                                format!("{at}.auth.token_file"),
                                "empty path".into(),
                            ));
                        }
                        (_, Some(idp)) => {
                            check_url(&idp.issuer, idp.allow_insecure_http, true)
                                .map_err(|m| invalid(format!("{at}.auth.idp.issuer"), m))?;
                            check_value(&idp.client_id, &format!("{at}.auth.idp.client_id"))
                                .map_err(|(f, m)| invalid(f, m))?;
                            check_ref(&idp.client_secret, &format!("{at}.auth.idp.client_secret"))
                                .map_err(|(f, m)| invalid(f, m))?;
                        }
                        _ => {}
                    }
                }
            }
            let limits = &ws.limits;
            if !(limits.requests_per_second.is_finite() && limits.requests_per_second > 0.0) {
                return Err(invalid(
                    format!("{at}.limits.requests_per_second"),
                    "must be a positive number".into(),
                ));
            }
            if limits.max_concurrency == 0 {
                return Err(invalid(
                    format!("{at}.limits.max_concurrency"),
                    "must be at least 1".into(),
                ));
            }
            if limits.request_timeout_secs == 0 {
                return Err(invalid(
                    format!("{at}.limits.request_timeout_secs"),
                    "must be at least 1".into(),
                ));
            }
            for (field, value, max) in [
                ("call_deadline_secs", limits.call_deadline_secs, 86_400),
                ("max_response_bytes", limits.max_response_bytes, u64::MAX),
                ("max_export_bytes", limits.max_export_bytes, u64::MAX),
                (
                    "max_auth_response_bytes",
                    limits.max_auth_response_bytes,
                    u64::MAX,
                ),
                ("max_pages", limits.max_pages as u64, u64::MAX),
            ] {
                if value == 0 || value > max {
                    let message = if max == u64::MAX {
                        "must be at least 1".to_string()
                    } else {
                        format!("must be between 1 and {max}")
                    };
                    return Err(invalid(format!("{at}.limits.{field}"), message));
                }
            }
            for (key, rps) in &limits.endpoints {
                let field = format!("{at}.limits.endpoints.\"{key}\"");
                if !(rps.is_finite() && *rps > 0.0) {
                    return Err(invalid(field, "must be a positive number".into()));
                }
                if EndpointKey::parse(key).is_none() {
                    return Err(invalid(
                        field,
                        "keys are `METHOD path-prefix`, e.g. `POST jobs/create` or `* secrets/`"
                            .into(),
                    ));
                }
            }
            if ws.retry.max_attempts == 0 {
                return Err(invalid(
                    format!("{at}.retry.max_attempts"),
                    "must be at least 1".into(),
                ));
            }
            if ws.retry.max_retry_after_secs > 86_400 {
                return Err(invalid(
                    format!("{at}.retry.max_retry_after_secs"),
                    "must not exceed 86400 (one day)".into(),
                ));
            }
            if ws.retry.initial_backoff_ms > ws.retry.max_backoff_ms {
                return Err(invalid(
                    format!("{at}.retry.initial_backoff_ms"),
                    "must not exceed `max_backoff_ms`".into(),
                ));
            }
        }
        Ok(())
    }

    /// Checks `source`, `state` and `audit`.
    fn validate_sections(&self, file: &Path) -> Result<(), ConfigError> {
        let invalid = |field: &str, message: &str| ConfigError::Invalid {
            file: file.to_path_buf(),
            field: field.to_string(),
            message: message.to_string(),
        };
        let outside =
            |p: &str| p.trim().is_empty() || p.starts_with('/') || p.split('/').any(|s| s == "..");
        if let Some(source) = &self.source {
            match (&source.dir, &source.git) {
                (Some(_), Some(_)) => {
                    return Err(invalid("source", "give either `dir` or `git`, not both"));
                }
                (None, None) => {
                    return Err(invalid(
                        "source",
                        "needs `dir` (a directory) or `git` (a repository: `repo`, `revision`)",
                    ));
                }
                (Some(d), None) if d.as_os_str().is_empty() => {
                    return Err(invalid("source.dir", "empty path"));
                }
                (None, Some(g)) => {
                    check_git_source(g).map_err(|(f, m)| invalid(&f, &m))?;
                    if g.path.as_deref().is_some_and(outside) {
                        return Err(invalid(
                            "source.git.path",
                            "a relative path inside the repository, without `..`",
                        ));
                    }
                }
                _ => {}
            }
            if source.root.as_deref().is_some_and(outside) {
                return Err(invalid(
                    "source.root",
                    "a file relative to the manifest root, without `..`",
                ));
            }
        }
        if self.state.dir.as_os_str().is_empty() {
            return Err(invalid("state.dir", "empty path"));
        }
        if self
            .audit
            .file
            .as_ref()
            .is_some_and(|f| f.as_os_str().is_empty())
        {
            return Err(invalid("audit.file", "empty path"));
        }
        for (i, sink) in self.audit.sinks.iter().enumerate() {
            match sink {
                AuditSinkConfig::File(p) => {
                    let field = format!("audit.sinks[{i}].file");
                    if p.as_os_str().is_empty() {
                        return Err(invalid(&field, "empty path"));
                    }
                    if *p == self.audit_file() {
                        return Err(invalid(
                            &field,
                            "is the audit log of record itself; name another file",
                        ));
                    }
                }
                AuditSinkConfig::Webhook(hook) => {
                    let at = format!("audit.sinks[{i}].webhook");
                    if let ValueRef::Literal(url) = &hook.url {
                        check_notification_url(url, hook.allow_insecure_http)
                            .map_err(|m: String| invalid(&format!("{at}.url"), &m))?;
                    }
                    if hook.max_attempts == 0 {
                        return Err(invalid(&format!("{at}.max_attempts"), "must be at least 1"));
                    }
                    if hook.queue == 0 {
                        return Err(invalid(&format!("{at}.queue"), "must be at least 1"));
                    }
                    if hook.timeout_secs == 0 {
                        return Err(invalid(&format!("{at}.timeout_secs"), "must be at least 1"));
                    }
                }
                AuditSinkConfig::Stderr | AuditSinkConfig::Stdout => {}
            }
        }
        Ok(())
    }
}

/// Checks `source.git`: the repository's form, the revision, the durations,
/// the credential fitting the transport and the signature keys.
fn check_git_source(g: &GitSourceConfig) -> Result<(), (String, String)> {
    let err = |field: &str, message: String| Err((format!("source.git.{field}"), message));
    if g.repo.trim().is_empty() {
        return err("repo", "empty".into());
    }
    let transport = GitTransport::of(&g.repo).map_err(|m| ("source.git.repo".to_string(), m))?;
    match transport {
        GitTransport::Http | GitTransport::Https | GitTransport::Ssh | GitTransport::File
            if g.repo.contains("://") =>
        {
            let url = url::Url::parse(&g.repo)
                .map_err(|e| ("source.git.repo".to_string(), format!("not a URL: {e}")))?;
            if url.password().is_some() {
                return err(
                    "repo",
                    "a password does not belong in the URL; put it in `auth.password`".into(),
                );
            }
            if transport != GitTransport::File && url.host_str().is_none_or(str::is_empty) {
                return err("repo", format!("`{}` has no host", g.repo));
            }
            if transport == GitTransport::Http
                && !g.allow_insecure_http
                && !url.host_str().is_some_and(is_loopback_host)
            {
                return err(
                    "repo",
                    "plain http to a non-loopback host; credentials and manifests would travel unencrypted (use https, or set allow_insecure_http: true)".into(),
                );
            }
        }
        _ => {}
    }
    if g.revision.trim().is_empty() {
        return err(
            "revision",
            "empty; give a branch, tag, commit or HEAD".into(),
        );
    }
    parse_duration(&g.interval).map_err(|m| ("source.git.interval".to_string(), m))?;
    parse_duration(&g.timeout).map_err(|m| ("source.git.timeout".to_string(), m))?;
    let auth = g.auth.clone().unwrap_or_default();
    let basic = auth.username.is_some() || auth.password.is_some();
    let ssh = auth.ssh_key.is_some() || auth.known_hosts.is_some();
    match transport {
        GitTransport::Ssh => {
            if basic {
                return err(
                    "auth",
                    "an ssh repository takes `ssh_key` and `known_hosts`, not `username`/`password`".into(),
                );
            }
            if auth.ssh_key.is_none() || auth.known_hosts.is_none() {
                return err(
                    "auth",
                    "an ssh repository needs both `ssh_key` (a private key file) and `known_hosts` (the server's host keys)".into(),
                );
            }
        }
        GitTransport::Http | GitTransport::Https => {
            if ssh {
                return err(
                    "auth",
                    "`ssh_key` and `known_hosts` are for ssh repositories; https takes `username` and `password`".into(),
                );
            }
            if basic && (auth.username.is_none() || auth.password.is_none()) {
                return err(
                    "auth",
                    "give both `username` and `password` (a token goes in `password`)".into(),
                );
            }
        }
        GitTransport::File | GitTransport::Local => {
            if basic || ssh {
                return err(
                    "auth",
                    "a local repository takes no credential; remove `auth`".into(),
                );
            }
        }
    }
    if let Some(u) = &auth.username {
        check_value(u, "source.git.auth.username")?;
    }
    if let Some(p) = &auth.password {
        check_ref(p, "source.git.auth.password")?;
    }
    for (field, path) in [
        ("ssh_key", &auth.ssh_key),
        ("known_hosts", &auth.known_hosts),
    ] {
        if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            return err(&format!("auth.{field}"), "empty path".into());
        }
    }
    if let Some(v) = &g.verify {
        if v.ssh_allowed_signers.is_none() && v.openpgp_keys.is_none() {
            return err(
                "verify",
                "name `ssh_allowed_signers` and/or `openpgp_keys`, or remove `verify`".into(),
            );
        }
        for (field, path) in [
            ("ssh_allowed_signers", &v.ssh_allowed_signers),
            ("openpgp_keys", &v.openpgp_keys),
        ] {
            if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                return err(&format!("verify.{field}"), "empty path".into());
            }
        }
    }
    Ok(())
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn check_ref(r: &SecretRef, field: &str) -> Result<(), (String, String)> {
    match r {
        SecretRef::File(p) if p.as_os_str().is_empty() => {
            Err((format!("{field}.file"), "empty path".into()))
        }
        SecretRef::Env(n) if n.is_empty() => {
            Err((format!("{field}.env"), "empty variable name".into()))
        }
        _ => Ok(()),
    }
}

fn check_value(v: &ValueRef, field: &str) -> Result<(), (String, String)> {
    match v {
        ValueRef::Literal(s) if s.trim().is_empty() => Err((field.into(), "empty".into())),
        ValueRef::Literal(_) => Ok(()),
        ValueRef::Ref(r) => check_ref(r, field),
    }
}

/// True for `localhost` and loopback addresses.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// Checks a workspace or issuer URL: http(s), a host, nothing after it but
/// (for issuers) a path, and plain http only to loopback unless allowed.
pub fn check_url(raw: &str, allow_insecure_http: bool, path_allowed: bool) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("`{raw}` is not a URL: {e}"))?;
    let host = url
        .host_str()
        .ok_or_else(|| format!("`{raw}` has no host"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback_host(host) => {}
        "http" => {
            return Err(format!(
                "`{raw}` uses plain http to a non-loopback host; credentials would travel unencrypted (use https, or set allow_insecure_http: true)"
            ));
        }
        other => return Err(format!("`{raw}`: scheme `{other}` is not http or https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("`{raw}`: credentials do not belong in the URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{raw}`: no query or fragment allowed"));
    }
    if !path_allowed && url.path() != "/" && !url.path().is_empty() {
        return Err(format!(
            "`{raw}`: give the workspace host only, without a path"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use crate::config::{Config, ConfigError, GitTransport, SecretRef, ValueRef};

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("mortar.yaml"))
    }

    fn field_error(text: &str) -> (String, String) {
        match parse(text) {
            Err(ConfigError::Invalid { field, message, .. }) => (field, message),
            other => panic!("{text}: expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn remote_git_sources_with_credentials_durations_and_signers() {
        let config = parse(
            r#"
source:
  git:
    repo: https://git.example.com/platform/manifests.git
    revision: main
    interval: 30s
    timeout: 2m
    auth: { username: deploy-bot, password: { env: GIT_TOKEN } }
    verify: { ssh_allowed_signers: /etc/mortar/allowed_signers, openpgp_keys: keys.asc }
"#,
        )
        .unwrap();
        let git = config.source.unwrap().git.unwrap();
        assert_eq!(git.transport(), GitTransport::Https);
        assert_eq!(git.poll_interval(), Duration::from_secs(30));
        assert_eq!(git.fetch_timeout(), Duration::from_secs(120));
        let auth = git.auth.unwrap();
        assert_eq!(auth.username, Some(ValueRef::Literal("deploy-bot".into())));
        assert_eq!(auth.password, Some(SecretRef::Env("GIT_TOKEN".into())));

        let git = parse("source: { git: { repo: git@github.com:org/repo.git, auth: { ssh_key: id, known_hosts: kh } } }\n")
            .unwrap()
            .source
            .unwrap()
            .git
            .unwrap();
        assert_eq!(git.transport(), GitTransport::Ssh);
        assert_eq!(git.poll_interval(), Duration::from_secs(180));
        assert_eq!(git.fetch_timeout(), Duration::from_secs(60));
        assert_eq!(git.revision, "HEAD");
        for (repo, transport) in [
            ("ssh://git@host:2222/org/r.git", GitTransport::Ssh),
            ("file:///srv/r.git", GitTransport::File),
            ("../platform.git", GitTransport::Local),
            ("/srv/r.git", GitTransport::Local),
            ("http://127.0.0.1:8080/r.git", GitTransport::Http),
        ] {
            assert_eq!(GitTransport::of(repo), Ok(transport), "{repo}");
        }
    }

    #[test]
    fn bad_git_sources_name_the_field() {
        for (text, field, message) in [
            (
                "source: { git: { repo: r, interval: soon } }\n",
                "source.git.interval",
                "not a duration",
            ),
            (
                "source: { git: { repo: r, timeout: 0s } }\n",
                "source.git.timeout",
                "positive",
            ),
            (
                "source: { git: { repo: \"http://git.example.com/r.git\" } }\n",
                "source.git.repo",
                "plain http",
            ),
            (
                "source: { git: { repo: \"https://bot:tok@git.example.com/r.git\" } }\n",
                "source.git.repo",
                "auth.password",
            ),
            (
                "source: { git: { repo: \"git://git.example.com/r.git\" } }\n",
                "source.git.repo",
                "not supported",
            ),
            (
                "source: { git: { repo: \"ssh://git@host/r.git\", auth: { ssh_key: id } } }\n",
                "source.git.auth",
                "known_hosts",
            ),
            (
                "source: { git: { repo: \"ssh://git@host/r.git\" } }\n",
                "source.git.auth",
                "ssh_key",
            ),
            (
                "source: { git: { repo: \"https://h/r.git\", auth: { username: u } } }\n",
                "source.git.auth",
                "password",
            ),
            (
                "source: { git: { repo: \"https://h/r.git\", auth: { ssh_key: k, known_hosts: h } } }\n",
                "source.git.auth",
                "ssh repositories",
            ),
            (
                "source: { git: { repo: \"https://h/r.git\", verify: {} } }\n",
                "source.git.verify",
                "ssh_allowed_signers",
            ),
        ] {
            let (f, m) = field_error(text);
            assert_eq!(f, field, "{text}");
            assert!(m.contains(message), "{text}: {m}");
        }
        // Plain http is fine to loopback, or when allowed.
        assert!(parse("source: { git: { repo: \"http://127.0.0.1:9/r.git\" } }\n").is_ok());
        assert!(
            parse(
                "source: { git: { repo: \"http://git.lan/r.git\", allow_insecure_http: true } }\n"
            )
            .is_ok()
        );
    }

    #[test]
    fn local_paths_and_key_files_are_relative_to_the_config_file() {
        let mut config = parse(
            "source: { git: { repo: ../platform.git, verify: { openpgp_keys: keys.asc } } }\n",
        )
        .unwrap();
        config.resolve_paths(Path::new("/etc/mortar"));
        let git = config.source.unwrap().git.unwrap();
        assert_eq!(git.repo, "/etc/mortar/../platform.git");
        assert_eq!(
            git.verify.unwrap().openpgp_keys,
            Some(PathBuf::from("/etc/mortar/keys.asc"))
        );

        let mut config = parse(
            "source: { git: { repo: \"ssh://git@h/r.git\", auth: { ssh_key: keys/id, known_hosts: /k } } }\n",
        )
        .unwrap();
        config.resolve_paths(Path::new("/etc/mortar"));
        let git = config.source.unwrap().git.unwrap();
        assert_eq!(git.repo, "ssh://git@h/r.git");
        let auth = git.auth.unwrap();
        assert_eq!(auth.ssh_key, Some(PathBuf::from("/etc/mortar/keys/id")));
        assert_eq!(auth.known_hosts, Some(PathBuf::from("/k")));
    }
}
