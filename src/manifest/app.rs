//! Mortar's own kinds: `Application`, `ApplicationSet`, `Project` and
//! `Workspace` — their public types and how their specs are read.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Kind;
use super::diag::{At, Diagnostics};
use super::fields::Fields;
use super::resource::Origin;
use super::yaml::{Node, Value};

/// Where an app's manifests come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppSource {
    /// `None` means the repository the root app came from.
    pub repo_url: Option<String>,
    /// Directory relative to the manifest root, normalised (`""` is the root).
    pub path: String,
    pub target_revision: Option<String>,
    /// Read subdirectories too (`source.directory.recurse`); off by default.
    pub recurse: bool,
}

/// `syncPolicy.automated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Automated {
    pub prune: bool,
    pub self_heal: bool,
}

/// `syncPolicy.retry`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Retry {
    pub limit: u64,
    /// Initial backoff, e.g. `5s`.
    pub backoff_duration: String,
    pub backoff_factor: u64,
    /// Cap on the backoff, e.g. `3m`.
    pub backoff_max_duration: String,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            limit: 5,
            backoff_duration: "5s".into(),
            backoff_factor: 2,
            backoff_max_duration: "3m".into(),
        }
    }
}

/// When and how an app is synced.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SyncPolicy {
    /// `None`: sync only when asked (manual).
    pub automated: Option<Automated>,
    pub retry: Option<Retry>,
}

/// Fields the diff ignores for matching resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoreDifference {
    pub kind: Kind,
    /// `None`: every resource of the kind.
    pub name: Option<String>,
    /// RFC 6901 pointers into the spec, e.g. `/num_workers`.
    pub json_pointers: Vec<String>,
}

/// An Application as written, before its source is read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppSpec {
    pub name: String,
    pub project: String,
    pub workspace: Option<String>,
    pub source: AppSource,
    pub sync_policy: SyncPolicy,
    pub ignore_differences: Vec<IgnoreDifference>,
    /// Take over pre-existing objects with the same name instead of reporting them.
    pub adopt: bool,
    pub variables: BTreeMap<String, serde_json::Value>,
    pub origin: Origin,
    /// Positions of fields for later messages: `source.path`, `destination.workspace`, `project`.
    #[serde(skip)]
    pub spots: BTreeMap<&'static str, (usize, usize)>,
    /// The ApplicationSet that generated it, if any.
    pub generated_by: Option<String>,
    /// Apps that must be synced (and their last apply succeeded) before this one syncs.
    pub depends_on: Vec<String>,
}

/// A Project: guardrails for the apps that name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    pub name: String,
    pub description: Option<String>,
    /// Workspace name patterns (`*` wildcard).
    pub destinations: Vec<String>,
    /// Source path patterns relative to the manifest root (`*` within a segment, `**` any depth).
    pub source_paths: Vec<String>,
    /// Kinds apps may declare; `None` allows all.
    pub kinds: Option<Vec<Kind>>,
    /// The guardrails (Rego packages under `policies/`) every plan of the
    /// project's apps must pass.
    pub policies: Vec<PolicyRef>,
    pub origin: Origin,
}

/// A Project's use of one guardrail: a Rego package under `policies/` and
/// the parameters it is evaluated with (`input.parameters`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRef {
    /// The package name, as declared (`mortar.compute.autotermination`).
    pub package: String,
    /// An object; `{}` when the project gives none.
    pub parameters: serde_json::Value,
    /// Where the reference is written, for errors.
    pub line: usize,
    pub column: usize,
}

impl Project {
    /// The implicit `default` project when none is declared: allows everything.
    pub fn permissive(name: &str) -> Project {
        Project {
            name: name.to_string(),
            description: Some("implicit: allows every destination, path and kind".into()),
            destinations: vec!["*".into()],
            source_paths: vec!["**".into()],
            kinds: None,
            policies: Vec::new(),
            origin: Origin {
                file: String::new(),
                line: 0,
                column: 0,
            },
        }
    }

    pub fn allows_destination(&self, workspace: &str) -> bool {
        self.destinations.iter().any(|p| glob(p, workspace))
    }

    pub fn allows_path(&self, path: &str) -> bool {
        self.source_paths.iter().any(|p| {
            let p = p.trim_matches('/');
            glob(p, path)
                || (!p.contains('*')
                    && (path == p || path.starts_with(&format!("{p}/")) || p.is_empty()))
        })
    }

    pub fn allows_kind(&self, kind: Kind) -> bool {
        self.kinds
            .as_ref()
            .is_none_or(|kinds| kinds.contains(&kind))
    }
}

/// A destination workspace. Credentials never live here; they are
/// configured per workspace name in the controller config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkspaceDef {
    pub name: String,
    pub host: String,
    pub cloud: Option<String>,
    pub description: Option<String>,
    /// Its document's labels (for role bindings that select workspaces).
    pub labels: BTreeMap<String, String>,
    pub origin: Origin,
}

/// Matches `text` against a pattern where `*` matches within one `/`-separated
/// segment and `**` matches any number of segments.
pub fn glob(pattern: &str, text: &str) -> bool {
    fn segments(s: &str) -> Vec<&str> {
        s.split('/').filter(|p| !p.is_empty()).collect()
    }
    fn seg_match(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => seg_match(&p[1..], t) || (!t.is_empty() && seg_match(p, &t[1..])),
            (Some(a), Some(b)) if a == b => seg_match(&p[1..], &t[1..]),
            _ => false,
        }
    }
    fn walk(p: &[&str], t: &[&str]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(&"**"), _) => walk(&p[1..], t) || (!t.is_empty() && walk(p, &t[1..])),
            (Some(a), Some(b)) => seg_match(a.as_bytes(), b.as_bytes()) && walk(&p[1..], &t[1..]),
            _ => false,
        }
    }
    walk(&segments(pattern), &segments(text))
}

const CREDENTIAL_KEYS: &[&str] = &[
    "token",
    "pat",
    "password",
    "client_secret",
    "clientSecret",
    "secret",
    "credentials",
    "auth",
    "client_id",
    "clientId",
];

/// Reads a `Workspace` spec.
pub fn read_workspace(
    diags: &mut Diagnostics,
    file: &str,
    name: &str,
    spec: &Node,
    origin: Origin,
) -> Option<WorkspaceDef> {
    if let Some(entries) = spec.as_map() {
        for e in entries
            .iter()
            .filter(|e| CREDENTIAL_KEYS.contains(&e.key.as_str()))
        {
            diags.error(
                At::new(file, e.line, e.column, &format!("spec.{}", e.key)),
                "credentials never go in manifests; configure them per workspace in the controller config (mortar.yaml)",
            );
        }
    }
    let allowed = ["host", "cloud", "description"];
    let known: Vec<&str> = allowed.to_vec();
    let spec_fields = Fields::open(
        diags,
        file,
        spec,
        "spec",
        &known_plus(&known, CREDENTIAL_KEYS),
    )?;
    let host = spec_fields.string(diags, "host", true)?;
    if !(host.starts_with("https://") || host.starts_with("http://")) {
        let (line, column) = spec_fields.at("host");
        diags.error(
            At::new(file, line, column, "spec.host"),
            format!("`{host}` is not a URL; expected https://<workspace host>"),
        );
    }
    let cloud = spec_fields.string(diags, "cloud", false);
    if let Some(c) = &cloud
        && !["aws", "azure", "gcp"].contains(&c.as_str())
    {
        let (line, column) = spec_fields.at("cloud");
        diags.error(
            At::new(file, line, column, "spec.cloud"),
            format!("invalid value `{c}`; expected one of aws, azure, gcp"),
        );
    }
    Some(WorkspaceDef {
        name: name.to_string(),
        host,
        cloud,
        description: spec_fields.string(diags, "description", false),
        labels: BTreeMap::new(),
        origin,
    })
}

fn known_plus(a: &[&'static str], b: &[&'static str]) -> Vec<&'static str> {
    a.iter().chain(b.iter()).copied().collect()
}

/// Reads a `Project` spec.
pub fn read_project(
    diags: &mut Diagnostics,
    file: &str,
    name: &str,
    spec: &Node,
    origin: Origin,
) -> Option<Project> {
    let f = Fields::open(
        diags,
        file,
        spec,
        "spec",
        &[
            "description",
            "destinations",
            "sourcePaths",
            "kinds",
            "policies",
        ],
    )?;
    let mut destinations = Vec::new();
    if let Some(entry) = f.entry("destinations") {
        match entry.value.as_seq() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    let path = format!("spec.destinations[{i}]");
                    if let Some(d) = Fields::open(diags, file, item, &path, &["workspace"])
                        && let Some(w) = d.string(diags, "workspace", true)
                    {
                        destinations.push(w);
                    }
                }
            }
            None => diags.error(
                At::new(
                    file,
                    entry.value.line,
                    entry.value.column,
                    "spec.destinations",
                ),
                "expected a list of { workspace: NAME } entries",
            ),
        }
    }
    let source_paths = f
        .strings(diags, "sourcePaths")
        .map(|v| v.into_iter().map(|(s, _)| s).collect())
        .unwrap_or_default();
    let kinds = f.strings(diags, "kinds").map(|items| {
        let mut kinds = Vec::new();
        for (i, (text, node)) in items.into_iter().enumerate() {
            if text == "*" {
                return None;
            }
            match text.parse::<Kind>() {
                Ok(k) => kinds.push(k),
                Err(_) => {
                    let hint = super::diag::suggest(&text, Kind::ALL.iter().map(|k| k.as_str()))
                        .map(|c| format!("; did you mean `{c}`?"))
                        .unwrap_or_default();
                    diags.error(
                        At::new(file, node.line, node.column, &format!("spec.kinds[{i}]")),
                        format!("unknown kind `{text}`{hint}"),
                    );
                }
            }
        }
        Some(kinds)
    });
    let policies = f
        .entry("policies")
        .map(|entry| read_policy_refs(diags, file, &entry.value))
        .unwrap_or_default();
    Some(Project {
        name: name.to_string(),
        description: f.string(diags, "description", false),
        destinations,
        source_paths,
        kinds: kinds.flatten(),
        policies,
        origin,
    })
}

/// Reads `spec.policies`: a list of package names, or of
/// `{ package: NAME, parameters: { ... } }`.
fn read_policy_refs(diags: &mut Diagnostics, file: &str, value: &Node) -> Vec<PolicyRef> {
    let Some(items) = value.as_seq() else {
        diags.error(
            At::new(file, value.line, value.column, "spec.policies"),
            "expected a list of Rego package names, or of { package: NAME, parameters: {...} }",
        );
        return Vec::new();
    };
    let mut refs = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("spec.policies[{i}]");
        let (package, parameters) = match item.as_str() {
            Some(name) => (name.to_string(), serde_json::json!({})),
            None => {
                let Some(f) = Fields::open(diags, file, item, &path, &["package", "parameters"])
                else {
                    continue;
                };
                let Some(package) = f.string(diags, "package", true) else {
                    continue;
                };
                let parameters = match f.entry("parameters") {
                    None => serde_json::json!({}),
                    Some(e) if e.value.as_map().is_some() => e.value.to_json(),
                    Some(e) => {
                        diags.error(
                            At::new(
                                file,
                                e.value.line,
                                e.value.column,
                                &format!("{path}.parameters"),
                            ),
                            "expected a mapping of parameter names to values",
                        );
                        continue;
                    }
                };
                (package, parameters)
            }
        };
        if let Some(bare) = package.strip_prefix("data.") {
            diags.error(
                At::new(file, item.line, item.column, &path),
                format!("name the package without `data.`: `{bare}`"),
            );
            continue;
        }
        if refs.iter().any(|r: &PolicyRef| r.package == package) {
            diags.error(
                At::new(file, item.line, item.column, &path),
                format!("policy `{package}` is listed twice"),
            );
            continue;
        }
        refs.push(PolicyRef {
            package,
            parameters,
            line: item.line,
            column: item.column,
        });
    }
    refs
}

/// Reads an `Application` spec (also an ApplicationSet template's spec).
pub fn read_app(
    diags: &mut Diagnostics,
    file: &str,
    name: &str,
    spec: &Node,
    path: &str,
    origin: Origin,
) -> Option<AppSpec> {
    let f = Fields::open(
        diags,
        file,
        spec,
        path,
        &[
            "project",
            "source",
            "destination",
            "syncPolicy",
            "ignoreDifferences",
            "adopt",
            "variables",
            "dependsOn",
        ],
    )?;
    let mut spots = BTreeMap::new();
    let project = f
        .string(diags, "project", false)
        .unwrap_or_else(|| "default".into());
    spots.insert("project", f.at("project"));

    let source_entry = f.entry("source");
    let source = match source_entry {
        None => {
            diags.error(
                At::new(file, spec.line, spec.column, path),
                "missing required field `source`",
            );
            return None;
        }
        Some(entry) => {
            let sp = format!("{path}.source");
            let s = Fields::open(
                diags,
                file,
                &entry.value,
                &sp,
                &["repoURL", "path", "targetRevision", "directory"],
            )?;
            let raw_path = s.string(diags, "path", true)?;
            spots.insert("source.path", s.at("path"));
            let clean = match crate::source::tree::clean(&raw_path) {
                Ok(p) => p,
                Err(reason) => {
                    let (line, column) = s.at("path");
                    diags.error(
                        At::new(file, line, column, &format!("{sp}.path")),
                        format!("`{raw_path}`: {reason}"),
                    );
                    return None;
                }
            };
            let mut recurse = false;
            if let Some(dir) = s.entry("directory")
                && let Some(d) = Fields::open(
                    diags,
                    file,
                    &dir.value,
                    &format!("{sp}.directory"),
                    &["recurse"],
                )
            {
                recurse = d.boolean(diags, "recurse").unwrap_or(false);
            }
            let repo_url = s.string(diags, "repoURL", false);
            let target_revision = s.string(diags, "targetRevision", false);
            // Every app is read from the one source and revision mortar.yaml
            // names; a field that asks for another must not be ignored.
            for (field, set, instead) in [
                (
                    "repoURL",
                    repo_url.is_some(),
                    "the repository mortar.yaml's `source` names",
                ),
                (
                    "targetRevision",
                    target_revision.is_some(),
                    "the revision mortar.yaml's `source.git.revision` names",
                ),
            ] {
                if set {
                    let (line, column) = s.at(field);
                    diags.error(
                        At::new(file, line, column, &format!("{sp}.{field}")),
                        format!("not supported yet: every app is rendered from {instead}; remove `{field}`"),
                    );
                }
            }
            AppSource {
                repo_url,
                path: clean,
                target_revision,
                recurse,
            }
        }
    };

    let mut workspace = None;
    if let Some(entry) = f.entry("destination")
        && let Some(d) = Fields::open(
            diags,
            file,
            &entry.value,
            &format!("{path}.destination"),
            &["workspace"],
        )
    {
        workspace = d.string(diags, "workspace", true);
        spots.insert("destination.workspace", d.at("workspace"));
    }

    let mut sync_policy = SyncPolicy::default();
    if let Some(entry) = f.entry("syncPolicy")
        && let Some(sp) = Fields::open(
            diags,
            file,
            &entry.value,
            &format!("{path}.syncPolicy"),
            &["automated", "retry"],
        )
    {
        if let Some(a) = sp.entry("automated") {
            let ap = format!("{path}.syncPolicy.automated");
            if let Some(af) = Fields::open(diags, file, &a.value, &ap, &["prune", "selfHeal"]) {
                sync_policy.automated = Some(Automated {
                    prune: af.boolean(diags, "prune").unwrap_or(false),
                    self_heal: af.boolean(diags, "selfHeal").unwrap_or(false),
                });
            }
        }
        if let Some(r) = sp.entry("retry") {
            let rp = format!("{path}.syncPolicy.retry");
            if let Some(rf) = Fields::open(diags, file, &r.value, &rp, &["limit", "backoff"]) {
                let mut retry = Retry::default();
                if let Some(limit) = rf.integer(diags, "limit") {
                    retry.limit = limit;
                }
                if let Some(b) = rf.entry("backoff")
                    && let Some(bf) = Fields::open(
                        diags,
                        file,
                        &b.value,
                        &format!("{rp}.backoff"),
                        &["duration", "factor", "maxDuration"],
                    )
                {
                    for (key, slot) in [
                        ("duration", &mut retry.backoff_duration),
                        ("maxDuration", &mut retry.backoff_max_duration),
                    ] {
                        if let Some(text) = bf.string(diags, key, false) {
                            if parse_duration(&text).is_none() {
                                let (line, column) = bf.at(key);
                                diags.error(
                                    At::new(file, line, column, &bf.field_path(key)),
                                    format!("`{text}` is not a duration; write e.g. 5s, 2m, 1h"),
                                );
                            }
                            *slot = text;
                        }
                    }
                    if let Some(factor) = bf.integer(diags, "factor") {
                        retry.backoff_factor = factor;
                    }
                }
                sync_policy.retry = Some(retry);
            }
        }
    }

    let mut ignore_differences = Vec::new();
    if let Some(entry) = f.entry("ignoreDifferences") {
        let ip = format!("{path}.ignoreDifferences");
        match entry.value.as_seq() {
            None => diags.error(
                At::new(file, entry.value.line, entry.value.column, &ip),
                "expected a list",
            ),
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    let item_path = format!("{ip}[{i}]");
                    let Some(x) = Fields::open(
                        diags,
                        file,
                        item,
                        &item_path,
                        &["kind", "name", "jsonPointers"],
                    ) else {
                        continue;
                    };
                    let kind =
                        x.string(diags, "kind", true)
                            .and_then(|k| match k.parse::<Kind>() {
                                Ok(kind) if kind.is_databricks() => Some(kind),
                                _ => {
                                    let (line, column) = x.at("kind");
                                    let hint = super::diag::suggest(
                                        &k,
                                        Kind::ALL
                                            .iter()
                                            .filter(|k| k.is_databricks())
                                            .map(|k| k.as_str()),
                                    )
                                    .map(|c| format!("; did you mean `{c}`?"))
                                    .unwrap_or_default();
                                    diags.error(
                                        At::new(file, line, column, &x.field_path("kind")),
                                        format!("`{k}` is not a Databricks kind{hint}"),
                                    );
                                    None
                                }
                            });
                    let pointers = x.strings(diags, "jsonPointers").unwrap_or_default();
                    if pointers.is_empty() {
                        diags.error(
                            At::new(file, item.line, item.column, &item_path),
                            "missing required field `jsonPointers`",
                        );
                    }
                    for (j, (p, node)) in pointers.iter().enumerate() {
                        if !p.starts_with('/') {
                            diags.error(
                                At::new(file, node.line, node.column, &format!("{item_path}.jsonPointers[{j}]")),
                                format!("`{p}` is not a JSON pointer; it starts with `/`, e.g. /num_workers"),
                            );
                        }
                    }
                    if let Some(kind) = kind {
                        ignore_differences.push(IgnoreDifference {
                            kind,
                            name: x.string(diags, "name", false),
                            json_pointers: pointers.into_iter().map(|(p, _)| p).collect(),
                        });
                    }
                }
            }
        }
    }

    let adopt = f.boolean(diags, "adopt").unwrap_or(false);
    let variables = match f.entry("variables") {
        None => BTreeMap::new(),
        Some(entry) => read_values(
            diags,
            file,
            &entry.value,
            &format!("{path}.variables"),
            "variable",
        )?,
    };

    let mut depends_on: Vec<String> = Vec::new();
    if let Some(items) = f.strings(diags, "dependsOn") {
        spots.insert("dependsOn", f.at("dependsOn"));
        for (dep, node) in items {
            if dep == name {
                diags.error(
                    At::new(file, node.line, node.column, &f.field_path("dependsOn")),
                    format!("app `{name}` cannot depend on itself"),
                );
            } else if !depends_on.contains(&dep) {
                depends_on.push(dep);
            }
        }
    }

    Some(AppSpec {
        name: name.to_string(),
        project,
        workspace,
        source,
        sync_policy,
        ignore_differences,
        adopt,
        variables,
        origin,
        spots,
        generated_by: None,
        depends_on,
    })
}

/// Reads a mapping of names to scalar values (variables, generator elements).
pub fn read_values(
    diags: &mut Diagnostics,
    file: &str,
    node: &Node,
    path: &str,
    what: &str,
) -> Option<BTreeMap<String, serde_json::Value>> {
    let Some(entries) = node.as_map() else {
        diags.error(
            At::new(file, node.line, node.column, path),
            format!(
                "expected a mapping of {what} names to values, found {}",
                node.type_name()
            ),
        );
        return None;
    };
    let mut out = BTreeMap::new();
    for e in entries {
        let field = format!("{path}.{}", e.key);
        if !e
            .key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            || e.key.is_empty()
        {
            diags.error(
                At::new(file, e.line, e.column, &field),
                format!(
                    "`{}` is not a valid {what} name (letters, digits, `_`, `-`)",
                    e.key
                ),
            );
            continue;
        }
        match &e.value.value {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                out.insert(e.key.clone(), e.value.to_json());
            }
            _ => diags.error(
                At::new(file, e.value.line, e.value.column, &field),
                format!(
                    "a {what} value is a string, number or boolean, found {}",
                    e.value.type_name()
                ),
            ),
        }
    }
    Some(out)
}

/// Parses `5s`, `2m`, `1h`, `500ms` into seconds.
pub fn parse_duration(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (number, unit) = text.split_at(split);
    let n: f64 = number.parse().ok()?;
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    Some(n * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_patterns() {
        assert!(glob("*", "prod"));
        assert!(glob("dev-*", "dev-eu"));
        assert!(!glob("dev-*", "prod"));
        assert!(glob("teams/**", "teams/a/b"));
        assert!(glob("teams/*/jobs", "teams/x/jobs"));
        assert!(!glob("teams/*", "teams/x/jobs"));
    }

    #[test]
    fn project_paths_allow_prefixes() {
        let mut p = Project::permissive("p");
        p.source_paths = vec!["data-engineering".into()];
        assert!(p.allows_path("data-engineering"));
        assert!(p.allows_path("data-engineering/notebooks/a.py"));
        assert!(!p.allows_path("data-engineering-2"));
        assert!(!p.allows_path("identity"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s"), Some(5.0));
        assert_eq!(parse_duration("3m"), Some(180.0));
        assert_eq!(parse_duration("fast"), None);
    }
}
