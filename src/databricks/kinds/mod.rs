//! One file per Databricks resource kind, holding both halves of what Mortar
//! knows about it.
//!
//! [`KindSpec`] is the kind's pure knowledge: how a spec names the object,
//! how to `normalize` a live object so that one created from a manifest reads
//! back equal to the manifest's spec, and the facts the generic stages ask
//! instead of matching on a [`Kind`] (ownership tags, principals, folders,
//! secrets, ACLs in the create body, …). [`spec`] looks it up without a
//! client. [`KindAdapter`] is the kind's I/O: listing what Mortar owns,
//! reading, creating, updating and deleting an object, reading and writing
//! its ACL and secrets; [`adapter`] looks it up.
//!
//! Adding a kind is one file here implementing both traits plus one line in
//! [`adapter`]; a kind that differs from an existing family only in data
//! (another SCIM resource, a workspace object made by import) is instead one
//! file holding a const of that family's adapter ([`scim::ScimAdapter`],
//! [`workspace_objects::ImportedAdapter`]).

use async_trait::async_trait;
pub mod catalog;
pub mod cluster;
pub mod cluster_policy;
pub mod directory;
pub mod endpoints;
pub mod grants;
pub mod group;
pub mod instance_pool;
pub mod job;
pub mod normalize;
pub mod notebook;
pub mod permissions;
pub mod schema;
pub mod scim;
pub mod secret_scope;
pub mod service_principal;
pub mod sql_warehouse;
pub mod workspace_conf;
pub mod workspace_file;
pub mod workspace_objects;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::client::Client;
use super::error::Error;
use super::retry::RetryPolicy;
use super::secret::Secret;
use crate::model::{Kind, PermissionEntry, Principal, ResourceKey};

/// Tag naming the app that owns an object.
pub const APP_TAG: &str = "mortar.dev/app";
/// Tag holding the owning resource key (`workspace/Kind/name`).
pub const KEY_TAG: &str = "mortar.dev/key";

/// Who owns an object, read from (or written to) its tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OwnershipTags {
    pub app: String,
    pub key: String,
}

/// A desired object: its key, owning app, and spec (the create body, with
/// every reference resolved).
#[derive(Debug, Clone, Copy)]
pub struct Desired<'a> {
    pub key: &'a ResourceKey,
    pub app: &'a str,
    pub spec: &'a Value,
}

impl Desired<'_> {
    pub fn ownership(&self) -> OwnershipTags {
        OwnershipTags {
            app: self.app.to_string(),
            key: self.key.to_string(),
        }
    }
}

/// An object as read from a workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedObject {
    /// The Databricks id (job id, cluster id, SCIM id, path, full name, …).
    pub id: String,
    /// The unique or display name, as a manifest's spec names it.
    pub name: String,
    /// OwnershipTags tags, for kinds that carry tags.
    pub owner: Option<OwnershipTags>,
    /// The object as the API returned it; feed it to [`KindSpec::normalize`].
    pub raw: Value,
}

/// The direct (not inherited) ACL of an object. The `admins` group's
/// entries and the owner are kept apart: Databricks manages them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acl {
    /// Sorted direct entries, without `admins` and without `IS_OWNER`.
    pub entries: Vec<PermissionEntry>,
    /// The `IS_OWNER` principal, for kinds that have one.
    pub owner: Option<Principal>,
}

/// How many create attempts are made when each failure left the outcome unknown.
const CREATE_ATTEMPTS: u32 = 6;

/// What Mortar knows about one kind of Databricks object, without talking
/// to a workspace: its names, its canonical form, and the facts the generic
/// stages (observe, prepare, schedule, execute) ask instead of matching on a
/// [`Kind`].
pub trait KindSpec: Send + Sync {
    fn kind(&self) -> Kind;

    /// The name a spec gives the object (its unique name where there is one).
    fn name_of(&self, spec: &Value) -> Option<String>;

    /// The live object in the form of a manifest spec: server-set fields and
    /// defaults dropped, set-like arrays sorted, ownership tags removed.
    fn normalize(&self, live: &Value) -> Value;

    /// A desired spec in the same canonical form as [`KindSpec::normalize`]
    /// gives, so the two compare field by field.
    fn normalize_spec(&self, spec: &Value) -> Value {
        spec.clone()
    }

    /// True when the workspace enforces unique names for this kind (so a name
    /// identifies the object); false for jobs, clusters, pools and warehouses,
    /// which Mortar recognises by ownership tag.
    fn unique_names(&self) -> bool {
        true
    }

    /// True when the object carries Mortar's ownership tags (jobs, clusters,
    /// pools, warehouses): adopting one rewrites it to add them, even when
    /// nothing else differs.
    fn carries_tags(&self) -> bool {
        false
    }

    /// Spec fields the kind's list call does not return: a key whose spec
    /// sets one is read whole with `get`.
    fn fields_not_listed(&self) -> &'static [&'static str] {
        &[]
    }

    /// True when `spec` sets a field the list call does not return.
    fn needs_full_read(&self, spec: &Value) -> bool {
        self.fields_not_listed()
            .iter()
            .any(|f| spec.get(*f).is_some())
    }

    /// The application id a principal of this kind is known by (a service
    /// principal's `applicationId`), read from a live object.
    fn application_id(&self, _live: &Value) -> Option<String> {
        None
    }

    /// True when the create call's answer lacks ids the server assigns (a
    /// service principal's `applicationId`): the object is read back once
    /// after it is created.
    fn reads_back_ids_after_create(&self) -> bool {
        false
    }

    /// True when objects of this kind always exist and cannot be created or
    /// deleted (workspace settings): Mortar takes them over as adopted.
    fn adopt_always(&self) -> bool {
        false
    }

    /// The kind's place in apply order where dependencies leave a choice
    /// (lower first): settings 0, principals 1, what clusters and catalogs
    /// build on 2, clusters, warehouses, notebooks and schemas 3, jobs and
    /// grants 4. Deletes run in reverse.
    fn apply_rank(&self) -> u8 {
        3
    }

    /// True for principals (groups, service principals): other objects name
    /// them, so their creates run before everything else in a workspace.
    fn is_principal(&self) -> bool {
        false
    }

    /// The workspace path a spec puts the object at, without the
    /// `/Workspace` prefix or a trailing `/` (notebooks, files, directories).
    fn workspace_path(&self, _spec: &Value) -> Option<String> {
        None
    }

    /// True when objects of other kinds live inside this one's
    /// [`KindSpec::workspace_path`] (directories): an object declared inside
    /// waits for it.
    fn is_folder(&self) -> bool {
        false
    }

    /// True when the kind holds secret values put after it is created
    /// (secret scopes), each planned as a `/secrets/<key>` change.
    fn holds_secrets(&self) -> bool {
        false
    }

    /// The permissions API object type (`jobs`, `clusters`, …), if the kind has ACLs.
    fn permissions_type(&self) -> Option<&'static str> {
        None
    }

    /// True when the object has an ACL Mortar can read and write (through
    /// the permissions API, or the kind's own ACL endpoints).
    fn has_acl(&self) -> bool {
        self.permissions_type().is_some()
    }

    /// True when the ACL's owner is compared with the declared permissions
    /// (as an `IS_OWNER` entry); false where the "owner" is only the
    /// creator's implicit access (a secret scope's `MANAGE`).
    fn owner_in_acl(&self) -> bool {
        true
    }

    /// True when the create call accepts the ACL in its body
    /// (`jobs/create`'s `access_control_list`): a new object with
    /// permissions is then one request, not two.
    fn acl_in_create(&self) -> bool {
        false
    }

    /// The `object_type` the workspace tree lists objects of this kind as
    /// (`NOTEBOOK`, `FILE`, `DIRECTORY`), for kinds that live in it.
    fn workspace_object_type(&self) -> Option<&'static str> {
        None
    }

    /// The securable type Unity Catalog grants privileges on objects of
    /// this kind as (`catalog`, `schema`), for kinds that take grants; a
    /// `Grants` resource's id is `<type>/<full name>`.
    fn grants_securable(&self) -> Option<&'static str> {
        None
    }

    /// The fields of other kinds' specs that hold this kind's id (a job
    /// task's `existing_cluster_id`, a cluster's `policy_id`): an import
    /// writes them as references to the imported object.
    fn referred_to_as(&self) -> &'static [&'static str] {
        &[]
    }

    /// The object's tags as a listed object holds them (a job's `tags`, a
    /// cluster's `custom_tags`, …), for `mortar import --filter tag.KEY=…`.
    fn tags(&self, _raw: &Value) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// True for objects the workspace makes itself (the `admins` and
    /// `users` groups, the `system` catalog, a catalog's `default` and
    /// `information_schema` schemas): an import leaves them out.
    fn made_by_databricks(&self, _listed: &ListedObject) -> bool {
        false
    }
}

/// The operations Mortar needs on one kind of Databricks object: its
/// endpoints. What the kind's fields mean is its [`KindSpec`].
///
/// Its async methods box their futures (`async_trait`) so that adapters live
/// behind `&dyn KindAdapter`.
#[async_trait]
pub trait KindAdapter: KindSpec {
    /// Every object of this kind that Mortar owns (by ownership tag) or whose
    /// name is in `names`, reading all pages.
    async fn list(
        &self,
        client: &Client,
        names: &BTreeSet<String>,
    ) -> Result<Vec<ListedObject>, Error>;

    /// Every object of this kind in the workspace, for an import; `None`
    /// for kinds that have no list of their own (grants, settings and
    /// workspace objects are read through what holds them).
    async fn list_all(&self, _client: &Client) -> Result<Option<Vec<ListedObject>>, Error> {
        Ok(None)
    }

    /// One object by id; `None` when it does not exist.
    async fn get(&self, client: &Client, id: &str) -> Result<Option<ListedObject>, Error>;

    /// One create call; returns the new object's id. Prefer [`KindAdapter::create`].
    async fn create_once(&self, client: &Client, desired: Desired<'_>) -> Result<String, Error>;

    /// Replaces the object's settings with the desired spec (the kind's own
    /// verb: jobs `reset`, clusters `edit`, SCIM `PATCH`, …).
    async fn update(&self, client: &Client, id: &str, desired: Desired<'_>) -> Result<(), Error>;

    /// Deletes the object; an object already gone is not an error.
    async fn delete(&self, client: &Client, id: &str) -> Result<(), Error>;

    /// The keys of the secrets the object holds (values are never read),
    /// for kinds that [hold secrets](KindSpec::holds_secrets).
    async fn secret_keys(&self, _client: &Client, _id: &str) -> Result<BTreeSet<String>, Error> {
        Err(Error::Unsupported(format!(
            "{} objects hold no secrets",
            self.kind()
        )))
    }

    /// Puts one secret value into the object, for kinds that
    /// [hold secrets](KindSpec::holds_secrets).
    async fn put_secret(
        &self,
        _client: &Client,
        _id: &str,
        _key: &str,
        _value: &Secret,
    ) -> Result<(), Error> {
        Err(Error::Unsupported(format!(
            "{} objects hold no secrets",
            self.kind()
        )))
    }

    /// The id the permissions API uses for the object (a workspace object's
    /// numeric id rather than its path, for instance).
    async fn permissions_id(&self, _client: &Client, id: &str) -> Result<String, Error> {
        Ok(id.to_string())
    }

    /// The object's direct ACL.
    async fn read_permissions(&self, client: &Client, id: &str) -> Result<Acl, Error> {
        let Some(object_type) = self.permissions_type() else {
            return Ok(Acl::default());
        };
        let object_id = self.permissions_id(client, id).await?;
        permissions::read_acl(client, object_type, &object_id).await
    }

    /// Makes `entries` the object's whole direct ACL (authoritative `PUT`;
    /// the current owner is kept when `entries` names none).
    async fn write_permissions(
        &self,
        client: &Client,
        id: &str,
        entries: &[PermissionEntry],
    ) -> Result<(), Error> {
        let Some(object_type) = self.permissions_type() else {
            if entries.is_empty() {
                return Ok(());
            }
            return Err(Error::Unsupported(format!(
                "{} objects have no permissions; use a Grants resource or group membership",
                self.kind()
            )));
        };
        let object_id = self.permissions_id(client, id).await?;
        permissions::write_acl(client, object_type, &object_id, entries).await
    }

    /// Looks up the object a desired spec describes: the one carrying its
    /// ownership key, else (for kinds whose names are unique) the one with its name.
    async fn find(
        &self,
        client: &Client,
        desired: Desired<'_>,
    ) -> Result<Option<ListedObject>, Error> {
        let name = self.name_of(desired.spec);
        let names: BTreeSet<String> = name.iter().cloned().collect();
        let found = self.list(client, &names).await?;
        let key = desired.key.to_string();
        if let Some(obj) = found
            .iter()
            .find(|o| o.owner.as_ref().is_some_and(|w| w.key == key))
        {
            return Ok(Some(obj.clone()));
        }
        if self.unique_names() {
            return Ok(found.into_iter().find(|o| Some(&o.name) == name.as_ref()));
        }
        Ok(None)
    }

    /// Creates the object without ever creating it twice: after a failure
    /// that leaves the outcome unknown (timeout, dropped connection, 5xx),
    /// the object is looked up by ownership tag or unique name before another
    /// attempt is made.
    async fn create(&self, client: &Client, desired: Desired<'_>) -> Result<String, Error> {
        let policy: &RetryPolicy = client.retry_policy();
        let mut uncertain: Option<Error> = None;
        for attempt in 1..=CREATE_ATTEMPTS {
            if let Some(previous) = &uncertain {
                match self.find(client, desired).await {
                    Ok(Some(obj)) => {
                        tracing::info!(
                            workspace = client.name(),
                            kind = %self.kind(),
                            key = %desired.key,
                            id = %obj.id,
                            "create had succeeded despite: {previous}"
                        );
                        return Ok(obj.id);
                    }
                    Ok(None) => {}
                    Err(err) => {
                        tracing::warn!(workspace = client.name(), key = %desired.key, error = %err, "lookup after an uncertain create failed");
                        tokio::time::sleep(policy.delay(attempt, None)).await;
                        continue;
                    }
                }
            }
            match self.create_once(client, desired).await {
                Ok(id) => return Ok(id),
                Err(err) if err.is_ambiguous() => {
                    tracing::warn!(workspace = client.name(), key = %desired.key, error = %err, "create outcome unknown; will look it up");
                    // After a timeout the server may still be working on
                    // the request: give it as long again before looking.
                    let settle = match err {
                        Error::Timeout { .. } => client.request_timeout(),
                        _ => policy.delay(attempt, None),
                    };
                    uncertain = Some(err);
                    tokio::time::sleep(settle).await;
                }
                Err(Error::AlreadyExists(api)) if uncertain.is_some() => {
                    // The earlier attempt did create it, after all.
                    return match self.find(client, desired).await? {
                        Some(obj) => Ok(obj.id),
                        None => Err(Error::AlreadyExists(api)),
                    };
                }
                Err(err) => return Err(err),
            }
        }
        Err(Error::Ambiguous(format!(
            "creating {} gave no clear answer after {CREATE_ATTEMPTS} attempts (last: {}); nothing with its ownership tag or name exists",
            desired.key,
            uncertain.map(|e| e.to_string()).unwrap_or_default()
        )))
    }
}

/// The adapter for a Databricks kind; `None` for Mortar's own kinds
/// (Application, ApplicationSet, Project, Workspace).
pub fn adapter(kind: Kind) -> Option<&'static dyn KindAdapter> {
    Some(match kind {
        Kind::Job => &job::JobAdapter,
        Kind::Cluster => &cluster::ClusterAdapter,
        Kind::ClusterPolicy => &cluster_policy::ClusterPolicyAdapter,
        Kind::InstancePool => &instance_pool::InstancePoolAdapter,
        Kind::SqlWarehouse => &sql_warehouse::SqlWarehouseAdapter,
        Kind::Group => &group::ADAPTER,
        Kind::ServicePrincipal => &service_principal::ADAPTER,
        Kind::SecretScope => &secret_scope::SecretScopeAdapter,
        Kind::Notebook => &notebook::ADAPTER,
        Kind::WorkspaceFile => &workspace_file::ADAPTER,
        Kind::Directory => &directory::DirectoryAdapter,
        Kind::Catalog => &catalog::CatalogAdapter,
        Kind::Schema => &schema::SchemaAdapter,
        Kind::Grants => &grants::GrantsAdapter,
        Kind::WorkspaceConf => &workspace_conf::WorkspaceConfAdapter,
        Kind::Application
        | Kind::ApplicationSet
        | Kind::Project
        | Kind::Workspace
        | Kind::Role
        | Kind::RoleBinding
        | Kind::AccessPolicy => {
            return None;
        }
    })
}

/// What Mortar knows about a Databricks kind, without a client; `None` for
/// Mortar's own kinds (Application, ApplicationSet, Project, Workspace).
pub fn spec(kind: Kind) -> Option<&'static dyn KindSpec> {
    adapter(kind).map(|a| a as &'static dyn KindSpec)
}

/// Reads ownership from a tag map (`{"mortar.dev/app": …, "mortar.dev/key": …}`).
pub fn ownership_from_tags(tags: Option<&Value>) -> Option<OwnershipTags> {
    let tags = tags?;
    let app = tags.get(APP_TAG)?.as_str()?;
    let key = tags.get(KEY_TAG)?.as_str()?;
    Some(OwnershipTags {
        app: app.to_string(),
        key: key.to_string(),
    })
}

/// Sets the ownership tags in the tag map at `field` of `spec`.
pub fn with_ownership_tags(spec: &Value, field: &str, owner: &OwnershipTags) -> Value {
    let mut spec = spec.clone();
    if let Some(obj) = spec.as_object_mut() {
        let tags = obj
            .entry(field.to_string())
            .or_insert_with(|| Value::Object(Default::default()));
        if !tags.is_object() {
            *tags = Value::Object(Default::default());
        }
        if let Some(map) = tags.as_object_mut() {
            map.insert(APP_TAG.into(), Value::String(owner.app.clone()));
            map.insert(KEY_TAG.into(), Value::String(owner.key.clone()));
        }
    }
    spec
}

/// The listed `items` that belong in a list result, as live objects: those
/// Mortar owns (by ownership tag) and those named in `names`; every one
/// when `names` is `None` (an import).
pub fn owned_or_named(
    items: Vec<Value>,
    names: Option<&BTreeSet<String>>,
    live_object: fn(Value) -> Option<ListedObject>,
) -> impl Iterator<Item = ListedObject> + '_ {
    items
        .into_iter()
        .filter_map(live_object)
        .filter(move |o| names.is_none_or(|n| o.owner.is_some() || n.contains(&o.name)))
}

/// The string values of the map at `v` (tags).
pub fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

/// A JSON value as an id string (numbers are written without quotes).
pub fn id_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A live object whose id is also its name, with no ownership tags (kinds
/// named by a unique name or path).
pub fn named_object(id: String, raw: Value) -> ListedObject {
    ListedObject {
        name: id.clone(),
        id,
        owner: None,
        raw,
    }
}

/// The string at `field` of `v`, owned.
pub fn str_field(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::to_string)
}

/// Takes the array at `field` out of a response (empty when there is none).
pub fn take_array(mut resp: Value, field: &str) -> Vec<Value> {
    match resp.get_mut(field).map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// The id a create call answered with, at `field` of `resp`.
pub fn created_id(resp: &Value, field: &str, path: &str) -> Result<String, Error> {
    id_string(resp.get(field)).ok_or_else(|| Error::Decode {
        method: "POST".into(),
        path: path.into(),
        message: format!("no {field} in the response"),
    })
}

/// Reads each of `names` with `read`, keeping the ones that exist.
pub async fn read_each<'a, F, Fut>(
    names: &'a BTreeSet<String>,
    read: F,
) -> Result<Vec<ListedObject>, Error>
where
    F: Fn(&'a str) -> Fut,
    Fut: Future<Output = Result<Option<ListedObject>, Error>>,
{
    let mut out = Vec::new();
    for name in names {
        if let Some(obj) = read(name).await? {
            out.push(obj);
        }
    }
    Ok(out)
}

/// True for the 36-character, four-dash shape of a UUID (how a service
/// principal's application id looks where only a bare name is given).
pub fn looks_like_uuid(name: &str) -> bool {
    name.len() == 36 && name.chars().filter(|c| *c == '-').count() == 4
}

/// Maps NotFound to `None`.
pub fn found<T>(r: Result<T, Error>) -> Result<Option<T>, Error> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Maps NotFound to success, for deletes.
pub fn gone(r: Result<Value, Error>) -> Result<(), Error> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

/// The spec's string field, or an error naming it.
pub fn spec_str<'a>(spec: &'a Value, field: &str, kind: Kind) -> Result<&'a str, Error> {
    spec.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::Unsupported(format!("{kind} spec needs a `{field}` string")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_databricks_kind_has_an_adapter() {
        for kind in Kind::ALL {
            match adapter(kind) {
                Some(a) => {
                    assert!(kind.is_databricks(), "{kind}");
                    assert_eq!(a.kind(), kind);
                    assert_eq!(spec(kind).map(KindSpec::kind), Some(kind));
                }
                None => {
                    assert!(!kind.is_databricks(), "{kind} has no adapter");
                    assert!(spec(kind).is_none(), "{kind}");
                }
            }
        }
    }

    #[test]
    fn ownership_tags_round_trip() {
        let owner = OwnershipTags {
            app: "analytics".into(),
            key: "prod/Job/nightly".into(),
        };
        let spec = serde_json::json!({"name": "n", "tags": {"team": "a"}});
        let tagged = with_ownership_tags(&spec, "tags", &owner);
        assert_eq!(tagged["tags"]["team"], "a");
        assert_eq!(ownership_from_tags(tagged.get("tags")), Some(owner));
        assert_eq!(ownership_from_tags(spec.get("tags")), None);
    }
}
