//! Reading every page of a paged list: `page_token`/`next_page_token` (jobs,
//! clusters, warehouses, Unity Catalog), SCIM `startIndex`/`count`, and the
//! array paging of `jobs/get`.

use serde_json::Value;

use super::client::Client;
use super::error::Error;

/// Hard stop for a server that never stops paging.
const MAX_PAGES: usize = 100_000;

/// Every item of a token-paged list: calls `path` with `query`, collects
/// `items_field`, and follows `next_page_token` until it is absent or empty.
pub async fn list_token_paged(
    client: &Client,
    path: &str,
    query: &[(&str, &str)],
    items_field: &str,
) -> Result<Vec<Value>, Error> {
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut q: Vec<(&str, &str)> = query.to_vec();
        if let Some(t) = token.as_deref() {
            q.push(("page_token", t));
        }
        let page = client.get(path, &q).await?;
        if let Some(arr) = page.get(items_field).and_then(Value::as_array) {
            items.extend(arr.iter().cloned());
        }
        match page.get("next_page_token").and_then(Value::as_str) {
            Some(next) if !next.is_empty() && Some(next) != token.as_deref() => {
                token = Some(next.to_string());
            }
            _ => return Ok(items),
        }
    }
    Ok(items)
}

/// Every resource of a SCIM list: `startIndex` from 1, `count` per page,
/// until a page has no `Resources` or `totalResults` are all read.
pub async fn list_scim(
    client: &Client,
    path: &str,
    filter: Option<&str>,
    count: usize,
) -> Result<Vec<Value>, Error> {
    let mut items: Vec<Value> = Vec::new();
    let mut start = 1usize;
    let count_s = count.max(1).to_string();
    for _ in 0..MAX_PAGES {
        let start_s = start.to_string();
        let mut q = vec![
            ("startIndex", start_s.as_str()),
            ("count", count_s.as_str()),
        ];
        if let Some(f) = filter {
            q.push(("filter", f));
        }
        let page = client.get(path, &q).await?;
        let resources = page
            .get("Resources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if resources.is_empty() {
            break;
        }
        start += resources.len();
        for r in resources {
            let id = r.get("id");
            if id.is_none() || !items.iter().any(|i| i.get("id") == id) {
                items.push(r);
            }
        }
        if let Some(total) = page.get("totalResults").and_then(Value::as_u64)
            && items.len() as u64 >= total
        {
            break;
        }
    }
    Ok(items)
}

/// The arrays `jobs/get` (API 2.2) pages by 100.
const JOB_ARRAYS: &[&str] = &["tasks", "job_clusters", "parameters", "environments"];

/// A whole job: follows `next_page_token` of `jobs/get` and appends the
/// paged arrays of `settings`.
pub async fn get_job(client: &Client, job_id: &str) -> Result<Value, Error> {
    let path = "/api/2.2/jobs/get";
    let mut job = client.get(path, &[("job_id", job_id)]).await?;
    let mut token = job
        .get("next_page_token")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut pages = 0;
    while let Some(t) = token.filter(|t| !t.is_empty()) {
        pages += 1;
        if pages > MAX_PAGES {
            break;
        }
        let page = client
            .get(path, &[("job_id", job_id), ("page_token", &t)])
            .await?;
        for field in JOB_ARRAYS {
            if let Some(more) = page
                .pointer(&format!("/settings/{field}"))
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty())
                .cloned()
                && let Some(settings) = job.get_mut("settings").and_then(Value::as_object_mut)
            {
                let entry = settings
                    .entry(field.to_string())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Some(arr) = entry.as_array_mut() {
                    arr.extend(more);
                }
            }
        }
        token = page
            .get("next_page_token")
            .and_then(Value::as_str)
            .map(str::to_string)
            .filter(|next| *next != t);
    }
    if let Some(obj) = job.as_object_mut() {
        obj.remove("next_page_token");
        obj.remove("has_more");
    }
    Ok(job)
}
