//! The [`Workspace`]: everything the emulated workspace holds, in the state
//! file's format, with the secondary indexes rebuilt on load.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::acl::Ace;
use super::cluster::Cluster;
use super::job::Job;
use super::object::WsObject;
use super::secret::Scope;
use super::sp_secret::SpSecret;
use super::token::PatRecord;
use super::warehouse::Warehouse;

/// Everything the emulated workspace holds.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Workspace {
    /// Counter behind every generated id.
    pub seq: u64,
    pub jobs: BTreeMap<i64, Job>,
    pub clusters: BTreeMap<String, Cluster>,
    pub policies: BTreeMap<String, Value>,
    pub pools: BTreeMap<String, Value>,
    pub warehouses: BTreeMap<String, Warehouse>,
    pub users: BTreeMap<String, Value>,
    pub groups: BTreeMap<String, Value>,
    pub service_principals: BTreeMap<String, Value>,
    /// Direct ACL entries per object, keyed `<type>/<id>` (e.g. `jobs/12`).
    pub acls: BTreeMap<String, Vec<Ace>>,
    pub scopes: BTreeMap<String, Scope>,
    /// Workspace objects keyed by absolute path.
    pub objects: BTreeMap<String, WsObject>,
    pub conf: BTreeMap<String, String>,
    pub catalogs: BTreeMap<String, Value>,
    pub schemas: BTreeMap<String, Value>,
    /// UC grants: `<securable_type>/<full_name>` → principal → privileges.
    pub grants: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    /// Personal access tokens by token id.
    pub tokens: BTreeMap<String, PatRecord>,
    /// OAuth secrets of service principals by secret id.
    pub sp_secrets: BTreeMap<String, SpSecret>,
    /// Secondary indexes, rebuilt on load.
    #[serde(skip)]
    pub index: Index,
}

/// Secondary indexes for O(1) lookups that the wire format does not need.
#[derive(Debug, Default)]
pub struct Index {
    /// Lower-cased job name → job ids.
    pub job_names: HashMap<String, BTreeSet<i64>>,
    /// Workspace object id → path.
    pub object_paths: HashMap<i64, String>,
    /// SHA-256 (hex) of a PAT value → token id.
    pub token_hashes: HashMap<String, String>,
    /// Lower-cased `userName` → SCIM user id.
    pub user_ids: HashMap<String, String>,
    /// `applicationId` → SCIM service principal id.
    pub sp_ids: HashMap<String, String>,
    /// `displayName` → SCIM group id.
    pub group_ids: HashMap<String, String>,
}

impl Workspace {
    /// Next value of the id counter.
    pub fn next_id(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Rebuilds the secondary indexes from the primary data.
    pub fn reindex(&mut self) {
        for job in self.jobs.values_mut() {
            job.refresh();
        }
        let mut index = Index::default();
        for (id, job) in &self.jobs {
            index
                .job_names
                .entry(job.name_key())
                .or_default()
                .insert(*id);
        }
        for (path, object) in &self.objects {
            index.object_paths.insert(object.object_id, path.clone());
        }
        for (id, token) in &self.tokens {
            index.token_hashes.insert(token.hash.clone(), id.clone());
        }
        self.index = index;
        self.reindex_identities();
    }

    /// Rebuilds the name → id indexes of users, service principals and groups.
    pub fn reindex_identities(&mut self) {
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        self.index.user_ids = self
            .users
            .iter()
            .filter_map(|(id, u)| Some((text(u, "userName")?.to_lowercase(), id.clone())))
            .collect();
        self.index.sp_ids = self
            .service_principals
            .iter()
            .filter_map(|(id, s)| Some((text(s, "applicationId")?, id.clone())))
            .collect();
        self.index.group_ids = self
            .groups
            .iter()
            .filter_map(|(id, g)| Some((text(g, "displayName")?, id.clone())))
            .collect();
    }
}
