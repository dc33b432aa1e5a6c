//! Reading every page of a paged list: `page_token`/`next_page_token` (jobs,
//! clusters, warehouses, Unity Catalog), SCIM `startIndex`/`count`, and the
//! array paging of `jobs/get`. A server that repeats any earlier page token,
//! hands back a SCIM page already read, or pages past `limits.max_pages`
//! stops the list with a typed error.

use std::collections::HashSet;

use serde_json::Value;

use super::client::Client;
use super::error::Error;

/// Follows page tokens: refuses any token seen before and more pages than the cap.
#[derive(Debug)]
pub struct PageTokens {
    path: String,
    seen: HashSet<String>,
    pages: usize,
    max_pages: usize,
}

impl PageTokens {
    pub fn new(path: &str, max_pages: usize) -> PageTokens {
        PageTokens {
            path: path.to_string(),
            seen: HashSet::new(),
            pages: 0,
            max_pages: max_pages.max(1),
        }
    }

    /// Records that one page was read; fails once more than the cap were.
    pub fn page_read(&mut self) -> Result<(), Error> {
        self.pages += 1;
        if self.pages > self.max_pages {
            return Err(Error::TooManyPages {
                path: self.path.clone(),
                limit: self.max_pages,
            });
        }
        Ok(())
    }

    /// The token for the next page given what the last page said: `None`
    /// at the end (absent or empty), an error for a token seen before.
    pub fn next(&mut self, next: Option<&str>) -> Result<Option<String>, Error> {
        match next {
            Some(t) if !t.is_empty() => {
                if !self.seen.insert(t.to_string()) {
                    return Err(Error::PageLoop {
                        path: self.path.clone(),
                        pages: self.pages,
                    });
                }
                Ok(Some(t.to_string()))
            }
            _ => Ok(None),
        }
    }
}

/// Every item of a token-paged list: calls `path` with `query`, collects
/// `items_field`, and follows `next_page_token` until it is absent or empty.
pub async fn list_token_paged(
    client: &Client,
    path: &str,
    query: &[(&str, &str)],
    items_field: &str,
) -> Result<Vec<Value>, Error> {
    let mut items = Vec::new();
    let mut tokens = PageTokens::new(path, client.max_pages());
    let mut token: Option<String> = None;
    loop {
        tokens.page_read()?;
        let mut q: Vec<(&str, &str)> = query.to_vec();
        if let Some(t) = token.as_deref() {
            q.push(("page_token", t));
        }
        let page = client.get(path, &q).await?;
        if let Some(arr) = page.get(items_field).and_then(Value::as_array) {
            items.extend(arr.iter().cloned());
        }
        token = tokens.next(page.get("next_page_token").and_then(Value::as_str))?;
        if token.is_none() {
            return Ok(items);
        }
    }
}

/// The identity of a SCIM resource for de-duplication: its `id`, as text.
fn scim_id(resource: &Value) -> Option<String> {
    match resource.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Every resource of a SCIM list: `startIndex` from 1, `count` per page,
/// until a page has no `Resources` or `totalResults` are all read. A
/// resource seen on an earlier page is kept once; a page holding nothing
/// new means the server ignores `startIndex` (a paging loop).
pub async fn list_scim(
    client: &Client,
    path: &str,
    filter: Option<&str>,
    count: usize,
) -> Result<Vec<Value>, Error> {
    let mut items: Vec<Value> = Vec::new();
    let mut ids: HashSet<String> = HashSet::new();
    let mut pages = PageTokens::new(path, client.max_pages());
    let mut start = 1usize;
    let count_s = count.max(1).to_string();
    loop {
        pages.page_read()?;
        let start_s = start.to_string();
        let mut q = vec![
            ("startIndex", start_s.as_str()),
            ("count", count_s.as_str()),
        ];
        if let Some(f) = filter {
            q.push(("filter", f));
        }
        let page = client.get(path, &q).await?;
        let Some(resources) = page
            .get("Resources")
            .and_then(Value::as_array)
            .filter(|r| !r.is_empty())
        else {
            break;
        };
        start = start.saturating_add(resources.len());
        let mut fresh = 0usize;
        for r in resources {
            let new = scim_id(r).is_none_or(|id| ids.insert(id));
            if new {
                fresh += 1;
                items.push(r.clone());
            }
        }
        if fresh == 0 {
            return Err(Error::PageLoop {
                path: path.to_string(),
                pages: pages.pages,
            });
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
    let mut tokens = PageTokens::new(path, client.max_pages());
    tokens.page_read()?;
    let mut token = tokens.next(job.get("next_page_token").and_then(Value::as_str))?;
    while let Some(t) = token {
        tokens.page_read()?;
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
        token = tokens.next(page.get("next_page_token").and_then(Value::as_str))?;
    }
    if let Some(obj) = job.as_object_mut() {
        obj.remove("next_page_token");
        obj.remove("has_more");
    }
    Ok(job)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternating_tokens_are_a_loop() {
        let mut t = PageTokens::new("/api/2.2/jobs/list", 100);
        t.page_read().expect("page 1");
        assert_eq!(t.next(Some("A")).expect("A"), Some("A".into()));
        t.page_read().expect("page 2");
        assert_eq!(t.next(Some("B")).expect("B"), Some("B".into()));
        t.page_read().expect("page 3");
        let err = t.next(Some("A")).unwrap_err();
        assert!(matches!(err, Error::PageLoop { pages: 3, .. }), "{err:?}");
        assert_eq!(err.metric_label(), "page_loop");
    }

    #[test]
    fn the_end_and_the_cap() {
        let mut t = PageTokens::new("/x", 3);
        assert_eq!(t.next(None).expect("end"), None);
        assert_eq!(t.next(Some("")).expect("end"), None);
        for _ in 0..3 {
            t.page_read().expect("within the cap");
        }
        let err = t.page_read().unwrap_err();
        assert!(
            matches!(err, Error::TooManyPages { limit: 3, .. }),
            "{err:?}"
        );
    }
}
