//! Request counters of one workspace client: how many API requests went out
//! per endpoint class and status class, and how long requests waited for the
//! client-side rate limiter. Plain atomics, written on every request and read
//! by whoever exports them (the metrics endpoint reads them at scrape time).
//!
//! Every label is drawn from a fixed list: no object id, path or error text
//! ever becomes a label value.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The area of the API a request went to, derived from its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointClass {
    Jobs,
    Clusters,
    Policies,
    Pools,
    Warehouses,
    Scim,
    Permissions,
    UnityCatalog,
    Secrets,
    Workspace,
    Token,
    Other,
}

impl EndpointClass {
    pub const ALL: [EndpointClass; 12] = [
        EndpointClass::Jobs,
        EndpointClass::Clusters,
        EndpointClass::Policies,
        EndpointClass::Pools,
        EndpointClass::Warehouses,
        EndpointClass::Scim,
        EndpointClass::Permissions,
        EndpointClass::UnityCatalog,
        EndpointClass::Secrets,
        EndpointClass::Workspace,
        EndpointClass::Token,
        EndpointClass::Other,
    ];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            EndpointClass::Jobs => "jobs",
            EndpointClass::Clusters => "clusters",
            EndpointClass::Policies => "policies",
            EndpointClass::Pools => "pools",
            EndpointClass::Warehouses => "warehouses",
            EndpointClass::Scim => "scim",
            EndpointClass::Permissions => "permissions",
            EndpointClass::UnityCatalog => "unity-catalog",
            EndpointClass::Secrets => "secrets",
            EndpointClass::Workspace => "workspace",
            EndpointClass::Token => "token",
            EndpointClass::Other => "other",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The class of a request path such as `/api/2.2/jobs/list` or
    /// `/api/2.0/permissions/jobs/12` (query strings and absolute URLs allowed).
    pub fn of_path(path: &str) -> EndpointClass {
        let path = match path.find("://") {
            Some(i) => path[i + 3..].find('/').map_or("", |j| &path[i + 3 + j..]),
            None => path,
        };
        let path = path.split(['?', '#']).next().unwrap_or("");
        let Some(rest) = path.strip_prefix("/api/") else {
            return EndpointClass::Other;
        };
        // Skip the version segment (`2.0`, `2.1`, `2.2`).
        let api = rest.split_once('/').map_or("", |(_, api)| api);
        let mut segments = api.split('/').filter(|s| !s.is_empty());
        let first = segments.next().unwrap_or("");
        let second = segments.next().unwrap_or("");
        match first {
            "jobs" => EndpointClass::Jobs,
            "clusters" => EndpointClass::Clusters,
            "policies" | "cluster-policies" => EndpointClass::Policies,
            "instance-pools" => EndpointClass::Pools,
            "warehouses" => EndpointClass::Warehouses,
            "sql" if matches!(second, "warehouses" | "endpoints") => EndpointClass::Warehouses,
            "scim" => EndpointClass::Scim,
            "preview" if second == "scim" => EndpointClass::Scim,
            "permissions" => EndpointClass::Permissions,
            "unity-catalog" => EndpointClass::UnityCatalog,
            "secrets" => EndpointClass::Secrets,
            "workspace" => EndpointClass::Workspace,
            "token" | "token-management" => EndpointClass::Token,
            _ => EndpointClass::Other,
        }
    }
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    /// Any 1xx, 2xx or 3xx answer (redirects are refused later, but were answered).
    Success,
    /// A 4xx answer other than 429.
    ClientError,
    /// 429 Too Many Requests.
    TooManyRequests,
    /// A 5xx answer.
    ServerError,
    /// No answer: connection refused, reset, timed out.
    Error,
}

impl StatusClass {
    pub const ALL: [StatusClass; 5] = [
        StatusClass::Success,
        StatusClass::ClientError,
        StatusClass::TooManyRequests,
        StatusClass::ServerError,
        StatusClass::Error,
    ];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            StatusClass::Success => "2xx",
            StatusClass::ClientError => "4xx",
            StatusClass::TooManyRequests => "429",
            StatusClass::ServerError => "5xx",
            StatusClass::Error => "error",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The class of an HTTP status code; `None` means no answer came.
    pub fn of_status(status: Option<u16>) -> StatusClass {
        match status {
            None => StatusClass::Error,
            Some(429) => StatusClass::TooManyRequests,
            Some(s) if s >= 500 => StatusClass::ServerError,
            Some(s) if s >= 400 => StatusClass::ClientError,
            Some(_) => StatusClass::Success,
        }
    }
}

const ENDPOINTS: usize = EndpointClass::ALL.len();
const STATUSES: usize = StatusClass::ALL.len();

/// The counters of one workspace client. Shared by all clones of the client.
#[derive(Debug)]
pub struct RequestStats {
    workspace: String,
    requests: [[AtomicU64; STATUSES]; ENDPOINTS],
    wait_nanos: [AtomicU64; ENDPOINTS],
}

/// One row of [`RequestStats::requests`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestCount {
    pub endpoint: EndpointClass,
    pub status: StatusClass,
    pub count: u64,
}

impl RequestStats {
    pub fn new(workspace: impl Into<String>) -> RequestStats {
        RequestStats {
            workspace: workspace.into(),
            requests: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            wait_nanos: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// The workspace name from the config.
    pub fn workspace(&self) -> &str {
        &self.workspace
    }

    /// Counts one request to `path` that got `status` (`None`: no answer).
    pub fn record(&self, path: &str, status: Option<u16>) {
        let endpoint = EndpointClass::of_path(path);
        let status = StatusClass::of_status(status);
        self.requests[endpoint.index()][status.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Adds the time a request to `path` waited for the rate limiter.
    pub fn waited(&self, path: &str, wait: Duration) {
        let nanos = u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX);
        if nanos > 0 {
            self.wait_nanos[EndpointClass::of_path(path).index()]
                .fetch_add(nanos, Ordering::Relaxed);
        }
    }

    /// Every (endpoint class, status class) pair with its count, zeros included.
    pub fn requests(&self) -> Vec<RequestCount> {
        let mut rows = Vec::with_capacity(ENDPOINTS * STATUSES);
        for endpoint in EndpointClass::ALL {
            for status in StatusClass::ALL {
                rows.push(RequestCount {
                    endpoint,
                    status,
                    count: self.requests[endpoint.index()][status.index()].load(Ordering::Relaxed),
                });
            }
        }
        rows
    }

    /// Every request counted so far.
    pub fn total(&self) -> u64 {
        self.requests
            .iter()
            .flatten()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// The requests to one endpoint class that ended in one status class.
    pub fn count(&self, endpoint: EndpointClass, status: StatusClass) -> u64 {
        self.requests[endpoint.index()][status.index()].load(Ordering::Relaxed)
    }

    /// Seconds spent waiting for the rate limiter, per endpoint class.
    pub fn wait_seconds(&self) -> Vec<(EndpointClass, f64)> {
        EndpointClass::ALL
            .iter()
            .map(|e| {
                let nanos = self.wait_nanos[e.index()].load(Ordering::Relaxed);
                (*e, nanos as f64 / 1e9)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_a_fixed_endpoint_class() {
        for (path, class) in [
            ("/api/2.2/jobs/list", EndpointClass::Jobs),
            ("/api/2.1/jobs/runs/get?run_id=1", EndpointClass::Jobs),
            ("/api/2.1/clusters/get", EndpointClass::Clusters),
            ("/api/2.0/policies/clusters/list", EndpointClass::Policies),
            ("/api/2.0/instance-pools/list", EndpointClass::Pools),
            ("/api/2.0/sql/warehouses/abc", EndpointClass::Warehouses),
            ("/api/2.0/preview/scim/v2/Groups", EndpointClass::Scim),
            ("/api/2.0/permissions/jobs/12", EndpointClass::Permissions),
            (
                "/api/2.0/permissions/sql/warehouses/abc",
                EndpointClass::Permissions,
            ),
            (
                "/api/2.1/unity-catalog/permissions/catalog/main",
                EndpointClass::UnityCatalog,
            ),
            ("/api/2.0/secrets/scopes/list", EndpointClass::Secrets),
            ("/api/2.0/workspace/get-status", EndpointClass::Workspace),
            ("/api/2.0/token-management/tokens", EndpointClass::Token),
            ("/api/2.0/token/create", EndpointClass::Token),
            ("/api/2.0/dbfs/put", EndpointClass::Other),
            ("/oidc/v1/token", EndpointClass::Other),
            ("https://x.example/api/2.2/jobs/get", EndpointClass::Jobs),
            ("", EndpointClass::Other),
        ] {
            assert_eq!(EndpointClass::of_path(path), class, "{path}");
        }
    }

    #[test]
    fn counts_by_class_and_sums_waits() {
        let stats = RequestStats::new("prod");
        stats.record("/api/2.2/jobs/list", Some(200));
        stats.record("/api/2.2/jobs/create", Some(429));
        stats.record("/api/2.2/jobs/create", Some(503));
        stats.record("/api/2.2/jobs/get", Some(404));
        stats.record("/api/2.2/jobs/get", None);
        stats.waited("/api/2.2/jobs/get", Duration::from_millis(1500));
        stats.waited("/api/2.2/jobs/get", Duration::from_millis(500));
        for status in StatusClass::ALL {
            assert_eq!(stats.count(EndpointClass::Jobs, status), 1, "{status:?}");
        }
        assert_eq!(
            stats.count(EndpointClass::Clusters, StatusClass::Success),
            0
        );
        assert_eq!(stats.requests().len(), 60);
        let waits = stats.wait_seconds();
        assert_eq!(waits[0], (EndpointClass::Jobs, 2.0));
        assert_eq!(waits[1], (EndpointClass::Clusters, 0.0));
    }
}
